import { spawn } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../support/cli.ts';
import { figures, report } from './support/row.ts';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the whole demo at debug level, as a user would, and keeps both streams. */
async function runDemo(workspace: string): Promise<Run> {
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, 'bin', 'changeproof.mjs'),
      '--log-level',
      'debug',
      'demo',
      '--workspace',
      workspace,
    ],
    { env: { ...process.env, CHANGEPROOF_LOG_LEVEL: 'debug' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { status, stdout, stderr };
}

/**
 * Every form a secret of the workspace could take in text: each private key's PEM body, its
 * scalar in base64, base64url and hex, the sandbox token, and the user tokens the demo issued.
 */
function secretsOf(workspace: string, stdout: string): Map<string, string> {
  const secrets = new Map<string, string>();
  const keysDir = join(workspace, 'keys');
  for (const file of readdirSync(keysDir).filter((name) => name.endsWith('.key'))) {
    const pem = readFileSync(join(keysDir, file), 'utf8');
    const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    // Any 32-character run of the PEM body is as good as the body for finding a leak.
    for (let i = 0; i + 32 <= body.length; i += 16)
      secrets.set(body.slice(i, i + 32), `${file} PEM body`);
    const jwk = createPrivateKey(pem).export({ format: 'jwk' });
    const scalar = Buffer.from(jwk.d!, 'base64url');
    secrets.set(scalar.toString('base64'), `${file} scalar (base64)`);
    secrets.set(jwk.d!, `${file} scalar (base64url)`);
    secrets.set(scalar.toString('hex'), `${file} scalar (hex)`);
  }
  const sandboxToken = readFileSync(join(keysDir, 'sandbox.token'), 'utf8').trim();
  secrets.set(sandboxToken, 'keys/sandbox.token');
  for (const token of new Set(stdout.match(/cpt_[A-Za-z0-9_-]+/g) ?? [])) {
    secrets.set(token, 'an issued user token');
    // The secret half alone is a leak too.
    // cpt_<id>_<secret>; the secret is base64url, so it may itself hold underscores.
    const secretPart = /^cpt_[0-9a-f]+_(.+)$/.exec(token)?.[1];
    if (secretPart) secrets.set(secretPart, 'the secret part of an issued user token');
  }
  // A short "secret" would match ordinary text and hide real findings among false ones.
  for (const [secret, what] of secrets) {
    if (secret.length < 16) throw new Error(`${what} is too short to search for: ${secret.length}`);
  }
  return secrets;
}

/** Patterns that are secret whatever their value. */
const SECRET_SHAPES: Array<[RegExp, string]> = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key PEM block'],
  [/cpt_[A-Za-z0-9_-]{16,}/, 'a user token'],
  // A token's id (the public half of cpt_<id>_<secret>) is evidence; the secret half is sought
  // above by value, and the whole token by shape.
  [
    /"(password|secret|clientSecret|privateKey)"\s*:\s*"[^"*]{4,}"/i,
    'a password or secret field with a value',
  ],
  [/:\/\/[^/\s:@]+:[^/\s@*]+@/, 'a URL with a password'],
];

describe('secrets', () => {
  const root = mkdtempSync(join(tmpdir(), 'changeproof-secrets-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('leaves no key material or token in any log line or ledger entry of a full demo', async (context) => {
    report(context, {
      area: 'Secrets',
      tried:
        'full demo at debug level; every stderr line and ledger entry scanned for keys and tokens',
    });
    const workspace = join(root, 'ws');
    const demo = await runDemo(workspace);
    const ledger = runCli(['-w', workspace, '-o', 'json', 'ledger', 'list']);
    expect(ledger.status, ledger.stderr).toBe(0);
    const entries = (JSON.parse(ledger.stdout) as unknown[]).map((entry) => JSON.stringify(entry));
    const logLines = demo.stderr.split('\n').filter((line) => line.length > 0);

    const secrets = secretsOf(workspace, demo.stdout);
    expect([...secrets.values()]).toContain('an issued user token');
    const findings: string[] = [];
    for (const [where, lines] of [
      ['log line', logLines],
      ['ledger entry', entries],
    ] as const) {
      for (const line of lines) {
        for (const [secret, what] of secrets) {
          if (line.includes(secret)) findings.push(`${where} holds ${what}: ${line.slice(0, 120)}`);
        }
        for (const [shape, what] of SECRET_SHAPES) {
          if (shape.test(line)) findings.push(`${where} holds ${what}: ${line.slice(0, 120)}`);
        }
      }
    }
    figures(context, {
      'log lines': logLines.length,
      'ledger entries': entries.length,
      'secret forms sought': secrets.size + SECRET_SHAPES.length,
      findings: findings.length,
      'demo exit': demo.status ?? 'killed',
    });
    expect(findings).toEqual([]);
    // Scanned first, so a demo that fails half-way is still held to what it wrote.
    expect(demo.status, `the demo failed: ${demo.stderr.slice(-400)}`).toBe(0);
  });
});
