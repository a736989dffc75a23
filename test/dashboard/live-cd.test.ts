import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeManagementFor } from '../../src/change/index.ts';
import { deliverDemoService } from '../../src/delivery/demo.ts';
import type { DeliveryResult } from '../../src/delivery/types.ts';
import { createLogger } from '../../src/log.ts';
import { appLabel } from '../../src/reconcile/application.ts';
import { startControlPlane, type ControlPlane } from '../../src/server/control-plane.ts';
import { toolPath } from '../../src/tools.ts';
import { openWorkspace, type WorkspaceContext } from '../../src/workspace/context.ts';
import { initWorkspace } from '../../src/workspace/init.ts';
import { chromiumMissing, launchChromium, SCREENSHOTS } from './fixtures.ts';

/*
 * The dashboard against the real thing: the control plane as `changeproof up` starts it (the same
 * start function, so the built-in CD engine and the sandbox clusters run), the real pipeline
 * proposes, an approver approves in the page, the merge syncs to the sandbox, and an out-of-band
 * `kubectl set image` shows up on the open page as drift. Nothing here writes the ledger by hand.
 */
const skip = chromiumMissing();
const run = promisify(execFile);
const APP = 'prod/checkout';

describe.skipIf(skip)('dashboard against a running control plane with the CD engine', () => {
  let root: string;
  let ws: WorkspaceContext;
  let plane: ControlPlane;
  let browser: Browser;
  let url: string;
  let delivered: DeliveryResult;
  let tokens: Record<string, string>;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'changeproof-dashboard-live-'));
    await initWorkspace({ dir: root, name: 'live' });
    ws = await openWorkspace(root);
    plane = await startControlPlane(ws, {
      logger: createLogger({ level: 'silent' }),
      port: 0,
      checkpointIntervalMs: 0,
    });
    url = plane.endpoints.find((e) => e.name === 'control-plane')!.url;
    const identity = changeManagementFor(ws).identity;
    tokens = {
      alice: (await identity.issue('alice')).token,
      carol: (await identity.issue('carol')).token,
    };
    delivered = await deliverDemoService(ws, { env: 'prod' });
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await plane?.close();
    await ws?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  async function signIn(user: string): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${url}/#token=${tokens[user]}`);
    await page.waitForSelector('[data-testid=live].on');
    return page;
  }

  /** Sets the image of prod/checkout's Deployment with `kubectl set image`, as a person would. */
  async function setImageByHand(image: string): Promise<{ namespace: string; name: string }> {
    const workload = await kubectl([
      'get',
      'deployments',
      '-A',
      '-l',
      `${appLabel}=prod.checkout`,
      '-o',
      'jsonpath={.items[0].metadata.namespace} {.items[0].metadata.name} {.items[0].spec.template.spec.containers[0].name}',
    ]);
    const [namespace, name, container] = workload.trim().split(' ') as [string, string, string];
    await kubectl(['set', 'image', `deployment/${name}`, `${container}=${image}`, '-n', namespace]);
    return { namespace, name };
  }

  /** The real kubectl against the workspace's sandbox kubeconfig. */
  async function kubectl(args: string[]): Promise<string> {
    const context = ws.config.environments.find((e) => e.name === 'prod')!.cluster;
    const { stdout } = await run(toolPath('kubectl'), [
      '--kubeconfig',
      ws.paths.kubeconfig,
      '--context',
      context,
      ...args,
    ]);
    return stdout;
  }

  it('approves in the page, merges, and the matrix turns synced and green without a reload', async () => {
    expect(plane.cdEngine).toBeDefined();
    const id = delivered.proposal.id;
    const page = await signIn('carol');
    await page.evaluate(`location.hash = '#/proposals'`);
    const card = page.locator(`[data-proposal="${id}"]`);
    await card.waitFor();
    expect(await card.locator('.diff').textContent()).toContain(delivered.digest);
    await card.locator('button', { hasText: 'Approve' }).click();
    await expect
      .poll(() => card.locator('[data-testid=approval]').textContent(), { timeout: 10_000 })
      .toBe('approved');

    await page.evaluate(`location.hash = '#/'`);
    const cell = page.locator(`td[data-app="${APP}"]`);
    const sync = cell.locator('[data-testid=sync]');
    await cell.waitFor();
    const before = await sync.textContent();
    expect(before).not.toBe('synced · Healthy');

    const merged = await fetch(`${url}/api/v1/proposals/${id}/merge`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.alice}` },
    });
    expect(merged.status).toBe(200);
    plane.cdEngine!.notifyMerged();

    await expect.poll(() => sync.textContent(), { timeout: 60_000 }).toBe('synced · Healthy');
    await expect.poll(() => cell.textContent()).toContain(delivered.digest.slice(7, 19));
    // The badge needs a verification since the sync: the engine's own `verify`, as scheduled.
    await plane.cdEngine!.verify('prod');
    const badge = cell.locator('[data-testid=evidence]');
    await expect.poll(() => badge.getAttribute('class'), { timeout: 10_000 }).toContain('ok');
    await page.screenshot({ path: join(SCREENSHOTS, 'live-matrix-synced.png'), fullPage: true });
    await page.close();
  }, 120_000);

  it('shows a kubectl set image made out of band as drift on the open page', async () => {
    const page = await signIn('carol');
    await page.evaluate(`location.hash = '#/apps/${APP}'`);
    await page.waitForSelector('[data-testid=history]');
    expect(await page.locator('[data-testid=drift]').count()).toBe(0);
    const liveDiff = page.locator('[data-testid=live-diff]');
    await expect
      .poll(() => liveDiff.textContent())
      .toMatch(/Deployment\/\S+\s+live equals desired/);

    const { namespace, name } = await setImageByHand('nginx:latest');

    const drift = page.locator('[data-testid=drift]').first();
    await drift.waitFor({ timeout: 30_000 });
    const text = await drift.textContent();
    expect(text).toContain(`Deployment/${namespace}/${name}`);
    expect(text).toContain('kubectl');
    expect(text).toContain('nginx:latest');
    await expect.poll(() => drift.textContent(), { timeout: 30_000 }).toContain('incident');
    await page.screenshot({
      path: join(SCREENSHOTS, 'live-application-drift.png'),
      fullPage: true,
    });
    await page.close();
  }, 90_000);

  it('shows desired against live field by field while the cluster differs', async () => {
    // With the engine stopped nothing reverts the edit, so the difference stays to be seen.
    await plane.cdEngine!.close();
    const { namespace, name } = await setImageByHand('nginx:1.27');

    const page = await signIn('carol');
    await page.evaluate(`location.hash = '#/apps/${APP}'`);
    const liveDiff = page.locator('[data-testid=live-diff]');
    await expect.poll(() => liveDiff.textContent()).toContain('"nginx:1.27"');
    const text = (await liveDiff.textContent())!;
    expect(text).toContain(`Deployment/${namespace}/${name}`);
    expect(text).toMatch(
      /\/spec\/template\/spec\/containers\/0\/image: "[^"]+@sha256:[0-9a-f]{64}" -> "nginx:1.27"/,
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'live-application-diff.png'), fullPage: true });
    await page.close();

    const api = (path: string, token?: string) =>
      fetch(`${url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    const beyond = await api(`/api/apps/${APP}/live-diff?page=99`, tokens.carol);
    expect(await beyond.json()).toMatchObject({ app: APP, page: 1, pages: 1 });
    expect((await api(`/api/apps/${APP}/live-diff`)).status).toBe(401);
  }, 60_000);
});
