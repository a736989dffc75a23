import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SESSION_COOKIE, cookieOf } from '../../server/auth.ts';
import { LOGIN_TTL_SECONDS, type OidcLogin } from './login.ts';

/** The cookie that carries a login in flight, from /auth/login to /auth/callback. */
export const LOGIN_COOKIE = 'changeproof_login';

const open = { tags: ['auth'], security: [] };

/**
 * GET /auth/login, /auth/callback and /auth/logout. Cookies are HttpOnly and SameSite=Lax (the
 * callback is a top-level navigation from the issuer, which Lax lets through), and Secure when
 * the callback URL is https.
 */
export function registerOidcRoutes(app: FastifyInstance, login: OidcLogin): void {
  app.get(
    '/auth/login',
    { schema: { ...open, summary: 'Log in with OIDC' } },
    async (request, reply) => {
      const redirectUrl = login.redirectUrlFor(`${request.protocol}://${request.host}`);
      const { location, loginCookie } = await login.start(redirectUrl);
      setCookie(reply, LOGIN_COOKIE, loginCookie, {
        maxAge: LOGIN_TTL_SECONDS,
        path: '/auth',
        secure: redirectUrl.startsWith('https:'),
      });
      return reply.redirect(location, 302);
    },
  );

  app.get(
    '/auth/callback',
    { schema: { ...open, summary: 'OIDC callback' } },
    async (request, reply) => {
      const redirectUrl = login.redirectUrlFor(`${request.protocol}://${request.host}`);
      const secure = redirectUrl.startsWith('https:');
      // The login cookie is single-use: cleared whatever the outcome.
      clearCookie(reply, LOGIN_COOKIE, '/auth', secure);
      const { session } = await login.finish(queryOf(request), cookieOf(request, LOGIN_COOKIE));
      setCookie(reply, SESSION_COOKIE, session, {
        maxAge: login.sessionTtlSeconds,
        path: '/',
        secure,
      });
      return reply.redirect('/', 302);
    },
  );

  app.get(
    '/auth/logout',
    { schema: { ...open, summary: 'End the dashboard session' } },
    async (request, reply) => {
      clearCookie(reply, SESSION_COOKIE, '/', request.protocol === 'https');
      return reply.redirect('/', 302);
    },
  );
}

function queryOf(request: FastifyRequest): URLSearchParams {
  const raw = request.raw.url ?? '';
  const index = raw.indexOf('?');
  return new URLSearchParams(index < 0 ? '' : raw.slice(index + 1));
}

function setCookie(
  reply: FastifyReply,
  name: string,
  value: string,
  options: { maxAge: number; path: string; secure: boolean },
): void {
  const parts = [
    `${name}=${value}`,
    `Max-Age=${options.maxAge}`,
    `Path=${options.path}`,
    'HttpOnly',
    'SameSite=Lax',
    ...(options.secure ? ['Secure'] : []),
  ];
  appendSetCookie(reply, parts.join('; '));
}

function clearCookie(reply: FastifyReply, name: string, path: string, secure: boolean): void {
  appendSetCookie(
    reply,
    `${name}=; Max-Age=0; Path=${path}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`,
  );
}

function appendSetCookie(reply: FastifyReply, cookie: string): void {
  // Fastify sends each set-cookie value as its own header rather than replacing the last.
  reply.header('set-cookie', cookie);
}
