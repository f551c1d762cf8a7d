/*
 * Cheap text tests on a raw record that decide whether a pass must parse it at all. They may say yes
 * wrongly (a key name inside resource.data), which only costs a parse; they never say no to a record that
 * holds what they look for, because these are the only spellings the contracts accept for these keys.
 */

/** Hierarchy assets: ancestry lookups need all their parts, RESOURCE included. */
export const HIERARCHY_TYPES: ReadonlySet<string> = new Set([
  'cloudresourcemanager.googleapis.com/Organization',
  'cloudresourcemanager.googleapis.com/Folder',
  'cloudresourcemanager.googleapis.com/Project',
]);

/**
 * One regular expression instead of a dozen substring searches (this runs on every record, twice): the
 * keys of non-RESOURCE content in both spellings, and the hierarchy types as whole JSON strings (every
 * asset's resource.parent names //cloudresourcemanager.googleapis.com/projects/N, which must not match).
 * Every alternative sits between the quotes of one JSON string, so the engine only tries the positions of
 * a quote: a third faster than letting the hierarchy types start anywhere.
 */
const PASS1_ALTERNATIVES =
  'iam_policy|iamPolicy|org_policy|orgPolicy|access_policy|accessPolicy|access_level|accessLevel|' +
  'service_perimeter|servicePerimeter|cloudresourcemanager\\.googleapis\\.com\\/(?:Organization|Folder|Project)';
const PASS1_TEXT = new RegExp(`"(?:${PASS1_ALTERNATIVES})"`);

export const PERIMETER_TYPE = 'accesscontextmanager.googleapis.com/ServicePerimeter';

/** Pass 1 parses a record only if it may carry a non-RESOURCE part or be a hierarchy asset. */
export function mayNeedPass1(text: string): boolean {
  return PASS1_TEXT.test(text);
}

/** Pass 2 needs a record that carries a RESOURCE part, or one pass 1 did not parse (to report it if bad). */
export function mayNeedPass2(text: string, parsedInPass1: boolean): boolean {
  return !parsedInPass1 || text.includes('"resource"');
}

/** What pass 1 must look at: a record mayNeedPass1 accepts, or one holding any of `quoted` (a superset test). */
export function pass1Filter(quoted: readonly string[]): RegExp {
  const escaped = quoted.map((q) => {
    if (q.length < 2 || !q.startsWith('"') || !q.endsWith('"')) throw new Error(`not a quoted string: ${q}`);
    return q.slice(1, -1).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  });
  return new RegExp(`"(?:${[PASS1_ALTERNATIVES, ...escaped].join('|')})"`);
}
