import { badRequest, SandboxApiError } from '../status.ts';
import type { Json, JsonObject } from '../objects.ts';
import { decodableKinds, messageDescriptors, type FieldDescriptor } from './messages.ts';
import {
  isZeroMessage,
  readFields,
  readPackedVarints,
  signed,
  WireFormatError,
  type WireField,
} from './wire.ts';

/** The media type of Kubernetes' protobuf encoding, which typed clients (kubectl create) send. */
export const protobufMediaType = 'application/vnd.kubernetes.protobuf';

// Every protobuf body starts with these four bytes, then a runtime.Unknown envelope.
const magic = Buffer.from('k8s\0', 'latin1');

/**
 * Decodes a Kubernetes protobuf body into the JSON object the same request would have sent as
 * JSON. The envelope (`k8s\0` + runtime.Unknown {typeMeta, raw, contentEncoding, contentType})
 * names the kind; `raw` is that kind's message, read with the field tables of ./messages.ts.
 * Zero values Go writes for unset fields are dropped, as its JSON encoder's omitempty does.
 */
export function decodeProtobufBody(body: Buffer): JsonObject {
  if (body.length < magic.length || !body.subarray(0, magic.length).equals(magic))
    throw badRequest('the protobuf body does not start with the Kubernetes "k8s\\0" prefix');
  try {
    const envelope = fieldsByNumber(readFields(body.subarray(magic.length)));
    const typeMeta = fieldsByNumber(readFields(bytesOf(envelope.get(1))));
    const apiVersion = textOf(typeMeta.get(1));
    const kind = textOf(typeMeta.get(2));
    const encoding = textOf(envelope.get(3));
    if (encoding)
      throw unsupported(`protobuf bodies with content encoding "${encoding}" are not supported`);
    if (!decodableKinds.includes(kind)) {
      throw unsupported(
        `the sandbox decodes protobuf bodies of ${decodableKinds.join(', ')}; send ${kind || 'this object'} as JSON (kubectl apply -f or create -f)`,
      );
    }
    const object = decodeMessage(kind, bytesOf(envelope.get(2)));
    return { ...(apiVersion ? { apiVersion } : {}), kind, ...object };
  } catch (error) {
    if (error instanceof WireFormatError)
      throw badRequest(`malformed protobuf body: ${error.message}`);
    throw error;
  }
}

function unsupported(message: string): SandboxApiError {
  return new SandboxApiError('UnsupportedMediaType', message);
}

function fieldsByNumber(fields: WireField[]): Map<number, WireField> {
  return new Map(fields.map((field) => [field.number, field]));
}

function bytesOf(field: WireField | undefined): Uint8Array {
  if (!field) return new Uint8Array();
  if (field.wireType !== 2) throw new WireFormatError(`field ${field.number} is not a message`);
  return field.bytes;
}

function textOf(field: WireField | undefined): string {
  return Buffer.from(bytesOf(field)).toString('utf8');
}

function decodeMessage(message: string, bytes: Uint8Array): JsonObject {
  const descriptors = messageDescriptors.get(message);
  if (!descriptors) throw new Error(`no protobuf field table for ${message}`);
  const result: JsonObject = {};
  for (const field of readFields(bytes)) {
    const descriptor = descriptors.get(field.number);
    if (!descriptor) {
      if (isZeroField(field)) continue;
      throw badRequest(
        `protobuf field ${field.number} of ${message} is not known to the sandbox: send this object as JSON`,
      );
    }
    storeField(result, descriptor, field);
  }
  return result;
}

// Go writes each non-pointer field even when unset: such a zero field carries nothing.
function isZeroField(field: WireField): boolean {
  return field.wireType === 0 ? field.value === 0n : isZeroMessage(field.bytes);
}

function storeField(result: JsonObject, descriptor: FieldDescriptor, field: WireField): void {
  const { name } = descriptor;
  if (descriptor.type.startsWith('map')) {
    const [key, value] = mapEntry(descriptor.type.slice(4) || 'string', field);
    const map = (result[name] ?? {}) as JsonObject;
    map[key] = value;
    result[name] = map;
    return;
  }
  if (descriptor.repeated) {
    const list = (result[name] ?? []) as Json[];
    if (descriptor.type === 'int' && field.wireType === 2)
      list.push(...readPackedVarints(field.bytes).map(signed));
    else list.push(valueOf(descriptor.type, field));
    result[name] = list;
    return;
  }
  const value = valueOf(descriptor.type, field);
  if (descriptor.inline) Object.assign(result, value as JsonObject);
  else if (descriptor.pointer || !isZeroJson(value)) result[name] = value;
}

function mapEntry(valueType: string, field: WireField): [string, Json] {
  const entry = fieldsByNumber(readFields(bytesOf(field)));
  const value = entry.get(2);
  return [textOf(entry.get(1)), value ? valueOf(valueType, value) : zeroOf(valueType)];
}

function zeroOf(type: string): Json {
  return type === 'string' || type === 'bytes' || type === 'Quantity' ? '' : null;
}

function valueOf(type: string, field: WireField): Json {
  switch (type) {
    case 'int':
      return signed(varintOf(field));
    case 'bool':
      return varintOf(field) !== 0n;
    case 'string':
      return textOf(field);
    case 'bytes':
      return Buffer.from(bytesOf(field)).toString('base64');
    default:
      return wellKnownValue(type, bytesOf(field));
  }
}

function wellKnownValue(type: string, bytes: Uint8Array): Json {
  const fields = fieldsByNumber(readFields(bytes));
  switch (type) {
    case 'Time': {
      const seconds = signed(fields.get(1)?.wireType === 0 ? varintOf(fields.get(1)!) : 0n);
      return seconds === 0 ? null : `${new Date(seconds * 1000).toISOString().slice(0, 19)}Z`;
    }
    case 'IntOrString':
      return varintOf(fields.get(1)) === 1n
        ? textOf(fields.get(3))
        : signed(varintOf(fields.get(2)));
    case 'Quantity':
      return textOf(fields.get(1));
    case 'FieldsV1':
      return JSON.parse(textOf(fields.get(1)) || '{}') as Json;
    default:
      return decodeMessage(type, bytes);
  }
}

function varintOf(field: WireField | undefined): bigint {
  if (!field) return 0n;
  if (field.wireType !== 0) throw new WireFormatError(`field ${field.number} is not a number`);
  return field.value;
}

function isZeroJson(value: Json): boolean {
  if (value === null || value === '' || value === 0 || value === false) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value).length === 0;
}
