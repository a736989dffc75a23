import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Files of a new config repo in the layout DESIGN.md fixes: a sample service with a base and one
 * overlay per environment, and an environment governance file each. The overlay's `images:` entry
 * is the only thing a routine delivery changes.
 */
export function sampleConfigRepoFiles(options: {
  service: string;
  environments: { name: string; production: boolean }[];
  imageName: string;
}): Record<string, string> {
  const { service, imageName } = options;
  const files: Record<string, string> = {
    'README.md': `# Config repo\n\nDesired state of every service and environment, managed by changeproof.\n`,
    [`apps/${service}/base/kustomization.yaml`]: baseKustomization(),
    [`apps/${service}/base/namespace.yaml`]: namespaceManifest(service),
    [`apps/${service}/base/deployment.yaml`]: deployment(service),
    [`apps/${service}/base/service.yaml`]: serviceManifest(service),
  };
  for (const env of options.environments) {
    files[`apps/${service}/overlays/${env.name}/kustomization.yaml`] = overlay(
      service,
      env.name,
      imageName,
    );
    files[`environments/${env.name}.yaml`] = environmentFile(env.name, env.production);
  }
  return files;
}

export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    const target = join(root, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
}

function baseKustomization(): string {
  return [
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    'resources:',
    '  - namespace.yaml',
    '  - deployment.yaml',
    '  - service.yaml',
    '',
  ].join('\n');
}

function overlay(service: string, env: string, imageName: string): string {
  return [
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    `namespace: ${service}-${env}`,
    'resources:',
    '  - ../../base',
    'labels:',
    '  - pairs:',
    `      app.kubernetes.io/instance: ${service}-${env}`,
    '# changeproof deliver edits only the entry below: the new tag and digest of the image.',
    'images:',
    `  - name: ${service}`,
    `    newName: ${imageName}`,
    '    newTag: unreleased',
    '',
  ].join('\n');
}

function deployment(service: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${service}
  labels:
    app.kubernetes.io/name: ${service}
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: ${service}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ${service}
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
      containers:
        - name: ${service}
          image: ${service}
          ports:
            - containerPort: 8080
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
            limits:
              cpu: 500m
              memory: 256Mi
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
`;
}

/** The service's namespace; each overlay's `namespace:` renames it to `<service>-<env>`. */
function namespaceManifest(service: string): string {
  return `apiVersion: v1
kind: Namespace
metadata:
  name: ${service}
`;
}

function serviceManifest(service: string): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${service}
spec:
  selector:
    app.kubernetes.io/name: ${service}
  ports:
    - port: 80
      targetPort: 8080
`;
}

function environmentFile(env: string, production: boolean): string {
  return [
    `# Governance of ${env}: read by changeproof when a proposal targets this environment.`,
    `name: ${env}`,
    `approvals: ${production ? 1 : 0}`,
    `cabRequired: ${production}`,
    `autoApproveOnGreen: ${!production}`,
    `selfHeal: true`,
    `prune: true`,
    '',
  ].join('\n');
}
