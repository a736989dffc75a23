import type { KubeObject } from '../../gitops/render.ts';
import type { KubeClientConfig } from './config.ts';
import { KubeError } from './errors.ts';
import { KubeTransport, type TransportOptions } from './transport.ts';
import { startWatch, type WatchHandle, type WatchOptions } from './watch.ts';

/*
 * Why a client of our own rather than @kubernetes/client-node: changeproof needs six verbs
 * (discovery, get, list, watch, server-side apply, delete) with Status reasons mapped to stable
 * error codes and 5xx kept apart as upstream faults. client-node 1.x brings node-fetch, ws,
 * openid-client, tar-fs and jsonpath-plus for that and reports failures as untyped ApiExceptions.
 * The protocol is the same either way, so the same code runs against the sandbox and any cluster
 * (kubeconfig with token, client certificate, CA or credential plugin, or the pod's service
 * account).
 */

/** Where a kind lives on the API server. */
export interface ResourceInfo {
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

/** Identifies one object. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
}

export interface ApplyOptions {
  fieldManager: string;
  /** Take fields other managers own (we force where Git is the owner). */
  force?: boolean;
  /** Validate and admit only, change nothing (`dryRun=All`). */
  dryRun?: boolean;
}

interface ApiResourceList {
  resources: { name: string; kind: string; namespaced: boolean }[];
}

/**
 * A Kubernetes API client for one cluster: the sandbox in local mode, any cluster in connected
 * mode. Kinds are resolved by discovery (cached per apiVersion, refreshed once on a miss so new
 * CRDs are found).
 *
 * @example
 * const client = new KubeClient(loadKubeconfig('kubeconfig', 'prod'));
 * await client.apply(deployment, { fieldManager: 'changeproof', force: true });
 */
export class KubeClient {
  readonly transport: KubeTransport;
  private readonly discovery = new Map<string, Promise<Map<string, ResourceInfo>>>();

  constructor(
    readonly config: KubeClientConfig,
    options: TransportOptions = {},
  ) {
    this.transport = new KubeTransport(config, options);
  }

  /** The resource a kind is served as; UNKNOWN_KIND when the cluster does not serve it. */
  async resourceFor(apiVersion: string, kind: string): Promise<ResourceInfo> {
    const known = (await this.resources(apiVersion)).get(kind);
    if (known) return known;
    this.discovery.delete(apiVersion);
    const refreshed = (await this.resources(apiVersion)).get(kind);
    if (refreshed) return refreshed;
    throw new KubeError(
      'UNKNOWN_KIND',
      `cluster ${this.config.name} does not serve kind ${kind} in ${apiVersion}`,
    );
  }

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    const info = await this.resourceFor(ref.apiVersion, ref.kind);
    try {
      return await this.transport.request<KubeObject>({
        method: 'GET',
        path: objectPath(info, ref.namespace, ref.name),
      });
    } catch (error) {
      if (error instanceof KubeError && error.code === 'NOT_FOUND') return undefined;
      throw error;
    }
  }

  async list(
    apiVersion: string,
    kind: string,
    options: { namespace?: string; labelSelector?: string } = {},
  ): Promise<ListResult> {
    const info = await this.resourceFor(apiVersion, kind);
    const query = options.labelSelector
      ? `?labelSelector=${encodeURIComponent(options.labelSelector)}`
      : '';
    const list = await this.transport.request<{
      items: KubeObject[];
      metadata: { resourceVersion?: string };
    }>({ method: 'GET', path: `${collectionPath(info, options.namespace)}${query}` });
    return {
      // List items carry no apiVersion and kind of their own.
      items: list.items.map((item) => ({ ...item, apiVersion, kind })),
      resourceVersion: list.metadata.resourceVersion ?? '',
    };
  }

  /** Server-side apply (`application/apply-patch+yaml`; JSON is YAML). */
  async apply(object: KubeObject, options: ApplyOptions): Promise<KubeObject> {
    const info = await this.resourceFor(object.apiVersion, object.kind);
    const namespace = requireNamespace(info, object);
    const query = new URLSearchParams({ fieldManager: options.fieldManager });
    if (options.force) query.set('force', 'true');
    if (options.dryRun) query.set('dryRun', 'All');
    return this.transport.request<KubeObject>({
      method: 'PATCH',
      path: `${objectPath(info, namespace, object.metadata.name)}?${query}`,
      body: object,
      contentType: 'application/apply-patch+yaml',
    });
  }

  /** Deletes an object; true if it was there. */
  async delete(ref: ObjectRef): Promise<boolean> {
    const info = await this.resourceFor(ref.apiVersion, ref.kind);
    try {
      await this.transport.request({
        method: 'DELETE',
        path: objectPath(info, ref.namespace, ref.name),
        body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' },
      });
      return true;
    } catch (error) {
      if (error instanceof KubeError && error.code === 'NOT_FOUND') return false;
      throw error;
    }
  }

  /** Lists, then watches from the list's version, reconnecting until stopped. */
  async watch(apiVersion: string, kind: string, options: WatchOptions): Promise<WatchHandle> {
    const info = await this.resourceFor(apiVersion, kind);
    return startWatch(this, info, options);
  }

  close(): void {
    this.transport.close();
  }

  private resources(apiVersion: string): Promise<Map<string, ResourceInfo>> {
    let cached = this.discovery.get(apiVersion);
    if (!cached) {
      cached = this.discover(apiVersion);
      this.discovery.set(apiVersion, cached);
      // A failed discovery is retried by the next call rather than remembered.
      cached.catch(() => this.discovery.delete(apiVersion));
    }
    return cached;
  }

  private async discover(apiVersion: string): Promise<Map<string, ResourceInfo>> {
    let list: ApiResourceList;
    try {
      list = await this.transport.request<ApiResourceList>({
        method: 'GET',
        path: prefixOf(apiVersion),
      });
    } catch (error) {
      if (error instanceof KubeError && error.code === 'NOT_FOUND') return new Map();
      throw error;
    }
    const resources = new Map<string, ResourceInfo>();
    for (const resource of list.resources) {
      if (resource.name.includes('/')) continue; // subresources
      resources.set(resource.kind, {
        apiVersion,
        kind: resource.kind,
        plural: resource.name,
        namespaced: resource.namespaced,
      });
    }
    return resources;
  }
}

function prefixOf(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** The collection path of a kind, in one namespace or across all. */
export function collectionPath(info: ResourceInfo, namespace?: string): string {
  const scope = info.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${prefixOf(info.apiVersion)}${scope}/${info.plural}`;
}

function objectPath(info: ResourceInfo, namespace: string | undefined, name: string): string {
  return `${collectionPath(info, namespace)}/${encodeURIComponent(name)}`;
}

function requireNamespace(info: ResourceInfo, object: KubeObject): string | undefined {
  const namespace = object.metadata.namespace;
  if (info.namespaced && !namespace) {
    throw new KubeError(
      'NAMESPACE_REQUIRED',
      `${object.kind} ${object.metadata.name} is namespaced but names no namespace; set metadata.namespace or the overlay's namespace:`,
    );
  }
  return info.namespaced ? namespace : undefined;
}
