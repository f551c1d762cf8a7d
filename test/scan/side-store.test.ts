import { describe, expect, it } from '@jest/globals';
import { SideStore } from '../../shared/scan/side-store.js';

/*
 * The side store keeps parts in memory up to a budget, then in SQLite: a scan must not be able to tell
 * which. The same parts go into stores whose budgets make them move at every point (or never), and every
 * answer must be the same.
 */

const BUCKET = 'storage.googleapis.com/Bucket';
const PROJECT = 'cloudresourcemanager.googleapis.com/Project';
const TYPES = [BUCKET, PROJECT];

type Part = [name: string, type: string, json: string, file: string, line: number];

/** Parts of a few names, several per name and of two types, added in an order that is not the names'. */
function partsOf(names: readonly string[]): Part[] {
  const out: Part[] = [];
  for (let round = 0; round < 3; round++)
    names.forEach((name, i) => {
      if ((i + round) % 3 === 0) return;
      out.push([
        name,
        TYPES[(i + round) % 2]!,
        JSON.stringify({ name, round }),
        `f${round}.ndjson`,
        i * 10 + round,
      ]);
    });
  return out;
}

const NAMES = [
  '//storage.googleapis.com/b-2',
  '//storage.googleapis.com/b-10',
  '//storage.googleapis.com/B-1',
  '//storage.googleapis.com/bé',
  '//storage.googleapis.com/b\uff5e',
  '//storage.googleapis.com/b\u0000x',
  '//cloudresourcemanager.googleapis.com/projects/1',
];
const PROJECTS = ['projects/9', 'projects/10', 'projects/1', 'projects/é', 'projects/10'];

function filled(parts: readonly Part[], budget?: number): SideStore {
  const store = new SideStore(undefined, budget);
  for (const [name, type, json, file, line] of parts) store.addPart(name, type, json, file, line);
  for (const p of PROJECTS) store.addPerimeterProject(p);
  store.commit();
  return store;
}

/** Everything a scan asks the store, in the order it asks. */
function answers(parts: readonly Part[], budget?: number): Record<string, unknown> {
  const store = filled(parts, budget);
  try {
    const out: Record<string, unknown> = { count: store.partCount, perimeter: store.perimeterProjects() };
    out['resolved'] = [NAMES[0]!, '//storage.googleapis.com/none', NAMES[6]!].map((n) => store.resolve(n));
    out['parts'] = NAMES.map((n) => store.parts(n));
    const unresolved = [...store.unresolved(new Set(TYPES))];
    out['unresolved'] = unresolved;
    out['unresolvedParts'] = unresolved.map((n) => store.parts(n));
    out['unresolvedBuckets'] = [...store.unresolved(new Set([BUCKET]))];
    return out;
  } finally {
    store.close();
  }
}

describe('scan side store', () => {
  it('answers the same from memory as from SQLite, wherever the parts move there', () => {
    const parts = partsOf(NAMES);
    const inMemory = answers(parts);
    const total = parts.reduce((n, [name, , json]) => n + name.length + json.length, 0);
    for (const budget of [0, 50, 200, Math.floor(total / 2), total - 1])
      expect(answers(parts, budget)).toEqual(inMemory);
    expect(inMemory['count']).toBe(parts.length);
    // By code point, as SQLite orders text; the two resolved names are left out.
    expect(inMemory['unresolved']).toEqual(
      [
        '//cloudresourcemanager.googleapis.com/projects/1',
        '//storage.googleapis.com/B-1',
        '//storage.googleapis.com/b\u0000x',
        '//storage.googleapis.com/b-10',
        '//storage.googleapis.com/bé',
        '//storage.googleapis.com/b\uff5e',
      ].filter((n) => n !== NAMES[6]),
    );
    expect(inMemory['perimeter']).toEqual(['projects/1', 'projects/10', 'projects/9', 'projects/é']);
  });

  it('keeps names with surrogates in SQLite, which orders and stores them its own way', () => {
    // UTF-16 puts the surrogates of 🙂 (U+1F642) before U+FF5E; SQLite orders by code point.
    const pair = answers(partsOf(['//storage.googleapis.com/b\uff5e', '//storage.googleapis.com/b🙂']));
    expect(pair['unresolved']).toEqual(['//storage.googleapis.com/b\uff5e', '//storage.googleapis.com/b🙂']);
    // SQLite stores text as UTF-8, which has no lone surrogate: the name it gives back differs, as it did
    // before the store kept parts in memory.
    const lone = answers(partsOf(['//storage.googleapis.com/a', '//storage.googleapis.com/\ud800']));
    expect(lone['unresolved']).toHaveLength(2);
    expect(lone['unresolved']).not.toContain('//storage.googleapis.com/\ud800');
  });
});
