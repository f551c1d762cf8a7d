import { describe, expect, it } from '@jest/globals';
import { assetFromDoc, mergeChange, type AssetDoc } from '../../../shared/engine/asset-state.js';
import type { Asset, AssetChange } from '../../../shared/model/asset.js';

const base: Asset = {
  name: '//storage.googleapis.com/b',
  assetType: 'storage.googleapis.com/Bucket',
  ancestors: ['projects/1'],
};
const resource = (t: string, v: string): AssetChange => ({
  kind: 'upsert',
  contentType: 'RESOURCE',
  changeTime: t,
  asset: { ...base, resource: { data: { v } } },
});
const iam = (t: string, member: string): AssetChange => ({
  kind: 'upsert',
  contentType: 'IAM_POLICY',
  changeTime: t,
  asset: { ...base, iamPolicy: { bindings: [{ role: 'r', members: [member] }] } },
});

function apply(doc: AssetDoc | null, c: AssetChange): AssetDoc | null {
  const r = mergeChange(doc, c);
  return r.status === 'applied' ? r.doc : doc;
}

describe('asset state merging', () => {
  it('keeps RESOURCE and IAM_POLICY parts that arrive separately', () => {
    const doc = apply(
      apply(null, resource('2024-03-01T10:00:00Z', 'a')),
      iam('2024-03-01T10:00:01Z', 'allUsers'),
    )!;
    const asset = assetFromDoc(doc);
    expect(asset.resource?.data).toEqual({ v: 'a' });
    expect(asset.iamPolicy?.bindings[0]?.members).toEqual(['allUsers']);
  });

  it('ignores an older part delivered after a newer one, and a duplicate', () => {
    const doc = apply(null, resource('2024-03-01T10:00:05.5Z', 'new'))!;
    expect(mergeChange(doc, resource('2024-03-01T10:00:05.123456Z', 'old')).status).toBe('stale');
    expect(mergeChange(doc, resource('2024-03-01T10:00:05.500Z', 'new')).status).toBe('duplicate');
  });

  it('compares timestamps of different precision and offsets as times', () => {
    const doc = apply(null, resource('2024-03-01T12:00:00+02:00', 'a'))!; // 10:00Z
    expect(mergeChange(doc, resource('2024-03-01T10:30:00Z', 'b')).status).toBe('applied');
  });

  it('a delete wins over older parts and loses to newer ones', () => {
    const doc = apply(null, resource('2024-03-01T10:00:00Z', 'a'))!;
    const del: AssetChange = {
      kind: 'delete',
      name: base.name,
      assetType: base.assetType,
      ancestors: [],
      changeTime: '2024-03-01T11:00:00Z',
    };
    const deleted = apply(doc, del)!;
    expect(deleted.deletedTime).not.toBeNull();
    expect(mergeChange(deleted, resource('2024-03-01T10:30:00Z', 'late')).status).toBe('stale');
    expect(mergeChange(deleted, del).status).toBe('duplicate');
    expect(mergeChange(apply(null, resource('2024-03-01T12:00:00Z', 'x')), del).status).toBe('stale');
    const recreated = apply(deleted, resource('2024-03-01T12:00:00Z', 'again'))!;
    expect(recreated.deletedTime).toBeNull();
    expect(assetFromDoc(recreated).resource?.data).toEqual({ v: 'again' });
    expect(assetFromDoc(recreated).iamPolicy).toBeUndefined();
  });
});
