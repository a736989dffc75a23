import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ChangeManagement } from '../../change/index.ts';
import type { Actor, Identity } from '../../domain/identity.ts';
import { actionTokenOf } from '../auth.ts';
import { UsageError } from '../../errors.ts';

const reviewBody = z.strictObject({
  state: z.enum(['approved', 'changes_requested', 'commented']),
  commit: z
    .string()
    .regex(/^[0-9a-f]{40}$/, 'a full commit id')
    .optional(),
  body: z.string().max(10_000).optional(),
});
const decisionBody = reviewBody.omit({ state: true });
const emergencyBody = z.strictObject({
  reason: z.string().min(5).max(2000),
  breakGlass: z.boolean().optional(),
});
const retroBody = z.strictObject({
  outcome: z.enum(['accepted', 'rejected']),
  notes: z.string().max(10_000).optional(),
});
const windowBody = z.strictObject({ start: z.iso.datetime(), end: z.iso.datetime() });
const stateQuery = z.strictObject({ state: z.enum(['open', 'merged', 'closed']).optional() });

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new UsageError(`${issue.path.join('.') || 'body'}: ${issue.message}`);
}

/**
 * The review and change-management API under /api/v1. Every route authenticates a Bearer token
 * through the same identity check as the CLI, and the service enforces roles on every action.
 */
export async function changeRoutes(
  app: FastifyInstance,
  options: { changes: ChangeManagement; identity: Identity },
): Promise<void> {
  const { service } = options.changes;
  // A Bearer token, or a dashboard session cookie; never a token from a query or the token cookie.
  const actorOf = (request: FastifyRequest): Promise<Actor> =>
    options.identity.authenticate(actionTokenOf(request));
  type IdParams = { Params: { id: string } };

  app.get('/api/v1/proposals', async (request) =>
    service.listProposals(await actorOf(request), parse(stateQuery, request.query).state),
  );
  app.get<IdParams>('/api/v1/proposals/:id', async (request) =>
    service.showProposal(await actorOf(request), request.params.id),
  );
  app.post<IdParams>('/api/v1/proposals/:id/reviews', async (request) =>
    service.review(await actorOf(request), request.params.id, parse(reviewBody, request.body)),
  );
  app.post<IdParams>('/api/v1/proposals/:id/approve', async (request) => {
    const body = parse(decisionBody, request.body);
    return service.approve(await actorOf(request), request.params.id, body.commit, body.body);
  });
  app.post<IdParams>('/api/v1/proposals/:id/reject', async (request) => {
    const body = parse(decisionBody, request.body);
    return service.reject(await actorOf(request), request.params.id, body.body, body.commit);
  });
  app.post<IdParams>('/api/v1/proposals/:id/merge', async (request) =>
    service.merge(await actorOf(request), request.params.id),
  );
  app.post<IdParams>('/api/v1/proposals/:id/emergency', async (request) => {
    const body = parse(emergencyBody, request.body);
    return options.changes.declareEmergency(await actorOf(request), {
      proposal: request.params.id,
      ...body,
    });
  });
  app.get('/api/v1/changes', async (request) => service.listChanges(await actorOf(request)));
  app.get<IdParams>('/api/v1/changes/:id', async (request) =>
    service.showChange(await actorOf(request), request.params.id),
  );
  app.post<IdParams>('/api/v1/changes/:id/retro-review', async (request) => {
    const body = parse(retroBody, request.body);
    return options.changes.recordRetroReview(await actorOf(request), request.params.id, body);
  });
  app.post<IdParams>('/api/v1/changes/:id/window', async (request) => {
    const body = parse(windowBody, request.body);
    return service.schedule(await actorOf(request), request.params.id, body);
  });
  app.get('/api/v1/findings/overdue-reviews', async (request) => {
    await service.listChanges(await actorOf(request));
    return options.changes.overdueRetroReviews(new Date());
  });
}
