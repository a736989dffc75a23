import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, type ResourceRequest, type SandboxContext } from './context.ts';
import {
  aggregatedDiscovery,
  aggregatedDiscoveryType,
  coreVersions,
  groupList,
  groupOf,
  resourceList,
  serverVersion,
  wantsAggregated,
} from './discovery.ts';
import { openApiRoute } from './openapi/routes.ts';
import { getObject, listObjects, watchObjects } from './reads.ts';
import { parseTarget } from './request-info.ts';
import { getScale, hasScale, updateScale } from './scale.ts';
import { pathNotFound, SandboxApiError, statusOf } from './status.ts';
import {
  createObject,
  deleteCollection,
  deleteObject,
  patchObject,
  replaceObject,
} from './writes.ts';

/**
 * Handles one HTTP request: bearer-token authentication, then the non-resource paths
 * (version, discovery, OpenAPI, health), then resource verbs. Every failure is answered with
 * a Kubernetes Status object.
 */
export function createRequestHandler(context: SandboxContext, token: string) {
  const expected = Buffer.from(`Bearer ${token}`);
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    try {
      const presented = Buffer.from(request.headers.authorization ?? '');
      if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
        request.resume();
        throw new SandboxApiError('Unauthorized', 'Unauthorized');
      }
      await route(context, request, response);
    } catch (error) {
      sendError(response, error);
    }
  };
}

function sendError(response: ServerResponse, error: unknown): void {
  const failure =
    error instanceof SandboxApiError
      ? error
      : new SandboxApiError(
          'InternalError',
          `Internal error occurred: ${(error as Error).message}`,
        );
  if (response.headersSent) {
    // A watch already streaming: report the failure as an ERROR event and end the stream.
    response.end(`${JSON.stringify({ type: 'ERROR', object: statusOf(failure) })}\n`);
    return;
  }
  sendJson(response, failure.httpCode, statusOf(failure));
}

async function route(
  context: SandboxContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://sandbox');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  if (request.method === 'GET' && serveNonResource(context, request, response, path)) return;

  const target = parseTarget(path, context.registry);
  const resourceRequest: ResourceRequest = { target, query: url.searchParams, request, response };
  const watching =
    target.watchPath ||
    url.searchParams.get('watch') === 'true' ||
    url.searchParams.get('watch') === '1';
  const subresource = target.subresource;
  if (subresource === 'scale' && hasScale(target.type) && target.name)
    return scaleRoute(context, resourceRequest);
  if (subresource !== undefined && !(subresource === 'status' && target.type.hasStatus))
    throw pathNotFound();

  switch (request.method) {
    case 'GET':
      if (watching) return watchObjects(context, resourceRequest);
      return target.name
        ? getObject(context, resourceRequest)
        : listObjects(context, resourceRequest);
    case 'POST':
      if (target.name) throw methodNotAllowed('POST');
      return createObject(context, resourceRequest);
    case 'PUT':
      if (!target.name) throw methodNotAllowed('PUT');
      return replaceObject(context, resourceRequest);
    case 'PATCH':
      if (!target.name) throw methodNotAllowed('PATCH');
      return patchObject(context, resourceRequest);
    case 'DELETE':
      if (subresource) throw methodNotAllowed('DELETE');
      return target.name
        ? deleteObject(context, resourceRequest)
        : deleteCollection(context, resourceRequest);
    default:
      throw methodNotAllowed(request.method ?? '');
  }
}

function scaleRoute(context: SandboxContext, request: ResourceRequest): Promise<void> | void {
  switch (request.request.method) {
    case 'GET':
      return getScale(context, request);
    case 'PUT':
    case 'PATCH':
      return updateScale(context, request);
    default:
      throw methodNotAllowed(request.request.method ?? '');
  }
}

function methodNotAllowed(method: string): SandboxApiError {
  return new SandboxApiError(
    'MethodNotAllowed',
    `the server does not allow this method on the requested resource (${method})`,
  );
}

function serveNonResource(
  context: SandboxContext,
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
): boolean {
  const accept = request.headers.accept;
  const host = request.headers.host ?? '127.0.0.1';
  const segments = path.split('/').filter(Boolean);
  if (path === '/version') return send(response, serverVersion);
  if (path === '/healthz' || path === '/livez' || path === '/readyz') {
    response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return true;
  }
  if (path === '/api' || path === '/apis') {
    if (wantsAggregated(accept)) {
      const body = JSON.stringify(aggregatedDiscovery(context.registry, path === '/api'));
      response
        .writeHead(200, {
          'content-type': aggregatedDiscoveryType,
          'content-length': Buffer.byteLength(body),
        })
        .end(body);
      return true;
    }
    return send(response, path === '/api' ? coreVersions(host) : groupList(context.registry));
  }
  if (path === '/api/v1') return send(response, resourceList(context.registry, '', 'v1'));
  if (segments[0] === 'apis' && (segments.length === 2 || segments.length === 3)) {
    const entry = context.registry.groups().find((candidate) => candidate.group === segments[1]);
    if (!entry) throw pathNotFound();
    if (segments.length === 2) return send(response, groupOf(entry.group, entry.versions));
    if (!entry.versions.includes(segments[2]!)) throw pathNotFound();
    return send(response, resourceList(context.registry, entry.group, segments[2]!));
  }
  if (segments[0] === 'openapi') return openApiRoute(context, request, response, segments);
  return false;
}

function send(response: ServerResponse, body: object): true {
  sendJson(response, 200, body);
  return true;
}
