/**
 * gax clients decode REST responses through protobufjs with `defaults: true, oneofs: true`: every unset
 * repeated field comes back as `[]` and every set proto3-optional field `x` brings a marker `_x: "x"`.
 * This strips both, giving the resource as the REST API itself returned it (REST omits empty lists), so
 * states read through a client compare with each other and with CAI's `resource.data`.
 */
export function restJson(message: unknown): Record<string, unknown> {
  const out = clean(message);
  return typeof out === 'object' && out !== null && !Array.isArray(out)
    ? (out as Record<string, unknown>)
    : {};
}

function clean(v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  if (Array.isArray(v)) return v.map(clean);
  if (typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (k.startsWith('_') && val === k.slice(1)) continue;
    if (Array.isArray(val) && val.length === 0) continue;
    const c = clean(val);
    if (c !== undefined) out[k] = c;
  }
  return out;
}
