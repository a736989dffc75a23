import type { IncomingMessage, ServerResponse } from 'node:http';
import { OciHttpError } from './errors.ts';

/** Reads a request body into memory, refusing one over `limit` bytes before reading it all. */
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) throw tooLarge(limit);

  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

export function tooLarge(limit: number): OciHttpError {
  return new OciHttpError(413, 'SIZE_INVALID', `body is larger than the limit of ${limit} bytes`);
}

/** Sends a response with no body (HEAD, 201, 202, 204). */
export function sendEmpty(
  response: ServerResponse,
  status: number,
  headers: Record<string, string | number>,
): void {
  response.writeHead(status, { 'Content-Length': 0, ...headers });
  response.end();
}

export function sendJson(
  response: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string | number> = {},
  contentType = 'application/json',
): void {
  const body = JSON.stringify(value);
  response.writeHead(status, {
    ...headers,
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
  });
  response.end(body);
}

export interface ByteRange {
  start: number;
  /** inclusive */
  end: number;
}

/**
 * Parses a `Range: bytes=start-end` request header against a blob of `size` bytes. Returns
 * undefined when absent; a range that cannot be served is a 416.
 */
export function parseRangeHeader(header: string | undefined, size: number): ByteRange | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) throw rangeNotSatisfiable(size);

  // "bytes=-N" asks for the last N bytes
  const range =
    match[1] === ''
      ? { start: Math.max(0, size - Number(match[2])), end: size - 1 }
      : { start: Number(match[1]), end: match[2] === '' ? size - 1 : Number(match[2]) };
  if (range.start > range.end || range.start >= size) throw rangeNotSatisfiable(size);
  return { start: range.start, end: Math.min(range.end, size - 1) };
}

function rangeNotSatisfiable(size: number): OciHttpError {
  return new OciHttpError(416, 'SIZE_INVALID', 'requested range cannot be served', {
    'Content-Range': `bytes */${size}`,
  });
}

/**
 * Parses an upload chunk's `Content-Range: start-end` (inclusive; some clients prefix
 * `bytes `). Returns undefined when the header is absent.
 */
export function parseContentRange(header: string | undefined): ByteRange | undefined {
  if (!header) return undefined;
  const match = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/\d+|\/\*)?$/.exec(header.trim());
  if (!match) {
    throw new OciHttpError(416, 'BLOB_UPLOAD_INVALID', `Content-Range "${header}" is malformed`);
  }
  return { start: Number(match[1]), end: Number(match[2]) };
}
