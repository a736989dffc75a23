import { z } from 'zod';
import {
  argocdSettings,
  cdeventsSettings,
  datadogSettings,
  githubSettings,
  oidcSettings,
  servicenowSettings,
  vaultSettings,
} from './adapter-settings.ts';

/**
 * changeproof.yaml: the workspace's configuration. Strict: an unknown key is an error with its
 * path, because a misspelt governance setting must never silently fall back to a default.
 */
const name = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'use lowercase letters, digits and dashes (DNS-1123)')
  .max(63);

const duration = z.string().regex(/^\d+(s|m|h|d)$/, 'use a number and a unit: 30s, 10m, 72h, 7d');

export const roles = [
  'developer',
  'approver',
  'cab',
  'oncall',
  'platform-admin',
  'auditor',
] as const;
export type Role = (typeof roles)[number];

export const scanPolicies = ['block-critical', 'block-high', 'warn'] as const;

const scanException = z.strictObject({
  id: z.string().min(1).describe('advisory id (GHSA-…, CVE-…) or manifest rule id'),
  reason: z.string().min(1),
  approver: z.string().min(1),
  expires: z.iso.date().or(z.iso.datetime()),
});

const service = z.strictObject({
  owner: z.string().min(1).default('unowned'),
  sourceRepo: z.string().optional(),
  test: z.string().optional().describe('command run by deliver before the build'),
  build: z
    .strictObject({
      context: z.string().default('.'),
      baseImage: z.string().optional(),
      entrypoint: z.array(z.string()).optional(),
      cmd: z.array(z.string()).optional(),
      env: z.record(z.string(), z.string()).optional(),
      workingDir: z.string().optional(),
    })
    .optional(),
  scan: z
    .strictObject({
      policy: z.enum(scanPolicies).default('block-critical'),
      exceptions: z.array(scanException).default([]),
    })
    .default({ policy: 'block-critical', exceptions: [] }),
  tags: z.array(z.string()).default([]),
});

const governance = z.strictObject({
  approvals: z.number().int().min(0).max(10).default(1),
  cabRequired: z.boolean().default(false),
  autoApproveOnGreen: z.boolean().default(false),
  nonRoutineApprovals: z.number().int().min(0).max(10).default(2),
  requireWindow: z.boolean().default(false),
  selfHeal: z.boolean().default(true),
  prune: z.boolean().default(true),
  verifyInterval: duration.default('10m'),
  emergencyReviewWindow: duration.default('72h'),
  syncTimeout: duration.default('120s'),
});

const environment = z.strictObject({
  name,
  order: z.number().int().min(0),
  cluster: name,
  production: z.boolean().default(false),
  governance: governance.default(governance.parse({})),
});

const cluster = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('sandbox') }),
  z.strictObject({
    type: z.literal('kubeconfig'),
    path: z.string().optional(),
    context: z.string().optional(),
  }),
  z.strictObject({ type: z.literal('in-cluster') }),
]);

const identity = z.strictObject({
  name,
  roles: z.array(z.enum(roles)).min(1),
  team: z.string().optional(),
  email: z.email().optional(),
});

/** An organisation's own control: a CEL expression over the audit's view of a subject. */
const customControl = z.strictObject({
  id: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9._-]*$/, 'use letters, digits, dots, dashes')
    .refine((id) => !id.toUpperCase().startsWith('CP-'), 'ids starting with CP- are reserved'),
  description: z.string().min(1),
  subject: z.enum(['deployment', 'change']),
  expression: z.string().min(1).describe('CEL, true when the subject passes'),
  frameworks: z
    .strictObject({
      soc2: z.array(z.string()).default([]),
      hitrust: z.array(z.string()).default([]),
    })
    .optional(),
});

const adapters = z
  .strictObject({
    forge: z.enum(['embedded', 'github']).default('embedded'),
    changeSystem: z.enum(['embedded', 'servicenow']).default('embedded'),
    secrets: z.enum(['embedded', 'vault']).default('embedded'),
    registry: z.enum(['embedded', 'oci']).default('embedded'),
    cdEngine: z.enum(['builtin', 'argocd']).default('builtin'),
    identity: z.enum(['local', 'oidc']).default('local'),
    /** Extra event sinks beside the ledger. */
    sinks: z.array(z.enum(['datadog', 'cdevents'])).default([]),
    // Non-secret settings of the connected adapters; credentials come from the environment.
    github: githubSettings.optional(),
    servicenow: servicenowSettings.optional(),
    vault: vaultSettings.optional(),
    argocd: argocdSettings.optional(),
    datadog: datadogSettings.optional(),
    cdevents: cdeventsSettings.optional(),
    oidc: oidcSettings.optional(),
  })
  .superRefine((adapters, ctx) => {
    // A connected adapter chosen without its settings would fail at first use; say so at load.
    const needs: [boolean, keyof typeof adapters][] = [
      [adapters.forge === 'github', 'github'],
      [adapters.changeSystem === 'servicenow', 'servicenow'],
      [adapters.secrets === 'vault', 'vault'],
      [adapters.cdEngine === 'argocd', 'argocd'],
      [adapters.identity === 'oidc', 'oidc'],
      [adapters.sinks.includes('datadog'), 'datadog'],
      [adapters.sinks.includes('cdevents'), 'cdevents'],
    ];
    for (const [selected, key] of needs) {
      if (selected && !adapters[key]) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `add adapters.${key} settings for the connected adapter`,
        });
      }
    }
  });

export const configSchema = z
  .strictObject({
    apiVersion: z.literal('changeproof.dev/v1alpha1'),
    kind: z.literal('Workspace'),
    name,
    database: z.string().default('sqlite:changeproof.db'),
    configRepo: z
      .strictObject({
        path: z.string().default('config-repo.git'),
        branch: z.string().default('main'),
      })
      .default({ path: 'config-repo.git', branch: 'main' }),
    server: z
      .strictObject({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(7420),
      })
      .default({ host: '127.0.0.1', port: 7420 }),
    registry: z
      .strictObject({
        url: z.string().optional().describe('host:port of the registry in connected mode'),
        port: z.number().int().min(0).max(65535).default(0),
      })
      .default({ port: 0 }),
    evidenceRetention: duration.default('2555d'),
    services: z.record(name, service).default({}),
    environments: z.array(environment).min(1),
    clusters: z.record(name, cluster).default({}),
    identities: z.array(identity).default([]),
    adapters: adapters.default(adapters.parse({})),
    controls: z.array(customControl).default([]),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.environments.forEach((env, index) => {
      if (seen.has(env.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['environments', index, 'name'],
          message: `duplicate environment ${env.name}`,
        });
      }
      seen.add(env.name);
      if (!config.clusters[env.cluster]) {
        ctx.addIssue({
          code: 'custom',
          path: ['environments', index, 'cluster'],
          message: `cluster ${env.cluster} is not defined under clusters`,
        });
      }
    });
  });

export type ChangeproofConfig = z.infer<typeof configSchema>;
export type ServiceConfig = z.infer<typeof service>;
export type EnvironmentConfig = z.infer<typeof environment>;
export type Governance = z.infer<typeof governance>;
export type IdentityConfig = z.infer<typeof identity>;
export type CustomControlConfig = z.infer<typeof customControl>;

/** Defaults for a service found in the config repo but not configured. */
export const defaultService: ServiceConfig = service.parse({});

/** Parses `72h`-style durations into milliseconds. */
export function durationMs(value: string): number {
  const amount = Number(value.slice(0, -1));
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    value.slice(-1) as 's' | 'm' | 'h' | 'd'
  ];
  return amount * unit;
}
