import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeManagementFor, type ChangeManagement } from '../../src/change/index.ts';
import { bumpImageTag, commitFilesSigned } from '../../src/embedded/forge/commit-files.ts';
import { git } from '../../src/gitops/git.ts';
import { DIFF_PAGE_LINES } from '../../src/server/routes/read-api-proposals.ts';
import type { Signer } from '../../src/supply-chain/signer.ts';
import {
  chromiumMissing,
  launchChromium,
  SCREENSHOTS,
  startPlane,
  type Plane,
} from './fixtures.ts';

const skip = chromiumMissing();

describe.skipIf(skip)('reviewing a proposal from the dashboard', () => {
  let sut: Plane;
  let cm: ChangeManagement;
  let browser: Browser;
  let pipeline: Signer;
  let tokens: Record<string, string> = {};

  beforeAll(async () => {
    sut = await startPlane((ws) => {
      cm = changeManagementFor(ws);
      return { identity: cm.identity, forge: cm.forge };
    });
    tokens = sut.tokens;
    const lease = await sut.ws.broker.openLease({
      holder: 'test',
      scopes: ['sign:pipeline'],
      ttlSeconds: 600,
    });
    pipeline = await sut.ws.broker.signer(lease.id, 'pipeline');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await sut?.close();
  });

  /** A signed routine image bump for prod on `branch`, proposed by alice. */
  async function propose(branch: string, tag: string) {
    const gitDir = sut.ws.paths.configRepo;
    const path = 'apps/checkout/overlays/prod/kustomization.yaml';
    const current = await git(['show', `main:${path}`], { cwd: gitDir });
    await commitFiles(branch, { [path]: bumpImageTag(current, tag) });
    return cm.service.openProposal(cm.identity.actorFor('alice'), {
      title: `Deploy checkout ${tag}`,
      description: 'routine image bump',
      branch,
    });
  }

  function commitFiles(branch: string, files: Record<string, string>, parent?: string) {
    return commitFilesSigned({
      gitDir: sut.ws.paths.configRepo,
      branch,
      files,
      message: 'bump',
      author: { name: 'changeproof pipeline', email: 'pipeline@changeproof.local' },
      signer: pipeline,
      ...(parent ? { parent } : {}),
    });
  }

  async function proposalsPage(user: string): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${sut.url}/#token=${tokens[user]}`);
    await page.waitForSelector('[data-testid=live]');
    await page.evaluate(`location.hash = '#/proposals'`);
    return page;
  }

  it('approves through the page and the status turns green; the author cannot', async () => {
    const proposal = await propose('prod-1', 'v1.0.1');
    const author = await proposalsPage('alice');
    const own = author.locator(`[data-proposal="${proposal.id}"]`);
    await own.waitFor();
    expect(await own.locator('button', { hasText: 'Approve' }).isDisabled()).toBe(true);
    expect(await own.locator('[data-testid=review-disabled]').textContent()).toContain(
      'no approver role',
    );
    await author.close();
    const self = await fetch(`${sut.url}/api/v1/proposals/${proposal.id}/reviews`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ state: 'approved', commit: proposal.headCommit }),
    });
    expect(self.status).toBeGreaterThanOrEqual(400);
    expect(await self.json()).toMatchObject({ error: { code: 'SELF_APPROVAL' } });

    const page = await proposalsPage('carol');
    const card = page.locator(`[data-proposal="${proposal.id}"]`);
    await card.waitFor();
    expect(await card.locator('[data-testid=approval]').textContent()).toBe('pending');
    expect(await card.locator('.diff').textContent()).toContain('v1.0.1');
    await page.screenshot({ path: join(SCREENSHOTS, 'proposals.png'), fullPage: true });
    await card.locator('button', { hasText: 'Approve' }).click();
    await expect.poll(() => card.locator('[data-testid=approval]').textContent()).toBe('approved');
    expect(await card.locator('[data-testid=approval]').getAttribute('class')).toContain(
      'approved',
    );
    const reviews = await cm.forge.listReviews(proposal.id);
    expect(reviews).toMatchObject([
      { reviewer: 'carol', state: 'approved', commit: proposal.headCommit },
    ]);
    await page.screenshot({ path: join(SCREENSHOTS, 'proposals-approved.png'), fullPage: true });
    await page.close();
  });

  it('shows a diff longer than a page a page at a time, with a pager that moves', async () => {
    const lines = Array.from({ length: DIFF_PAGE_LINES + 50 }, (_, i) => `  line-${i}: value-${i}`);
    await commitFiles('prod-big', {
      'apps/checkout/base/big-config.yaml': `data:\n${lines.join('\n')}\n`,
    });
    const proposal = await cm.service.openProposal(cm.identity.actorFor('alice'), {
      title: 'A large configuration change',
      description: 'more lines than one page of diff',
      branch: 'prod-big',
    });
    const page = await proposalsPage('carol');
    const card = page.locator(`[data-proposal="${proposal.id}"]`);
    const pager = card.locator('[data-testid=diff-pager]');
    await pager.waitFor();
    expect(await pager.textContent()).toMatch(/page 1 of 2 \(\d+ lines\)/);
    const diff = card.locator('.diff');
    expect(await diff.textContent()).toContain('+  line-0: value-0');
    expect(await diff.textContent()).not.toContain(`line-${DIFF_PAGE_LINES + 49}:`);
    expect(await pager.locator('button', { hasText: 'previous' }).isDisabled()).toBe(true);

    await pager.locator('button', { hasText: 'next' }).click();
    await expect.poll(() => pager.textContent()).toMatch(/^previouspage 2 of 2/);
    expect(await diff.textContent()).toContain(`+  line-${DIFF_PAGE_LINES + 49}: value-`);
    expect(await diff.textContent()).not.toContain('+  line-0: value-0');
    expect(await pager.locator('button', { hasText: 'next' }).isDisabled()).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'proposals-diff-page-2.png'), fullPage: true });
    await page.close();
  });

  it('disables approval for an approver who authored the proposal, and the API refuses it', async () => {
    // The pipeline proposes on behalf of the source commit's author: here carol, an approver.
    const path = 'apps/checkout/overlays/prod/kustomization.yaml';
    const current = await git(['show', `main:${path}`], { cwd: sut.ws.paths.configRepo });
    await commitFiles('prod-carol', { [path]: bumpImageTag(current, 'v1.0.9') });
    const proposal = await cm.forge.openProposal({
      title: 'Deploy checkout v1.0.9',
      description: 'routine image bump',
      author: 'carol',
      branch: 'prod-carol',
    });
    const page = await proposalsPage('carol');
    const card = page.locator(`[data-proposal="${proposal.id}"]`);
    await card.waitFor();
    expect(await card.locator('button', { hasText: 'Approve' }).isDisabled()).toBe(true);
    expect(await card.locator('[data-testid=review-disabled]').textContent()).toContain(
      'you cannot approve your own change',
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'proposals-own.png'), fullPage: true });
    await page.close();

    const self = await fetch(`${sut.url}/api/v1/proposals/${proposal.id}/reviews`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.carol}`, 'content-type': 'application/json' },
      body: JSON.stringify({ state: 'approved', commit: proposal.headCommit }),
    });
    expect(self.status).toBe(409);
    expect(await self.json()).toMatchObject({ error: { code: 'SELF_APPROVAL' } });
    expect(await cm.forge.listReviews(proposal.id)).toEqual([]);
  });

  it('refuses an auditor with 403 and records nothing', async () => {
    const proposal = await propose('prod-2', 'v1.0.2');
    const response = await fetch(`${sut.url}/api/v1/proposals/${proposal.id}/reviews`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.erin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ state: 'approved', commit: proposal.headCommit }),
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: 'ROLE_REQUIRED' } });
    expect(await cm.forge.listReviews(proposal.id)).toEqual([]);
    const anonymous = await fetch(`${sut.url}/api/v1/proposals/${proposal.id}/reviews`, {
      method: 'POST',
    });
    expect(anonymous.status).toBe(401);
    expect(await cm.forge.listReviews(proposal.id)).toEqual([]);
  });

  it('refuses, with a clear message, an approval of a head that moved', async () => {
    const proposal = await propose('prod-3', 'v1.0.3');
    const page = await browser.newPage();
    // No live updates on this page, so that it still shows the old head when the reviewer clicks.
    await page.route('**/api/events*', (route) => route.abort());
    await page.goto(`${sut.url}/#token=${tokens.carol}`);
    await page.waitForSelector('[data-testid=live]');
    await page.evaluate(`location.hash = '#/proposals'`);
    const card = page.locator(`[data-proposal="${proposal.id}"]`);
    await card.waitFor();

    const path = 'apps/checkout/overlays/prod/kustomization.yaml';
    const current = await git(['show', `${proposal.headCommit}:${path}`], {
      cwd: sut.ws.paths.configRepo,
    });
    await commitFiles('prod-3', { [path]: bumpImageTag(current, 'v1.0.4') }, proposal.headCommit);
    await cm.service.recordPush(cm.identity.actorFor('alice'), proposal.id);

    await card.locator('button', { hasText: 'Approve' }).click();
    const alert = card.locator('[role=alert]');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/^NOT_HEAD: commit \w+ is not the head of proposal/);
    expect(await cm.forge.listReviews(proposal.id)).toEqual([]);
    await page.screenshot({ path: join(SCREENSHOTS, 'proposals-head-moved.png'), fullPage: true });
    await page.close();
  });
});
