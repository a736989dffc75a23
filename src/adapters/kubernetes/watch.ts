import type { IncomingMessage } from 'node:http';
import type { KubeObject } from '../../gitops/render.ts';
import type { KubeClient, ResourceInfo } from './client.ts';
import { collectionPath } from './client.ts';
import { watchEventSchema } from './schema.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchOptions {
  labelSelector?: string;
  namespace?: string;
  /** Called for every object of the initial list (as ADDED) and every change after it. */
  onEvent(type: WatchEventType, object: KubeObject): void;
  /** Called when the connection fails; the watch reconnects with backoff by itself. */
  onError?(error: unknown): void;
  /** Called after each (re)list, so callers can drop objects deleted while disconnected. */
  onResync?(objects: KubeObject[]): void;
}

export interface WatchHandle {
  stop(): void;
}

const maxBackoffMs = 2_000;

/**
 * An informer in miniature: list, then watch from the list's resourceVersion; reconnect where
 * the stream ended, and list again after a failure or a `410 Gone` (the version expired, or the
 * server restarted). Events arrive in order, one JSON object per line.
 */
export async function startWatch(
  client: KubeClient,
  info: ResourceInfo,
  options: WatchOptions,
): Promise<WatchHandle> {
  let stopped = false;
  let current: IncomingMessage | undefined;
  let version: string | undefined = await relist(client, info, options);

  const loop = async () => {
    let backoffMs = 100;
    while (!stopped) {
      try {
        if (version === undefined) version = await relist(client, info, options);
        version = await follow(client, info, options, version, (response) => {
          current = response;
          if (stopped) response.destroy();
        });
        backoffMs = 100;
      } catch (error) {
        if (stopped) return;
        options.onError?.(error);
        version = undefined;
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        backoffMs = Math.min(maxBackoffMs, backoffMs * 2);
      }
    }
  };
  void loop();

  return {
    stop: () => {
      stopped = true;
      current?.destroy();
    },
  };
}

async function relist(client: KubeClient, info: ResourceInfo, options: WatchOptions) {
  const list = await client.list(info.apiVersion, info.kind, options);
  options.onResync?.(list.items);
  for (const item of list.items) options.onEvent('ADDED', item);
  return list.resourceVersion;
}

/** Follows one watch connection; resolves with the last version seen, or undefined to relist. */
async function follow(
  client: KubeClient,
  info: ResourceInfo,
  options: WatchOptions,
  version: string,
  opened: (response: IncomingMessage) => void,
): Promise<string | undefined> {
  const query = new URLSearchParams({ watch: '1', resourceVersion: version });
  if (options.labelSelector) query.set('labelSelector', options.labelSelector);
  query.set('allowWatchBookmarks', 'true');
  const response = await client.transport.stream(
    `${collectionPath(info, options.namespace)}?${query}`,
  );
  opened(response);

  let last: string | undefined = version;
  let buffered = '';
  for await (const chunk of response as AsyncIterable<Buffer>) {
    buffered += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (!line) continue;
      const parsed = watchEventSchema.safeParse(JSON.parse(line));
      if (!parsed.success) continue;
      const { type, object } = parsed.data;
      // An ERROR event is a Status (410 Gone: the version is too old): list again.
      if (type === 'ERROR') return undefined;
      const kubeObject = { ...object, apiVersion: info.apiVersion, kind: info.kind } as KubeObject;
      last = (kubeObject.metadata.resourceVersion as string | undefined) ?? last;
      if (type !== 'BOOKMARK') options.onEvent(type, kubeObject);
    }
  }
  return last;
}
