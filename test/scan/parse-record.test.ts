import { describe, it, expect } from '@jest/globals';
import { parseExportRecord } from '../../shared/contracts/cai.js';
import { parseRecordText } from '../../shared/scan/parse-record.js';
import { IAM_POLICIES, PERIMETER, RESOURCES } from './fixture.js';

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
