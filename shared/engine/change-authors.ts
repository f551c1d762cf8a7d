import type { ChangeAuthorEvent } from '../contracts/audit-log.js';
import { compareRfc3339, rfc3339Nanos } from '../contracts/rfc3339.js';
import type { DocumentStore } from '../ports/document-store.js';
import { stableId } from '../ports/ids.js';

export const CHANGE_AUTHORS = 'change-authors';
/** The newest changes kept per resource: enough to name who triggered a pending fix. */
const KEEP = 20;

export interface ChangeAuthor {
  principal: string;
  at: string;
  method: string;
  insertId: string;
}

function docId(resourceName: string): string {
  return stableId('change-authors', resourceName);
}

function authorsIn(doc: Record<string, unknown> | null): ChangeAuthor[] {
  const list = doc?.['authors'];
  return Array.isArray(list) ? (list as ChangeAuthor[]) : [];
}

/**
 * Records who changed each named resource. A redelivered entry (same insertId) changes nothing; entries
 * arriving out of order are kept newest first, and only the newest KEEP survive.
 */
export async function recordChangeAuthor(
  store: DocumentStore,
  event: ChangeAuthorEvent & { at: string },
): Promise<'recorded' | 'duplicate'> {
  let recorded = false;
  for (const name of event.resourceNames) {
    const added = await store.transaction(async (tx) => {
      const current = authorsIn(await tx.get(CHANGE_AUTHORS, docId(name)));
      if (current.some((a) => a.insertId === event.insertId)) return false;
      const entry: ChangeAuthor = {
        principal: event.principal,
        at: event.at,
        method: event.method,
        insertId: event.insertId,
      };
      const authors = [...current, entry].sort((a, b) => compareRfc3339(b.at, a.at)).slice(0, KEEP);
      tx.set(CHANGE_AUTHORS, docId(name), { resourceName: name, authors });
      return true;
    });
    recorded ||= added;
  }
  return recorded ? 'recorded' : 'duplicate';
}

/** The distinct principals who changed any of these resources at or after `since`, newest first. */
export async function changeAuthorsSince(
  store: DocumentStore,
  resourceNames: readonly string[],
  since: string,
): Promise<string[]> {
  const from = rfc3339Nanos(since) ?? 0n;
  const found: ChangeAuthor[] = [];
  for (const name of new Set(resourceNames))
    for (const a of authorsIn(await store.get(CHANGE_AUTHORS, docId(name))))
      if ((rfc3339Nanos(a.at) ?? -1n) >= from) found.push(a);
  found.sort((a, b) => compareRfc3339(b.at, a.at));
  return [...new Set(found.map((a) => a.principal))];
}

/**
 * The spellings an audit log may use for a CAI name: CAI names projects by number where logs often use the
 * project id (resource manager, service usage), so the id-spelled variant is looked up too.
 */
export function authorLookupNames(resourceName: string, projectId: string | null): string[] {
  const names = [resourceName];
  if (projectId) {
    const m = /^(\/\/[^/]+\/projects\/)(\d+)(\/.*)?$/.exec(resourceName);
    if (m) names.push(`${m[1]}${projectId}${m[3] ?? ''}`);
  }
  return names;
}
