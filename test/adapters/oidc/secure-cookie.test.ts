import Fastify from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OidcLogin, registerOidcRoutes } from '../../../src/adapters/oidc/index.ts';
import { oidcSettings } from '../../../src/config/adapter-settings.ts';
import { OidcIssuerEmulator } from '../../emulators/oidc/server.ts';

// The public URL is https (a TLS-terminating ingress in front); the app itself listens on http.
const publicCallback = 'https://changeproof.acme.test/auth/callback';
const issuer = new OidcIssuerEmulator('dashboard', 'secret');
const app = Fastify();
let url = '';

beforeAll(async () => {
  await issuer.start();
  const login = new OidcLogin({
    settings: oidcSettings.parse({
      issuer: issuer.url,
      clientId: 'dashboard',
      redirectUrl: publicCallback,
      roleMap: { 'platform-team': ['platform-admin'] },
    }),
    clientSecret: 'secret',
    secret: Buffer.alloc(32, 9),
    allowHttpIssuer: true,
  });
  registerOidcRoutes(app, login);
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app.close();
  await issuer.stop();
});

it('marks both cookies Secure when the callback URL is https', async () => {
  const start = await fetch(`${url}/auth/login`, { redirect: 'manual' });
  const loginCookie = start.headers.getSetCookie()[0]!;
  expect(loginCookie).toMatch(/; Path=\/auth; HttpOnly; SameSite=Lax; Secure$/);
  const authorize = new URL(start.headers.get('location')!);
  expect(authorize.searchParams.get('redirect_uri')).toBe(publicCallback);
  const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
  expect(back.origin + back.pathname).toBe(publicCallback);
  const callback = await fetch(`${url}/auth/callback${back.search}`, {
    redirect: 'manual',
    headers: { cookie: loginCookie.split(';')[0]! },
  });
  expect(callback.status).toBe(302);
  const session = callback.headers.getSetCookie().find((c) => c.startsWith('changeproof_session='));
  expect(session).toMatch(/; Max-Age=3600; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
});
