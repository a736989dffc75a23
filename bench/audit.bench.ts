import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportPack } from '../src/audit/pack/export.ts';
import { verifyPack } from '../src/audit/pack/verify.ts';
import { parseAuditRange } from '../src/audit/range.ts';
import { canonicalize } from '../src/ledger/canonical.ts';
import { chainEntry, type LedgerEntry, type LedgerRecord } from '../src/ledger/entry.ts';
import { Ledger } from '../src/ledger/ledger.ts';
import { openStore, type Store } from '../src/store/open.ts';
import { auditInputs } from '../test/audit/audit-fixture.ts';
import { EvidenceRecorder } from '../test/support/evidence-fixtures.ts';
import { testSigner } from '../test/support/signer.ts';
import type { Benchmark, BenchResult } from './harness.ts';

const DEPLOYMENTS = 10_000;
const QUARTER_START = Date.parse('2026-07-01T00:00:00Z');
const QUARTER_MS = 92 * 86_400_000;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * An in-memory chain the fixture recorder appends to: entries get real hashes and links, and
 * are written to the store in bulk afterwards, because 180,000 appends each awaiting an fsync
 * would take longer than the benchmark is worth.
 */
function memoryLedger(entries: LedgerEntry[]) {
  return (clock: () => Date) =>
    ({
      append: async (record: LedgerRecord) => {
        const entry = chainEntry(record, entries.at(-1), clock());
        entries.push(entry);
        return entry;
      },
    }) as unknown as Ledger;
}

async function seedQuarter(store: Store, signer: ReturnType<typeof testSigner>): Promise<number> {
  const entries: LedgerEntry[] = [];
  const recorder = new EvidenceRecorder(
    store,
    new Date(QUARTER_START),
    signer,
    'pipeline-key',
    memoryLedger(entries),
  );
  const services = Array.from({ length: 40 }, (_, i) => (i === 0 ? 'checkout' : `service-${i}`));
  for (let n = 1; n <= DEPLOYMENTS; n += 1) {
    recorder.clock = new Date(QUARTER_START + Math.floor(((n - 1) * QUARTER_MS) / DEPLOYMENTS));
    await recorder.deployment(n, {
      service: services[n % services.length],
      drift: n % 50 === 0,
      emergency: n % 100 === 1 ? 'reviewed' : undefined,
      failure: n % 20 === 0 ? { restoreMs: 3_600_000 } : undefined,
    });
  }
  await store.exclusive(async (db) => {
    for (let i = 0; i < entries.length; i += 100) {
      await db
        .insertInto('ledger_entries')
        .values(
          entries
            .slice(i, i + 100)
            .map(({ payload, ...rest }) => ({ ...rest, payload: canonicalize(payload) })),
        )
        .execute();
    }
  });
  return entries.length;
}

/** Runs `body` as an ES module in a fresh Node process with tsx and returns its last JSON line. */
function inChild<T>(body: string, env: Record<string, string> = {}): T {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', body],
    { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  return JSON.parse(out.trim().split('\n').at(-1)!) as T;
}

const CPU_MS = 'const cpuMs = (u) => (u.user + u.system) / 1000;';

/**
 * The peer, in a fresh process of its own: read every row and parse every payload, the least
 * any audit of these rows must do. It has its own process so that its rows do not weigh on the
 * audit's memory or garbage collection.
 */
function readInChild(dbPath: string): { ms: number; cpuMs: number } {
  return inChild(`
    import { openStore } from '${root}/src/store/open.ts';
    ${CPU_MS}
    const store = await openStore('sqlite:${dbPath}');
    const cpu = process.cpuUsage();
    const start = performance.now();
    const rows = await store.db.selectFrom('ledger_entries').selectAll().execute();
    rows.forEach((row) => JSON.parse(row.payload));
    const ms = performance.now() - start;
    console.log(JSON.stringify({ ms, cpuMs: cpuMs(process.cpuUsage(cpu)) }));
    await store.close();`);
}

/**
 * Runs the quarter's audit (deployments, every control including the ledger's own
 * verification) in a fresh process, so its time and peak RSS are the audit's alone.
 */
function auditInChild(
  dbPath: string,
  publicKeyPem: string,
): { ms: number; cpuMs: number; rssMb: number; deployments: number } {
  return inChild(
    `
    import { runControlAudit } from '${root}/src/audit/inputs.ts';
    import { parseAuditRange } from '${root}/src/audit/range.ts';
    import { openStore } from '${root}/src/store/open.ts';
    import { auditInputs } from '${root}/test/audit/audit-fixture.ts';
    ${CPU_MS}
    const store = await openStore('sqlite:${dbPath}');
    let peak = 0;
    const sample = () => { peak = Math.max(peak, process.memoryUsage().rss); };
    const timer = setInterval(sample, 20);
    const inputs = auditInputs(store, { publicKeyPem: process.env.KEY }, new Date('2026-10-15T00:00:00Z'));
    const cpu = process.cpuUsage();
    const start = performance.now();
    const { deployments } = await runControlAudit(inputs, { range: parseAuditRange('2026-07-01', '2026-09-30'), envs: ['prod'] });
    const ms = performance.now() - start;
    const used = cpuMs(process.cpuUsage(cpu));
    sample();
    clearInterval(timer);
    console.log(JSON.stringify({ ms, cpuMs: used, rssMb: peak / 1048576, deployments: deployments.length }));
    await store.close();`,
    { KEY: publicKeyPem },
  );
}

/** The machine's limit for pack verification: node:crypto ECDSA P-256 verifications per second. */
function ecdsaVerifyRate(): number {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const message = Buffer.alloc(300, 0x61);
  const signature = sign('sha256', message, privateKey);
  const count = 3000;
  const start = performance.now();
  for (let i = 0; i < count; i += 1) verify('sha256', message, publicKey, signature);
  return count / ((performance.now() - start) / 1000);
}

async function auditQuarter(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'changeproof-bench-audit-'));
  const signer = testSigner();
  try {
    const dbPath = join(dir, 'audit.db');
    const store = await openStore(`sqlite:${dbPath}`);
    const entries = await seedQuarter(store, signer);
    await store.close();

    const read = readInChild(dbPath);
    const run = auditInChild(dbPath, signer.publicKeyPem);
    if (run.deployments !== DEPLOYMENTS)
      throw new Error(`audited ${run.deployments} deployments, seeded ${DEPLOYMENTS}`);

    // Pack verification over one week of the quarter, with proofs against a fresh checkpoint.
    const packStore = await openStore(`sqlite:${dbPath}`);
    const ledger = new Ledger(packStore);
    const week = parseAuditRange('2026-08-03', '2026-08-09');
    const pack = await exportPack(
      auditInputs(packStore, signer, new Date('2026-10-15T00:00:00Z')),
      { range: week, envs: ['prod'] },
      { ledger, signer, pdf: false },
    );
    await packStore.close();
    const verifyStart = performance.now();
    const verified = await verifyPack(pack.zip);
    const verifySeconds = (performance.now() - verifyStart) / 1000;
    if (!verified.ok)
      throw new Error(`bench pack does not verify: ${verified.problems[0]?.message}`);
    const rate = verified.entries / verifySeconds;
    const ecdsa = ecdsaVerifyRate();

    return [
      {
        name: `audit of a quarter: ${DEPLOYMENTS.toLocaleString('en-US')} prod deployments, ${entries.toLocaleString('en-US')} entries, every control (SQLite)`,
        value: Math.round(run.ms),
        unit: 'ms',
        target: { value: 2000, better: 'lower' },
        peer: {
          name: 'read + JSON.parse of the same rows',
          value: Math.round(read.ms),
          unit: 'ms',
        },
        ratio: run.ms / read.ms,
      },
      {
        // CPU time beside wall time: on a loaded machine wall time also counts waiting for a core.
        name: 'audit of the quarter: CPU time of the auditing process (user + system)',
        value: Math.round(run.cpuMs),
        unit: 'ms',
        peer: { name: 'read + JSON.parse, CPU', value: Math.round(read.cpuMs), unit: 'ms' },
        ratio: run.cpuMs / read.cpuMs,
      },
      {
        name: 'audit of the quarter: peak RSS of the auditing process',
        value: Math.round(run.rssMb),
        unit: 'MB',
        target: { value: 300, better: 'lower' },
      },
      {
        name: `evidence pack verification (${verified.entries.toLocaleString('en-US')} entries, ${verified.attestations} attestations, ${(pack.zip.length / 1048576).toFixed(1)} MB)`,
        value: Math.round(rate),
        unit: 'entries/s',
        target: { value: 5000, better: 'higher' },
        peer: {
          name: 'node:crypto ECDSA P-256 verify',
          value: Math.round(ecdsa),
          unit: 'verifies/s',
        },
        ratio: rate / ecdsa,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const benchmarks: Benchmark[] = [{ name: 'audit', run: auditQuarter }];
