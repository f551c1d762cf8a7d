import { rfc3339Nanos } from '../contracts/rfc3339.js';

/**
 * RFC 3339 timestamps from GCP carry 0 to 9 fraction digits and sometimes an offset, so they do not compare
 * as strings. This turns one into UTC with exactly nine fraction digits, which does (and is readable in the
 * store, unlike the nanosecond count it is made from).
 */
export function comparableTime(ts: string): string {
  const nanos = rfc3339Nanos(ts.trim());
  if (nanos === undefined) throw new Error(`not an RFC 3339 timestamp: ${ts}`);
  const seconds = nanos / 1_000_000_000n;
  const fraction = String(nanos % 1_000_000_000n).padStart(9, '0');
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
}

/** Of comparableTime() outputs only: those compare as strings. */
export function maxTime(...times: Array<string | undefined | null>): string | null {
  let best: string | null = null;
  for (const t of times) if (t && (best === null || t > best)) best = t;
  return best;
}
