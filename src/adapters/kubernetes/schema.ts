import { z } from 'zod';

/** The credential plugin API versions client-go still speaks (v1alpha1 was removed in 1.24). */
export const execApiVersions = [
  'client.authentication.k8s.io/v1',
  'client.authentication.k8s.io/v1beta1',
] as const;

/**
 * `users[].user.exec`: a credential plugin (`aws eks get-token`, `gke-gcloud-auth-plugin`,
 * `kubelogin`). The fields we act on are checked; others kubectl may add are let through.
 */
export const execConfigSchema = z.looseObject({
  apiVersion: z.enum(execApiVersions, {
    error: `exec.apiVersion must be one of ${execApiVersions.join(', ')}`,
  }),
  command: z.string().min(1, 'exec.command is empty'),
  args: z.array(z.string()).nullish(),
  env: z.array(z.looseObject({ name: z.string().min(1), value: z.string() })).nullish(),
  // v1 requires it and v1beta1 defaults it; kubeconfigs written for v1beta1 often omit it.
  interactiveMode: z.enum(['Never', 'IfAvailable', 'Always']).default('IfAvailable'),
  provideClusterInfo: z.boolean().default(false),
  installHint: z.string().nullish(),
});

export type ExecConfig = z.infer<typeof execConfigSchema>;

/** What a plugin prints on stdout; unknown fields of newer versions are ignored. */
export const execCredentialSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.literal('ExecCredential'),
  status: z.looseObject({
    token: z.string().min(1).optional(),
    clientCertificateData: z.string().min(1).optional(),
    clientKeyData: z.string().min(1).optional(),
    expirationTimestamp: z.iso.datetime({ offset: true }).optional(),
  }),
});

export type ExecCredential = z.infer<typeof execCredentialSchema>;

/**
 * The parts of a kubeconfig changeproof reads (clusters, users, contexts). Tolerant of every
 * other field kubectl writes; auth-provider plugins (removed from kubectl in 1.26) are not
 * supported.
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
          'tls-server-name': z.string().optional(),
          'proxy-url': z.string().optional(),
          // `client.authentication.k8s.io/exec` here is handed to the plugin as spec.cluster.config.
          extensions: z.array(z.object({ name: z.string(), extension: z.unknown() })).optional(),
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
            exec: execConfigSchema.optional(),
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
