import { afterEach, describe, expect, it } from '@jest/globals';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RemediationAction } from '../../shared/actions/types.js';
import type { Action } from '../../shared/model/action.js';
import type { Asset } from '../../shared/model/asset.js';
import { MemoryLogger } from '../../shared/ports/logger.js';
import { startEmbedded, type Embedded } from '../../shared/roots/embedded.js';
import type { FaultRule } from '../../shared/twin/faults.js';
import { projectRoot } from '../../shared/util/project-root.js';

const ORG = 'organizations/1';
const ANCESTORS = ['projects/42', 'folders/7', ORG];
const BUCKET = '//storage.googleapis.com/dev-public';
const DEV_PUBLIC_LABELS = {
  env: 'dev',
  team: 'web',
  'cost-center': 'cc-1',
  'warden-exempt': 'storage-bucket-public-iam-members',
};
const FIREWALL = '//compute.googleapis.com/projects/dev-proj/global/firewalls/allow-ssh';

function inventory(): Asset[] {
  return [
    {
      name: '//cloudresourcemanager.googleapis.com/projects/42',
      assetType: 'cloudresourcemanager.googleapis.com/Project',
      ancestors: ANCESTORS,
      resource: {
        data: {
          projectNumber: '42',
          projectId: 'dev-proj',
          lifecycleState: 'ACTIVE',
          labels: { env: 'dev' },
        },
      },
      updateTime: '2026-11-01T00:00:00Z',
    },
    {
      name: BUCKET,
      assetType: 'storage.googleapis.com/Bucket',
      ancestors: ANCESTORS,
      resource: {
        data: {
          kind: 'storage#bucket',
          id: 'dev-public',
          name: 'dev-public',
          metageneration: '2',
          // Labelled, and exempt from the latent-members policy, so that the one fix under test is alone.
          labels: DEV_PUBLIC_LABELS,
          iamConfiguration: {
            uniformBucketLevelAccess: { enabled: true },
            bucketPolicyOnly: { enabled: true },
            publicAccessPrevention: 'inherited',
          },
        },
      },
      iamPolicy: {
        version: 1,
        etag: 'CAE=',
        bindings: [{ role: 'roles/storage.objectViewer', members: ['allUsers'] }],
      },
      updateTime: '2026-11-01T00:00:00Z',
    },
    {
      name: FIREWALL,
      assetType: 'compute.googleapis.com/Firewall',
      ancestors: ANCESTORS,
      resource: {
        data: {
          kind: 'compute#firewall',
          id: '123',
          name: 'allow-ssh',
          network: 'https://www.googleapis.com/compute/v1/projects/dev-proj/global/networks/default',
          direction: 'INGRESS',
          priority: 1000,
          disabled: false,
          sourceRanges: ['0.0.0.0/0'],
          allowed: [{ IPProtocol: 'tcp', ports: ['22'] }],
          // Logged, so that firewall-logging-disabled (compute.firewall.enable-logging, low risk, auto)
          // does not patch this rule too and take the faults meant for the source-range fix.
          logConfig: { enable: true, metadata: 'INCLUDE_ALL_METADATA' },
          selfLink: 'https://www.googleapis.com/compute/v1/projects/dev-proj/global/firewalls/allow-ssh',
        },
      },
      updateTime: '2026-11-01T00:00:00Z',
    },
  ];
}

const open: Array<{ engine: Embedded; dir: string }> = [];
async function start(
  faults: FaultRule[] = [],
  assets: Asset[] = inventory(),
  policiesDir?: string,
): Promise<Embedded> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'warden-faults-'));
  const engine = await startEmbedded({
    stateDir: dir,
    assets,
    scope: ORG,
    logger: new MemoryLogger(),
    ...(policiesDir ? { policiesDir } : {}),
  });
  engine.twin.setFaults(faults);
  open.push({ engine, dir });
  return engine;
}

const scratch: string[] = [];
afterEach(async () => {
  for (const { engine, dir } of open.splice(0)) {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  }
  for (const dir of scratch.splice(0)) await rm(dir, { recursive: true, force: true });
});

/**
 * The first action on the resource for the SSH/RDP or public-bucket policy. A fix that failed reopens its
 * finding, and the next action (waiting for a human) is created after it: store order alone would not say
 * which is which.
 */
async function actionOn(engine: Embedded, resource: string): Promise<Action> {
  const actions = await engine.deps.repo.listActions({
    where: [
      ['resourceName', '==', resource],
      ['policyId', 'in', ['firewall-ssh-rdp-open-to-internet', 'storage-bucket-public']],
    ],
  });
  const [a] = actions.sort((x, y) => x.createdAt.localeCompare(y.createdAt));
  if (!a) throw new Error(`no action on ${resource}`);
  return a;
}

function swapAction(
  engine: Embedded,
  id: string,
  wrap: (real: RemediationAction) => RemediationAction,
): void {
  const actions = engine.deps.actions as Map<string, RemediationAction>;
  actions.set(id, wrap(actions.get(id)!));
}

describe('execute under faults', () => {
  it('a transient 503 on the firewall patch is retried by redelivery and ends verified, applied once', async () => {
    const engine = await start([
      { match: { method: 'PATCH', pathPattern: '/global/firewalls/' }, errorStatus: 503, times: 1 },
    ]);
    await engine.sweep();
    const a = await actionOn(engine, FIREWALL);
    expect(a.state).toBe('verified');
    expect(a.attempts).toBe(2);
    const patches = engine.twin.requests.filter(
      (r) => r.method === 'PATCH' && r.path.includes('/global/firewalls/'),
    );
    expect(patches).toHaveLength(2); // the first answered 503 and changed nothing
    expect(engine.twin.getAsset(FIREWALL)?.resource?.data['sourceRanges']).toEqual(['35.235.240.0/20']);
  });

  it('an operation that ends in error fails the action for good', async () => {
    const engine = await start([
      { match: { method: 'PATCH', pathPattern: '/global/firewalls/' }, failOperation: true },
    ]);
    await engine.sweep();
    const a = await actionOn(engine, FIREWALL);
    expect(a.state).toBe('failed');
    expect(a.error).toMatchObject({ retryable: false });
    expect(engine.twin.getAsset(FIREWALL)?.resource?.data['sourceRanges']).toEqual(['0.0.0.0/0']);
    const finding = (await engine.deps.repo.listFindings({ where: [['resourceName', '==', FIREWALL]] }))[0];
    expect(finding?.status).toBe('open');
  });

  it('a concurrent change between read and write fails the precondition; a fresh read and plan applies the fix on top of it, keeping it', async () => {
    const engine = await start([
      {
        match: { method: 'PATCH', pathPattern: '/storage/v1/b/dev-public' },
        concurrentModification: true,
        times: 1,
      },
    ]);
    await engine.sweep();
    const a = await actionOn(engine, BUCKET);
    expect(a).toMatchObject({ state: 'verified', replans: 1 });
    const patches = engine.twin.requests.filter(
      (r) => r.method === 'PATCH' && r.path === '/storage/v1/b/dev-public',
    );
    expect(patches.map((r) => r.status)).toEqual([412, 200]);
    const data = engine.twin.getAsset(BUCKET)?.resource?.data as Record<string, Record<string, unknown>>;
    expect(data['iamConfiguration']?.['publicAccessPrevention']).toBe('enforced');
    // The other writer's change survives, and is in the before-state an undo would restore.
    expect(data['labels']?.['changed-by']).toMatch(/^someone-else-/);
    expect((a.beforeState as { data: { labels: Record<string, string> } }).data.labels['changed-by']).toMatch(
      /^someone-else-/,
    );
    const replanned = (await engine.deps.repo.readAuditRecords()).filter(
      (r) => r['subject'] === a.id && String(r['reason']).includes('re-read and re-planned'),
    );
    expect(replanned).toHaveLength(1);
    expect(String(replanned[0]!['reason'])).toMatch(/412 conditionNotMet/);
  });

  it('a resource that keeps changing is re-read and re-planned once, then the action stops without overwriting anything', async () => {
    const engine = await start([
      { match: { method: 'PATCH', pathPattern: '/storage/v1/b/dev-public' }, concurrentModification: true },
    ]);
    await engine.sweep();
    const a = await actionOn(engine, BUCKET);
    expect(a).toMatchObject({ state: 'failed', replans: 1, error: { retryable: false } });
    expect(a.error?.message).toMatch(/not applied: .*again after a fresh read and plan/);
    const patches = engine.twin.requests.filter(
      (r) => r.method === 'PATCH' && r.path === '/storage/v1/b/dev-public',
    );
    expect(patches.map((r) => r.status)).toEqual([412, 412]);
    const iam = engine.twin.getAsset(BUCKET)?.resource?.data['iamConfiguration'] as Record<string, unknown>;
    expect(iam['publicAccessPrevention']).not.toBe('enforced');
    // The finding stays open, and the next attempt waits for a human instead of looping.
    const states = (await engine.deps.repo.listActions({ where: [['resourceName', '==', BUCKET]] }))
      .filter((x) => x.policyId === 'storage-bucket-public')
      .map((x) => x.state)
      .sort();
    expect(states).toEqual(['awaiting_approval', 'failed']);
  });

  /** The bucket fix held for approval by a change freeze, approved, then executed with one 412 on the way. */
  async function approvedThroughA412(
    action: (real: RemediationAction) => RemediationAction,
  ): Promise<Embedded> {
    const policiesDir = await mkdtemp(path.join(os.tmpdir(), 'warden-faults-policies-'));
    scratch.push(policiesDir);
    await cp(path.join(projectRoot(), 'policies'), policiesDir, { recursive: true });
    const automation = path.join(policiesDir, 'automation.yaml');
    const yaml = await readFile(automation, 'utf8');
    expect(yaml).toContain('  freeze: []');
    await writeFile(
      automation,
      yaml.replace(
        '  freeze: []',
        '  freeze: [{ start: "2000-01-01T00:00:00Z", end: "2999-01-01T00:00:00Z", reason: "test" }]',
      ),
    );
    const engine = await start(
      [
        {
          match: { method: 'PATCH', pathPattern: '/storage/v1/b/dev-public' },
          concurrentModification: true,
          times: 1,
        },
      ],
      inventory(),
      policiesDir,
    );
    swapAction(engine, 'storage.bucket.enforce-public-access-prevention', action);
    await engine.sweep();
    const held = await actionOn(engine, BUCKET);
    expect(held).toMatchObject({ state: 'awaiting_approval', decision: { kind: 'approve' } });
    await engine.deps.repo.fire(held.id, 'approve', { audit: { actor: 'user:alice', reason: 'ok' } });
    await engine.deps.bus.publish('actions', { data: { kind: 'action', actionId: held.id } });
    await engine.deps.bus.drain();
    return engine;
  }

  it('after a precondition failure, an approved action whose fresh plan says something else stops for a new decision', async () => {
    let plans = 0;
    const engine = await approvedThroughA412((real) => ({
      ...real,
      plan: (asset, settings) => {
        plans += 1;
        const p = real.plan(asset, settings);
        // The first plan is the one approved; the re-plan from the fresh read tells of a different change.
        return plans > 1 ? { ...p, description: `${p.description} (and something else)` } : p;
      },
    }));
    const a = await actionOn(engine, BUCKET);
    expect(a).toMatchObject({ state: 'failed', replans: 0 });
    expect(a.error?.message).toMatch(
      /412 conditionNotMet.*no longer the one approved \(now: .*and something else\)/,
    );
    const iam = engine.twin.getAsset(BUCKET)?.resource?.data['iamConfiguration'] as Record<string, unknown>;
    expect(iam['publicAccessPrevention']).not.toBe('enforced');
  });

  it('after a precondition failure, an approved action whose fresh plan is the one approved goes ahead, irreversible ones too', async () => {
    // Irreversible: the approved plan carries the "cannot be rolled back" sentence, and so must the re-plan.
    const engine = await approvedThroughA412((real) => ({ ...real, reversible: false }));
    const a = await actionOn(engine, BUCKET);
    expect(a.plan.description).toMatch(/Irreversible/);
    expect(a).toMatchObject({ state: 'verified', replans: 1 });
    const iam = engine.twin.getAsset(BUCKET)?.resource?.data['iamConfiguration'] as Record<string, unknown>;
    expect(iam['publicAccessPrevention']).toBe('enforced');
  });

  it('a fix that does not hold on re-read is rolled back to the exact before-state', async () => {
    const engine = await start();
    const before = structuredClone(engine.twin.getAsset(BUCKET)?.resource?.data['iamConfiguration']);
    // The re-read still shows the bucket public, as if something undid the fix at once.
    swapAction(engine, 'storage.bucket.enforce-public-access-prevention', (real) => ({
      ...real,
      readLive: async (asset, ctx) => {
        const live = await real.readLive(asset, ctx);
        const data = structuredClone(live!.resource!.data);
        (data['iamConfiguration'] as Record<string, unknown>)['publicAccessPrevention'] = 'inherited';
        return { ...live!, resource: { ...live!.resource, data } };
      },
    }));
    await engine.sweep();
    const states = (await engine.deps.repo.listActions({ where: [['resourceName', '==', BUCKET]] }))
      .map((x) => x.state)
      .sort();
    // The rollback reopened the finding; the next attempt waits for a human instead of looping.
    expect(states).toEqual(['awaiting_approval', 'rolled_back']);
    expect(engine.twin.getAsset(BUCKET)?.resource?.data['iamConfiguration']).toEqual(before);
  });

  it('rollback refuses, and says so, when someone changed the resource after the fix', async () => {
    const engine = await start();
    swapAction(engine, 'storage.bucket.enforce-public-access-prevention', (real) => ({
      ...real,
      readLive: async (asset, ctx) => {
        // A human changes the bucket right after our fix; the re-read then fails the policy.
        const storage = await ctx.cloud.storage();
        await storage
          .bucket('dev-public')
          .setMetadata({ iamConfiguration: { publicAccessPrevention: 'inherited' } });
        return real.readLive(asset, ctx);
      },
    }));
    await engine.sweep();
    const actions = await engine.deps.repo.listActions({ where: [['resourceName', '==', BUCKET]] });
    const failed = actions.filter((x) => x.state === 'failed');
    expect(failed.length).toBeGreaterThanOrEqual(1);
    for (const f of failed) expect(f.error?.message).toMatch(/rollback refused/);
    // Each human change reopens the finding; once a fix has failed, the next one waits for a human: no loop.
    expect(actions.length).toBeLessThanOrEqual(3);
    expect(actions.filter((x) => x.state === 'awaiting_approval')).toHaveLength(1);
    expect(actions.every((x) => x.state === 'failed' || x.state === 'awaiting_approval')).toBe(true);
  });

  it('an exempted resource is recorded as suppressed, with the reason, and never touched', async () => {
    const assets = inventory();
    const b = assets.find((a) => a.name === BUCKET)!;
    (b.resource!.data as Record<string, unknown>)['labels'] = {
      ...DEV_PUBLIC_LABELS,
      'warden-exempt': 'storage-bucket-public',
    };
    const engine = await start([], assets);
    await engine.sweep();
    const [finding] = await engine.deps.repo.listFindings({
      where: [
        ['resourceName', '==', BUCKET],
        ['policyId', '==', 'storage-bucket-public'],
      ],
    });
    expect(finding).toMatchObject({
      status: 'suppressed',
      suppressedReason: 'label: label warden-exempt=storage-bucket-public',
    });
    expect(await engine.deps.repo.listActions({ where: [['resourceName', '==', BUCKET]] })).toEqual([]);
    expect(
      engine.twin.requests.filter((r) => r.path.startsWith('/storage/v1/b/dev-public') && r.method !== 'GET'),
    ).toEqual([]);
  });
});
