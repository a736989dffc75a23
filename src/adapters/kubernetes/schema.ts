import { z } from 'zod';

/**
 * The parts of a kubeconfig changeproof reads (clusters, users, contexts). Tolerant of every
 * other field kubectl writes; exec and auth-provider plugins are not supported.
 */
export const kubeconfigSchema = z.object({
  clusters: z
    .array(
      z.object({
        name: z.string(),
        cluster: z.object({
          server: z.string(),
          'certificate-authority-data': z.string().optional(),
          'certificate-authority': z.string().optional(),
          'insecure-skip-tls-verify': z.boolean().optional(),
        }),
      }),
    )
    .default([]),
  users: z
    .array(
      z.object({
        name: z.string(),
        user: z
          .object({
            token: z.string().optional(),
            tokenFile: z.string().optional(),
            'client-certificate-data': z.string().optional(),
            'client-key-data': z.string().optional(),
          })
          .default({}),
      }),
    )
    .default([]),
  contexts: z
    .array(
      z.object({
        name: z.string(),
        context: z.object({
          cluster: z.string(),
          user: z.string().optional(),
          namespace: z.string().optional(),
        }),
      }),
    )
    .default([]),
  'current-context': z.string().optional(),
});

export type Kubeconfig = z.infer<typeof kubeconfigSchema>;

/** A Kubernetes `Status` as returned with failures. */
export const statusSchema = z.object({
  kind: z.literal('Status'),
  reason: z.string().optional(),
  message: z.string().optional(),
  code: z.number().optional(),
});

/** One line of a watch stream. */
export const watchEventSchema = z.object({
  type: z.enum(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']),
  object: z.record(z.string(), z.unknown()),
});
