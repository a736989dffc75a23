import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ChangeproofConfig, Role } from '../../config/schema.ts';
import type { Forge } from '../../domain/forge.ts';
import { authorize, type Action } from '../../change/permissions.ts';
import type { Actor, Identity } from '../../domain/identity.ts';
import { ChangeproofError, messageOf } from '../../errors.ts';
import type { LiveDiffSource } from '../live-diff.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import { ANY_ROLE, authorizeRequest } from '../auth.ts';
import type { RouteSchema } from '../openapi.ts';
import { LedgerWatcher, streamLedgerEvents } from '../sse.ts';
import { buildDeploymentEvidence, buildDora } from './read-api-audit.ts';
import { EvidenceCache } from './read-api-evidence.ts';
import { currentIndex } from './read-api-index.ts';
import { getProposal, listProposals, pageOfLines, proposalDiff } from './read-api-proposals.ts';
import type { LiveDiffPage, Me } from './read-api-types.ts';
import { buildAppDetail, buildMatrix, buildTimeline } from './read-api-views.ts';

export interface ReadApiOptions {
  ledger: Ledger;
  config: ChangeproofConfig;
  identity: Identity;
  /** The bare config repo, for proposal diffs. */
  configRepo: string;
  /** Proposals, reviews and statuses as the forge has them now; the ledger's copy otherwise. */
  forge?: Forge;
  /** Desired against live for the application page; the route answers 404 without it. */
  liveDiff?: LiveDiffSource;
  /** How often the event stream looks for new ledger entries. */
  pollIntervalMs?: number;
}

/**
 * Where the page finds the write routes of review and rollback, which their own modules register.
 * The first of each that the server answers is offered; absent ones are shown disabled.
 */
export const WRITE_ROUTES = {
  review: [
    { method: 'POST', url: '/api/v1/proposals/:id/reviews' },
    { method: 'POST', url: '/api/proposals/:id/reviews' },
  ],
  rollback: [
    { method: 'POST', url: '/api/v1/apps/:env/:service/rollback' },
    { method: 'POST', url: '/api/apps/:env/:service/rollback' },
  ],
} as const;

/**
 * The role check behind each write route. A review needs only a reviewing role here; whether this
 * person may approve this proposal (author, last pusher, production) is the page's and the
 * service's question per proposal.
 */
const WRITE_ACTIONS: Record<keyof typeof WRITE_ROUTES, Action> = {
  review: 'comment',
  rollback: 'open',
};

const name = { type: 'string', minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9._-]+$' };
const paging = {
  type: 'object',
  properties: {
    cursor: { type: 'string', pattern: '^[0-9]+$' },
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
  },
};

/** The read API of the dashboard, and the event stream; every route needs a token. */
export async function registerReadApi(
  app: FastifyInstance,
  options: ReadApiOptions,
): Promise<void> {
  const cache = new EvidenceCache(options.ledger);
  const watcher = new LedgerWatcher(options.ledger, options.pollIntervalMs);
  const index = () => currentIndex(cache);
  const read = (request: FastifyRequest, roles: readonly Role[] = ANY_ROLE) =>
    authorizeRequest(options.identity, request, roles);
  const doc = (summary: string, extra: Partial<RouteSchema> = {}): RouteSchema => ({
    summary,
    tags: ['dashboard'],
    'x-roles': [...ANY_ROLE],
    ...extra,
  });
  app.addHook('preClose', async () => watcher.close());

  app.get(
    '/api/me',
    { schema: doc('Who the token belongs to and which actions they may take') },
    async (request) => {
      const actor = await read(request);
      return meOf(app, actor);
    },
  );

  app.get(
    '/api/matrix',
    { schema: doc('Environments by services: sync, health, digest, commit, change, evidence') },
    async (request) => {
      await read(request);
      return buildMatrix(await index(), options.config);
    },
  );

  app.get<{
    Params: { env: string; service: string };
    Querystring: { cursor?: string; limit: number };
  }>(
    '/api/apps/:env/:service',
    {
      schema: doc(
        'An application: desired against live, drifts, and its whole deployment history, a page at a time',
        {
          params: {
            type: 'object',
            required: ['env', 'service'],
            properties: { env: name, service: name },
          },
          querystring: paging,
        },
      ),
    },
    async (request) => {
      await read(request);
      const { env, service } = request.params;
      return buildAppDetail(await index(), env, service, pageOf(request.query));
    },
  );

  app.get<{ Params: { env: string; service: string }; Querystring: { page: number } }>(
    '/api/apps/:env/:service/live-diff',
    {
      schema: doc('A page of the desired manifests against the live objects, field by field', {
        params: {
          type: 'object',
          required: ['env', 'service'],
          properties: { env: name, service: name },
        },
        querystring: {
          type: 'object',
          properties: { page: { type: 'integer', minimum: 1, default: 1 } },
        },
      }),
    },
    async (request) => {
      await read(request);
      const { env, service } = request.params;
      if (!options.liveDiff) {
        throw new ChangeproofError('LIVE_DIFF_UNAVAILABLE', 'this server reaches no cluster', {
          category: 'not-found',
        });
      }
      const synced = buildAppDetail(await index(), env, service, { limit: 1 }).desired;
      const diff = await options.liveDiff(env, service, synced.configCommit);
      const page: LiveDiffPage = {
        app: `${env}/${service}`,
        commit: diff.commit,
        ...pageOfLines(diff.lines, request.query.page),
      };
      return page;
    },
  );

  app.get<{ Querystring: { cursor?: string; limit: number; app?: string } }>(
    '/api/timeline',
    {
      schema: doc('Drift, incidents, failed and refused syncs, newest first', {
        querystring: {
          ...paging,
          properties: { ...paging.properties, app: { type: 'string', maxLength: 300 } },
        },
      }),
    },
    async (request) => {
      await read(request);
      return buildTimeline(await index(), { ...pageOf(request.query), app: request.query.app });
    },
  );

  app.get<{ Querystring: { state: 'open' | 'all' } }>(
    '/api/proposals',
    {
      schema: doc('Proposals with their reviews, checks and evidence', {
        querystring: {
          type: 'object',
          properties: { state: { enum: ['open', 'all'], default: 'open' } },
        },
      }),
    },
    async (request) => {
      await read(request);
      return { items: await listProposals(await index(), options.forge, request.query.state) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/proposals/:id',
    { schema: doc('One proposal', { params: { type: 'object', properties: { id: name } } }) },
    async (request) => {
      await read(request);
      return getProposal(await index(), options.forge, request.params.id);
    },
  );

  app.get<{ Params: { id: string }; Querystring: { page: number } }>(
    '/api/proposals/:id/diff',
    {
      schema: doc('A page of the proposal diff (base to head)', {
        params: { type: 'object', properties: { id: name } },
        querystring: {
          type: 'object',
          properties: { page: { type: 'integer', minimum: 1, default: 1 } },
        },
      }),
    },
    async (request) => {
      await read(request);
      const proposal = await getProposal(await index(), options.forge, request.params.id);
      return proposalDiff(options.configRepo, proposal, request.query.page);
    },
  );

  app.get<{ Params: { env: string; service: string; number: string } }>(
    '/api/deployments/:env/:service/:number/evidence',
    {
      schema: doc('The three audit questions for one deployment', {
        params: {
          type: 'object',
          properties: { env: name, service: name, number: { type: 'string', pattern: '^[0-9]+$' } },
        },
      }),
    },
    async (request) => {
      await read(request);
      const { env, service, number } = request.params;
      return buildDeploymentEvidence(await index(), `${env}/${service}/${number}`);
    },
  );

  app.get<{ Querystring: { days: number; env?: string } }>(
    '/api/dora',
    {
      schema: doc('DORA metrics per day over production (or the environments named)', {
        querystring: {
          type: 'object',
          properties: {
            days: { type: 'integer', minimum: 1, maximum: 366, default: 30 },
            env: { type: 'string', maxLength: 300 },
          },
        },
      }),
    },
    async (request) => {
      await read(request);
      const envs = request.query.env?.split(',').filter(Boolean);
      return buildDora(await index(), options.config, { days: request.query.days, envs });
    },
  );

  app.get(
    '/api/events',
    {
      schema: doc('Server-sent events: one `ledger` event per batch of new ledger entries', {
        description:
          'EventSource cannot send headers: pass the token as ?access_token= or the changeproof_token cookie.',
        'x-produces': 'text/event-stream',
      }),
    },
    async (request, reply) => {
      await read(request);
      streamLedgerEvents(watcher, request, reply, (await options.ledger.head())?.seq ?? 0);
    },
  );
}

function pageOf(query: { cursor?: string; limit: number }): { cursor?: number; limit: number } {
  return {
    cursor: query.cursor === undefined ? undefined : Number(query.cursor),
    limit: query.limit,
  };
}

/**
 * The actor and the write actions the server offers them: a route it answers and the actor's
 * roles allow. A refused action carries the reason, so the page shows it disabled and says why.
 */
function meOf(app: FastifyInstance, actor: Actor): Me {
  const offered = (kind: keyof typeof WRITE_ROUTES) => {
    const route = WRITE_ROUTES[kind].find((r) => app.hasRoute({ method: r.method, url: r.url }));
    if (!route) {
      const [first] = WRITE_ROUTES[kind];
      return { disabled: `this server has no ${kind} route yet (${first.method} ${first.url})` };
    }
    const refusal = refusalOf(actor, WRITE_ACTIONS[kind]);
    return refusal ? { disabled: refusal } : { method: route.method, url: route.url };
  };
  return {
    name: actor.name,
    roles: actor.roles,
    actions: { review: offered('review'), rollback: offered('rollback') },
  };
}

/** Why the change service would refuse `actor` this action by role, if it would. */
function refusalOf(actor: Actor, action: Action): string | undefined {
  try {
    authorize(actor, action);
    return undefined;
  } catch (error) {
    return messageOf(error);
  }
}
