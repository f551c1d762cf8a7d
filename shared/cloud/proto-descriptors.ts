import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * The protos.json descriptors each gax client package ships (build/protos/protos.json), walked as plain
 * JSON: protobufjs' Root.fromJSON costs ~0.8 s for compute alone, and only a few types are ever looked at.
 */
export interface ProtoField {
  type: string;
  rule?: string;
  keyType?: string;
}
export interface ProtoMethod {
  requestType: string;
  parsedOptions?: Array<Record<string, unknown>>;
}
export interface ProtoNode {
  nested?: Record<string, ProtoNode>;
  fields?: Record<string, ProtoField>;
  values?: Record<string, number>;
  oneofs?: Record<string, { oneof: string[] }>;
  methods?: Record<string, ProtoMethod>;
}
/** A message or enum, with its full path (the scope its own field types resolve from). */
export interface ResolvedType {
  node: ProtoNode;
  path: string[];
}

export const PROTO_INTS = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);
export const PROTO_LONGS = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
/** Well-known wrapper messages, which proto3 JSON spells as their bare value. */
export const PROTO_WRAPPERS: Record<string, string> = {
  'google.protobuf.BoolValue': 'bool',
  'google.protobuf.StringValue': 'string',
  'google.protobuf.BytesValue': 'bytes',
  'google.protobuf.Int32Value': 'int32',
  'google.protobuf.UInt32Value': 'uint32',
  'google.protobuf.Int64Value': 'int64',
  'google.protobuf.UInt64Value': 'uint64',
  'google.protobuf.FloatValue': 'float',
  'google.protobuf.DoubleValue': 'double',
};

const require = createRequire(import.meta.url);
const roots = new Map<string, ProtoNode>();

export function readProtoJson(file: string): ProtoNode {
  return JSON.parse(readFileSync(file, 'utf8')) as ProtoNode;
}

/** The descriptor root of a client package (e.g. '@google-cloud/sql'), read once per process. */
export function protoRoot(pkg: string): ProtoNode {
  let root = roots.get(pkg);
  if (!root) {
    root = readProtoJson(require.resolve(`${pkg}/build/protos/protos.json`));
    roots.set(pkg, root);
  }
  return root;
}

/** Resolves a type reference as protoc does: from the innermost enclosing scope outwards. */
export function resolveProtoType(root: ProtoNode, ref: string, scope: string[]): ResolvedType | undefined {
  const parts = ref.replace(/^\./, '').split('.');
  const scopes = ref.startsWith('.')
    ? [[]]
    : scope.map((_, i) => scope.slice(0, scope.length - i)).concat([[]]);
  for (const s of scopes) {
    let node: ProtoNode | undefined = root;
    for (const p of [...s, ...parts]) node = node?.nested?.[p];
    if (node && (node.fields || node.values)) return { node, path: [...s, ...parts] };
  }
  return undefined;
}
