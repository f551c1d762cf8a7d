/**
 * RFC 3339 timestamps from GCP carry 0 to 9 fraction digits and sometimes an offset, so they do not compare
 * as strings. This turns one into UTC with exactly nine fraction digits, which does.
 */
export function comparableTime(ts: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i.exec(ts.trim());
  if (!m) {
    const d = new Date(ts);
    if (Number.isNaN(d.getTime())) throw new Error(`not an RFC 3339 timestamp: ${ts}`);
    return `${d.toISOString().slice(0, 19)}.${String(d.getUTCMilliseconds()).padStart(3, '0')}000000Z`;
  }
  const [, base, frac = '', zone] = m;
  const utc = new Date(`${base}${zone!.toUpperCase()}`).toISOString().slice(0, 19);
  return `${utc}.${frac.padEnd(9, '0')}Z`;
}

export function isValidTime(ts: string): boolean {
  try {
    comparableTime(ts);
    return true;
  } catch {
    return false;
  }
}

/** Of comparableTime() outputs only: those compare as strings. */
export function maxTime(...times: Array<string | undefined | null>): string | null {
  let best: string | null = null;
  for (const t of times) if (t && (best === null || t > best)) best = t;
  return best;
}
