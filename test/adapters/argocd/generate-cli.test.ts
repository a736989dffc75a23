import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parseDocument } from 'yaml';
import { initWorkspace } from '../../../src/workspace/init.ts';
import { runCli } from '../../support/cli.ts';

describe('changeproof argocd generate', () => {
  const root = mkdtempSync(join(tmpdir(), 'changeproof-argocd-'));
  const ws = join(root, 'ws');
  beforeAll(async () => {
    await initWorkspace({ dir: ws, name: 'argo' });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('refuses in one line until adapters.argocd is configured', () => {
    const result = runCli(['-w', ws, 'argocd', 'generate']);
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(
      'changeproof: add adapters.argocd (repoUrl at least) to changeproof.yaml first',
    );
  });

  it('writes the app-of-apps for the overlays on main and the ApplicationSet', () => {
    const configFile = join(ws, 'changeproof.yaml');
    const document = parseDocument(readFileSync(configFile, 'utf8'));
    document.set('adapters', { argocd: { repoUrl: 'https://github.com/acme/config.git' } });
    writeFileSync(configFile, document.toString());

    const out = join(root, 'argocd');
    const result = runCli(['-w', ws, 'argocd', 'generate', '--out', out]);
    expect(result.status, result.stderr).toBe(0);

    const manifests = parseAllDocuments(readFileSync(join(out, 'app-of-apps.yaml'), 'utf8')).map(
      (d) =>
        d.toJS() as {
          kind: string;
          metadata: { name: string };
          spec: { source?: { path?: string }; syncPolicy?: { automated?: object } };
        },
    );
    const projects = manifests.filter((m) => m.kind === 'AppProject').map((m) => m.metadata.name);
    expect(projects).toEqual(['changeproof-dev', 'changeproof-staging', 'changeproof-prod']);
    const prod = manifests.find(
      (m) => m.kind === 'Application' && m.spec.source?.path === 'apps/checkout/overlays/prod',
    );
    expect(prod?.spec.syncPolicy?.automated).toMatchObject({ selfHeal: true, prune: true });
    const set = parseDocument(readFileSync(join(out, 'applicationset.yaml'), 'utf8')).toJS();
    expect(set.kind).toBe('ApplicationSet');
  });
});
