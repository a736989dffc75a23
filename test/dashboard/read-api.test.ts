import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteOptions } from 'fastify';
import { deployApp, startPlane, type Plane } from './fixtures.ts';

describe('read API', () => {
  let sut: Plane;
  const get = (path: string, user = 'erin') =>
    fetch(`${sut.url}${path}`, { headers: { authorization: `Bearer ${sut.tokens[user]}` } });

  beforeAll(async () => {
    sut = await startPlane();
    for (let n = 1; n <= 25; n++) {
      await deployApp(sut.ws.ledger, {
        env: 'prod',
        service: 'checkout',
        n,
        seed: (n % 10).toString(16),
      });
    }
  });
  afterAll(() => sut?.close());

  it('documents every route it answers in /openapi.json, and marks the open ones', async () => {
    const document = (await (await fetch(`${sut.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    expect(document.openapi).toBe('3.1.0');
    const { createServer } = await import('../../src/server/app.ts');
    const { registerReadApi } = await import('../../src/server/routes/read-api.ts');
    const { registerDashboard } = await import('../../src/server/routes/dashboard.ts');
    const { createLogger } = await import('../../src/log.ts');
    // Build a second server the way the control plane does and list what Fastify registered.
    const { app } = createServer({ workspace: sut.ws, logger: createLogger({ level: 'silent' }) });
    const registered: string[] = [];
    app.addHook('onRoute', (route: RouteOptions) => {
      for (const m of [route.method].flat()) if (m !== 'HEAD') registered.push(`${m} ${route.url}`);
    });
    await registerReadApi(app, {
      ledger: sut.ws.ledger,
      config: sut.ws.config,
      identity: { authenticate: async () => ({ name: 'x', roles: ['auditor'] }) },
      configRepo: sut.ws.paths.configRepo,
    });
    await registerDashboard(app);
    await app.ready();
    const documented = Object.entries(document.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    for (const route of registered) expect(documented).toContain(route);
    expect(documented).toContain('POST /api/v1/proposals/:id/reviews');
    expect(document.paths['/api/matrix']!.get!.security).toBeUndefined();
    expect(document.paths['/healthz']!.get!.security).toEqual([]);
    await app.close();
  });

  it('pages the whole deployment history, with no ten-entry limit', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const response = await get(
        `/api/apps/prod/checkout?limit=10${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        history: { items: { id: string }[]; total: number; next?: string };
      };
      expect(body.history.total).toBe(25);
      seen.push(...body.history.items.map((item) => item.id));
      cursor = body.history.next;
    } while (cursor);
    expect(seen).toHaveLength(25);
    expect(seen[0]).toBe('prod/checkout/25');
    expect(seen.at(-1)).toBe('prod/checkout/1');
  });

  it('answers bad input with a stable code', async () => {
    const bad = await get('/api/apps/prod/checkout?limit=9999');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe(
      'FST_ERR_VALIDATION',
    );
    const unknown = await get('/api/deployments/prod/checkout/999/evidence');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'DEPLOYMENT_UNKNOWN' } });
  });

  it('answers an unmatched route with the JSON error shape and a stable code, no token echoed', async () => {
    for (const [method, path] of [
      ['GET', '/api/nope?access_token=cpt_secret'],
      ['POST', '/api/matrix'],
      ['GET', '/no/such/page'],
    ] as const) {
      const response = await fetch(`${sut.url}${path}`, { method });
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('ROUTE_NOT_FOUND');
      expect(body.error.message).toBe(
        `no route ${method} ${path.split('?')[0]}; /openapi.json lists the routes`,
      );
    }
  });

  it('computes DORA over production from the ledger', async () => {
    const dora = (await (await get('/api/dora?days=7')).json()) as {
      envs: string[];
      deployments: number;
      medianLeadTimeHours: number;
    };
    expect(dora.envs).toEqual(['prod']);
    expect(dora.deployments).toBe(25);
    expect(dora.medianLeadTimeHours).toBeCloseTo(1, 1);
  });
});
