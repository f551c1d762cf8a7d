import { afterEach, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import {
  baseAutomation,
  bucketAsset,
  createWorld,
  detectQuietly,
  findingMessage,
  firewallAsset,
  project,
  projectAsset,
  type World,
} from '../../bench/lifecycle-failures.js';
import type { protos } from '@google-cloud/compute';
import { handleFinding } from '../../functions/assess-risk/handler.js';
import { waitForGlobalOperation } from '../../shared/actions/compute-operation.js';
import { DEFAULT_ACTION_SETTINGS, type RemediationAction } from '../../shared/actions/types.js';
import { createInProcessBus } from '../../shared/adapters/bus-inprocess.js';
import { openSqliteDocumentStore } from '../../shared/adapters/document-store-sqlite.js';
import type { Deps } from '../../shared/engine/deps.js';
import { RATE_COUNTERS } from '../../shared/engine/rate-limits.js';
import { openRunCaps, RUN_CAPS } from '../../shared/engine/run-cap.js';
import type { Asset } from '../../shared/model/asset.js';
import type { DocumentStore } from '../../shared/ports/document-store.js';
import { randomIds } from '../../shared/ports/ids.js';
import { buildDeps } from '../../shared/roots/build-deps.js';

const worlds: World[] = [];
const stores: DocumentStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const w of worlds.splice(0)) await w.close();
});

async function world(assets: Asset[], guardrails: Record<string, unknown> = {}): Promise<World> {
  const automation = baseAutomation();
  automation['guardrails'] = guardrails;
  const w = await createWorld({ assets, automation });
  worlds.push(w);
  return w;
}

/** A decider on its own store connection (a second process), with nobody listening to what it publishes. */
function decider(w: World, store: DocumentStore = w.store): Deps {
  return buildDeps({
    store,
    bus: createInProcessBus({ logger: w.logger }),
    cloud: w.cloud,
    clock: w.clock,
    ids: randomIds,
    logger: w.logger,
    config: w.config,
  });
}

/** Someone opens a firewall rule to the internet (firewalls.patch, then its global operation). */
async function openToTheInternet(w: World, projectId: string, firewall: string): Promise<void> {
  const client = await w.cloud.firewalls();
  const [lro] = await client.patch({
    project: projectId,
    firewall,
    firewallResource: { sourceRanges: ['0.0.0.0/0'] },
  });
  const ctx = { cloud: w.cloud, clock: w.clock, logger: w.logger, settings: DEFAULT_ACTION_SETTINGS };
  await waitForGlobalOperation(
    ctx,
    projectId,
    (lro as unknown as { latestResponse: protos.google.cloud.compute.v1.IOperation }).latestResponse,
  );
}

const factorsOf = (a: { decision: { factors: Array<{ factor: string }> } }) =>
  a.decision.factors.map((f) => f.factor).join('\n');

describe('rate limits', () => {
  it('hold exactly under concurrent decisions from two processes; approvals count; windows roll over', async () => {
    const p = project(1);
    const assets = [projectAsset(p), ...Array.from({ length: 60 }, (_, i) => bucketAsset(p, `rl-${i}`))];
    const w = await world(assets, { rate_limits: { per_project: { max: 7, window_minutes: 60 } } });
    const a = decider(w);
    const second = openSqliteDocumentStore(path.join(w.dir, 'warden.db'));
    stores.push(second);
    const b = decider(w, second);
    const { changes } = await detectQuietly(a, assets);
    expect(changes).toHaveLength(60);
    // Every finding decided by both processes at once, as a duplicated delivery to two instances would.
    await Promise.all(
      changes.flatMap((c) => [handleFinding(findingMessage(c), a), handleFinding(findingMessage(c), b)]),
    );

    const actions = await a.repo.listActions();
    expect(actions).toHaveLength(60);
    expect(actions.filter((x) => x.state === 'planned')).toHaveLength(7);
    const held = actions.filter((x) => x.state === 'awaiting_approval');
    expect(held).toHaveLength(53);
    for (const x of held)
      expect(factorsOf(x)).toMatch(/rate limit for project projects\/1001 reached \(7 of 7 per 60 min\)/);
    const counters = await w.store.query(RATE_COUNTERS, {});
    expect(counters.map((c) => c.doc['count'])).toEqual([7]);

    // A human's approval is not refused by the limit, but it counts against it.
    const approved = await a.repo.fire(held[0]!.id, 'approve', {
      audit: { actor: 'user:alice', reason: 'looks right' },
    });
    expect(approved).toMatchObject({ ok: true, action: { state: 'approved' } });
    expect((await w.store.query(RATE_COUNTERS, {})).map((c) => c.doc['count'])).toEqual([8]);

    const late = [bucketAsset(p, 'rl-late-1')];
    const one = await detectQuietly(a, late);
    await handleFinding(findingMessage(one.changes[0]!), a);
    expect((await a.repo.listActions({ where: [['resourceName', '==', late[0]!.name]] }))[0]?.state).toBe(
      'awaiting_approval',
    );
    // The next window has room again.
    w.clock.advance(60 * 60_000);
    const next = await detectQuietly(a, [bucketAsset(p, 'rl-late-2')]);
    await handleFinding(findingMessage(next.changes[0]!), a);
    expect(
      (await a.repo.listActions({ where: [['resourceName', '==', '//storage.googleapis.com/rl-late-2']] }))[0]
        ?.state,
    ).toBe('planned');
  }, 120_000);

  it('duplicated, shuffled delivery under limits and a cap: a duplicate never takes a second slot', async () => {
    const ps = [project(1), project(2)];
    const assets = [
      ...ps.map((p) => projectAsset(p)),
      ...Array.from({ length: 20 }, (_, i) => bucketAsset(ps[i % 2]!, `dup-${i}`)),
    ];
    const w = await world(assets, {
      rate_limits: { per_project: { max: 3, window_minutes: 60 } },
      per_run_cap: { max_resources: 4 },
    });
    const proc = await w.start({ busOptions: { duplicate: 3, shuffle: { seed: 11 } } });
    const report = await proc.sweep();
    const actions = await proc.deps.repo.listActions();
    expect(actions).toHaveLength(20);
    expect(actions.filter((x) => x.state === 'verified')).toHaveLength(4);
    expect(actions.filter((x) => x.state === 'awaiting_approval')).toHaveLength(16);
    const caps = await w.store.query(RUN_CAPS, {});
    expect(caps.map((c) => [c.doc['sweepId'], c.doc['flagged'], c.doc['allowed'], c.doc['used']])).toEqual([
      [report!.sweepId, 20, 4, 4],
    ]);
    const counted = (await w.store.query(RATE_COUNTERS, {})).reduce((n, c) => n + Number(c.doc['count']), 0);
    expect(counted).toBe(4);
  }, 120_000);

  it('a redelivered sweep keeps what its cap already handed out', async () => {
    const p = project(3);
    const assets = [projectAsset(p), ...Array.from({ length: 5 }, (_, i) => bucketAsset(p, `cap-${i}`))];
    const w = await world(assets, { per_run_cap: { max_resources: 2 } });
    const d = decider(w);
    const { changes, flagged } = await detectQuietly(d, assets);
    const openCaps = () =>
      openRunCaps(
        w.store,
        w.config.automation.guardrails.per_run_cap,
        'sweep-1',
        flagged,
        w.clock.now().toISOString(),
      );
    await openCaps();
    for (const c of changes) await handleFinding(findingMessage(c, { sweepId: 'sweep-1' }), d);
    // The same run delivered again: the caps are not reopened, the findings give the same actions.
    await openCaps();
    for (const c of changes) await handleFinding(findingMessage(c, { sweepId: 'sweep-1' }), d);
    const more = await detectQuietly(d, [bucketAsset(p, 'cap-late')]);
    await handleFinding(findingMessage(more.changes[0]!, { sweepId: 'sweep-1' }), d);
    const actions = await d.repo.listActions();
    expect(actions).toHaveLength(6);
    expect(actions.filter((x) => x.state === 'planned')).toHaveLength(2);
    expect((await w.store.query(RUN_CAPS, {}))[0]?.doc).toMatchObject({ allowed: 2, used: 2, flagged: 5 });
    // A finding announced outside any sweep run (the feed) is not under a run's cap.
    const feed = await detectQuietly(d, [bucketAsset(p, 'cap-feed')]);
    await handleFinding(findingMessage(feed.changes[0]!), d);
    expect(
      (await d.repo.listActions({ where: [['resourceName', '==', '//storage.googleapis.com/cap-feed']] }))[0]
        ?.state,
    ).toBe('planned');
  }, 120_000);
});

describe('the circuit breaker, end to end', () => {
  it('opens on failures and alerts, holds planned fixes, lets one probe through after the cool-down, closes on its success', async () => {
    const p = project(4);
    const open = (n: number) => firewallAsset(p, `cb-${n}`, { open: true, logged: true });
    const closed = (n: number) => firewallAsset(p, `cb-${n}`, { open: false, logged: true });
    const w = await world(
      [projectAsset(p), open(0), open(1), open(2), open(3), closed(4), closed(5), closed(6)],
      {
        circuit_breaker: { window_outcomes: 10, min_outcomes: 2, failure_rate: 0.5, cooldown_minutes: 30 },
      },
    );
    // Every fix fails for good; and the first read of cb-0 fails once, transiently, so that action is
    // released before its first step and comes back after the breaker opened.
    w.twin.setFaults([
      { match: { method: 'GET', pathPattern: '/global/firewalls/cb-0' }, errorStatus: 503, times: 1 },
      { match: { method: 'PATCH', pathPattern: '/global/firewalls/' }, failOperation: true },
    ]);
    const proc = await w.start({ busOptions: { maxConcurrent: 1 } });
    await proc.sweep();
    const repo = proc.deps.repo;
    const states = async () =>
      Object.fromEntries((await repo.listActions()).map((a) => [a.resourceName.split('/').pop(), a.state]));
    expect(Object.values(await states()).sort()).toEqual([
      'awaiting_approval',
      'awaiting_approval',
      'failed',
      'failed',
    ]);
    expect((await repo.getBreaker('compute.firewall.restrict-internet-source')).state).toBe('open');
    const cb0 = (await repo.listActions()).find((a) => a.resourceName.endsWith('/cb-0'))!;
    expect(cb0).toMatchObject({ state: 'awaiting_approval', step: 'none', attempts: 1 });
    // The alert: logged at ERROR by the executor, and raised again by the report from the outcomes topic.
    expect(
      w.logger.records.filter((r) => r.msg === 'circuit breaker opened' && r.level === 'error'),
    ).toHaveLength(1);
    expect(w.logger.records.filter((r) => r.msg === 'ALERT circuit breaker open')).toHaveLength(1);

    // After the cool-down, with the cloud healthy again, two rules were opened while the engine was down;
    // the next sweep announces both at once: one fix is the probe, the other waits for it; the probe's
    // success closes the breaker.
    await proc.stop();
    w.twin.setFaults([]);
    w.clock.advance(31 * 60_000);
    for (const n of [4, 5]) await openToTheInternet(w, p.id, `cb-${n}`);
    const next = await w.start({ busOptions: { maxConcurrent: 1 } });
    await next.sweep();
    const after = (await repo.listActions()).filter((a) => /\/cb-[45]$/.test(a.resourceName));
    const probe = after.find((a) => a.state === 'verified')!;
    const waiting = after.find((a) => a.state === 'awaiting_approval')!;
    expect(factorsOf(probe)).toMatch(/half-open after its cool-down/);
    expect(factorsOf(waiting)).toContain(`half-open, waiting for probe ${probe.id}`);
    expect((await repo.getBreaker('compute.firewall.restrict-internet-source')).state).toBe('closed');

    // Closed again: the next fix runs on its own, as soon as the change is seen.
    await openToTheInternet(w, p.id, 'cb-6');
    await next.drain();
    expect((await repo.listActions()).find((a) => a.resourceName.endsWith('/cb-6'))).toMatchObject({
      state: 'verified',
      decision: { kind: 'auto' },
    });
    const breakerRecords = (await repo.readAuditRecords())
      .filter((r) => String(r['kind']).startsWith('breaker.'))
      .map((r) => r['kind']);
    expect(breakerRecords).toEqual(['breaker.open', 'breaker.half_open', 'breaker.closed']);
    expect(await repo.verifyAudit()).toMatchObject({ ok: true });
  }, 120_000);
});

describe('change freezes and blast radius in the real pipeline', () => {
  it('during a freeze nothing is fixed automatically and every decision names the freeze; after it, fixes run', async () => {
    const p = project(5);
    const w = await world(
      [projectAsset(p), bucketAsset(p, 'fz-0'), bucketAsset(p, 'fz-1'), bucketAsset(p, 'fz-2', false)],
      {
        freeze: [{ start: '2026-11-01T00:00:00Z', end: '2026-11-03T00:00:00Z', reason: 'migration freeze' }],
      },
    );
    const proc = await w.start();
    await proc.sweep();
    const frozen = await proc.deps.repo.listActions();
    expect(frozen.map((a) => a.state)).toEqual(['awaiting_approval', 'awaiting_approval']);
    for (const a of frozen)
      expect(factorsOf(a)).toMatch(/change freeze \(migration freeze; 2026-11-01T00:00:00Z/);
    expect(w.twin.requests.filter((r) => r.method === 'PATCH')).toEqual([]);

    // After the freeze, a bucket made public is fixed at once.
    w.clock.set('2026-11-03T00:00:01Z');
    const storage = await w.cloud.storage();
    const [policy] = await storage.bucket('fz-2').iam.getPolicy();
    policy.bindings.push({ role: 'roles/storage.objectViewer', members: ['allUsers'] });
    await storage.bucket('fz-2').iam.setPolicy(policy);
    await proc.drain();
    const fixed = await proc.deps.repo.listActions({
      where: [['resourceName', '==', '//storage.googleapis.com/fz-2']],
    });
    expect(fixed.map((a) => a.state)).toEqual(['verified']);
    expect(factorsOf(fixed[0]!)).not.toMatch(/freeze/);
  }, 120_000);

  it('an irreversible fix is never made automatically above low risk, and its plan says so', async () => {
    const p = project(9);
    const bucket = bucketAsset(p, 'irr-0');
    const w = await world([projectAsset(p), bucket]);
    const d = decider(w);
    const actions = d.actions as Map<string, RemediationAction>;
    const real = actions.get('storage.bucket.enforce-public-access-prevention')!;
    actions.set(real.id, { ...real, reversible: false });
    const { changes } = await detectQuietly(d, [projectAsset(p), bucket]);
    await handleFinding(findingMessage(changes[0]!), d);
    const [action] = await d.repo.listActions();
    expect(action).toMatchObject({
      state: 'awaiting_approval',
      reversible: false,
      decision: { risk: 'medium' },
    });
    expect(action?.plan.description).toMatch(/Irreversible: this change cannot be rolled back/);
    expect(action?.decision.factors.map((f) => f.factor)).toEqual([
      'base risk of storage.bucket.enforce-public-access-prevention',
      'the change cannot be undone',
      'automation.security.auto_fix_public_resources',
      'irreversible actions are never auto-executed above low risk',
    ]);
  }, 120_000);

  it('a firewall rule reaching more instances than raise_above has its risk raised, and says how many', async () => {
    const p = project(6);
    const network = `https://www.googleapis.com/compute/v1/projects/${p.id}/global/networks/default`;
    const instances: Asset[] = Array.from({ length: 12 }, (_, i) => ({
      name: `//compute.googleapis.com/projects/${p.id}/zones/us-central1-a/instances/vm-${i}`,
      assetType: 'compute.googleapis.com/Instance',
      ancestors: [`projects/${p.number}`, 'folders/7', 'organizations/1'],
      resource: { data: { name: `vm-${i}`, networkInterfaces: [{ network }], tags: { items: ['ssh'] } } },
      updateTime: '2026-11-01T00:00:00Z',
    }));
    const fw = firewallAsset(p, 'wide', { open: true, logged: true });
    const w = await world([projectAsset(p), fw, ...instances]);
    const d = decider(w);
    const { changes } = await detectQuietly(d, [projectAsset(p), ...instances, fw]);
    await handleFinding(findingMessage(changes.find((c) => c.finding.resourceName === fw.name)!), d);
    const [action] = await d.repo.listActions();
    expect(action?.decision).toMatchObject({ risk: 'high', kind: 'recommend' });
    expect(action?.decision.factors).toContainEqual({
      factor: `blast radius: the rule applies to 12 instance(s) of projects/${p.id}/global/networks/default (more than 10)`,
      effect: 'raised to high',
    });
  }, 120_000);
});
