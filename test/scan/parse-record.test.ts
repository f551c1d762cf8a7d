import { describe, it, expect } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseExportRecord } from '../../shared/contracts/cai.js';
import { parseRecordText } from '../../shared/scan/parse-record.js';
import { IAM_POLICIES, PERIMETER, REPO, RESOURCES } from './fixture.js';

/**
 * A parse result with every object's keys in order, an undefined-valued key marked as such: the scan's
 * fast paths must build the very objects the contract builds (key order shows in JSON and in evidence).
 */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v !== null && typeof v === 'object')
    return Object.keys(v).map((k) => {
      const x = (v as Record<string, unknown>)[k];
      return x === undefined ? [k, 'undefined'] : [k, shape(x)];
    });
  return v;
}

/** The scan's fast path for RESOURCE-only records must yield exactly what the contract yields. */
describe('parseRecordText', () => {
  const records: unknown[] = [
    ...RESOURCES,
    ...IAM_POLICIES,
    PERIMETER,
    { name: '//storage.googleapis.com/b', assetType: 'storage.googleapis.com/Bucket', resource: {} },
    {
      name: '//storage.googleapis.com/b',
      asset_type: 'storage.googleapis.com/Bucket',
      resource: { data: {} },
      ancestry_path: 'organizations/1/projects/2',
    },
    { name: '//k8s.io/pods/p', asset_type: 'k8s.io/Pod', resource: { data: { a: 1 } } },
  ];

  it('agrees with parseExportRecord on valid records', () => {
    for (const r of records) expect(parseRecordText(JSON.stringify(r))).toEqual(parseExportRecord(r));
  });

  it('builds exactly the objects parseExportRecord builds, on the example export and 5,000 mutations of it', async () => {
    const dir = path.join(REPO, 'examples', 'landing-zone');
    const lines = [
      ...records.map((r) => JSON.stringify(r)),
      ...(await readFile(path.join(dir, 'resources.ndjson'), 'utf8')).split('\n'),
      ...(await readFile(path.join(dir, 'iam-policies.ndjson'), 'utf8')).split('\n'),
    ].filter((l) => l.trim() !== '');
    // Fields replaced or deleted at random: nulls, wrong types, the other casing's values, edge numbers.
    const replacements: unknown[] = [
      null,
      true,
      0,
      -0,
      1.5,
      2 ** 60,
      '',
      'x',
      'DATA_READ',
      2,
      [],
      ['a'],
      [1],
      {},
      { fields: {} },
      { seconds: 1, nanos: 0 },
      'not a time',
      '2026-01-01T00:00:00Z',
      '{"a":1}',
    ];
    let seed = 20260101;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 0x7fffffff;
    const mutate = (o: Record<string, unknown> | unknown[], depth: number): void => {
      const keys = Object.keys(o);
      if (keys.length === 0) return;
      const k = keys[Math.floor(random() * keys.length)]!;
      const child = (o as Record<string, unknown>)[k];
      if (child !== null && typeof child === 'object' && depth < 5 && random() < 0.6)
        return mutate(child as Record<string, unknown>, depth + 1);
      if (!Array.isArray(o) && random() < 0.3) delete o[k];
      else
        (o as Record<string, unknown>)[k] = structuredClone(
          replacements[Math.floor(random() * replacements.length)],
        );
    };
    const texts = [...lines];
    for (let i = 0; i < 5000; i++) {
      const o = JSON.parse(lines[Math.floor(random() * lines.length)]!) as Record<string, unknown>;
      for (let e = 1 + Math.floor(random() * 3); e > 0; e--) mutate(o, 0);
      texts.push(JSON.stringify(o));
    }
    const mismatches: string[] = [];
    let valid = 0;
    // Both may throw (a Timestamp out of Date's range does, in the contract): then with the same error.
    const outcome = (parse: () => unknown): string => {
      try {
        return JSON.stringify(shape(parse()));
      } catch (err) {
        return `threw ${String(err)}`;
      }
    };
    for (const text of texts) {
      const fast = outcome(() => parseRecordText(text));
      const contract = outcome(() => parseExportRecord(JSON.parse(text)));
      if (fast.startsWith('[["ok",true]')) valid++;
      if (fast !== contract) mismatches.push(text);
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(valid).toBeGreaterThan(500);
  });

  it('rejects what the contract rejects, with its reason', () => {
    const bad: unknown[] = [
      { name: '//x', asset_type: 'Bucket', resource: { data: {} } },
      { name: 'ab', asset_type: 'storage.googleapis.com/Bucket', resource: { data: {} } },
      {
        name: '//storage.googleapis.com/b',
        asset_type: 'storage.googleapis.com/Bucket',
        resource: { data: [] },
      },
      {
        name: '//storage.googleapis.com/b',
        asset_type: 'storage.googleapis.com/Bucket',
        resource: { version: 1 },
      },
      {
        name: '//storage.googleapis.com/b',
        asset_type: 'storage.googleapis.com/Bucket',
        resource: { data: {} },
        update_time: 'yesterday',
      },
      {
        name: '//storage.googleapis.com/b',
        asset_type: 'storage.googleapis.com/Bucket',
        resource: { data: {} },
        ancestors: [1],
      },
    ];
    for (const r of bad) {
      const fast = parseRecordText(JSON.stringify(r));
      expect(fast.ok).toBe(false);
      expect(fast).toEqual(parseExportRecord(r));
    }
    expect(parseRecordText('{oops')).toMatchObject({ ok: false, reason: expect.stringMatching(/not JSON/) });
  });
});
