import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChangeproofError } from '../../errors.ts';

/** Another live sandbox already serves from this data directory. */
export class SandboxLockError extends ChangeproofError<'DATA_DIR_IN_USE'> {
  constructor(message: string, details: Record<string, unknown>) {
    super('DATA_DIR_IN_USE', message, { category: 'refused', details });
  }
}

/** A held lock on a data directory; release it when the sandbox stops. */
export interface DataDirLock {
  path: string;
  release(): void;
}

/**
 * Takes the exclusive lock of a sandbox data directory: `sandbox.lock` holding the owner's pid
 * (and a nonce, so that two sandboxes of one process never release each other's lock).
 * Two servers writing one journal would interleave their lines and lose objects, so a second
 * server is refused while the owner lives. A lock left by a process that no longer exists (a
 * crash, SIGKILL) is stale and taken over.
 *
 * The lock file is written whole under a temporary name and hard-linked into place, which is
 * atomic and fails when the name exists (the O_EXCL guarantee), so a reader never sees a
 * half-written pid.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, 'sandbox.lock');
  const temporary = `${path}.${process.pid}.${Date.now()}`;
  const content = `${process.pid} ${randomUUID()}\n`;
  writeFileSync(temporary, content, { mode: 0o644 });
  try {
    if (!tryLink(temporary, path)) {
      const owner = ownerOf(path);
      if (owner !== undefined && isAlive(owner)) {
        throw new SandboxLockError(
          `sandbox data directory ${dataDir} is in use by process ${owner}: stop that sandbox or give this one another directory (lock file ${path})`,
          { dataDir, owner },
        );
      }
      // Stale: its owner is gone.
      rmSync(path, { force: true });
      if (!tryLink(temporary, path)) throw raceLost(dataDir, path);
    }
  } finally {
    rmSync(temporary, { force: true });
  }
  return { path, release: () => releaseLock(path, content) };
}

function tryLink(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function ownerOf(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function raceLost(dataDir: string, path: string): SandboxLockError {
  return new SandboxLockError(
    `sandbox data directory ${dataDir} was just locked by another process: stop it or use another directory (lock file ${path})`,
    { dataDir },
  );
}

// Removes the lock only while it is still ours: a stale-lock takeover may have replaced it.
function releaseLock(path: string, content: string): void {
  try {
    if (readFileSync(path, 'utf8') === content) unlinkSync(path);
  } catch {
    // Already gone.
  }
}
