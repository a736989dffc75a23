import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  checkManifests,
  manifestRules,
  mutableImageProblem,
} from '../../src/supply-chain/scan/index.ts';
import { fixturesDir } from './helpers/paths.ts';

function loadManifests(name: string): unknown[] {
  const text = readFileSync(join(fixturesDir, 'manifests', name), 'utf8');
  return parseAllDocuments(text).map((document) => document.toJS() as unknown);
}

describe('checkManifests', () => {
  it('reports every rule on a risky Deployment and CronJob, with place and severity', () => {
    const findings = checkManifests(loadManifests('risky.yaml'));
    const summary = findings.map((f) => `${f.id} ${f.location.object} ${f.location.path}`);

    expect(new Set(findings.map((f) => f.id))).toEqual(new Set(Object.keys(manifestRules)));
    expect(summary).toContain(
      'K8S-PRIVILEGED Deployment/shop/checkout spec.template.spec.containers[0].securityContext.privileged',
    );
    expect(summary).toContain(
      'K8S-HOST-PATH Deployment/shop/checkout spec.template.spec.volumes[0].hostPath',
    );
    expect(summary).toContain(
      'K8S-HOST-NAMESPACE Deployment/shop/checkout spec.template.spec.hostNetwork',
    );
    expect(summary).toContain(
      'K8S-HOST-NAMESPACE Deployment/shop/checkout spec.template.spec.hostPID',
    );
    expect(summary).toContain(
      'K8S-RUN-AS-ROOT Deployment/shop/checkout spec.template.spec.containers[0].securityContext.runAsUser',
    );
    expect(summary).toContain(
      'K8S-NO-RESOURCE-LIMITS Deployment/shop/checkout spec.template.spec.containers[1].resources.limits',
    );
    expect(summary).toContain(
      'K8S-MUTABLE-IMAGE CronJob/shop/report spec.jobTemplate.spec.template.spec.containers[0].image',
    );
    expect(findings.find((f) => f.id === 'K8S-PRIVILEGED')?.severity).toBe('critical');
    expect(
      findings.find((f) => f.location.path?.endsWith('containers[1].resources.limits'))?.message,
    ).toBe('Deployment/shop/checkout container sidecar has no memory limit');
  });

  it('finds nothing in a hardened Deployment and ignores objects without pods', () => {
    expect(checkManifests(loadManifests('hardened.yaml'))).toEqual([]);
  });

  it('takes runAsNonRoot from the pod when the container does not set it', () => {
    const [deployment] = loadManifests('hardened.yaml') as {
      spec: { template: { spec: { securityContext?: unknown } } };
    }[];
    delete deployment!.spec.template.spec.securityContext;
    expect(checkManifests([deployment]).map((f) => f.id)).toEqual(['K8S-RUN-AS-ROOT']);
  });
});

describe('mutableImageProblem', () => {
  it('accepts only references pinned by digest', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(mutableImageProblem(`registry.test:5000/shop/app@${digest}`)).toBeUndefined();
    expect(mutableImageProblem(`registry.test:5000/shop/app:1.0@${digest}`)).toBeUndefined();
    expect(mutableImageProblem('registry.test:5000/shop/app')).toMatch(/means :latest/);
    expect(mutableImageProblem('app:latest')).toMatch(/means :latest/);
    expect(mutableImageProblem('app:1.2.3')).toMatch(/without a digest/);
  });
});
