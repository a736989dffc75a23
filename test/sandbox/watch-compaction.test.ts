import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, removeDir, startTestSandbox, type TestSandbox } from './helpers.ts';

/*
 * A running sandbox (no restart) keeps a window of recent changes for watches to resume from;
 * once writes push a resourceVersion out of that window, a watch resumed from it gets 410.
 */
const configMaps = '/api/v1/namespaces/default/configmaps';
let sandbox: TestSandbox;

beforeAll(async () => {
  sandbox = await startTestSandbox({ watchHistory: 5 });
});

afterAll(async () => {
  await sandbox?.stop();
  removeDir(sandbox.dir);
});

const resourceVersionNow = async () =>
  (await api(sandbox, 'GET', configMaps)).body.metadata.resourceVersion as string;

const patch = (value: string) =>
  api(
    sandbox,
    'PATCH',
    `${configMaps}/counter`,
    { data: { value } },
    { contentType: 'application/merge-patch+json' },
  );

describe('watch resumed after compaction during a run', () => {
  it('resumes from a recent resourceVersion, and answers 410 once it is compacted', async () => {
    await api(sandbox, 'POST', configMaps, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'counter' },
      data: { value: '0' },
    });
    await patch('1');
    const early = await resourceVersionNow();
    await patch('2');

    const resumed = await api(
      sandbox,
      'GET',
      `${configMaps}?watch=true&timeoutSeconds=1&resourceVersion=${early}`,
    );
    expect(resumed.status).toBe(200);

    for (let n = 3; n < 15; n++) await patch(String(n));
    const expired = await api(sandbox, 'GET', `${configMaps}?watch=true&resourceVersion=${early}`);

    expect(expired.status).toBe(410);
    expect(expired.body).toMatchObject({ kind: 'Status', reason: 'Expired', code: 410 });
    const kept = await api(sandbox, 'GET', `${configMaps}/counter`);
    expect(kept.body.data).toEqual({ value: '14' });
  });
});
