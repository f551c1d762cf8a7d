import { afterEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadInventory } from '../../shared/contracts/inventory-reader.js';
import type { Action } from '../../shared/model/action.js';
import type { Asset } from '../../shared/model/asset.js';
import { isTracked } from '../../shared/engine/asset-scope.js';
import { MemoryLogger } from '../../shared/ports/logger.js';
import { startEmbedded, type Embedded } from '../../shared/roots/embedded.js';
import { projectRoot } from '../../shared/util/project-root.js';

const ORG = 'organizations/123456789012';
const bucket = (n: string) => `//storage.googleapis.com/${n}`;
const firewall = (p: string, n: string) => `//compute.googleapis.com/projects/${p}/global/firewalls/${n}`;

let assetsCache: Asset[] | undefined;
async function landingZone(): Promise<Asset[]> {
  if (!assetsCache) {
    const { assets, errors } = await loadInventory([path.join(projectRoot(), 'examples', 'landing-zone')]);
    expect(errors).toEqual([]);
    assetsCache = assets;
  }
  return structuredClone(assetsCache);
}

const open: Array<{ engine: Embedded; dir: string }> = [];
async function start(
  busOptions?: Record<string, unknown>,
): Promise<{ engine: Embedded; dir: string; logger: MemoryLogger }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'warden-embedded-'));
  const logger = new MemoryLogger();
  const engine = await startEmbedded({
    stateDir: dir,
    assets: await landingZone(),
    scope: ORG,
    logger,
    ...(busOptions ? { busOptions } : {}),
  });
  open.push({ engine, dir });
  return { engine, dir, logger };
}

afterEach(async () => {
  for (const { engine, dir } of open.splice(0)) {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  }
});

function byResource(actions: Action[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const a of actions) (out[a.resourceName] ??= []).push(`${a.actionType}:${a.state}`);
  for (const k of Object.keys(out)) out[k]!.sort();
  return out;
}

function patches(engine: Embedded, pathPart: string): number {
  // Writes that took effect: a 412 (a precondition that caught a concurrent change) applied nothing.
  return engine.twin.requests.filter(
    (r) =>
      (r.method === 'PATCH' || r.method === 'PUT') &&
      r.path.includes(pathPart) &&
      r.status !== undefined &&
      r.status < 300,
  ).length;
}

describe('the embedded loop on the example landing zone', () => {
  it('detects the planted problems, fixes what automation allows, verifies, and leaves the rest to humans', async () => {
    const { engine, logger } = await start();
    const first = await engine.sweep();
    const inventory = await landingZone();
    expect(inventory.length).toBeGreaterThanOrEqual(60);
    // The sweep lists only the asset types some policy (or the hierarchy) needs.
    expect(first.assets).toBe(inventory.filter((a) => isTracked(engine.deps.policies, a.assetType)).length);
    const actions = byResource(await engine.deps.repo.listActions());

    expect(actions[bucket('acme-dev-web-test-uploads')]).toEqual([
      'storage.bucket.enable-uniform-access:awaiting_approval',
      'storage.bucket.enforce-public-access-prevention:verified',
      // With prevention enforced, the public members left in the IAM policy are a latent exposure.
      'storage.bucket.remove-public-members:verified',
    ]);
    // Production raises the risk of the prevention fix to medium; public exposure is still fixed at once.
    // Its latent public members (now blocked by prevention) are medium risk in production: a human decides.
    expect(actions[bucket('acme-prod-web-static-assets')]).toEqual([
      'storage.bucket.enforce-public-access-prevention:verified',
      'storage.bucket.remove-public-members:awaiting_approval',
    ]);
    // Uniform access in production is high risk: recommend only under the shipped automation.yaml.
    // Its legacy storage class is a low-risk change, medium in production: approval.
    expect(actions[bucket('acme-prod-data-legacy-exports')]).toEqual([
      'storage.bucket.change-storage-class:awaiting_approval',
      'storage.bucket.enable-uniform-access:recommended',
    ]);
    // SSH open and "any port open" ask for the same change: one fix, and the other policy's request (if it
    // was made before the fix landed) expires with its resolved finding.
    for (const fw of ['dev-vpc-allow-legacy-mgmt', 'dev-vpc-allow-all-debug']) {
      const states = actions[firewall('acme-dev-web', fw)] ?? [];
      expect(states.filter((x) => x === 'compute.firewall.restrict-internet-source:verified')).toHaveLength(
        1,
      );
      expect(states.filter((x) => !x.endsWith(':verified') && !x.endsWith(':expired'))).toEqual([]);
    }

    // Decoys never become findings.
    const findings = await engine.deps.repo.listFindings();
    const flagged = new Set(findings.map((f) => f.resourceName));
    // The press kit's allUsers grant is blocked by enforced prevention: not public, only a latent exposure.
    expect(
      findings.filter((f) => f.resourceName === bucket('acme-prod-web-press-kit')).map((f) => f.policyId),
    ).toEqual(['storage-bucket-public-iam-members']);
    expect(flagged.has(firewall('acme-dev-web', 'dev-vpc-allow-ssh-disabled'))).toBe(false);

    // The fixes came back through the twin's feed and resolved their findings.
    const publicFindings = findings.filter((f) => f.policyId === 'storage-bucket-public');
    expect(publicFindings.map((f) => f.status)).toEqual(publicFindings.map(() => 'resolved'));
    const second = await engine.sweep();
    expect(second.violations).toBeLessThan(first.violations);
    expect(await engine.deps.repo.verifyAudit()).toMatchObject({ ok: true });
    // A clean inventory leaves no dead letters: findings whose action this version lacks are recommend-only.
    expect(await engine.deps.repo.listDeadLetters()).toEqual([]);
    // Every audit record is mirrored once as a structured log line.
    const mirrored = logger.records
      .filter((r) => r.msg === 'audit record')
      .map((r) => (r['audit'] as { seq: number }).seq);
    expect(mirrored.sort((a, b) => a - b)).toEqual(
      (await engine.deps.repo.readAuditRecords()).map((r) => r['seq']),
    );
  });

  it('fixes a bucket made public while it runs, through the feed', async () => {
    const { engine } = await start();
    await engine.sweep();
    const storage = await engine.deps.cloud.storage();
    const b = storage.bucket('acme-dev-web-build-cache');
    const [policy] = await b.iam.getPolicy({ requestedPolicyVersion: 3 });
    policy.bindings.push({ role: 'roles/storage.objectViewer', members: ['allUsers'] });
    await b.iam.setPolicy(policy);
    await engine.deps.bus.drain();

    const actions = await engine.deps.repo.listActions({
      where: [['resourceName', '==', bucket('acme-dev-web-build-cache')]],
    });
    expect(actions.map((a) => `${a.actionType}:${a.state}`).sort()).toEqual([
      'storage.bucket.enforce-public-access-prevention:verified',
      'storage.bucket.remove-public-members:verified',
    ]);
    const [meta] = await b.getMetadata();
    expect(meta.iamConfiguration?.publicAccessPrevention).toBe('enforced');
    const finding = (
      await engine.deps.repo.listFindings({
        where: [['resourceName', '==', bucket('acme-dev-web-build-cache')]],
      })
    )[0];
    expect(finding?.status).toBe('resolved');
  });

  it('every message delivered three times and shuffled: the same outcome, no double execution', async () => {
    const { engine } = await start({ duplicate: 3, shuffle: { seed: 7 } });
    await engine.sweep();
    const actions = await engine.deps.repo.listActions();
    expect(byResource(actions)[bucket('acme-dev-web-test-uploads')]).toEqual([
      'storage.bucket.enable-uniform-access:awaiting_approval',
      'storage.bucket.enforce-public-access-prevention:verified',
      // With prevention enforced, the public members left in the IAM policy are a latent exposure.
      'storage.bucket.remove-public-members:verified',
    ]);
    // VM, disk and compute-project fixes are POST …/setMetadata|setLabels|setDeletionProtection|
    // setCommonInstanceMetadata calls on the resource: one per verified action on it.
    const computeSetCalls = /^compute\.(instance|disk|project)\./;
    const verified = actions.filter((x) => x.state === 'verified');
    // Other fixes are PATCH/PUT calls: one per verified action on the resource (a firewall rule can get
    // both compute.firewall.restrict-internet-source and compute.firewall.enable-logging).
    const patched = verified.filter((x) => !computeSetCalls.test(x.actionType));
    for (const name of new Set(patched.map((a) => a.resourceName))) {
      const id = name.split('/').pop()!;
      expect(patches(engine, id)).toBe(patched.filter((a) => a.resourceName === name).length);
    }
    const computeVerified = verified.filter((x) => computeSetCalls.test(x.actionType));
    for (const name of new Set(computeVerified.map((a) => a.resourceName))) {
      const rest = name.replace('//compute.googleapis.com/', '/compute/v1/');
      const sets = engine.twin.requests.filter(
        (r) =>
          r.method === 'POST' &&
          r.path.startsWith(`${rest}/set`) &&
          !r.path.slice(rest.length + 1).includes('/'),
      ).length;
      expect(sets).toBe(computeVerified.filter((a) => a.resourceName === name).length);
    }
    expect(await engine.deps.repo.verifyAudit()).toMatchObject({ ok: true });
  });

  it('an old feed message delivered after the fix changes nothing', async () => {
    const { engine } = await start();
    await engine.sweep();
    const name = bucket('acme-dev-web-test-uploads');
    const before = (await engine.deps.repo.listActions()).length;
    const stale = {
      asset: {
        name,
        assetType: 'storage.googleapis.com/Bucket',
        ancestors: ['projects/558120439716', 'folders/1', ORG],
        iamPolicy: { bindings: [{ role: 'roles/storage.objectViewer', members: ['allUsers'] }] },
        updateTime: '2020-01-01T00:00:00Z',
      },
      priorAssetState: 'PRESENT',
      window: { startTime: '2020-01-01T00:00:00Z' },
    };
    await engine.deps.bus.publish('asset-changes', { data: stale });
    await engine.deps.bus.drain();
    expect((await engine.deps.repo.listActions()).length).toBe(before);
    const f = (
      await engine.deps.repo.listFindings({
        where: [
          ['resourceName', '==', name],
          ['policyId', '==', 'storage-bucket-public'],
        ],
      })
    )[0];
    expect(f?.status).toBe('resolved');
  });

  it('bad input is acknowledged, logged with the reason and kept as a dead letter', async () => {
    const { engine, logger } = await start();
    await engine.deps.bus.publish('asset-changes', {
      data: 'You have successfully configured real time feed x',
    });
    await engine.deps.bus.publish('asset-changes', { data: 'not json {' });
    await engine.deps.bus.publish('asset-changes', { data: { asset: { name: 42 } } });
    await engine.deps.bus.publish('asset-changes', {
      data: {
        asset: {
          name: '//example.googleapis.com/x',
          assetType: 'example.googleapis.com/Thing',
          resource: { data: {} },
          updateTime: '2026-01-01T00:00:00Z',
        },
        window: { startTime: '2026-01-01T00:00:00Z' },
      },
    });
    await engine.deps.bus.publish('findings', { data: { kind: 'finding' } });
    await engine.deps.bus.publish('actions', { data: { kind: 'action', actionId: 'no-such-action' } });
    await engine.deps.bus.drain();
    const dead = await engine.deps.repo.listDeadLetters();
    expect(dead.map((d) => d.topic).sort()).toEqual([
      'actions',
      'asset-changes',
      'asset-changes',
      'asset-changes',
      'findings',
    ]);
    expect(dead.map((d) => d.reason).join('\n')).toMatch(
      /no policy handles asset type example.googleapis.com\/Thing/,
    );
    expect(logger.records.filter((r) => r.msg === 'message rejected')).toHaveLength(5);
  });

  it('an edited audit row in the state folder breaks the chain', async () => {
    const { engine, dir } = await start();
    await engine.sweep();
    expect(await engine.deps.repo.verifyAudit()).toMatchObject({ ok: true });
    await engine.close();
    open.splice(0);
    const db = new Database(path.join(dir, 'warden.db'));
    const row = db
      .prepare("SELECT id, data FROM documents WHERE collection = 'audit' ORDER BY id LIMIT 1 OFFSET 3")
      .get() as { id: string; data: string };
    const edited = JSON.parse(row.data) as Record<string, unknown>;
    edited['reason'] = 'nothing to see here';
    db.prepare("UPDATE documents SET data = ? WHERE collection = 'audit' AND id = ?").run(
      JSON.stringify(edited),
      row.id,
    );
    db.close();
    const again = await startEmbedded({ stateDir: dir, assets: [], scope: ORG, logger: new MemoryLogger() });
    expect(await again.deps.repo.verifyAudit()).toMatchObject({ ok: false, brokenAt: 4 });
    await again.close();
    await rm(dir, { recursive: true, force: true });
  });
});
