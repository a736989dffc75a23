import {
  createCipheriv,
  createDecipheriv,
  hkdfSync,
  randomBytes,
  type BinaryLike,
} from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../errors.ts';

/** The environment variable that holds the session secret shared by every API replica. */
export const SESSION_SECRET_VARIABLE = 'CHANGEPROOF_SESSION_SECRET';
const SESSION_KEY_FILE = 'session.key';
const PREFIX = 'cps1.';

/**
 * Cookie values sealed with AES-256-GCM: the browser holds them but can neither read nor alter
 * them, and each one carries its own expiry. The key is derived per purpose (`login`, `session`)
 * so a value sealed for one purpose never opens as the other.
 */
export class CookieSealer {
  private readonly key: Buffer;

  constructor(secret: BinaryLike, purpose: 'login' | 'session') {
    this.key = Buffer.from(
      hkdfSync('sha256', secret, 'changeproof', `changeproof-oidc-${purpose}`, 32),
    );
  }

  /** Seals `value` to live `ttlSeconds` from `now`. */
  seal(value: object, ttlSeconds: number, now = Date.now()): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = JSON.stringify({ ...value, exp: Math.floor(now / 1000) + ttlSeconds });
    const sealed = Buffer.concat([cipher.update(body, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url');
  }

  /** The value, or undefined when it was not sealed with this key, was altered, or expired. */
  open<T extends object>(sealed: string | undefined, now = Date.now()): T | undefined {
    const opened = this.inspect<T>(sealed, now);
    return opened.expired ? undefined : opened.value;
  }

  /** The value and whether it expired; no value when it was not sealed with this key or altered. */
  inspect<T extends object>(
    sealed: string | undefined,
    now = Date.now(),
  ): { value?: T; expired: boolean } {
    if (!sealed?.startsWith(PREFIX)) return { expired: false };
    const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64url');
    if (raw.length < 12 + 16 + 2) return { expired: false };
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      const body = Buffer.concat([
        decipher.update(raw.subarray(12, raw.length - 16)),
        decipher.final(),
      ]);
      const value = JSON.parse(body.toString('utf8')) as T & { exp?: unknown };
      if (typeof value.exp !== 'number') return { expired: false };
      return { value, expired: value.exp * 1000 <= now };
    } catch {
      return { expired: false };
    }
  }
}

/** True when `value` looks like a sealed cookie (a session rather than a local bearer token). */
export function isSealed(value: string | undefined): boolean {
  return value?.startsWith(PREFIX) ?? false;
}

/**
 * The session secret: `CHANGEPROOF_SESSION_SECRET` (at least 32 characters; required when several
 * API replicas must accept each other's sessions), else `<keysDir>/session.key`, created once with
 * 32 random bytes and mode 0600.
 */
export function sessionSecret(env: NodeJS.ProcessEnv, keysDir: string | undefined): Buffer {
  const fromEnv = env[SESSION_SECRET_VARIABLE];
  if (fromEnv !== undefined) {
    if (fromEnv.length < 32) {
      throw new UsageError(`${SESSION_SECRET_VARIABLE} must be at least 32 characters`);
    }
    return Buffer.from(fromEnv, 'utf8');
  }
  if (!keysDir) {
    throw new UsageError(`set ${SESSION_SECRET_VARIABLE} in the environment for OIDC sessions`);
  }
  const file = join(keysDir, SESSION_KEY_FILE);
  // 'wx' fails if another process created it first; then both read the same file.
  if (!existsSync(file)) {
    try {
      writeFileSync(file, randomBytes(32), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return readFileSync(file);
}
