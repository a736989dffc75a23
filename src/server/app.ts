import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { GithubWebhookReceiver } from '../adapters/github/index.ts';
import { changeManagementFor } from '../change/index.ts';
import { isChangeproofError, type ErrorCategory } from '../errors.ts';
import type { Logger } from '../log.ts';
import { MetricsRegistry, OPENMETRICS_CONTENT_TYPE } from './metrics.ts';
import { registerOpenApi, trackRoutes } from './openapi.ts';
import type { WorkspaceContext } from '../workspace/context.ts';
import { changeRoutes } from './routes/changes.ts';
import type { Identity } from '../domain/identity.ts';
import { rollbackRoute } from './routes/rollback.ts';

const STATUS_BY_CATEGORY: Record<ErrorCategory, number> = {
  usage: 400,
  refused: 409,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  upstream: 503,
  internal: 500,
};

export interface ServerOptions {
  workspace: WorkspaceContext;
  logger: Logger;
  /**
   * Who callers of the change routes are: the workspace's local tokens by default; with OIDC, the
   * identity that also accepts dashboard sessions.
   */
  identity?: Identity;
  metrics?: MetricsRegistry;
  bodyLimit?: number;
}

/**
 * The control-plane HTTP server. Routes register themselves as plugins; this file owns what all
 * of them share: liveness, metrics, and the one place where errors become HTTP responses.
 */
export function createServer(options: ServerOptions): {
  app: FastifyInstance;
  metrics: MetricsRegistry;
} {
  const metrics = options.metrics ?? new MetricsRegistry();
  const app: FastifyInstance = Fastify({
    loggerInstance: options.logger.child(
      { component: 'http' },
      { level: 'warn' },
    ) as FastifyBaseLogger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
  });
  // Before any route: the OpenAPI document lists every route registered from here on.
  registerOpenApi(app, trackRoutes(app), { version: '0.1.0' });
  const requests = metrics.counter(
    'changeproof_http_requests',
    'HTTP requests served, by route and status',
  );
  const ledgerEntries = metrics.gauge(
    'changeproof_ledger_entries',
    'Entries in the evidence ledger',
  );

  app.addHook('onResponse', async (request, reply) => {
    requests({ route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });

  app.setErrorHandler((error, request, reply) => {
    if (isChangeproofError(error)) {
      return reply
        .status(STATUS_BY_CATEGORY[error.category])
        .send({ error: { code: error.code, message: error.message } });
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    const code = (error as { code?: string }).code ?? 'INTERNAL';
    return reply.status(status).send({
      error: { code, message: status >= 500 ? 'internal error' : (error as Error).message },
    });
  });

  // Unmatched routes answer in the same shape as every other error. The query is left out of
  // the message: it may carry a token.
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    return reply.status(404).send({
      error: {
        code: 'ROUTE_NOT_FOUND',
        message: `no route ${request.method} ${path}; /openapi.json lists the routes`,
      },
    });
  });

  const open = { schema: { tags: ['meta'], security: [] } };
  app.get('/healthz', { schema: { ...open.schema, summary: 'Liveness' } }, async () => {
    await options.workspace.ledger.head();
    return { status: 'ok' };
  });

  const metricsSchema = { ...open.schema, summary: 'OpenMetrics', 'x-produces': 'text/plain' };
  app.get('/metrics', { schema: metricsSchema }, async (_request, reply) => {
    const head = await options.workspace.ledger.head();
    ledgerEntries(head?.seq ?? 0);
    return reply.type(OPENMETRICS_CONTENT_TYPE).send(metrics.render());
  });

  const changes = changeManagementFor(options.workspace);
  void app.register(changeRoutes, { changes, identity: options.identity ?? changes.identity });
  void app.register(rollbackRoute, {
    workspace: options.workspace,
    identity: options.identity ?? changes.identity,
  });
  const githubWebhooks = options.workspace.connected?.githubWebhooks;
  if (githubWebhooks) void app.register(githubWebhookRoute, { receiver: githubWebhooks });

  return { app, metrics };
}

/**
 * `POST /webhooks/github`: GitHub signs the bytes it sends, so this route's body stays the raw
 * Buffer (its own content-type parser, encapsulated in this plugin) for the receiver to verify.
 */
async function githubWebhookRoute(
  app: FastifyInstance,
  options: { receiver: GithubWebhookReceiver },
): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  const schema = { tags: ['webhooks'], security: [], summary: 'GitHub webhook deliveries' };
  app.post('/webhooks/github', { schema }, async (request, reply) => {
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const outcome = await options.receiver.receive({ headers: request.headers, rawBody });
    return reply.status(outcome.status).send(outcome);
  });
}
