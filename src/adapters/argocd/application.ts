import { z } from 'zod';
import type { KubeObject } from '../../gitops/render.ts';

/*
 * The parts of an Argo CD Application (argoproj.io/v1alpha1) that observation reads. Everything
 * is optional and unknown fields pass: Argo CD versions differ in what they fill in.
 */
const historyEntry = z.looseObject({
  id: z.number(),
  revision: z.string().default(''),
  deployedAt: z.string(),
  deployStartedAt: z.string().optional(),
  initiatedBy: z
    .looseObject({ username: z.string().optional(), automated: z.boolean().optional() })
    .optional(),
});

const resourceStatus = z.looseObject({
  group: z.string().optional(),
  kind: z.string(),
  namespace: z.string().optional(),
  name: z.string(),
  status: z.string().optional(),
});

const applicationSchema = z.looseObject({
  metadata: z.looseObject({
    name: z.string(),
    namespace: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
  }),
  spec: z
    .looseObject({
      syncPolicy: z
        .looseObject({
          automated: z.looseObject({ selfHeal: z.boolean().optional() }).nullish(),
        })
        .optional(),
    })
    .optional(),
  operation: z.unknown().optional(),
  status: z
    .looseObject({
      history: z.array(historyEntry).default([]),
      sync: z
        .looseObject({ status: z.string().optional(), revision: z.string().optional() })
        .optional(),
      health: z.looseObject({ status: z.string().optional() }).optional(),
      operationState: z
        .looseObject({
          phase: z.string().optional(),
          message: z.string().optional(),
          startedAt: z.string().optional(),
          finishedAt: z.string().optional(),
          operation: z
            .looseObject({
              sync: z.looseObject({ revision: z.string().optional() }).optional(),
            })
            .optional(),
          syncResult: z.looseObject({ revision: z.string().optional() }).optional(),
        })
        .optional(),
      summary: z.looseObject({ images: z.array(z.string()).default([]) }).optional(),
      resources: z.array(resourceStatus).default([]),
    })
    .optional(),
});

export type ApplicationObject = z.infer<typeof applicationSchema>;
export type HistoryEntry = z.infer<typeof historyEntry>;

/** The Application, or undefined when it is not one observation can read. */
export function parseApplication(object: KubeObject): ApplicationObject | undefined {
  const parsed = applicationSchema.safeParse(object);
  return parsed.success ? parsed.data : undefined;
}

/**
 * The changeproof application (`<env>/<service>`) an Argo CD Application deploys, from the labels
 * `changeproof argocd generate` puts on it; undefined for Applications changeproof did not
 * generate (the root app-of-apps, or anyone else's).
 */
export function changeproofAppOf(
  application: ApplicationObject,
): { id: string; env: string; service: string } | undefined {
  const labels = application.metadata.labels ?? {};
  const env = labels['changeproof.dev/env'];
  const service = labels['changeproof.dev/service'];
  return env && service ? { id: `${env}/${service}`, env, service } : undefined;
}

/** True while Argo CD is running (or about to run) a sync: OutOfSync is expected then. */
export function operationInProgress(application: ApplicationObject): boolean {
  const phase = application.status?.operationState?.phase;
  return application.operation != null || phase === 'Running' || phase === 'Terminating';
}

/** `status.summary.images` as name and digest; a reference by tag alone has no digest (''). */
export function imagesOf(application: ApplicationObject): { name: string; digest: string }[] {
  return (application.status?.summary?.images ?? []).map((reference) => {
    const at = reference.indexOf('@');
    if (at < 0) return { name: reference, digest: '' };
    return { name: withoutTag(reference.slice(0, at)), digest: reference.slice(at + 1) };
  });
}

function withoutTag(name: string): string {
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > slash ? name.slice(0, colon) : name;
}

/** `Kind/namespace/name` of each resource Argo CD reports OutOfSync. */
export function outOfSyncObjects(application: ApplicationObject): string[] {
  return (application.status?.resources ?? [])
    .filter((resource) => resource.status === 'OutOfSync')
    .map((resource) => `${resource.kind}/${resource.namespace ?? ''}/${resource.name}`);
}
