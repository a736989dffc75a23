import { crc32, deflateRawSync, gunzipSync } from 'node:zlib';

// A gzip member header with no name, no mtime and OS "unknown" (255), so the bytes depend on the
// content alone (RFC 1952 section 2.3).
const fixedHeader = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);

/** Gzip with a fixed header: the same input gives the same bytes on every host and run. */
export function gzipReproducible(data: Uint8Array): Buffer {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data), 0);
  trailer.writeUInt32LE(data.length % 2 ** 32, 4);
  return Buffer.concat([fixedHeader, deflateRawSync(data, { level: 6 }), trailer]);
}

/** Gunzips a layer blob; a blob that is not gzip is returned as is (uncompressed tar layers). */
export function gunzipIfCompressed(data: Uint8Array): Buffer {
  const isGzip = data.length > 2 && data[0] === 0x1f && data[1] === 0x8b;
  return isGzip ? gunzipSync(data) : Buffer.from(data);
}
