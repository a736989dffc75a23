import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OidcLogin } from '../../src/adapters/oidc/index.ts';
import { oidcSettings } from '../../src/config/adapter-settings.ts';
import { bumpImageTag, commitFilesSigned } from '../../src/embedded/forge/commit-files.ts';
import { git } from '../../src/gitops/git.ts';
import { OidcIssuerEmulator } from '../emulators/oidc/server.ts';
import {
  chromiumMissing,
  deployApp,
  launchChromium,
  SCREENSHOTS,
  startPlane,
  type Plane,
} from './fixtures.ts';

/*
 * The dashboard signed in by an OIDC session cookie (no token in the page), and the rollback
 * button offered only to the roles the API lets roll back. prod/checkout has two deployments of
 * real config-repo commits, so a rollback has a commit to restore.
 */
const skip = chromiumMissing();
const APP = 'prod/checkout';
const issuer = new OidcIssuerEmulator('changeproof-dashboard', 'client-secret-from-env');
const GROUPS = { alice: ['dev'], erin: ['audit'], carol: ['cab'] } as const;

describe.skipIf(skip)('dashboard sessions and the role-gated rollback', () => {
  let sut: Plane;
  let browser: Browser;

  beforeAll(async () => {
    await issuer.start();
    sut = await startPlane(() => ({
      login: new OidcLogin({
        settings: oidcSettings.parse({
          issuer: issuer.url,
          clientId: issuer.clientId,
          roleMap: { dev: ['developer'], audit: ['auditor'], cab: ['cab', 'approver'] },
        }),
        clientSecret: issuer.clientSecret,
        secret: Buffer.alloc(32, 9),
        allowHttpIssuer: true,
      }),
    }));
    await deployTwice(sut);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await sut?.close();
    await issuer.stop();
  });

  /** A fresh browser context (its own cookies) logged in through the issuer as `user`. */
  async function logInAs(user: keyof typeof GROUPS): Promise<{ page: Page; headers: string[] }> {
    issuer.user = { sub: `u-${user}`, preferred_username: user, groups: [...GROUPS[user]] };
    const page = await (await browser.newContext()).newPage();
    const headers: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.startsWith('/api/'))
        headers.push(request.headers().authorization ?? 'none');
    });
    await page.goto(`${sut.url}/auth/login`);
    await page.waitForSelector('[data-testid=live].on');
    return { page, headers };
  }

  async function withToken(user: string): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${sut.url}/#token=${sut.tokens[user]}`);
    await page.waitForSelector('[data-testid=live].on');
    return page;
  }

  async function openApp(page: Page): Promise<void> {
    await page.evaluate(`location.hash = '#/apps/${APP}'`);
    await page.waitForSelector('[data-testid=history]');
  }

  it('works from the session cookie after OIDC login: no token form and no Authorization header', async () => {
    const { page, headers } = await logInAs('erin');
    expect(await page.locator('[data-testid=me]').textContent()).toBe('erin (auditor)');
    expect(await page.locator('input').count()).toBe(0);
    const cell = page.locator(`td[data-app="${APP}"] [data-testid=sync]`);
    await expect.poll(() => cell.textContent()).toBe('synced · Healthy');
    expect(headers.length).toBeGreaterThan(0);
    expect(new Set(headers)).toEqual(new Set(['none']));
    await page.screenshot({ path: join(SCREENSHOTS, 'session-matrix.png'), fullPage: true });
    await page.context().close();
  });

  it('shows an auditor and a CAB member no active rollback button, and the API refuses them', async () => {
    for (const user of ['erin', 'carol']) {
      const page = await withToken(user);
      await openApp(page);
      const button = page.locator('[data-testid=rollback] button');
      expect(await button.isDisabled()).toBe(true);
      expect(await button.getAttribute('title')).toMatch(/needs role developer or oncall/);
      if (user === 'erin')
        await page.screenshot({ path: join(SCREENSHOTS, 'rollback-auditor.png'), fullPage: true });
      await page.context().close();
    }
    const before = await sut.ws.ledger.list({ kind: 'rollback.requested' });
    const refused = await fetch(`${sut.url}/api/v1/apps/${APP}/rollback`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sut.tokens.erin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'auditor tries' }),
    });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: 'ROLE_REQUIRED' } });
    expect(await sut.ws.ledger.list({ kind: 'rollback.requested' })).toEqual(before);
  });

  it('lets a developer signed in by session click Roll back, and the rollback proposal opens', async () => {
    const { page, headers } = await logInAs('alice');
    await openApp(page);
    const rollback = page.locator('[data-testid=rollback]');
    await rollback.locator('button', { hasText: 'Roll back' }).click();
    const opened = rollback.locator('[role=status]');
    await opened.waitFor();
    expect(await opened.textContent()).toMatch(/^rollback proposal \S+ opened/);
    expect(new Set(headers)).toEqual(new Set(['none']));

    await rollback.locator('a', { hasText: 'review it' }).click();
    const card = page.locator('article.proposal', {
      hasText: `Roll back ${APP} to prod/checkout/1`,
    });
    await card.waitFor();
    expect(await card.textContent()).toContain('by alice');
    const [requested] = await sut.ws.ledger.list({ kind: 'rollback.requested' });
    expect(requested).toMatchObject({ actor: 'alice', payload: { app: APP } });
    await page.screenshot({ path: join(SCREENSHOTS, 'rollback-opened.png'), fullPage: true });
    await page.context().close();
  });

  it('refuses a token in the query string on rollback, and without any credential', async () => {
    for (const query of [`?access_token=${sut.tokens.alice}`, '']) {
      const response = await fetch(`${sut.url}/api/v1/apps/${APP}/rollback${query}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'link in a mail' }),
      });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: { code: 'TOKEN_MISSING' } });
    }
  });
});

/** Deployment 1 of main as `init` seeded it, then deployment 2 of a signed image bump on main. */
async function deployTwice(sut: Plane): Promise<void> {
  const gitDir = sut.ws.paths.configRepo;
  const first = (await git(['rev-parse', 'main'], { cwd: gitDir })).trim();
  await deployApp(sut.ws.ledger, {
    env: 'prod',
    service: 'checkout',
    n: 1,
    seed: 'a',
    commit: first,
  });
  const lease = await sut.ws.broker.openLease({
    holder: 'test',
    scopes: ['sign:pipeline'],
    ttlSeconds: 600,
  });
  const path = 'apps/checkout/overlays/prod/kustomization.yaml';
  const current = await git(['show', `main:${path}`], { cwd: gitDir });
  const second = await commitFilesSigned({
    gitDir,
    branch: 'main',
    files: { [path]: bumpImageTag(current, 'v2.0.0') },
    message: 'bump',
    author: { name: 'changeproof pipeline', email: 'pipeline@changeproof.local' },
    signer: await sut.ws.broker.signer(lease.id, 'pipeline'),
  });
  await deployApp(sut.ws.ledger, {
    env: 'prod',
    service: 'checkout',
    n: 2,
    seed: 'b',
    commit: second,
  });
}
