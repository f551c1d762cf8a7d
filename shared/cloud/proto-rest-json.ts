import {
  PROTO_INTS,
  PROTO_LONGS,
  PROTO_WRAPPERS,
  protoRoot,
  resolveProtoType as resolve,
  type ProtoNode,
  type ResolvedType as Resolved,
} from './proto-descriptors.js';

/**
 * The REST (proto3 JSON) shape of a message a gax client returned, or of CAI data rendered for a gax API.
 *
 * gax decodes REST responses through protobufjs with `defaults: true` (see rest-json.ts): compute's fields
 * are all proto3 `optional`, so that only adds `[]`s, but GKE's and Service Usage's scalars are not, and
 * every unset one comes back as its zero value (`description: ''`, `enableKubernetesAlpha: false`,
 * `status: 'STATUS_UNSPECIFIED'`, `disabled: false` in every add-on). REST (proto3 JSON) omits all of
 * them, and so does CAI. Which of them were set cannot be told apart from the value alone (a map value may
 * be '' and must stay), so the message's own descriptor decides (proto-descriptors.ts).
 */

type Json = Record<string, unknown>;

/** The client packages whose descriptors this reads. */
export type ProtoPackageName =
  '@google-cloud/container' | '@google-cloud/service-usage' | '@google-cloud/sql';

const INTS = new Set([...PROTO_INTS, 'double', 'float']);
const LONGS = PROTO_LONGS;
const WRAPPERS = new Set(Object.keys(PROTO_WRAPPERS));

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function timestamp(v: Json): string | undefined {
  const seconds = Number(v['seconds'] ?? 0);
  const nanos = Number(v['nanos'] ?? 0);
  if (!Number.isFinite(seconds)) return undefined;
  const base = new Date(seconds * 1000).toISOString().replace(/\.000Z$/, '');
  return nanos ? `${base}.${String(nanos).padStart(9, '0').replace(/0+$/, '')}Z` : `${base}Z`;
}

function duration(v: Json): string {
  const seconds = String(v['seconds'] ?? '0');
  const nanos = Number(v['nanos'] ?? 0);
  return nanos ? `${seconds}.${String(Math.abs(nanos)).padStart(9, '0').replace(/0+$/, '')}s` : `${seconds}s`;
}

class Walker {
  constructor(
    private readonly root: ProtoNode,
    /** 'read': drop zero values the decoder added; 'render': keep everything, int64 as strings. */
    private readonly mode: 'read' | 'render',
  ) {}

  message(r: Resolved, v: unknown): Json | undefined {
    if (!isRecord(v)) return undefined;
    const present = new Set(Object.values(r.node.oneofs ?? {}).flatMap((o) => o.oneof));
    const out: Json = {};
    for (const [name, f] of Object.entries(r.node.fields ?? {})) {
      const val = v[name];
      if (val === null || val === undefined) continue;
      if (f.keyType) {
        if (!isRecord(val)) continue;
        const entries = Object.entries(val).map(
          ([k, x]) => [k, this.value(f.type, r.path, x, true)] as const,
        );
        if (entries.length > 0 || this.mode === 'render') out[name] = Object.fromEntries(entries);
      } else if (f.rule === 'repeated') {
        if (!Array.isArray(val)) continue;
        if (val.length > 0 || this.mode === 'render')
          out[name] = val.map((x) => this.value(f.type, r.path, x, true));
      } else {
        const x = this.value(f.type, r.path, val, present.has(name) || this.mode === 'render');
        if (x !== undefined) out[name] = x;
      }
    }
    if (this.mode === 'render') {
      // Fields newer than the client's descriptors (CAI may know them) pass through untouched.
      for (const [k, x] of Object.entries(v)) if (!(k in (r.node.fields ?? {}))) out[k] = x;
    }
    return out;
  }

  /** One value; `keep`: a presence-tracked field (oneof, proto3 optional) or a list/map element. */
  value(type: string, scope: string[], v: unknown, keep: boolean): unknown {
    if (type === 'string') return keep || v !== '' ? v : undefined;
    if (type === 'bool') return keep || v === true ? v : undefined;
    if (INTS.has(type)) return keep || Number(v) !== 0 ? v : undefined;
    if (LONGS.has(type)) {
      const s = typeof v === 'number' || typeof v === 'bigint' ? String(v) : v;
      return keep || String(s) !== '0' ? s : undefined;
    }
    if (type === 'bytes') {
      const s = v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v;
      return keep || s !== '' ? s : undefined;
    }
    const r = resolve(this.root, type, scope);
    if (!r) return v;
    if (r.node.values) {
      const values = r.node.values;
      const name = typeof v === 'number' ? Object.keys(values).find((k) => values[k] === v) : v;
      const zero = typeof name === 'string' && values[name] === 0;
      return keep || !zero ? (name ?? v) : undefined;
    }
    const full = r.path.join('.');
    if (full === 'google.protobuf.Timestamp') return isRecord(v) && this.mode === 'read' ? timestamp(v) : v;
    if (full === 'google.protobuf.Duration') return isRecord(v) && this.mode === 'read' ? duration(v) : v;
    if (WRAPPERS.has(full)) return isRecord(v) && this.mode === 'read' ? v['value'] : v;
    if (full.startsWith('google.protobuf.')) return v; // Any, Struct, Value, Empty: passed through
    return this.message(r, v);
  }
}

function typeOf(pkg: ProtoPackageName, typeName: string): { root: ProtoNode; r: Resolved } {
  const root = protoRoot(pkg);
  const r = resolve(root, `.${typeName}`, []);
  if (!r?.node.fields) throw new Error(`${pkg} has no message ${typeName}`);
  return { root, r };
}

/**
 * A message as a gax client returned it, in its REST JSON shape: fields left at their zero value dropped
 * (unless presence-tracked), enums as names, int64 as strings, Timestamps/Durations/wrappers as REST spells
 * them. E.g. protoRestJson('@google-cloud/container', 'google.container.v1.Cluster', cluster).
 */
export function protoRestJson(pkg: ProtoPackageName, typeName: string, decoded: unknown): Json {
  const { root, r } = typeOf(pkg, typeName);
  return new Walker(root, 'read').message(r, decoded) ?? {};
}

/**
 * Stored JSON data of a message rendered as the REST API sends it: int64 fields as decimal strings (CAI data
 * may hold them as numbers), everything else as it is.
 */
export function renderProtoJson(pkg: ProtoPackageName, typeName: string, data: unknown): Json {
  const { root, r } = typeOf(pkg, typeName);
  return new Walker(root, 'render').message(r, data) ?? {};
}
