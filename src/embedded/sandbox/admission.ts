import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isJsonObject, type KubeObject } from './objects.ts';
import type { ResourceType } from './resources.ts';
import { matchesLabels, requirementsOf, type LabelSelectorObject } from './selectors.ts';
import { SandboxApiError, type StatusReason } from './status.ts';
import type { ObjectStore } from './store.ts';

/** What admission sees of a write. */
export interface AdmissionAttributes {
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  type: ResourceType;
  version: string;
  subresource?: string;
  namespace?: string;
  name: string;
  object?: KubeObject;
  oldObject?: KubeObject;
  dryRun: boolean;
  username: string;
}

interface Rule {
  operations?: string[];
  apiGroups?: string[];
  apiVersions?: string[];
  resources?: string[];
  scope?: string;
}

interface Webhook {
  name: string;
  clientConfig?: { url?: string; caBundle?: string; service?: unknown };
  rules?: Rule[];
  failurePolicy?: 'Fail' | 'Ignore';
  timeoutSeconds?: number;
  namespaceSelector?: LabelSelectorObject;
  objectSelector?: LabelSelectorObject;
}

const webhookConfigurations = 'admissionregistration.k8s.io/validatingwebhookconfigurations';

/**
 * Validating admission: every webhook of every stored ValidatingWebhookConfiguration whose rules
 * and selectors match the write is sent an AdmissionReview v1 (in parallel, as the API server
 * does). A denial refuses the write; a webhook that errs or times out refuses it when its
 * failurePolicy is Fail (the default) and is skipped when it is Ignore.
 */
export function createAdmission(
  store: ObjectStore,
): (attributes: AdmissionAttributes) => Promise<void> {
  return async (attributes) => {
    // The API server never sends webhook configurations to webhooks, so a bad one can be fixed.
    if (attributes.type.group === 'admissionregistration.k8s.io') return;
    const webhooks = store
      .list(webhookConfigurations)
      .flatMap((stored) => (stored.object.webhooks as Webhook[] | undefined) ?? [])
      .filter((webhook) => matches(webhook, attributes, store));
    await Promise.all(webhooks.map((webhook) => callWebhook(webhook, attributes)));
  };
}

function matches(webhook: Webhook, attributes: AdmissionAttributes, store: ObjectStore): boolean {
  if (!(webhook.rules ?? []).some((rule) => ruleMatches(rule, attributes))) return false;
  const object = attributes.object ?? attributes.oldObject;
  if (!matchesLabels(requirementsOf(webhook.objectSelector), object?.metadata.labels)) return false;
  const namespaceRequirements = requirementsOf(webhook.namespaceSelector);
  if (namespaceRequirements.length === 0) return true;
  const namespaceLabels =
    attributes.type.kind === 'Namespace'
      ? object?.metadata.labels
      : attributes.namespace === undefined
        ? undefined
        : store.get('/namespaces', undefined, attributes.namespace)?.object.metadata.labels;
  // Cluster-scoped objects are not subject to a namespace selector.
  if (!attributes.type.namespaced && attributes.type.kind !== 'Namespace') return true;
  return matchesLabels(namespaceRequirements, namespaceLabels);
}

function ruleMatches(rule: Rule, attributes: AdmissionAttributes): boolean {
  const { type } = attributes;
  const anyOf = (values: string[] | undefined, value: string): boolean =>
    (values ?? []).some((entry) => entry === '*' || entry === value);
  const resource = attributes.subresource
    ? `${type.resource}/${attributes.subresource}`
    : type.resource;
  const resourceMatches = (rule.resources ?? []).some((entry) => {
    if (entry === '*/*' || entry === resource) return true;
    if (entry === '*') return !attributes.subresource;
    const [base, sub] = entry.split('/');
    return (
      (base === '*' && sub === attributes.subresource) || (base === type.resource && sub === '*')
    );
  });
  const scope = rule.scope ?? '*';
  const scopeMatches = scope === '*' || (scope === 'Namespaced') === type.namespaced;
  return (
    anyOf(rule.operations, attributes.operation) &&
    anyOf(rule.apiGroups, type.group) &&
    anyOf(rule.apiVersions, attributes.version) &&
    resourceMatches &&
    scopeMatches
  );
}

async function callWebhook(webhook: Webhook, attributes: AdmissionAttributes): Promise<void> {
  const uid = randomUUID();
  let answer: unknown;
  try {
    answer = await postReview(webhook, reviewOf(uid, attributes));
  } catch (error) {
    if (webhook.failurePolicy === 'Ignore') return;
    const message = `Internal error occurred: failed calling webhook "${webhook.name}": ${(error as Error).message}`;
    throw new SandboxApiError('InternalError', message);
  }
  const response =
    isJsonObject(answer) && isJsonObject(answer.response) ? answer.response : undefined;
  if (!response || response.uid !== uid) {
    if (webhook.failurePolicy === 'Ignore') return;
    const message = `Internal error occurred: failed calling webhook "${webhook.name}": the response has no AdmissionReview response for uid ${uid}`;
    throw new SandboxApiError('InternalError', message);
  }
  if (response.allowed === true) return;
  const status = isJsonObject(response.status) ? response.status : {};
  const reason =
    typeof status.message === 'string' && status.message ? status.message : 'without explanation';
  const message = `admission webhook "${webhook.name}" denied the request${reason === 'without explanation' ? ' ' : ': '}${reason}`;
  const code = typeof status.code === 'number' ? status.code : 403;
  const statusReason = (
    typeof status.reason === 'string' && status.reason ? status.reason : 'Forbidden'
  ) as StatusReason;
  throw new SandboxApiError(statusReason, message, undefined, code);
}

function reviewOf(uid: string, attributes: AdmissionAttributes): object {
  const { type } = attributes;
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: type.group, version: attributes.version, kind: type.kind },
      resource: { group: type.group, version: attributes.version, resource: type.resource },
      ...(attributes.subresource ? { subResource: attributes.subresource } : {}),
      requestKind: { group: type.group, version: attributes.version, kind: type.kind },
      requestResource: { group: type.group, version: attributes.version, resource: type.resource },
      name: attributes.name,
      ...(attributes.namespace ? { namespace: attributes.namespace } : {}),
      operation: attributes.operation,
      userInfo: { username: attributes.username },
      object: attributes.object ?? null,
      oldObject: attributes.oldObject ?? null,
      dryRun: attributes.dryRun,
    },
  };
}

function postReview(webhook: Webhook, review: object): Promise<unknown> {
  const url = webhook.clientConfig?.url;
  if (!url) return Promise.reject(new Error('the sandbox calls webhooks by clientConfig.url only'));
  const body = JSON.stringify(review);
  const timeoutMs = (webhook.timeoutSeconds ?? 10) * 1000;
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const ca = webhook.clientConfig?.caBundle
    ? Buffer.from(webhook.clientConfig.caBundle, 'base64')
    : undefined;

  return new Promise((resolve, reject) => {
    const outgoing = send(
      target,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        ...(ca ? { ca } : {}),
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () => {
          if ((incoming.statusCode ?? 500) >= 400)
            return reject(
              new Error(
                `failed to call webhook: the server responded with status ${incoming.statusCode}`,
              ),
            );
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch {
            reject(new Error('failed to call webhook: the response is not JSON'));
          }
        });
      },
    );
    outgoing.setTimeout(timeoutMs, () =>
      outgoing.destroy(
        new Error(`failed to call webhook: Post "${url}": context deadline exceeded`),
      ),
    );
    outgoing.on('error', (error) =>
      reject(
        error.message.startsWith('failed to call')
          ? error
          : new Error(`failed to call webhook: Post "${url}": ${error.message}`),
      ),
    );
    outgoing.end(body);
  });
}
