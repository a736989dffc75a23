import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumMissing,
  deployApp,
  driftApp,
  launchChromium,
  SCREENSHOTS,
  startPlane,
  type Plane,
} from './fixtures.ts';

const skip = chromiumMissing();

describe.skipIf(skip)('dashboard in Chromium', () => {
  let sut: Plane;
  let browser: Browser;
  let checkout: { deployment: string; digest: string; commit: string };

  beforeAll(async () => {
    sut = await startPlane();
    checkout = await deployApp(sut.ws.ledger, {
      env: 'prod',
      service: 'checkout',
      n: 1,
      seed: 'a',
    });
    await deployApp(sut.ws.ledger, { env: 'dev', service: 'checkout', n: 1, seed: 'b' });
    await deployApp(sut.ws.ledger, {
      env: 'prod',
      service: 'billing',
      n: 1,
      seed: 'c',
      signed: false,
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await sut?.close();
  });

  async function open(path: string, user = 'carol') {
    const page = await browser.newPage();
    await page.goto(`${sut.url}/#token=${sut.tokens[user]}`);
    await page.waitForSelector('[data-testid=live]');
    if (path !== '/') await page.evaluate(`location.hash = ${JSON.stringify(`#${path}`)}`);
    return page;
  }

  it('shows the matrix with digest, commit, change and a red badge where a link is missing', async () => {
    const page = await open('/');
    const prod = page.locator('td[data-app="prod/checkout"]');
    await expect.poll(() => prod.textContent()).toContain(checkout.digest.slice(7, 19));
    expect(await prod.textContent()).toContain(checkout.commit.slice(0, 7));
    expect(await prod.textContent()).toContain('CHG0000001');
    expect(await prod.locator('[data-testid=sync]').textContent()).toBe('synced · Healthy');
    expect(await prod.locator('[data-testid=evidence]').getAttribute('class')).toContain('ok');
    const billing = page.locator('td[data-app="prod/billing"] [data-testid=evidence]');
    expect(await billing.getAttribute('class')).toContain('missing');
    expect(await billing.getAttribute('title')).toBe('missing: signed');
    expect(await page.locator('td[data-app="staging/checkout"]').textContent()).toContain('never');
    await page.waitForSelector('[data-testid=live].on');
    await page.screenshot({ path: join(SCREENSHOTS, 'matrix.png'), fullPage: true });
    await page.close();
  });

  it('shows a new drift live, without a reload, on the matrix, the application and the timeline', async () => {
    const page = await open('/apps/prod/checkout');
    await page.waitForSelector('[data-testid=history]');
    await page.waitForSelector('[data-testid=live].on');
    expect(await page.locator('[data-testid=drift]').count()).toBe(0);

    await driftApp(sut.ws.ledger, 'prod/checkout');

    await page.waitForSelector('[data-testid=drift]', { timeout: 3000 });
    const drift = await page.locator('[data-testid=drift]').textContent();
    expect(drift).toContain('spec.replicas');
    expect(drift).toContain('kubectl-edit');
    expect(drift).toContain('incident inc-1');
    await page.screenshot({ path: join(SCREENSHOTS, 'application.png'), fullPage: true });

    await page.evaluate(`location.hash = '#/'`);
    const sync = page.locator('td[data-app="prod/checkout"] [data-testid=sync]');
    await expect.poll(() => sync.textContent()).toBe('drifted · Healthy');
    await page.evaluate(`location.hash = '#/insights'`);
    await page.waitForSelector('[data-testid=timeline-event]');
    const timeline = await page.locator('[data-testid=timeline]').textContent();
    expect(timeline).toContain('drift on Deployment/default/checkout');
    expect(timeline).toContain('incident inc-1 opened');
    await page.screenshot({ path: join(SCREENSHOTS, 'insights.png'), fullPage: true });
    await page.close();
  });

  it('answers the three audit questions on a page that prints', async () => {
    const page = await open(`/deployments/${checkout.deployment}`);
    await page.waitForSelector('.evidence-page');
    const text = await page.locator('.evidence-page').textContent();
    expect(text).toContain('1. Who approved it?');
    expect(text).toContain('carol');
    expect(text).toContain('Separation of duties: pass');
    expect(text).toContain(checkout.digest);
    expect(text).toContain('Verdict: consistent');
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('header').isVisible()).toBe(false);
    await page.screenshot({ path: join(SCREENSHOTS, 'evidence-print.png'), fullPage: true });
    const pdf = await page.pdf({ format: 'A4' });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    await page.close();
  });

  it('asks for a token when the page has none, and the API refuses requests without one', async () => {
    const page = await browser.newPage();
    await page.goto(sut.url);
    await page.waitForSelector('input');
    await page.screenshot({ path: join(SCREENSHOTS, 'sign-in.png') });
    await page.close();

    const none = await fetch(`${sut.url}/api/matrix`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: 'TOKEN_MISSING' } });
    const forged = await fetch(`${sut.url}/api/matrix`, {
      headers: { authorization: 'Bearer cpt_forged' },
    });
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ error: { code: 'TOKEN_INVALID' } });
    const events = await fetch(`${sut.url}/api/events`);
    expect(events.status).toBe(401);
  });
});
