import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AdmissionAttributes } from './admission.ts';
import type { KubeObject } from './objects.ts';
import type { RequestTarget } from './request-info.ts';
import type { ResourceRegistry } from './resources.ts';
import type { ObjectStore } from './store.ts';

/** What the request handlers share: the objects, the served types and admission. */
export interface SandboxContext {
  store: ObjectStore;
  registry: ResourceRegistry;
  /** Runs validating admission; throws the refusal as a SandboxApiError. */
  admit(attributes: AdmissionAttributes): Promise<void>;
  /** Open watch responses, ended when the server closes. */
  watches: Set<ServerResponse>;
}

/** One resource request, parsed. */
export interface ResourceRequest {
  target: RequestTarget;
  query: URLSearchParams;
  request: IncomingMessage;
  response: ServerResponse;
}

/** Sends a JSON body (an object, or JSON text already serialised). */
export function sendJson(response: ServerResponse, code: number, body: object | string): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(code, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-cache, private',
  });
  response.end(text);
}

/** The field manager of a write: `?fieldManager=`, else the user agent's product name. */
export function fieldManagerOf(request: ResourceRequest): string {
  const explicit = request.query.get('fieldManager');
  if (explicit) return explicit;
  const agent = request.request.headers['user-agent'] ?? 'unknown';
  return agent.split('/')[0]!.trim() || 'unknown';
}

export function isDryRun(query: URLSearchParams): boolean {
  return query.getAll('dryRun').includes('All');
}

/** An object as the requested version shows it (a CRD's versions share one stored form). */
export function asServedVersion(object: KubeObject, apiVersion: string): KubeObject {
  return object.apiVersion === apiVersion ? object : { ...object, apiVersion };
}

/** The timestamp format of metadata: seconds precision, UTC. */
export function timestamp(date = new Date()): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
