const RFC3339 = /^(\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Nanoseconds since the epoch. CAI times carry microseconds ("…30.123456Z") that Date drops, and RFC 3339
 * strings of different precision or offset do not sort as strings ("30.1Z" < "30Z"), so ordering by change
 * time must go through this.
 */
export function rfc3339Nanos(text: string): bigint | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, base = '', fraction = '', offset = 'Z'] = m;
  const ms = Date.parse(`${base}${offset.toUpperCase()}`);
  if (Number.isNaN(ms)) return undefined;
  const nanos = BigInt((fraction + '000000000').slice(0, 9));
  return BigInt(ms / 1000) * 1_000_000_000n + nanos;
}

/** Orders two change times; a missing or unparseable time sorts before any real one. */
export function compareRfc3339(a: string | undefined, b: string | undefined): number {
  // The same text is the same time (or the same unparseable one): parts of an export share their time.
  if (a === b) return 0;
  const x = a === undefined ? undefined : rfc3339Nanos(a);
  const y = b === undefined ? undefined : rfc3339Nanos(b);
  if (x === undefined || y === undefined) return x === y ? 0 : x === undefined ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Protobuf Timestamp JSON: 0, 3, 6 or 9 fractional digits, UTC. */
export function timestampToRfc3339(seconds: bigint, nanos: number): string {
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  if (nanos === 0) return `${base}Z`;
  const digits = String(nanos).padStart(9, '0');
  const trimmed = digits.endsWith('000000')
    ? digits.slice(0, 3)
    : digits.endsWith('000')
      ? digits.slice(0, 6)
      : digits;
  return `${base}.${trimmed}Z`;
}
