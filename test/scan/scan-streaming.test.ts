import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadPolicies, type PolicySet } from '../../shared/policy/policy-set.js';
import { scanInventory } from '../../shared/scan/scan-inventory.js';
import { NOW, policyDir } from './fixture.js';

const ASSETS = 200_000;
/** Holding every asset would take ~180 MB; the scan keeps context on disk and findings are handed on. */
const MAX_HEAP_GROWTH = 24 * 1024 * 1024;

function collector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Buckets (every tenth public through a separate IAM line) and firewalls (every fifth open to SSH). */
const BUCKET = JSON.stringify({
  name: '//storage.googleapis.com/b-#',
  asset_type: 'storage.googleapis.com/Bucket',
  ancestors: ['projects/1', 'folders/2', 'organizations/1'],
  resource: {
    version: 'v1',
    data: { name: 'b-#', iamConfiguration: { uniformBucketLevelAccess: { enabled: true } } },
  },
}).split('#');
const BUCKET_IAM = JSON.stringify({
  name: '//storage.googleapis.com/b-#',
  asset_type: 'storage.googleapis.com/Bucket',
  ancestors: ['projects/1', 'folders/2', 'organizations/1'],
  iam_policy: { bindings: [{ role: 'roles/storage.objectViewer', members: ['allUsers'] }] },
}).split('#');
const FIREWALL = JSON.stringify({
  name: '//compute.googleapis.com/projects/p1/global/firewalls/fw-#',
  asset_type: 'compute.googleapis.com/Firewall',
  ancestors: ['projects/1', 'folders/2', 'organizations/1'],
  resource: {
    version: 'v1',
    data: {
      name: 'fw-#',
      direction: 'INGRESS',
      sourceRanges: ['0.0.0.0/0'],
      allowed: [{ IPProtocol: 'tcp', ports: ['$'] }],
    },
  },
}).split('#');

async function writeInventory(dir: string): Promise<void> {
  const res = createWriteStream(join(dir, 'resources.ndjson'));
  const iam = createWriteStream(join(dir, 'iam.ndjson'));
  let r = '';
  let i = '';
  for (let n = 0; n < ASSETS; n++) {
    if (n % 2 === 0) {
      r += BUCKET.join(String(n)) + '\n';
      if (n % 20 === 0) i += BUCKET_IAM.join(String(n)) + '\n';
    } else {
      r += FIREWALL.join(String(n)).replace('$', n % 10 === 1 ? '22' : '443') + '\n';
    }
    if (r.length > 1 << 20) {
      if (!res.write(r)) await once(res, 'drain');
      r = '';
    }
  }
  res.end(r);
  iam.end(i);
  await Promise.all([once(res, 'finish'), once(iam, 'finish')]);
}

describe('scan memory', () => {
  let dir: string;
  let policies: PolicySet;
  const cleanup: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-scan-stream-'));
    const p = await policyDir();
    cleanup.push(dir, p);
    policies = await loadPolicies(p);
    await writeInventory(dir);
  });

  afterAll(async () => {
    for (const d of cleanup) await rm(d, { recursive: true, force: true });
  });

  it(`keeps the heap flat scanning ${ASSETS.toLocaleString('en-US')} assets in two passes`, async () => {
    const gc = collector();
    gc();
    const baseline = process.memoryUsage().heapUsed;
    let peak = 0;
    let findings = 0;
    let samples = 0;
    const stats = await scanInventory(
      { paths: [dir], policies, now: NOW },
      {
        finding: () => void findings++,
        inputError: (e) => {
          throw new Error(`${e.file}:${e.line}: ${e.reason}`);
        },
        progress: () => {
          if (++samples % 2 !== 0) return;
          gc();
          peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
        },
      },
    );
    expect(stats.assets).toBe(ASSETS);
    // every tenth bucket public (joined from iam.ndjson), every fifth firewall open to SSH
    expect(findings).toBe(ASSETS / 20 + ASSETS / 10);
    expect(samples).toBeGreaterThan(10);
    expect(peak).toBeLessThan(MAX_HEAP_GROWTH);
  }, 180_000);
});
