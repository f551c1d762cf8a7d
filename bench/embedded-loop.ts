// Benchmarks of the embedded loop on the example landing zone; prints figures, asserts nothing.
//   sweep: a full sweep (list, evaluate, record) of the example organization, cold and warm;
//   change → verified fix: a bucket made public through the twin until its fix is verified.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadInventory } from '../shared/contracts/inventory-reader.js';
import { MemoryLogger } from '../shared/ports/logger.js';
import { startEmbedded } from '../shared/roots/embedded.js';
import { projectRoot } from '../shared/util/project-root.js';

process.env['METADATA_SERVER_DETECTION'] ??= 'none';
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const median = s[Math.floor(s.length / 2)]!;
  return `median ${median.toFixed(0)} ms, min ${s[0]!.toFixed(0)} ms, max ${s.at(-1)!.toFixed(0)} ms (n=${s.length})`;
}

const { assets } = await loadInventory([path.join(projectRoot(), 'examples', 'landing-zone')]);
const org = 'organizations/123456789012';
const buckets = assets
  .filter((a) => a.assetType === 'storage.googleapis.com/Bucket')
  .map((a) => a.name.split('/').pop()!);

const cold: number[] = [];
const warm: number[] = [];
const fix: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'warden-bench-'));
  const engine = await startEmbedded({
    stateDir: dir,
    assets: structuredClone(assets),
    scope: org,
    logger: new MemoryLogger(),
  });
  let t = performance.now();
  await engine.sweep();
  cold.push(performance.now() - t);
  t = performance.now();
  await engine.sweep();
  warm.push(performance.now() - t);

  // Make one bucket that Warden left alone public, and time until its fix is verified.
  const storage = await engine.deps.cloud.storage();
  const target =
    buckets.find((b) => !b.startsWith('acme-prod') && !b.includes('test-uploads')) ?? buckets[0]!;
  const bucket = storage.bucket(target);
  const [policy] = await bucket.iam.getPolicy({ requestedPolicyVersion: 3 });
  policy.bindings.push({ role: 'roles/storage.objectViewer', members: ['allUsers'] });
  t = performance.now();
  await bucket.iam.setPolicy(policy);
  await engine.deps.bus.drain();
  const verified = await engine.deps.repo.listActions({
    where: [
      ['resourceName', '==', `//storage.googleapis.com/${target}`],
      ['state', '==', 'verified'],
    ],
  });
  if (verified.length !== 1) throw new Error(`expected the change to ${target} to be fixed`);
  fix.push(performance.now() - t);
  await engine.close();
  await rm(dir, { recursive: true, force: true });
}

console.log(`example landing zone: ${assets.length} assets`);
console.log(`sweep, cold (client loading and the fixes it triggers included): ${stats(cold)}`);
console.log(`sweep, warm (nothing left to fix): ${stats(warm)}`);
console.log(`twin change → detected → fixed → verified: ${stats(fix)}`);
