import type { ServerResponse } from 'node:http';

/** The error codes of the OCI distribution spec, plus `TAG_INVALID` and `UNKNOWN` from distribution. */
export type OciErrorCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'TAG_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'UNKNOWN';

/**
 * A refusal the registry sends as the spec's JSON error body. Handlers throw it; the server's
 * one error handler writes it.
 */
export class OciHttpError extends Error {
  readonly status: number;
  readonly code: OciErrorCode;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: OciErrorCode,
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

export function sendOciError(response: ServerResponse, error: OciHttpError): void {
  const body = JSON.stringify({ errors: [{ code: error.code, message: error.message }] });
  response.writeHead(error.status, {
    ...error.headers,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
  });
  response.end(body);
}

export const blobUnknown = (digest: string) =>
  new OciHttpError(404, 'BLOB_UNKNOWN', `blob ${digest} is not in this repository`);

export const manifestUnknown = (reference: string) =>
  new OciHttpError(404, 'MANIFEST_UNKNOWN', `manifest ${reference} is not in this repository`);

export const uploadUnknown = (id: string) =>
  new OciHttpError(404, 'BLOB_UPLOAD_UNKNOWN', `upload ${id} is unknown or has expired`);

export const digestInvalid = (message: string) => new OciHttpError(400, 'DIGEST_INVALID', message);
