import { isValidRepositoryName } from '../../supply-chain/oci/reference.ts';
import type { RegistryAuthenticator } from './auth.ts';
import { deleteBlob, getBlob } from './blob-handlers.ts';
import type { HandlerContext } from './context.ts';
import { OciHttpError } from './errors.ts';
import { sendEmpty, sendJson } from './http-util.ts';
import { listReferrers, listTags } from './listing-handlers.ts';
import { deleteManifest, getManifest, putManifest } from './manifest-handlers.ts';
import { parseRoute, type Route } from './routes.ts';
import {
  appendChunk,
  cancelUpload,
  finishUpload,
  startUpload,
  uploadStatus,
} from './upload-handlers.ts';

type Handler = () => Promise<void> | void;

/** The route's handlers by method; a method not listed is answered 405. */
function handlersFor(c: HandlerContext, route: Route): Record<string, Handler> {
  switch (route.kind) {
    case 'base':
      return {
        GET: () => sendJson(c.response, 200, {}),
        HEAD: () => sendEmpty(c.response, 200, {}),
      };
    case 'token':
      return {};
    case 'blob':
      return {
        GET: () => getBlob(c, route.name, route.digest),
        HEAD: () => getBlob(c, route.name, route.digest),
        DELETE: () => deleteBlob(c, route.name, route.digest),
      };
    case 'upload-start':
      return { POST: () => startUpload(c, route.name) };
    case 'upload':
      return {
        PATCH: () => appendChunk(c, route.name, route.id),
        PUT: () => finishUpload(c, route.name, route.id),
        GET: () => uploadStatus(c, route.name, route.id),
        DELETE: () => cancelUpload(c, route.name, route.id),
      };
    case 'manifest':
      return {
        GET: () => getManifest(c, route.name, route.reference),
        HEAD: () => getManifest(c, route.name, route.reference),
        PUT: () => putManifest(c, route.name, route.reference),
        DELETE: () => deleteManifest(c, route.name, route.reference),
      };
    case 'tags':
      return { GET: () => listTags(c, route.name) };
    case 'referrers':
      return { GET: () => listReferrers(c, route.name, route.digest) };
  }
}

/**
 * Routes one request: token endpoint, then authentication, then name validation, then the
 * endpoint's handler. Handlers throw {@link OciHttpError} for every refusal.
 */
export async function dispatch(
  context: HandlerContext,
  authenticator: RegistryAuthenticator,
): Promise<void> {
  const route = parseRoute(context.url.pathname);
  if (!route) throw new OciHttpError(404, 'UNSUPPORTED', 'no such distribution API endpoint');
  if (route.kind === 'token') return authenticator.issueToken(context.request, context.response);

  const method = context.request.method ?? 'GET';
  authenticator.authorize(context.request, scopeOf(route, method));
  if ('name' in route && !isValidRepositoryName(route.name)) {
    throw new OciHttpError(400, 'NAME_INVALID', `repository name "${route.name}" is invalid`);
  }

  const handlers = handlersFor(context, route);
  const handler = handlers[method];
  if (!handler) {
    throw new OciHttpError(405, 'UNSUPPORTED', `${method} is not supported here`, {
      Allow: Object.keys(handlers).join(', '),
    });
  }
  await handler();
}

function scopeOf(route: Route, method: string): string | undefined {
  if (!('name' in route)) return undefined;
  const actions = method === 'GET' || method === 'HEAD' ? 'pull' : 'pull,push';
  return `repository:${route.name}:${actions}`;
}
