import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DASHBOARD_DIST } from './dashboard.ts';

const WEB_ROOT = fileURLToPath(new URL('../../../web/', import.meta.url));

/**
 * Builds the dashboard with Vite when web/dist is missing (a fresh clone whose install skipped
 * the build). Returns false, and leaves the page answering 503 with what to run, when Vite is not
 * installed (a production install without dev dependencies).
 */
export async function ensureDashboardBuilt(): Promise<boolean> {
  if (existsSync(`${DASHBOARD_DIST}index.html`)) return true;
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch {
    return false;
  }
  await vite.build({ configFile: `${WEB_ROOT}vite.config.ts`, logLevel: 'warn' });
  return existsSync(`${DASHBOARD_DIST}index.html`);
}
