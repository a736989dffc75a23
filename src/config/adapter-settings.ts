import { z } from 'zod';

/*
 * The non-secret settings of the connected adapters. Credentials are never read from
 * changeproof.yaml: they come from the environment (GITHUB_TOKEN, SERVICENOW_PASSWORD, DD_API_KEY,
 * OIDC_CLIENT_SECRET …), the pod's service-account token, or Vault. A settings block that carries
 * something that looks like a credential is refused with the variable to use instead.
 */
const CREDENTIAL_KEY = /(token|password|secret|api[-_]?key|private[-_]?key|credential)s?$/i;

/** Where each adapter takes its credentials from, for the refusal message. */
const credentialSource: Record<string, string> = {
  github: 'GITHUB_TOKEN and GITHUB_WEBHOOK_SECRET',
  servicenow:
    'SERVICENOW_USER/SERVICENOW_PASSWORD (and SERVICENOW_CLIENT_ID/SERVICENOW_CLIENT_SECRET for OAuth)',
  vault: "the pod's service-account token file",
  argocd: 'the Kubernetes service account',
  datadog: 'DD_API_KEY',
  cdevents: 'CDEVENTS_TOKEN',
  oidc: 'OIDC_CLIENT_SECRET',
};

function withoutCredentials<T extends z.ZodType>(section: string, schema: T) {
  return z.preprocess((value, ctx) => {
    if (value && typeof value === 'object') {
      for (const key of Object.keys(value)) {
        if (CREDENTIAL_KEY.test(key) && !/(path|file|claim|url)$/i.test(key)) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `credentials never go in changeproof.yaml; remove '${key}' and set ${credentialSource[section]}`,
          });
        }
      }
    }
    return value;
  }, schema);
}

const url = z.url({ protocol: /^https?$/ });

export const githubSettings = withoutCredentials(
  'github',
  z.strictObject({
    owner: z.string().min(1),
    repo: z.string().min(1),
    apiUrl: url.default('https://api.github.com'),
    /** The clone URL pipelines push branches to; defaults to github.com/<owner>/<repo>.git. */
    cloneUrl: z.string().optional(),
    baseBranch: z.string().default('main'),
  }),
);

export const servicenowSettings = withoutCredentials(
  'servicenow',
  z.strictObject({
    instanceUrl: url,
    auth: z.enum(['basic', 'oauth']).default('basic'),
    /** The standard-change template used for routine proposals. */
    standardTemplate: z.string().optional(),
    assignmentGroup: z.string().optional(),
  }),
);

export const vaultSettings = withoutCredentials(
  'vault',
  z.strictObject({
    address: url,
    role: z.string().min(1),
    authMount: z.string().default('kubernetes'),
    kvMount: z.string().default('secret'),
    transitMount: z.string().default('transit'),
    /** Transit key names for changeproof's signing keys. */
    transitKeys: z
      .strictObject({
        pipeline: z.string().default('changeproof-pipeline'),
        'control-plane': z.string().default('changeproof-control-plane'),
      })
      .default({ pipeline: 'changeproof-pipeline', 'control-plane': 'changeproof-control-plane' }),
    serviceAccountTokenPath: z
      .string()
      .default('/var/run/secrets/kubernetes.io/serviceaccount/token'),
  }),
);

export const argocdSettings = withoutCredentials(
  'argocd',
  z.strictObject({
    namespace: z.string().default('argocd'),
    repoUrl: z.string().min(1),
    project: z.string().default('changeproof'),
    targetRevision: z.string().default('main'),
  }),
);

export const datadogSettings = withoutCredentials(
  'datadog',
  z.strictObject({
    site: z.string().default('datadoghq.com'),
    /** Overrides https://api.<site> (a proxy or a test emulator). */
    apiUrl: url.optional(),
    tags: z.array(z.string()).default([]),
  }),
);

export const cdeventsSettings = withoutCredentials(
  'cdevents',
  z.strictObject({
    url,
    mode: z.enum(['binary', 'structured']).default('structured'),
    source: z.string().default('/changeproof'),
  }),
);

export const oidcSettings = withoutCredentials(
  'oidc',
  z.strictObject({
    issuer: url,
    clientId: z.string().min(1),
    redirectUrl: url.optional(),
    groupsClaim: z.string().default('groups'),
    usernameClaim: z.string().default('preferred_username'),
    /** OIDC group → changeproof roles. */
    roleMap: z.record(z.string(), z.array(z.string())).default({}),
    scopes: z.array(z.string()).default(['openid', 'profile', 'email', 'groups']),
  }),
);

export type GithubSettings = z.infer<typeof githubSettings>;
export type ServicenowSettings = z.infer<typeof servicenowSettings>;
export type VaultSettings = z.infer<typeof vaultSettings>;
export type ArgocdSettings = z.infer<typeof argocdSettings>;
export type DatadogSettings = z.infer<typeof datadogSettings>;
export type CdeventsSettings = z.infer<typeof cdeventsSettings>;
export type OidcSettings = z.infer<typeof oidcSettings>;
