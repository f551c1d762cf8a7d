import { Environment } from '@marcbachmann/cel-js';

const INTERNET_RANGES = new Set(['0.0.0.0/0', '::/0']);

function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Firewall `allowed[]` entry covers tcp `port`: protocol tcp/all/"6", no ports means every port, ranges "a-b". */
export function allowsTcpPort(allowed: unknown, port: number): boolean {
  return asList(allowed).some((entry) => {
    if (!entry || typeof entry !== 'object') return false;
    const e = entry as Record<string, unknown>;
    // CAI gives IPProtocol; protobuf-derived exports may spell it ipProtocol or use the number 6 for tcp.
    const proto = String(e['IPProtocol'] ?? e['ipProtocol'] ?? '').toLowerCase();
    if (proto !== 'tcp' && proto !== 'all' && proto !== '6') return false;
    const ports = asList(e['ports']);
    if (proto === 'all' || ports.length === 0) return true;
    return ports.some((p) => {
      const [lo, hi] = String(p)
        .split('-')
        .map((x) => Number.parseInt(x, 10));
      if (lo === undefined || Number.isNaN(lo)) return false;
      return port >= lo && port <= (hi === undefined || Number.isNaN(hi) ? lo : hi);
    });
  });
}

const METADATA_TRUE: ReadonlySet<string> = new Set(['true', 't', '1', 'y', 'yes', 'on']);

/** GCE metadata booleans are strings compared case-insensitively; the guest agent parses them like Go strconv.ParseBool (1, t, true) and docs also show y/yes. */
export function metadataTrue(value: unknown): boolean {
  return METADATA_TRUE.has(
    String(value ?? '')
      .trim()
      .toLowerCase(),
  );
}

export function metadataValue(metadata: unknown, key: string): string | null {
  if (!metadata || typeof metadata !== 'object') return null;
  const items = asList((metadata as Record<string, unknown>)['items']);
  for (let n = 0; n < items.length; n++) {
    const i = items[n];
    if (i && typeof i === 'object' && (i as Record<string, unknown>)['key'] === key)
      return String((i as Record<string, unknown>)['value'] ?? '');
  }
  return null;
}

/** Protobuf Duration JSON ("7776000s", "1.5s"); -1 when absent or malformed, so comparisons fail safe. */
export function durationSeconds(d: unknown): number {
  const m = /^(-?\d+(?:\.\d+)?)s$/.exec(String(d ?? ''));
  return m ? Number(m[1]) : -1;
}

/** The last `now` parsed: a scan passes the same one to every condition. */
let lastNow: { text: string; ms: number } | undefined;

/** Days from an RFC 3339 time to `now`; -1 when the time is absent or malformed. */
export function daysSince(ts: unknown, now: string): number {
  const t = Date.parse(String(ts ?? ''));
  if (lastNow?.text !== now) lastNow = { text: now, ms: Date.parse(now) };
  const n = lastNow.ms;
  if (Number.isNaN(t) || Number.isNaN(n)) return -1;
  return (n - t) / 86_400_000;
}

function normalizeFilter(s: string): string {
  return s.replace(/'/g, '"').replace(/\s+/g, '').toLowerCase();
}

/**
 * Whether a Logging filter contains every term (e.g. resource.type="gce_route", compute.routes.insert),
 * compared without whitespace, quote style or case: CIS's filters written by hand differ in those, and an
 * exact string match (as Prowler does) misses correct metrics (catalog F19).
 */
export function logFilterCovers(filter: unknown, terms: unknown[]): boolean {
  if (typeof filter !== 'string' || filter.trim() === '') return false;
  const f = normalizeFilter(filter);
  return terms.every((t) => f.includes(normalizeFilter(String(t))));
}

/**
 * The one CEL environment every policy is compiled in. Helpers are registered for the GCP semantics that
 * plain CEL gets wrong (port ranges, ::/0, case-insensitive metadata), so that policies stay short.
 */
export function createPolicyEnvironment(): Environment {
  return new Environment({
    unlistedVariablesAreDyn: true,
    enableOptionalTypes: true,
    homogeneousAggregateLiterals: false,
  })
    .registerFunction('internetSource(dyn): bool', (ranges: unknown) =>
      asList(ranges).some((r) => INTERNET_RANGES.has(String(r).trim())),
    )
    .registerFunction('allowsTcpPort(dyn, int): bool', (allowed: unknown, port: bigint) =>
      allowsTcpPort(allowed, Number(port)),
    )
    .registerFunction('metadataTrue(dyn, string): bool', (metadata: unknown, key: string) =>
      metadataTrue(metadataValue(metadata, key)),
    )
    .registerFunction(
      'metadataValue(dyn, string): string',
      (metadata: unknown, key: string) => metadataValue(metadata, key) ?? '',
    )
    .registerFunction('lower(string): string', (s: string) => s.toLowerCase())
    .registerFunction('logFilterCovers(dyn, list): bool', (filter: unknown, terms: unknown[]) =>
      logFilterCovers(filter, terms),
    )
    .registerFunction('durationSeconds(dyn): double', (d: unknown) => durationSeconds(d))
    .registerFunction('daysSince(dyn, string): double', (ts: unknown, now: string) => daysSince(ts, now));
}
