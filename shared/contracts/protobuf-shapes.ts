import { timestampToRfc3339 } from './rfc3339.js';
import { isPlainObject } from './zod-reason.js';

/*
 * The Node client libraries (gRPC and REST fallback alike) return protobuf message objects, not the
 * proto3 JSON that feeds and exports carry: Timestamps as {seconds, nanos}, bytes as Uint8Array,
 * google.protobuf.Struct as {fields: {k: {stringValue: …}}}. A sweep that lists assets with the client
 * hands us those, so the CAI contract turns them into their JSON form here.
 */

const VALUE_KINDS = ['nullValue', 'numberValue', 'stringValue', 'boolValue', 'structValue', 'listValue'];

function isValueShaped(v: unknown): v is Record<string, unknown> {
  if (!isPlainObject(v)) return false;
  const set = Object.keys(v).filter((k) => v[k] !== undefined && k !== 'kind');
  return set.length === 1 && VALUE_KINDS.includes(set[0] ?? '');
}

/** A google.protobuf.Struct message object (every field a Value), as opposed to a JSON object. */
export function isStructMessage(v: unknown): v is { fields: Record<string, unknown> } {
  if (!isPlainObject(v)) return false;
  const keys = Object.keys(v).filter((k) => v[k] !== undefined);
  if (keys.length !== 1 || keys[0] !== 'fields') return false;
  const fields = v['fields'];
  return isPlainObject(fields) && Object.values(fields).every(isValueShaped);
}

function valueToJson(v: unknown): unknown {
  if (!isPlainObject(v)) return v;
  if ('nullValue' in v && v['nullValue'] !== undefined) return null;
  if (v['numberValue'] !== undefined) return v['numberValue'];
  if (v['stringValue'] !== undefined) return v['stringValue'];
  if (v['boolValue'] !== undefined) return v['boolValue'];
  if (v['structValue'] !== undefined) return structToJson(v['structValue']);
  const list = v['listValue'];
  if (isPlainObject(list)) return Array.isArray(list['values']) ? list['values'].map(valueToJson) : [];
  return v;
}

export function structToJson(struct: unknown): Record<string, unknown> {
  const fields = isPlainObject(struct) && isPlainObject(struct['fields']) ? struct['fields'] : {};
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, valueToJson(v)]));
}

const MIN_TIMESTAMP_SECONDS = -62135596800n;
const MAX_TIMESTAMP_SECONDS = 253402300799n;

/** {seconds, nanos} (seconds possibly a string or a Long) → RFC 3339; anything else unchanged. */
export function timestampToJson(v: unknown): unknown {
  if (!isPlainObject(v) || !('seconds' in v)) return v;
  const seconds = v['seconds'];
  const nanos = v['nanos'] ?? 0;
  if (typeof nanos !== 'number' || !Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) return v;
  const text = typeof seconds === 'object' && seconds !== null ? String(seconds) : seconds;
  if (typeof text !== 'string' && typeof text !== 'number') return v;
  if (!/^-?\d+$/.test(String(text))) return v;
  const secs = BigInt(text);
  // google.protobuf.Timestamp's own range (0001-01-01 … 9999-12-31): beyond it there is no RFC 3339 form,
  // and the record is reported as bad input by the schema instead of crashing the reader.
  if (secs < MIN_TIMESTAMP_SECONDS || secs > MAX_TIMESTAMP_SECONDS) return v;
  return timestampToRfc3339(secs, nanos);
}

/** bytes fields (IAM etags) as base64, which is how proto3 JSON and the REST APIs spell them. */
export function bytesToJson(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return v;
}
