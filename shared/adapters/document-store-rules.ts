import type { Doc, Query, WhereOp } from '../ports/document-store.js';

/*
 * The rules every DocumentStore adapter enforces in the same way. Firestore is the strictest backend
 * (document-store port), so the SQLite adapter refuses what Firestore would refuse: a bug then shows up in
 * the embedded mode and in unit tests, not first in production.
 */

/** The Firestore client's own wording, so both adapters fail alike. */
export const READ_AFTER_WRITE = 'Firestore transactions require all reads to be executed before all writes.';
export const NESTED_TRANSACTION =
  'a transaction was started (or store.set called) inside a transaction of the same store: use the tx argument';
export const TRANSACTION_FINISHED = 'this transaction has already committed or rolled back';

/** Firestore's limit on the values of one 'in' filter. */
export const MAX_IN_VALUES = 30;

const RANGE_OPS: ReadonlySet<WhereOp> = new Set(['<', '<=', '>', '>=']);
const ALL_OPS: ReadonlySet<string> = new Set(['==', '<', '<=', '>', '>=', 'in']);

export type Scalar = string | number | boolean | null;

/** Collection names and document ids: Firestore's constraints (no '/', not '.' or '..', not __x__). */
export function checkName(kind: 'collection' | 'document id', name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw new Error(`${kind} must be a non-empty string`);
  if (name.includes('/')) throw new Error(`${kind} ${JSON.stringify(name)} must not contain '/'`);
  if (name === '.' || name === '..') throw new Error(`${kind} must not be '.' or '..'`);
  if (/^__.*__$/.test(name)) throw new Error(`${kind} ${JSON.stringify(name)} is reserved (matches __.*__)`);
  if (Buffer.byteLength(name, 'utf8') > 1500) throw new Error(`${kind} is longer than 1500 bytes`);
}

/** 'a.b.c' → ['a','b','c']: dots always separate nested map keys, in both adapters. */
export function fieldSegments(field: string): string[] {
  const segments = field.split('.');
  if (segments.some((s) => s.length === 0)) throw new Error(`invalid field path ${JSON.stringify(field)}`);
  return segments;
}

function checkScalar(field: string, value: unknown): asserts value is Scalar {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number' && Number.isFinite(value)) return;
  throw new Error(
    `where ${field}: only strings, finite numbers, booleans and null can be compared (got ${JSON.stringify(value)})`,
  );
}

/** Validates the filters and the paging of a query; throws on what either backend would refuse. */
export function checkQuery(query: Query): void {
  for (const [field, op, value] of query.where ?? []) {
    fieldSegments(field);
    if (!ALL_OPS.has(op)) throw new Error(`where ${field}: unknown operator ${String(op)}`);
    if (op === 'in') {
      if (!Array.isArray(value) || value.length === 0)
        throw new Error(`where ${field} in: needs a non-empty array`);
      if (value.length > MAX_IN_VALUES) throw new Error(`where ${field} in: at most ${MAX_IN_VALUES} values`);
      for (const v of value) {
        checkScalar(field, v);
        // Firestore's 'in' never matches null (the emulator silently ignores it): say so instead.
        if (v === null) throw new Error(`where ${field} in: null is not allowed, use '==' null`);
      }
    } else {
      checkScalar(field, value);
      if (value === null && op !== '==') {
        throw new Error(`where ${field} ${op} null: null can only be compared with '=='`);
      }
    }
  }
  if (query.orderBy) {
    fieldSegments(query.orderBy.field);
    const dir = query.orderBy.direction ?? 'asc';
    if (dir !== 'asc' && dir !== 'desc') throw new Error(`orderBy direction must be asc or desc`);
  }
  for (const key of ['limit', 'offset'] as const) {
    const n = query[key];
    if (n !== undefined && !(Number.isInteger(n) && n >= 0))
      throw new Error(`${key} must be a non-negative integer`);
  }
}

/**
 * Firestore orders a query by its explicit orderBy, then by every range-filtered field not already ordered
 * (in field-name order, in the direction of the last explicit order), then by document id. SQLite copies it
 * so that a query returns the same documents in the same order on both.
 */
export function effectiveOrder(query: Query): { fields: string[]; direction: 'asc' | 'desc' } {
  const fields: string[] = [];
  if (query.orderBy) fields.push(query.orderBy.field);
  const ranged = [
    ...new Set((query.where ?? []).filter(([, op]) => RANGE_OPS.has(op)).map(([f]) => f)),
  ].sort();
  for (const f of ranged) if (!fields.includes(f)) fields.push(f);
  return { fields, direction: query.orderBy?.direction ?? 'asc' };
}

/**
 * Documents are plain JSON in every adapter: undefined properties are dropped, Dates become strings, and
 * arrays directly inside arrays are refused because Firestore cannot store them.
 */
export function toPlainDoc(doc: Doc): Doc {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new Error('a document must be an object');
  const plain = JSON.parse(JSON.stringify(doc)) as Doc;
  rejectNestedArrays(plain, '');
  return plain;
}

function rejectNestedArrays(value: unknown, path: string): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      if (Array.isArray(item))
        throw new Error(`${path}[${i}]: arrays directly inside arrays cannot be stored`);
      rejectNestedArrays(item, `${path}[${i}]`);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) rejectNestedArrays(v, path ? `${path}.${k}` : k);
  }
}
