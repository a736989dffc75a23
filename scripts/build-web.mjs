// Builds the dashboard into web/dist at install, so `npm ci && npm run demo` serves it. Skipped,
// with a note, when Vite is absent (an install without dev dependencies): the control plane then
// builds on first start if it can, or tells what to run.
import { fileURLToPath, URL } from 'node:url';

const config = fileURLToPath(new URL('../web/vite.config.ts', import.meta.url));
let vite;
try {
  vite = await import('vite');
} catch {
  console.log('build-web: vite is not installed; the dashboard will be built on first start');
  process.exit(0);
}
await vite.build({ configFile: config, logLevel: 'warn' });
console.log('build-web: dashboard built into web/dist');
