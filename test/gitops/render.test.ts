import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleConfigRepoFiles, writeFiles } from '../../src/gitops/seed.ts';
import { desiredStateDigest, renderKustomization } from '../../src/gitops/render.ts';

describe('renderKustomization (real kustomize)', () => {
  const root = mkdtempSync(join(tmpdir(), 'changeproof-render-'));
  writeFiles(
    root,
    sampleConfigRepoFiles({
      service: 'checkout',
      environments: [{ name: 'prod', production: true }],
      imageName: 'registry.test/checkout',
    }),
  );
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('renders the seeded overlay with its namespace, labels and image', async () => {
    const objects = await renderKustomization(join(root, 'apps/checkout/overlays/prod'));
    expect(
      objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`).sort(),
      // The base's namespace is renamed by the overlay, so the first sync can create it.
    ).toEqual([
      'Deployment/checkout-prod/checkout',
      'Namespace/undefined/checkout-prod',
      'Service/checkout-prod/checkout',
    ]);
    const deployment = objects.find((o) => o.kind === 'Deployment') as unknown as {
      spec: { template: { spec: { containers: { image: string }[] } } };
      metadata: { labels: Record<string, string> };
    };
    expect(deployment.spec.template.spec.containers[0]!.image).toBe(
      'registry.test/checkout:unreleased',
    );
    expect(deployment.metadata.labels['app.kubernetes.io/instance']).toBe('checkout-prod');
  });

  it('gives the same desired-state digest whatever the object order', async () => {
    const objects = await renderKustomization(join(root, 'apps/checkout/overlays/prod'));
    expect(desiredStateDigest([...objects].reverse())).toBe(desiredStateDigest(objects));
    expect(desiredStateDigest(objects.slice(1))).not.toBe(desiredStateDigest(objects));
  });

  it('refuses a kustomization that does not render, in one line naming the folder', async () => {
    const broken = join(root, 'apps/checkout/overlays/broken');
    writeFiles(root, {
      'apps/checkout/overlays/broken/kustomization.yaml': 'resources:\n  - ../../missing\n',
    });
    writeFileSync(join(broken, 'extra.yaml'), 'x');
    const error = await renderKustomization(broken).catch((e) => e);
    expect(error).toMatchObject({ code: 'RENDER_FAILED' });
    expect(error.message).toContain(`${broken} does not render:`);
    expect(error.message.includes('\n')).toBe(false);
  });
});
