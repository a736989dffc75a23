import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { parseAllDocuments } from 'yaml';
import { ChangeproofError } from '../errors.ts';
import { canonicalize } from '../ledger/canonical.ts';
import { toolPath } from '../tools.ts';

export class RenderError extends ChangeproofError<'RENDER_FAILED' | 'RENDER_INVALID'> {}

/** A Kubernetes object as rendered: plain JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/**
 * Renders a kustomization folder with the real kustomize built into kubectl 1.34, exactly as
 * Argo CD would, and parses the result. `dir` is a folder in a checked-out config repo, e.g.
 * `<worktree>/apps/checkout/overlays/prod`.
 */
export async function renderKustomization(dir: string): Promise<KubeObject[]> {
  const yamlText = await runKustomize(dir);
  const objects: KubeObject[] = [];
  for (const document of parseAllDocuments(yamlText)) {
    if (document.errors.length > 0) {
      throw new RenderError(
        'RENDER_INVALID',
        `${dir}: kustomize output is not YAML: ${document.errors[0]!.message}`,
      );
    }
    const value = document.toJS() as KubeObject | null;
    if (value === null) continue;
    assertObject(value, dir);
    objects.push(value);
  }
  return objects;
}

function runKustomize(dir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      toolPath('kubectl'),
      ['kustomize', dir],
      { maxBuffer: 256 * 1024 * 1024, env: { PATH: process.env.PATH ?? '/usr/bin', HOME: dir } },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const detail = (stderr || error.message).trim().split('\n')[0];
        reject(
          new RenderError('RENDER_FAILED', `${dir} does not render: ${detail}`, { cause: error }),
        );
      },
    );
  });
}

function assertObject(value: KubeObject, dir: string): void {
  if (typeof value !== 'object' || !value.apiVersion || !value.kind || !value.metadata?.name) {
    throw new RenderError(
      'RENDER_INVALID',
      `${dir}: rendered a document without apiVersion, kind or metadata.name`,
    );
  }
}

/** `kind/namespace/name` (namespace empty for cluster-scoped objects). */
export function objectKey(object: KubeObject): string {
  return `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

/**
 * The digest of a desired state: sha256 over the canonical JSON of its objects sorted by key.
 * The same objects always give the same digest, whatever order kustomize printed them in.
 */
export function desiredStateDigest(objects: KubeObject[]): string {
  const sorted = [...objects].sort((a, b) =>
    objectKey(a) < objectKey(b) ? -1 : objectKey(a) > objectKey(b) ? 1 : 0,
  );
  return `sha256:${createHash('sha256').update(canonicalize(sorted)).digest('hex')}`;
}
