import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OidcLogin } from '../../../src/adapters/oidc/index.ts';
import { oidcSettings } from '../../../src/config/adapter-settings.ts';
import { startPlane, type Plane } from '../../dashboard/fixtures.ts';
import { OidcIssuerEmulator } from '../../emulators/oidc/server.ts';

const issuer = new OidcIssuerEmulator('changeproof-dashboard', 'client-secret-from-env');
let plane: Plane;

beforeAll(async () => {
  await issuer.start();
  plane = await startPlane(() => ({
    login: new OidcLogin({
      settings: oidcSettings.parse({
        issuer: issuer.url,
        clientId: issuer.clientId,
        roleMap: { 'platform-team': ['platform-admin'], cab: ['cab', 'approver'], typo: ['root'] },
      }),
      clientSecret: issuer.clientSecret,
      secret: Buffer.alloc(32, 7),
      allowHttpIssuer: true,
    }),
  }));
}, 60_000);

afterAll(async () => {
  await plane?.close();
  await issuer.stop();
});

/** GET without following redirects, with the cookies given. */
async function get(url: string, cookies: string[] = []) {
  return fetch(url, {
    redirect: 'manual',
    headers: cookies.length ? { cookie: cookies.join('; ') } : {},
  });
}

/** The `name=value` pairs a response sets, cleared ones left out. */
function cookiesSet(response: Response): string[] {
  return response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0]!)
    .filter((pair) => !pair.endsWith('='));
}

/** /auth/login, then the issuer's /authorize: the callback URL and the login cookie. */
async function startLogin(): Promise<{ callback: URL; loginCookie: string; authorize: URL }> {
  const login = await get(`${plane.url}/auth/login`);
  expect(login.status).toBe(302);
  const authorize = new URL(login.headers.get('location')!);
  expect(authorize.origin).toBe(issuer.url);
  const [loginCookie] = cookiesSet(login);
  expect(login.headers.getSetCookie()[0]).toMatch(/HttpOnly; SameSite=Lax$/);
  const back = await get(authorize.href);
  expect(back.status).toBe(302);
  return { callback: new URL(back.headers.get('location')!), loginCookie: loginCookie!, authorize };
}

async function logIn(): Promise<{ status: number; session?: string }> {
  const { callback, loginCookie } = await startLogin();
  const answer = await get(callback.href, [loginCookie]);
  const session = cookiesSet(answer).find((pair) => pair.startsWith('changeproof_session='));
  return { status: answer.status, ...(session ? { session } : {}) };
}

describe('OIDC login for the dashboard', () => {
  // First in the file: discovery has not happened yet, so the outage hits it.
  it('answers 503 while the issuer is down, and discovers again on the next login', async () => {
    issuer.fail({ status: 503, match: /openid-configuration/ });
    const down = await get(`${plane.url}/auth/login`);
    expect(down.status).toBe(503);
    expect(cookiesSet(down)).toEqual([]);
    expect((await get(`${plane.url}/auth/login`)).status).toBe(302);
  });

  it('sends the browser to the issuer with state, nonce and an S256 code challenge', async () => {
    const { authorize } = await startLogin();
    expect(authorize.pathname).toBe('/authorize');
    expect(authorize.searchParams.get('client_id')).toBe('changeproof-dashboard');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${plane.url}/auth/callback`);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('state')).toBeTruthy();
    expect(authorize.searchParams.get('nonce')).toBeTruthy();
  });

  it('logs in through the whole redirect flow and the session reaches a role-gated route', async () => {
    issuer.user = { sub: 'u-1', preferred_username: 'pat', groups: ['platform-team', 'unmapped'] };
    const { status, session } = await logIn();
    expect(status).toBe(302);
    expect(session).toBeDefined();
    const me = await get(`${plane.url}/api/me`, [session!]);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ name: 'pat', roles: ['platform-admin'] });
  });

  it('lets the session act on the change routes, as a bearer token would', async () => {
    issuer.user = { sub: 'u-3', preferred_username: 'carol', groups: ['cab'] };
    const { session } = await logIn();
    const list = await get(`${plane.url}/api/v1/proposals`, [session!]);
    expect(list.status).toBe(200);
    expect((await get(`${plane.url}/api/v1/proposals`)).status).toBe(401);
    const approve = (cookies: string[]) =>
      fetch(`${plane.url}/api/v1/proposals/999/approve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: cookies.join('; ') },
        body: '{}',
      });
    // Authenticated as carol, the request reaches the service, which knows no proposal 999.
    const withSession = await approve([session!]);
    expect(withSession.status).toBe(404);
    expect(((await withSession.json()) as { error: { code: string } }).error.code).toBe(
      'UNKNOWN_PROPOSAL',
    );
    expect((await approve([])).status).toBe(401);
  });

  it('maps each group to its roles and ignores names that are no changeproof role', async () => {
    issuer.user = { sub: 'u-2', preferred_username: 'carol', groups: ['cab', 'typo'] };
    const { session } = await logIn();
    const me = await get(`${plane.url}/api/me`, [session!]);
    expect(await me.json()).toMatchObject({ name: 'carol', roles: ['approver', 'cab'] });
  });

  it('sets the session cookie HttpOnly, SameSite=Lax, short-lived, not Secure over http', async () => {
    issuer.user = { sub: 'u-1', preferred_username: 'pat', groups: ['platform-team'] };
    const { callback, loginCookie } = await startLogin();
    const answer = await get(callback.href, [loginCookie]);
    const header = answer.headers.getSetCookie().find((c) => c.startsWith('changeproof_session='));
    expect(header).toMatch(/; Max-Age=3600; Path=\/; HttpOnly; SameSite=Lax$/);
  });

  it('still accepts local bearer tokens, and refuses an altered session', async () => {
    const me = await fetch(`${plane.url}/api/me`, {
      headers: { authorization: `Bearer ${plane.tokens.erin}` },
    });
    expect(await me.json()).toMatchObject({ name: 'erin' });
    issuer.user = { sub: 'u-1', preferred_username: 'pat', groups: ['platform-team'] };
    const { session } = await logIn();
    const altered = session!.slice(0, -4) + (session!.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect((await get(`${plane.url}/api/me`, [altered])).status).toBe(401);
    expect((await get(`${plane.url}/api/me`)).status).toBe(401);
  });

  it('refuses a person whose groups give no role (403, no session)', async () => {
    issuer.user = { sub: 'u-3', preferred_username: 'mallory', groups: ['everyone'] };
    const { status, session } = await logIn();
    expect(status).toBe(403);
    expect(session).toBeUndefined();
  });
});

describe('OIDC login refusals: 401 and no session', () => {
  const tampered = [
    ['an id_token signed by another key', { forgedKey: true }],
    ['an id_token for another audience', { audience: 'someone-else' }],
    ['an expired id_token', { expiresIn: -3600 }],
    ['an id_token with another nonce', { nonce: 'replayed-nonce' }],
  ] as const;
  for (const [name, tamper] of tampered) {
    it(`refuses ${name}`, async () => {
      issuer.user = { sub: 'u-1', preferred_username: 'pat', groups: ['platform-team'] };
      issuer.tamper = { ...tamper };
      const { status, session } = await logIn();
      expect(status).toBe(401);
      expect(session).toBeUndefined();
    });
  }

  it('refuses a callback whose state is not the one sent', async () => {
    const { callback, loginCookie } = await startLogin();
    callback.searchParams.set('state', 'attacker-state');
    const answer = await get(callback.href, [loginCookie]);
    expect(answer.status).toBe(401);
    expect(cookiesSet(answer)).toEqual([]);
  });

  it('refuses an injected code issued to another login (code verifier mismatch)', async () => {
    const victim = await startLogin();
    const attacker = await startLogin();
    const injected = new URL(victim.callback);
    injected.searchParams.set('code', attacker.callback.searchParams.get('code')!);
    const answer = await get(injected.href, [victim.loginCookie]);
    expect(answer.status).toBe(401);
    expect(cookiesSet(answer)).toEqual([]);
    const tokenAnswers = issuer.requests.filter((r) => r.path === '/token');
    expect(tokenAnswers.length).toBeGreaterThan(0);
  });

  it('refuses a callback without the login cookie', async () => {
    const { callback } = await startLogin();
    const answer = await get(callback.href);
    expect(answer.status).toBe(401);
    expect(cookiesSet(answer)).toEqual([]);
  });
});
