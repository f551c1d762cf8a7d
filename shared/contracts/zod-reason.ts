import type { z } from 'zod';

const MAX_ISSUES = 3;

/**
 * One line naming where an input broke its contract (`asset.assetType: not a CAI asset type`), for logs and
 * dead-letter records; long issue lists are cut so that one bad record cannot flood a log line.
 */
export function zodReason(error: z.ZodError, prefix = ''): string {
  const parts = error.issues.slice(0, MAX_ISSUES).map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
    return path === '' ? issue.message : `${path}: ${issue.message}`;
  });
  const more = error.issues.length - MAX_ISSUES;
  return more > 0 ? `${parts.join('; ')}; and ${more} more` : parts.join('; ');
}

/** JSON.parse as a value: malformed text is an expected input, not a failure of ours. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}
