import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { RouteSchema } from '../openapi.ts';

/** Where `vite build` writes the dashboard (web/dist at the repository root). */
export const DASHBOARD_DIST = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
};

/**
 * Serves the built dashboard: `/` is the page, `/assets/*` its hashed files. The page holds no
 * data, so these are open; everything it shows comes from the token-checked `/api` routes.
 */
export async function registerDashboard(
  app: FastifyInstance,
  options: { distDir?: string } = {},
): Promise<void> {
  const dist = resolve(options.distDir ?? DASHBOARD_DIST);
  const open = (summary: string): RouteSchema => ({ summary, tags: ['dashboard'], security: [] });

  app.get(
    '/',
    { schema: { ...open('The dashboard page'), 'x-produces': 'text/html' } },
    async (_request, reply) => {
      const index = join(dist, 'index.html');
      if (!existsSync(index)) {
        return reply
          .status(503)
          .type('text/plain; charset=utf-8')
          .send('the dashboard is not built: run `npm run build:web` in the changeproof folder\n');
      }
      return reply
        .type(TYPES['.html']!)
        .header('cache-control', 'no-cache')
        .send(await readFile(index));
    },
  );

  app.get<{ Params: { '*': string } }>(
    '/assets/*',
    { schema: { ...open('Scripts and styles of the dashboard'), 'x-produces': 'text/javascript' } },
    async (request, reply) => {
      const file = resolve(dist, 'assets', request.params['*']);
      if (!file.startsWith(join(dist, 'assets') + sep) || !existsSync(file)) {
        return reply.status(404).send({ error: { code: 'NOT_FOUND', message: 'no such file' } });
      }
      return reply
        .type(TYPES[extname(file)] ?? 'application/octet-stream')
        .header('cache-control', 'public, max-age=31536000, immutable')
        .send(await readFile(file));
    },
  );
}
