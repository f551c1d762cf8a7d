import { createHash, randomUUID } from 'node:crypto';

/** Random ids (sweep ids, message ids, audit ids) are injected so tests can make them predictable. */
export interface IdSource {
  next(prefix?: string): string;
}
export const randomIds: IdSource = { next: (prefix = '') => `${prefix}${randomUUID()}` };

export class SequentialIds implements IdSource {
  private n = 0;
  next(prefix = 'id-'): string {
    this.n += 1;
    return `${prefix}${String(this.n).padStart(6, '0')}`;
  }
}

/** Deterministic identities (design §4): the same inputs always give the same id. */
export function stableId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}
