import { sendJson, asServedVersion, type ResourceRequest, type SandboxContext } from './context.ts';
import type { KubeObject } from './objects.ts';
import { groupVersionOf, storageKeyOf } from './resources.ts';
import { matchesFilter, parseFilter } from './selectors.ts';
import { badRequest, notFound, SandboxApiError } from './status.ts';
import type { StoredObject } from './store.ts';
import { tableOf, wantsTable } from './table.ts';

/** GET of one object (or its status subresource, which returns the whole object). */
export function getObject(context: SandboxContext, request: ResourceRequest): void {
  const { type, namespace, name } = request.target;
  const stored = context.store.get(storageKeyOf(type), namespace, name!);
  if (!stored) throw notFound(type.resource, type.group, name!);
  const apiVersion = groupVersionOf(request.target.type);
  if (wantsTable(request.request.headers.accept)) {
    const table = tableOf(type.kind, [asServedVersion(stored.object, apiVersion)], {
      resourceVersion: stored.object.metadata.resourceVersion ?? '',
      includeObject: request.query.get('includeObject'),
    });
    return sendJson(request.response, 200, table);
  }
  sendJson(request.response, 200, servedJson(stored, apiVersion));
}

/** A continue token: where the next page of a list starts, and the list's resourceVersion. */
interface ContinueToken {
  start: number;
  rv: string;
}

/**
 * LIST with label and field selectors and `limit`/`continue` paging. The items are the JSON
 * stored at write time, joined without re-serialising, which keeps large lists fast.
 */
export function listObjects(context: SandboxContext, request: ResourceRequest): void {
  const { type, namespace } = request.target;
  const filter = parseFilter(request.query);
  const all = context.store.list(storageKeyOf(type), namespace);
  const matching =
    filter.labels.length || filter.fields.length
      ? all.filter((stored) => matchesFilter(filter, stored.object))
      : all;

  const token = readContinue(request.query.get('continue'));
  const limit = Number(request.query.get('limit') ?? 0);
  const start = token?.start ?? 0;
  const end = limit > 0 ? Math.min(matching.length, start + limit) : matching.length;
  const page = matching.slice(start, end);
  const resourceVersion = token?.rv ?? String(context.store.resourceVersion);
  const continueToken =
    end < matching.length ? writeContinue({ start: end, rv: resourceVersion }) : undefined;
  const apiVersion = groupVersionOf(type);

  if (wantsTable(request.request.headers.accept)) {
    const objects = page.map((stored) => asServedVersion(stored.object, apiVersion));
    const table = tableOf(type.kind, objects, {
      resourceVersion,
      continueToken,
      includeObject: request.query.get('includeObject'),
    });
    return sendJson(request.response, 200, table);
  }
  const metadata = JSON.stringify({
    resourceVersion,
    ...(continueToken
      ? { continue: continueToken, remainingItemCount: matching.length - end }
      : {}),
  });
  const head = `{"kind":"${type.kind}List","apiVersion":"${apiVersion}","metadata":${metadata},"items":[`;
  sendJsonBytes(
    request.response,
    head,
    page.map((stored) => servedBytes(stored, apiVersion)),
    ']}',
  );
}

// Joins pre-encoded items into one buffer: a memory copy, where joining strings of a large
// list and encoding the result would cost several times as much.
function sendJsonBytes(
  response: ResourceRequest['response'],
  head: string,
  items: Buffer[],
  tail: string,
): void {
  const parts: Buffer[] = [Buffer.from(head)];
  const comma = Buffer.from(',');
  items.forEach((item, index) => {
    if (index > 0) parts.push(comma);
    parts.push(item);
  });
  parts.push(Buffer.from(tail));
  const body = Buffer.concat(parts);
  response.writeHead(200, {
    'content-type': 'application/json',
    'content-length': body.length,
    'cache-control': 'no-cache, private',
  });
  response.end(body);
}

function servedBytes(stored: StoredObject, apiVersion: string): Buffer {
  return stored.object.apiVersion === apiVersion
    ? stored.bytes
    : Buffer.from(servedJson(stored, apiVersion));
}

function servedJson(stored: StoredObject, apiVersion: string): string {
  return stored.object.apiVersion === apiVersion
    ? stored.json
    : JSON.stringify(asServedVersion(stored.object, apiVersion));
}

function readContinue(value: string | null): ContinueToken | undefined {
  if (!value) return undefined;
  try {
    const token = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as ContinueToken;
    if (typeof token.start === 'number' && typeof token.rv === 'string') return token;
  } catch {
    // fall through to the error below
  }
  throw badRequest('continue key is not valid: the list must be restarted without continue');
}

function writeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

/**
 * WATCH: streams one JSON event per line. Without a resourceVersion (or with "0") the current
 * objects come first as ADDED; with one, the changes after it are replayed from the hub's
 * window (410 Expired when compacted away) and the stream goes on live.
 */
export function watchObjects(context: SandboxContext, request: ResourceRequest): void {
  const { type, namespace } = request.target;
  const storageKey = storageKeyOf(type);
  const filter = parseFilter(request.query);
  if (request.target.name)
    filter.fields.push({ field: 'metadata.name', equals: true, value: request.target.name });
  const apiVersion = groupVersionOf(type);
  const table = wantsTable(request.request.headers.accept);
  const includeObject = request.query.get('includeObject');
  const inScope = (object: KubeObject): boolean =>
    (namespace === undefined || object.metadata.namespace === namespace) &&
    matchesFilter(filter, object);

  const requestedVersion = request.query.get('resourceVersion') ?? '';
  const sendInitial =
    request.query.get('sendInitialEvents') === 'true' ||
    requestedVersion === '' ||
    requestedVersion === '0';
  const replay = sendInitial
    ? []
    : context.store.hub.changesSince(storageKey, Number(requestedVersion));
  if (!replay) {
    const message = `too old resource version: ${requestedVersion} (${context.store.hub.oldestResumable + 1})`;
    throw new SandboxApiError('Expired', message);
  }

  const { response } = request;
  response.writeHead(200, {
    'content-type': 'application/json',
    'cache-control': 'no-cache, private',
    'transfer-encoding': 'chunked',
  });
  response.flushHeaders();
  const send = (eventType: string, object: KubeObject, json: string | undefined): void => {
    let objectJson: string;
    if (table)
      objectJson = JSON.stringify(
        tableOf(type.kind, [asServedVersion(object, apiVersion)], {
          resourceVersion: object.metadata.resourceVersion ?? '',
          includeObject,
        }),
      );
    else
      objectJson =
        json && object.apiVersion === apiVersion
          ? json
          : JSON.stringify(asServedVersion(object, apiVersion));
    response.write(`{"type":"${eventType}","object":${objectJson}}\n`);
  };

  if (sendInitial) {
    for (const stored of context.store.list(storageKey, namespace))
      if (inScope(stored.object)) send('ADDED', stored.object, stored.json);
    if (request.query.get('sendInitialEvents') === 'true')
      sendInitialEventsEnd(response, type.kind, apiVersion, context.store.resourceVersion);
  }
  for (const event of replay) deliver(event.type, event.object, event.previous, event.json);

  function deliver(
    eventType: string,
    object: KubeObject,
    previous: KubeObject | undefined,
    json: string,
  ): void {
    const now = inScope(object);
    if (eventType !== 'MODIFIED') {
      if (now) send(eventType, object, json);
      return;
    }
    const before = previous !== undefined && inScope(previous);
    if (now) send(before ? 'MODIFIED' : 'ADDED', object, json);
    else if (before) send('DELETED', object, json);
  }

  // Subscribing in the same tick as the replay leaves no gap between the two.
  const unsubscribe = context.store.hub.subscribe(storageKey, (event) =>
    deliver(event.type, event.object, event.previous, event.json),
  );
  context.watches.add(response);
  const timeoutSeconds = Number(request.query.get('timeoutSeconds') ?? 1800);
  const timer = setTimeout(() => response.end(), timeoutSeconds * 1000);
  response.on('close', () => {
    clearTimeout(timer);
    unsubscribe();
    context.watches.delete(response);
  });
}

// The bookmark that tells a watch-list client its initial events are complete.
function sendInitialEventsEnd(
  response: ResourceRequest['response'],
  kind: string,
  apiVersion: string,
  rv: number,
): void {
  const object = {
    kind,
    apiVersion,
    metadata: { resourceVersion: String(rv), annotations: { 'k8s.io/initial-events-end': 'true' } },
  };
  response.write(`${JSON.stringify({ type: 'BOOKMARK', object })}\n`);
}
