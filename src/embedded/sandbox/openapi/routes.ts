import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxContext } from '../context.ts';
import { SandboxApiError, pathNotFound } from '../status.ts';
import { groupVersionDocument } from './document.ts';

interface CachedDocument {
  registryVersion: number;
  body: string;
  hash: string;
}

const cache = new WeakMap<SandboxContext, Map<string, CachedDocument>>();

/**
 * Serves OpenAPI v3: `/openapi/v3` lists one document per group version (with a content hash,
 * so kubectl caches them), `/openapi/v3/apis/<group>/<version>` is the document. OpenAPI v2 is
 * not served: kubectl 1.34 reads v3 for validation, explain and apply.
 */
export function openApiRoute(
  context: SandboxContext,
  _request: IncomingMessage,
  response: ServerResponse,
  segments: string[],
): boolean {
  if (segments[1] === 'v2') {
    throw new SandboxApiError(
      'NotFound',
      'the sandbox serves OpenAPI v3 only (/openapi/v3); kubectl 1.27 and later use it',
    );
  }
  if (segments[1] !== 'v3') throw pathNotFound();
  const groupVersions = context.registry
    .groups()
    .flatMap(({ group, versions }) =>
      versions.map((version) => (group ? `apis/${group}/${version}` : `api/${version}`)),
    );

  if (segments.length === 2) {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const key of groupVersions)
      paths[key] = {
        serverRelativeURL: `/openapi/v3/${key}?hash=${documentOf(context, key).hash}`,
      };
    return send(response, JSON.stringify({ paths }), false);
  }
  const key = segments.slice(2).join('/');
  if (!groupVersions.includes(key)) throw pathNotFound();
  return send(response, documentOf(context, key).body, true);
}

function documentOf(context: SandboxContext, key: string): CachedDocument {
  const documents = cache.get(context) ?? new Map<string, CachedDocument>();
  cache.set(context, documents);
  const cached = documents.get(key);
  if (cached && cached.registryVersion === context.registry.version) return cached;

  const parts = key.split('/');
  const [group, version] = parts[0] === 'api' ? ['', parts[1]!] : [parts[1]!, parts[2]!];
  const body = JSON.stringify(
    groupVersionDocument(context.registry, context.store, group, version),
  );
  const hash = createHash('sha512').update(body).digest('hex').slice(0, 128).toUpperCase();
  const document = { registryVersion: context.registry.version, body, hash };
  documents.set(key, document);
  return document;
}

function send(response: ServerResponse, body: string, immutable: boolean): true {
  response.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': immutable ? 'public, immutable' : 'no-cache, private',
  });
  response.end(body);
  return true;
}
