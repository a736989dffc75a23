import { hash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Ledger } from '../src/ledger/ledger.ts';
import { GENESIS_HASH, hashStoredEntry } from '../src/ledger/entry.ts';
import { verifyLedger } from '../src/ledger/verify.ts';
import { openStore } from '../src/store/open.ts';
import { testSigner } from '../test/support/signer.ts';
import type { Benchmark, BenchResult } from './harness.ts';

const SAMPLE_PAYLOAD = {
  service: 'checkout',
  env: 'prod',
  digest: `sha256:${'ab'.repeat(32)}`,
  commit: 'c0ffee'.repeat(6) + 'beef',
};

/**
 * The machine's limit for this work: one-shot SHA-256 (the fastest node:crypto offers) over
 * entry-sized messages, in hashes per second.
 */
function sha256Rate(messageBytes: number, count: number): number {
  const message = Buffer.alloc(messageBytes, 0x61);
  const start = performance.now();
  for (let i = 0; i < count; i += 1) hash('sha256', message, 'buffer');
  return count / ((performance.now() - start) / 1000);
}

async function appendThroughput(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'changeproof-bench-'));
  try {
    const store = await openStore(`sqlite:${join(dir, 'ledger.db')}`);
    const ledger = new Ledger(store);
    const total = 20_000;
    const concurrency = 64;
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          const i = (next += 1);
          await ledger.append({
            kind: 'bench.append',
            subject: `deployment:${i}`,
            actor: 'bench',
            payload: { ...SAMPLE_PAYLOAD, i },
          });
        }
      }),
    );
    const rate = total / ((performance.now() - start) / 1000);

    const sequentialCount = 300;
    const sequentialStart = performance.now();
    for (let i = 0; i < sequentialCount; i += 1) {
      await ledger.append({
        kind: 'bench.append',
        subject: 'sequential',
        actor: 'bench',
        payload: { i },
      });
    }
    const sequential = sequentialCount / ((performance.now() - sequentialStart) / 1000);
    await store.close();
    const limit = sha256Rate(300, 200_000);
    return [
      {
        name: `ledger append, SQLite synchronous=FULL, ${concurrency} concurrent appenders`,
        value: Math.round(rate),
        unit: 'entries/s',
        target: { value: 5000, better: 'higher' },
        peer: { name: 'node:crypto sha256 (300 B)', value: Math.round(limit), unit: 'hashes/s' },
        ratio: rate / limit,
      },
      {
        name: 'ledger append, one appender awaiting each commit (fsync per entry)',
        value: Math.round(sequential),
        unit: 'entries/s',
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes a valid chain of `count` entries straight into SQLite, for the verification bench. */
function seedChain(file: string, count: number): void {
  const db = new BetterSqlite3(file);
  const insert = db.prepare(
    'insert into ledger_entries (seq, time, kind, subject, actor, payload, prev, hash) values (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  let prev = GENESIS_HASH;
  const write = db.transaction((from: number, to: number) => {
    for (let seq = from; seq <= to; seq += 1) {
      const parts = {
        seq,
        time: new Date(1_780_000_000_000 + seq * 1000).toISOString(),
        kind: 'sync.completed',
        subject: `deployment:prod/checkout/${seq}`,
        actor: 'system:reconciler',
        payloadJson: JSON.stringify({ digest: SAMPLE_PAYLOAD.digest, seq }),
        prev,
      };
      const hash = hashStoredEntry(parts);
      insert.run(
        parts.seq,
        parts.time,
        parts.kind,
        parts.subject,
        parts.actor,
        parts.payloadJson,
        prev,
        hash,
      );
      prev = hash;
    }
  });
  for (let from = 1; from <= count; from += 50_000) write(from, Math.min(count, from + 49_999));
  db.close();
}

async function verificationTime(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'changeproof-bench-'));
  try {
    const file = join(dir, 'ledger.db');
    const count = 1_000_000;
    await (await openStore(`sqlite:${file}`)).close();
    seedChain(file, count);
    const store = await openStore(`sqlite:${file}`);
    const signer = testSigner();
    await new Ledger(store).seal(signer);
    const start = performance.now();
    const result = await verifyLedger(store, signer.publicKeyPem);
    const seconds = (performance.now() - start) / 1000;
    await store.close();
    if (!result.ok || result.entries !== count) throw new Error('bench chain did not verify');
    // Verification hashes each entry twice (entry hash and Merkle leaf) plus ~1 tree node.
    const limitSeconds = (3 * count) / sha256Rate(200, 300_000);
    return [
      {
        name: `ledger verify, ${count.toLocaleString('en-US')} entries + checkpoint (SQLite)`,
        value: seconds,
        unit: 's',
        target: { value: 10, better: 'lower' },
        peer: { name: 'node:crypto sha256 for the same 3M hashes', value: limitSeconds, unit: 's' },
        ratio: seconds / limitSeconds,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const benchmarks: Benchmark[] = [
  { name: 'ledger append', run: appendThroughput },
  { name: 'ledger verify', run: verificationTime },
];
