import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const sharedDir = join(repoRoot, '..', 'shared');

/** A path under ../shared, failing with a plain sentence when the reference data is absent. */
export function sharedPath(...segments: string[]): string {
  const path = join(sharedDir, ...segments);
  if (!existsSync(path)) {
    throw new Error(
      `reference data ${path} is absent: place the shared/ folder beside the project`,
    );
  }
  return path;
}

export const fixturesDir = join(repoRoot, 'test', 'fixtures', 'supply-chain');
