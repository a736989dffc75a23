import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { changeManagementFor } from '../../change/index.ts';
import type { Identity } from '../../domain/identity.ts';
import { UsageError } from '../../errors.ts';
import { actionTokenOf } from '../auth.ts';
import { rollbackAs } from '../../reconcile/workspace-rollback.ts';
import type { WorkspaceContext } from '../../workspace/context.ts';

const body = z.strictObject({
  reason: z.string().min(5).max(2000),
  to: z
    .string()
    .regex(/^[a-z0-9-]+\/[a-z0-9-]+\/\d+$/, 'a deployment id <env>/<service>/<n>')
    .optional(),
  emergency: z.boolean().optional(),
});

/**
 * `POST /api/v1/apps/:env/:service/rollback`: opens a revert proposal for the application, to be
 * approved like any change (or through the emergency path). Needs a role that opens proposals;
 * takes a Bearer token or a dashboard session cookie.
 */
export async function rollbackRoute(
  app: FastifyInstance,
  options: { workspace: WorkspaceContext; identity?: Identity },
): Promise<void> {
  // With OIDC, the identity that also accepts dashboard sessions; local tokens otherwise.
  const identity = options.identity ?? changeManagementFor(options.workspace).identity;
  app.post<{ Params: { env: string; service: string } }>(
    '/api/v1/apps/:env/:service/rollback',
    { schema: { summary: 'Open a rollback proposal for an application', tags: ['rollback'] } },
    async (request, reply) => {
      const actor = await identity.authenticate(actionTokenOf(request));
      const parsed = body.safeParse(request.body ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new UsageError(`${issue.path.join('.') || 'body'}: ${issue.message}`);
      }
      const proposal = await rollbackAs(options.workspace, actor, {
        env: request.params.env,
        service: request.params.service,
        reason: parsed.data.reason,
        ...(parsed.data.to ? { to: parsed.data.to } : {}),
        emergency: parsed.data.emergency === true,
      });
      return reply
        .status(201)
        .send({ proposal: proposal.id, branch: proposal.branch, title: proposal.title });
    },
  );
}
