import type { Finding } from './finding.ts';
import type { Severity } from './severity.ts';

/** The rules run over rendered Kubernetes manifests, by stable id. */
export const manifestRules = {
  'K8S-PRIVILEGED': { severity: 'critical', title: 'Privileged container' },
  'K8S-PRIVILEGE-ESCALATION': { severity: 'high', title: 'Container may gain privileges' },
  'K8S-NO-RESOURCE-LIMITS': {
    severity: 'medium',
    title: 'Container without CPU and memory limits',
  },
  'K8S-MUTABLE-IMAGE': { severity: 'high', title: 'Image not pinned by digest' },
  'K8S-HOST-PATH': { severity: 'high', title: 'hostPath volume' },
  'K8S-HOST-NAMESPACE': { severity: 'high', title: 'Pod shares a host namespace' },
  'K8S-RUN-AS-ROOT': { severity: 'high', title: 'Container may run as root' },
} as const satisfies Record<string, { severity: Severity; title: string }>;

export type ManifestRuleId = keyof typeof manifestRules;

interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
}

interface Container {
  name?: string;
  image?: string;
  securityContext?: SecurityContext;
  resources?: { limits?: Record<string, unknown> };
}

interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  volumes?: { name?: string; hostPath?: unknown }[];
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: SecurityContext;
}

interface KubernetesObject {
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  spec?: Record<string, unknown>;
}

/**
 * Checks every pod template of the rendered manifests (Pods, workload controllers, CronJobs)
 * and returns one finding per rule and place.
 */
export function checkManifests(objects: readonly unknown[]): Finding[] {
  const findings: Finding[] = [];
  for (const object of objects) {
    const located = podSpecOf(object as KubernetesObject);
    if (located)
      findings.push(
        ...checkPodSpec(objectName(object as KubernetesObject), located.spec, located.path),
      );
  }
  return findings;
}

function podSpecOf(object: KubernetesObject): { spec: PodSpec; path: string } | undefined {
  if (object?.kind === 'Pod' && object.spec) return { spec: object.spec as PodSpec, path: 'spec' };
  const cronJobPod = field(object, 'spec', 'jobTemplate', 'spec', 'template', 'spec');
  if (object?.kind === 'CronJob' && cronJobPod) {
    return { spec: cronJobPod as PodSpec, path: 'spec.jobTemplate.spec.template.spec' };
  }
  const templatePod = field(object, 'spec', 'template', 'spec');
  return templatePod ? { spec: templatePod as PodSpec, path: 'spec.template.spec' } : undefined;
}

function field(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function objectName(object: KubernetesObject): string {
  return [object.kind, object.metadata?.namespace, object.metadata?.name].filter(Boolean).join('/');
}

function checkPodSpec(object: string, pod: PodSpec, path: string): Finding[] {
  const findings: Finding[] = [];
  const add = (rule: ManifestRuleId, at: string, message: string) =>
    findings.push(finding(rule, object, at, message));

  for (const key of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (pod[key] === true)
      add('K8S-HOST-NAMESPACE', `${path}.${key}`, `${object} sets ${key}: true`);
  }
  (pod.volumes ?? []).forEach((volume, index) => {
    if (volume.hostPath)
      add(
        'K8S-HOST-PATH',
        `${path}.volumes[${index}].hostPath`,
        `${object} mounts hostPath volume ${volume.name ?? index}`,
      );
  });

  for (const list of ['containers', 'initContainers'] as const) {
    (pod[list] ?? []).forEach((container, index) => {
      const at = `${path}.${list}[${index}]`;
      findings.push(...checkContainer(object, container, at, pod.securityContext ?? {}));
    });
  }
  return findings;
}

function checkContainer(
  object: string,
  container: Container,
  at: string,
  podContext: SecurityContext,
): Finding[] {
  const findings: Finding[] = [];
  const name = `${object} container ${container.name ?? '?'}`;
  const context = container.securityContext ?? {};
  const add = (rule: ManifestRuleId, path: string, message: string) =>
    findings.push(finding(rule, object, path, message));

  if (context.privileged === true)
    add('K8S-PRIVILEGED', `${at}.securityContext.privileged`, `${name} is privileged`);
  // Kubernetes allows escalation unless it is switched off explicitly.
  if (context.allowPrivilegeEscalation !== false) {
    add(
      'K8S-PRIVILEGE-ESCALATION',
      `${at}.securityContext.allowPrivilegeEscalation`,
      `${name} does not set allowPrivilegeEscalation: false`,
    );
  }
  const limits = container.resources?.limits ?? {};
  if (limits.cpu === undefined || limits.memory === undefined) {
    add(
      'K8S-NO-RESOURCE-LIMITS',
      `${at}.resources.limits`,
      `${name} has no ${limits.cpu === undefined ? 'cpu' : 'memory'} limit`,
    );
  }
  const imageProblem = mutableImageProblem(container.image);
  if (imageProblem) add('K8S-MUTABLE-IMAGE', `${at}.image`, `${name} ${imageProblem}`);

  const runAsUser = context.runAsUser ?? podContext.runAsUser;
  const runAsNonRoot = context.runAsNonRoot ?? podContext.runAsNonRoot;
  if (runAsUser === 0)
    add('K8S-RUN-AS-ROOT', `${at}.securityContext.runAsUser`, `${name} runs as user 0`);
  else if (runAsNonRoot !== true)
    add(
      'K8S-RUN-AS-ROOT',
      `${at}.securityContext.runAsNonRoot`,
      `${name} does not set runAsNonRoot: true`,
    );
  return findings;
}

/** Why an image reference can change under the same name, or undefined when pinned by digest. */
export function mutableImageProblem(image: string | undefined): string | undefined {
  if (!image) return 'has no image';
  if (/@sha256:[a-f0-9]{64}$/.test(image)) return undefined;
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const tag = lastSegment.includes(':')
    ? lastSegment.slice(lastSegment.indexOf(':') + 1)
    : undefined;
  if (tag === undefined || tag === 'latest')
    return `uses ${image}, which means :latest; pin it by digest`;
  return `uses ${image} without a digest; pin it by digest`;
}

function finding(rule: ManifestRuleId, object: string, path: string, message: string): Finding {
  const { severity, title } = manifestRules[rule];
  return {
    id: rule,
    kind: 'manifest',
    severity,
    title,
    message,
    location: { object, path },
    tool: 'changeproof-manifest-rules',
  };
}
