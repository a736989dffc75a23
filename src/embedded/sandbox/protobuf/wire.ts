/*
 * The protobuf wire format, as far as decoding Kubernetes objects needs it: varints and
 * length-delimited fields (the generated Kubernetes types use no fixed-width or group fields).
 */

/** One field read off the wire: a varint's value, or a length-delimited field's bytes. */
export type WireField =
  | { number: number; wireType: 0; value: bigint }
  | { number: number; wireType: 2; bytes: Uint8Array };

/** Malformed bytes or a wire type the Kubernetes types never use. */
export class WireFormatError extends Error {}

/** Reads the fields of one message, in wire order (repeated fields appear once per item). */
export function readFields(buffer: Uint8Array): WireField[] {
  const fields: WireField[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    const [key, afterKey] = readVarint(buffer, offset);
    const number = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (wireType === 0) {
      const [value, next] = readVarint(buffer, afterKey);
      fields.push({ number, wireType, value });
      offset = next;
    } else if (wireType === 2) {
      const [length, start] = readVarint(buffer, afterKey);
      const end = start + Number(length);
      if (end > buffer.length) throw new WireFormatError(`field ${number} runs past the end`);
      fields.push({ number, wireType, bytes: buffer.subarray(start, end) });
      offset = end;
    } else {
      throw new WireFormatError(`field ${number} has wire type ${wireType}, which is not used`);
    }
  }
  return fields;
}

/** A packed repeated number field: its varints one after another. */
export function readPackedVarints(bytes: Uint8Array): bigint[] {
  const values: bigint[] = [];
  for (let offset = 0; offset < bytes.length;) {
    const [value, next] = readVarint(bytes, offset);
    values.push(value);
    offset = next;
  }
  return values;
}

function readVarint(buffer: Uint8Array, start: number): [bigint, number] {
  let value = 0n;
  let shift = 0n;
  for (let offset = start; offset < buffer.length && shift < 70n; offset++) {
    const byte = buffer[offset]!;
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [value, offset + 1];
    shift += 7n;
  }
  throw new WireFormatError('a varint is truncated or too long');
}

/** A varint as the signed 64-bit integer Go wrote (negative int32s are sign-extended). */
export function signed(value: bigint): number {
  return Number(BigInt.asIntN(64, value));
}

/**
 * Whether a length-delimited field carries nothing: empty, or a message whose fields are all
 * zero. Go's generated marshallers write every non-pointer field, zero or not, so an unset
 * struct arrives as a message of zeros.
 */
export function isZeroMessage(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return true;
  try {
    return readFields(bytes).every((field) =>
      field.wireType === 0 ? field.value === 0n : isZeroMessage(field.bytes),
    );
  } catch {
    return false;
  }
}
