import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  loadInventory,
  readInventory,
  type InventoryItem,
} from '../../../shared/contracts/inventory-reader.js';

function bucket(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: `//storage.googleapis.com/bucket-${n}`,
    asset_type: 'storage.googleapis.com/Bucket',
    ancestors: ['projects/3', 'organizations/1'],
    resource: { version: 'v1', discovery_name: 'Bucket', data: { name: `bucket-${n}` } },
    update_time: '2024-03-01T00:00:00Z',
    ...extra,
  };
}

function bucketIam(n: number): Record<string, unknown> {
  return {
    name: `//storage.googleapis.com/bucket-${n}`,
    asset_type: 'storage.googleapis.com/Bucket',
    ancestors: ['projects/3', 'organizations/1'],
    iam_policy: { bindings: [{ role: 'roles/storage.objectViewer', members: ['allUsers'] }] },
    update_time: '2024-03-01T01:00:00Z',
  };
}

const ndjson = (records: unknown[]): string => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

async function collect(paths: string[]): Promise<InventoryItem[]> {
  const items: InventoryItem[] = [];
  for await (const item of readInventory(paths)) items.push(item);
  return items;
}

function summary(items: InventoryItem[], root: string): string[] {
  return items.map((i) => {
    const where = `${i.source.file.slice(root.length + 1)}:${i.source.line}`;
    return i.kind === 'asset'
      ? `${where} ${i.asset.name.slice('//storage.googleapis.com/'.length)}`
      : `${where} ERROR`;
  });
}

describe('readInventory', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'warden-inventory-'));
    await mkdir(join(root, 'dir', 'nested'), { recursive: true });
    // NDJSON with a blank line, a non-JSON line and a schema-invalid record in the middle.
    await writeFile(
      join(root, 'dir', 'a.ndjson'),
      [
        JSON.stringify(bucket(1)),
        '',
        '{"name": "//storage.googleapis.com/broken", "asset_ty',
        JSON.stringify(bucket(2, { asset_type: 'not-a-type' })),
        JSON.stringify(bucket(3)),
      ].join('\r\n') + '\r\n',
    );
    // A pretty-printed JSON array with a bad element in the middle, one directory down.
    await writeFile(
      join(root, 'dir', 'nested', 'b.json'),
      `[\n${[bucket(4), 'oops', bucket(5)].map((r) => JSON.stringify(r, null, 2)).join(',\n')}\n]\n`,
    );
    await writeFile(join(root, 'dir', 'nested', 'c.jsonl.gz'), gzipSync(ndjson([bucket(6), bucket(7)])));
    await writeFile(
      join(root, 'dir', 'nested', 'd.json.gz'),
      gzipSync(`\uFEFF  [${JSON.stringify(bucket(8))}]`),
    );
    await writeFile(join(root, 'dir', 'notes.txt'), 'not an inventory');
    await writeFile(join(root, 'dir', 'e.json'), '   \n');
    await writeFile(join(root, 'listing.txt'), ndjson([bucket(9)]));
    await writeFile(join(root, 'prose.json'), 'hello');
    await writeFile(
      join(root, 'truncated.ndjson.gz'),
      gzipSync(ndjson([bucket(10), bucket(11)])).subarray(0, 40),
    );
    await writeFile(join(root, 'parts.ndjson'), ndjson([bucket(12), bucketIam(12), bucketIam(13)]));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reads a directory recursively: NDJSON, JSON arrays, gzip, with bad records reported in place', async () => {
    const items = await collect([join(root, 'dir')]);
    expect(summary(items, root)).toEqual([
      'dir/a.ndjson:1 bucket-1',
      'dir/a.ndjson:3 ERROR',
      'dir/a.ndjson:4 ERROR',
      'dir/a.ndjson:5 bucket-3',
      'dir/nested/b.json:2 bucket-4',
      'dir/nested/b.json:18 ERROR',
      'dir/nested/b.json:19 bucket-5',
      'dir/nested/c.jsonl.gz:1 bucket-6',
      'dir/nested/c.jsonl.gz:2 bucket-7',
      'dir/nested/d.json.gz:1 bucket-8',
    ]);
    const errors = items.filter((i) => i.kind === 'error');
    expect(errors.map((e) => (e.kind === 'error' ? e.reason : ''))).toEqual([
      expect.stringMatching(/^not JSON/),
      'asset.assetType: not a CAI asset type',
      'asset: expected an object',
    ]);
  });

  it('reads a file named explicitly whatever its extension', async () => {
    expect(summary(await collect([join(root, 'listing.txt')]), root)).toEqual(['listing.txt:1 bucket-9']);
  });

  it('reports unreadable input as errors and goes on with the next path', async () => {
    const items = await collect([
      join(root, 'missing.ndjson'),
      join(root, 'prose.json'),
      join(root, 'truncated.ndjson.gz'),
      join(root, 'listing.txt'),
    ]);
    expect(summary(items, root)).toEqual([
      'missing.ndjson:0 ERROR',
      'prose.json:0 ERROR',
      'truncated.ndjson.gz:0 ERROR',
      'listing.txt:1 bucket-9',
    ]);
    const reasons = items.map((i) => (i.kind === 'error' ? i.reason : ''));
    expect(reasons[0]).toMatch(/ENOENT/);
    expect(reasons[1]).toBe("neither NDJSON nor a JSON array: starts with 'h'");
    expect(reasons[2]).toMatch(/unexpected end of file/);
  });
});

describe('loadInventory', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'warden-inventory-'));
    await writeFile(join(root, 'resources.ndjson'), ndjson([bucket(1), bucket(2)]));
    await writeFile(join(root, 'iam.json'), JSON.stringify([bucketIam(2), bucketIam(3), { name: 'x' }]));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('merges the RESOURCE and IAM_POLICY parts of each asset and collects the errors', async () => {
    const { assets, errors } = await loadInventory([root]);
    expect(assets.map((a) => [a.name, a.resource !== undefined, a.iamPolicy !== undefined])).toEqual([
      ['//storage.googleapis.com/bucket-2', true, true],
      ['//storage.googleapis.com/bucket-3', false, true],
      ['//storage.googleapis.com/bucket-1', true, false],
    ]);
    expect(assets[0]?.updateTime).toBe('2024-03-01T01:00:00Z');
    expect(errors).toEqual([
      { source: { file: join(root, 'iam.json'), line: 1 }, reason: expect.stringMatching(/^asset\./) },
    ]);
  });
});
