import { isDigest } from '../digest.ts';
import { RegistryError } from './errors.ts';

/**
 * Names, tags and digests as the OCI distribution spec defines them, and image references such
 * as `127.0.0.1:5000/team/app:1.2.3@sha256:<hex>`. Both the client and the embedded registry
 * validate with these, so what one accepts the other accepts.
 */

const nameComponent = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const repositoryPattern = new RegExp(`^${nameComponent}(?:/${nameComponent})*$`);
const tagPattern = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** Registries (distribution, ECR) refuse longer repository names. */
const maxRepositoryLength = 255;

/** Docker's convention: a registry host has a dot, a port, or is `localhost`. */
const defaultRegistry = 'docker.io';

export function isValidRepositoryName(name: string): boolean {
  return name.length <= maxRepositoryLength && repositoryPattern.test(name);
}

export function isValidTag(tag: string): boolean {
  return tagPattern.test(tag);
}

export { isDigest };

/** A tag or a digest: what follows `/manifests/` in a distribution URL. */
export function isValidManifestReference(reference: string): boolean {
  return isValidTag(reference) || isDigest(reference);
}

export interface ImageReference {
  /** `host[:port]` */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/**
 * Parses `[host[:port]/]repo[:tag][@sha256:<hex>]`. A reference without a registry host gets
 * Docker Hub's `docker.io` (and `library/` for one-component names), as docker and skopeo do.
 *
 * @example parseImageReference('127.0.0.1:5000/shop/cart:abc@sha256:…')
 *   // { registry: '127.0.0.1:5000', repository: 'shop/cart', tag: 'abc', digest: 'sha256:…' }
 */
export function parseImageReference(text: string): ImageReference {
  const invalid = (why: string) =>
    new RegistryError('REFERENCE_INVALID', `image reference "${text}" ${why}`);

  const [withoutDigest, digest, extra] = text.split('@');
  if (extra !== undefined || withoutDigest === undefined || withoutDigest === '') {
    throw invalid('must look like host:port/repository[:tag][@sha256:<hex>]');
  }
  if (digest !== undefined && !isDigest(digest)) {
    throw invalid('has a digest that is not sha256: followed by 64 lowercase hex characters');
  }

  const { registry, remainder } = splitRegistry(withoutDigest);
  const tagSeparator = remainder.lastIndexOf(':');
  const repositoryPart = tagSeparator === -1 ? remainder : remainder.slice(0, tagSeparator);
  const tag = tagSeparator === -1 ? undefined : remainder.slice(tagSeparator + 1);
  const repository =
    registry === defaultRegistry && !repositoryPart.includes('/')
      ? `library/${repositoryPart}`
      : repositoryPart;

  if (!isValidRepositoryName(repository)) {
    throw invalid('has an invalid repository name (lowercase letters, digits, . _ - and /)');
  }
  if (tag !== undefined && !isValidTag(tag)) {
    throw invalid('has an invalid tag (letters, digits, . _ -, at most 128, not starting . -)');
  }
  return { registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The canonical text of a reference: `registry/repository[:tag][@digest]`. */
export function formatImageReference(reference: ImageReference): string {
  const tag = reference.tag ? `:${reference.tag}` : '';
  const digest = reference.digest ? `@${reference.digest}` : '';
  return `${reference.registry}/${reference.repository}${tag}${digest}`;
}

function splitRegistry(text: string): { registry: string; remainder: string } {
  const slash = text.indexOf('/');
  const first = slash === -1 ? '' : text.slice(0, slash);
  const looksLikeHost = first.includes('.') || first.includes(':') || first === 'localhost';
  if (slash === -1 || !looksLikeHost) return { registry: defaultRegistry, remainder: text };
  return { registry: first, remainder: text.slice(slash + 1) };
}

/**
 * The distribution API path `/v2/<repository>/<endpoint>[/<reference>]`, refusing a repository
 * name, digest or tag the spec does not allow before anything is sent.
 */
export function apiPath(
  repository: string,
  endpoint: 'blobs' | 'blobs/uploads' | 'manifests' | 'referrers' | 'tags/list',
  reference?: string,
): string {
  if (!isValidRepositoryName(repository)) {
    throw new RegistryError(
      'NAME_INVALID',
      `repository name "${repository}" is invalid; use lowercase letters, digits, . _ - and /`,
    );
  }
  if (reference === undefined) return `/v2/${repository}/${endpoint}`;
  const valid =
    endpoint === 'manifests' ? isValidManifestReference(reference) : isDigest(reference);
  if (!valid) {
    throw new RegistryError(
      'REFERENCE_INVALID',
      `"${reference}" is not a valid ${endpoint} reference`,
    );
  }
  return `/v2/${repository}/${endpoint}/${reference}`;
}
