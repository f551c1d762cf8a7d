import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadPolicies, type PolicySet } from '../../shared/policy/policy-set.js';
import type { ScanFinding } from '../../shared/scan/scan-finding.js';
import { scanInventory, type InputError } from '../../shared/scan/scan-inventory.js';
import { inventoryDir, ndjson, NOW, policyDir, RESOURCES } from './fixture.js';

async function scan(paths: string[], policies: PolicySet) {
  const findings: ScanFinding[] = [];
  const errors: InputError[] = [];
  const stats = await scanInventory(
    { paths, policies, now: NOW },
    { finding: (f) => void findings.push(f), inputError: (e) => void errors.push(e) },
  );
  const key = (f: ScanFinding) => `${f.policyId} ${f.resourceName.split('/').pop()} ${f.status}`;
  return { findings, errors, stats, keys: findings.map(key).sort() };
}

describe('scan: the two-pass join', () => {
  let policies: PolicySet;
  let dirs: string[] = [];

  beforeAll(async () => {
    const dir = await policyDir();
    dirs.push(dir);
    policies = await loadPolicies(dir);
    expect(policies.errors).toEqual([]);
  });

  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
    dirs = [];
  });

  it('joins IAM parts from another file, reads ancestors, scopes team rules, exempts, and finds IAM-only assets', async () => {
    const inv = await inventoryDir({ perimeter: true });
    dirs.push(inv);
    const { keys, errors, stats, findings } = await scan([inv], policies);
    expect(errors).toEqual([]);
    expect(keys).toEqual(
      [
        // allUsers arrives in iam-policies.json, the bucket's settings in resources.ndjson.gz
        'storage-bucket-public public-b open',
        // no RESOURCE part at all: evaluated on its IAM policy alone
        'storage-bucket-public iam-only-b open',
        'storage-bucket-uniform-access-disabled legacy-b suppressed', // exceptions.yaml
        'storage-bucket-uniform-access-disabled exempt-b suppressed', // warden-exempt=all label
        // the exception covering it expired on 2026-01-31
        'firewall-ssh-rdp-open-to-internet fw-ssh open',
        // projects/10 inherits the organization's audit config; projects/20's organization is unknown
        'audit-logs-not-configured 20 open',
        // the perimeter holds projects/10 only
        'bucket-outside-perimeter team-b open',
        // the team rule applies under projects/20 only
        'web-bucket-owner-label team-b open',
      ].sort(),
    );
    expect(stats.perimetersKnown).toBe(true);
    expect(stats.open).toEqual({ low: 2, medium: 1, high: 0, critical: 3 });
    expect(stats.suppressed).toBe(2);
    const pub = findings.find((f) => f.resourceName === '//storage.googleapis.com/public-b')!;
    expect(pub).toMatchObject({
      assetType: 'storage.googleapis.com/Bucket',
      project: 'projects/10',
      severity: 'critical',
      layer: 'data',
      remediation: { action: 'storage.bucket.enforce-public-access-prevention', risk: 'low' },
      evidence: { 'iamPolicy.bindings': [{ role: 'roles/storage.objectViewer', members: ['allUsers'] }] },
      status: 'open',
      suppressedReason: null,
    });
    expect(pub.source).toMatch(/resources\.ndjson\.gz:\d+$/);
    const legacy = findings.find((f) => f.resourceName.endsWith('/legacy-b'))!;
    expect(legacy.suppressedReason).toMatch(/legacy exports.*data-team@example\.com.*2026-09-30/);
  });

  it('says nothing about perimeters when none is in the inventory', async () => {
    const inv = await inventoryDir({ perimeter: false });
    dirs.push(inv);
    const { keys, stats } = await scan([inv], policies);
    expect(stats.perimetersKnown).toBe(false);
    expect(keys.filter((k) => k.startsWith('bucket-outside-perimeter'))).toEqual([]);
  });

  it('without the IAM file, the public bucket is not found and the organization audit config is unknown', async () => {
    const inv = await inventoryDir({ perimeter: false });
    dirs.push(inv);
    const { keys } = await scan([path.join(inv, 'resources.ndjson.gz')], policies);
    expect(keys).not.toContain('storage-bucket-public public-b open');
    expect(keys).toContain('audit-logs-not-configured 10 open');
  });

  it('reports a bad record with its file and line once, and scans the rest', async () => {
    const inv = await inventoryDir({ perimeter: false });
    dirs.push(inv);
    const bad = path.join(inv, 'more.ndjson');
    await writeFile(
      bad,
      ndjson([RESOURCES[4]]).replace(/\n$/, '') +
        '\n{not json\n' +
        JSON.stringify({ name: '//x/y', asset_type: 'not a type', resource: { data: {} } }) +
        '\n' +
        JSON.stringify({
          name: '//x/z',
          asset_type: 'storage.googleapis.com/Bucket',
          iam_policy: { bindings: 'no' },
        }) +
        '\n',
    );
    const { errors, keys } = await scan([inv], policies);
    expect(errors.map((e) => `${path.basename(e.file)}:${e.line}`)).toEqual([
      'more.ndjson:4',
      'more.ndjson:2',
      'more.ndjson:3',
    ]);
    expect(errors[1]!.reason).toMatch(/not JSON/);
    expect(errors[2]!.reason).toMatch(/assetType/);
    expect(keys).toContain('storage-bucket-public public-b open');
  });

  it('reports a missing file and a file in neither format, and reads the others', async () => {
    const inv = await inventoryDir({ perimeter: false });
    dirs.push(inv);
    await writeFile(path.join(inv, 'notes.json'), 'hello');
    const { errors, keys } = await scan([inv, path.join(inv, 'missing.ndjson')], policies);
    expect(errors.map((e) => `${path.basename(e.file)}:${e.line}`)).toEqual([
      'notes.json:0',
      'missing.ndjson:0',
    ]);
    expect(keys).toContain('storage-bucket-public public-b open');
  });

  it('reads a file named twice (itself and through its folder) once', async () => {
    const inv = await inventoryDir({ perimeter: false });
    dirs.push(inv);
    const once = await scan([inv], policies);
    const twice = await scan([inv, path.join(inv, 'iam-policies.json')], policies);
    expect(twice.keys).toEqual(once.keys);
  });
});
