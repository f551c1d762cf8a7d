import { stableId } from '../ports/ids.js';

/**
 * Opaque page tokens: where the next page starts in the underlying ordered scan, bound to the query and
 * caller they came from (a token replayed with other filters is refused, not silently misread).
 */
export function encodePageToken(offset: number, query: unknown): string {
  return Buffer.from(JSON.stringify({ o: offset, q: stableId('page', JSON.stringify(query)) })).toString(
    'base64url',
  );
}

export function decodePageToken(token: string, query: unknown): number | null {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: unknown; q?: unknown };
    if (typeof t.o !== 'number' || !Number.isInteger(t.o) || t.o < 0) return null;
    return t.q === stableId('page', JSON.stringify(query)) ? t.o : null;
  } catch {
    return null;
  }
}
