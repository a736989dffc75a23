import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { badRequest, SandboxApiError } from './status.ts';
import type { Json } from './objects.ts';
import { decodeProtobufBody, protobufMediaType } from './protobuf/decode.ts';

/** The API server's request body limit (3 MiB), past which it answers 413. */
export const maxBodyBytes = 3 * 1024 * 1024;

/** Reads a request body, refusing bodies over the limit before buffering them whole. */
export async function readBody(request: IncomingMessage, limit = maxBodyBytes): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) {
    request.resume();
    throw tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      request.resume();
      throw tooLarge(limit);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function tooLarge(limit: number): SandboxApiError {
  return new SandboxApiError(
    'RequestEntityTooLarge',
    `Request entity too large: limit is ${limit}`,
  );
}

/** The body's media type without parameters, e.g. `application/merge-patch+json`. */
export function mediaTypeOf(request: IncomingMessage): string {
  return (request.headers['content-type'] ?? 'application/json')
    .split(';')[0]!
    .trim()
    .toLowerCase();
}

const jsonTypes = new Set([
  'application/json',
  'application/merge-patch+json',
  'application/json-patch+json',
  'application/strategic-merge-patch+json',
]);
const yamlTypes = new Set(['application/yaml', 'application/apply-patch+yaml']);

/**
 * Parses a body as JSON, YAML or Kubernetes protobuf (what typed clients such as `kubectl
 * create deployment` send) by its media type; malformed input is a 400 BadRequest, a media type
 * the sandbox does not speak (CBOR) a 415.
 */
export function parseBody(body: Buffer, mediaType: string): Json {
  if (mediaType === protobufMediaType) return decodeProtobufBody(body);
  const text = body.toString('utf8');
  if (jsonTypes.has(mediaType)) {
    try {
      return JSON.parse(text) as Json;
    } catch (error) {
      throw badRequest(`json parse error: ${(error as Error).message}`);
    }
  }
  if (yamlTypes.has(mediaType)) {
    try {
      return parseYaml(text, { strict: true, uniqueKeys: true }) as Json;
    } catch (error) {
      const firstLine = (error as Error).message.split('\n')[0];
      throw badRequest(`error converting YAML to JSON: yaml: ${firstLine}`);
    }
  }
  throw new SandboxApiError(
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${[
      ...jsonTypes,
      ...yamlTypes,
      protobufMediaType,
    ].join(', ')}`,
  );
}
