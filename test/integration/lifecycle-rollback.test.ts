import { afterEach, describe, expect, it } from '@jest/globals';
import type { protos } from '@google-cloud/compute';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  baseAutomation,
  bucketAsset,
  createWorld,
  firewallAsset,
  project,
  projectAsset,
  type Proc,
  SIBLING_FIREWALL_POLICY,
  type World,
} from '../../bench/lifecycle-failures.js';
import { waitForGlobalOperation } from '../../shared/actions/compute-operation.js';
import { DEFAULT_ACTION_SETTINGS } from '../../shared/actions/types.js';
import { handleRollbackRequest } from '../../functions/rollback/handler.js';
import { requestRollback } from '../../shared/engine/rollback-request.js';
import type { RollbackRequest } from '../../shared/model/events.js';
import type { BusMessage } from '../../shared/ports/bus.js';
import type { Action } from '../../shared/model/action.js';
import { projectRoot } from '../../shared/util/project-root.js';

const P = project(7);
const BUCKET = (n: number) => `//storage.googleapis.com/rb-${n}`;
const FIREWALL = `//compute.googleapis.com/projects/${P.id}/global/firewalls/rb-fw`;

const worlds: World[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) await w.close();
});

/** Two public buckets and an open firewall rule, all fixed and verified. */
async function fixedWorld(): Promise<{ w: World; proc: Proc; on: (name: string) => Promise<Action> }> {
  const w = await createWorld({
    assets: [
      projectAsset(P),
      bucketAsset(P, 'rb-0'),
      bucketAsset(P, 'rb-1'),
      firewallAsset(P, 'rb-fw', { open: true, logged: true }),
    ],
    automation: baseAutomation(),
  });
  worlds.push(w);
  const proc = await w.start();
  await proc.sweep();
  const on = async (name: string) =>
    (await proc.deps.repo.listActions({ where: [['resourceName', '==', name]] })).sort((a, b) =>
      a.createdAt.localeCompare(b.createdAt),
    )[0]!;
  for (const name of [BUCKET(0), BUCKET(1), FIREWALL]) expect((await on(name)).state).toBe('verified');
  return { w, proc, on };
}

const pap = (w: World, name: string) =>
  (w.twin.getAsset(name)?.resource?.data['iamConfiguration'] as Record<string, unknown>)[
    'publicAccessPrevention'
  ];
const metageneration = (w: World, name: string) =>
  Number(w.twin.getAsset(name)?.resource?.data['metageneration']);

describe('rollback on demand', () => {
  it('restores the recorded before-state, audits who and why, and the finding comes back for a human', async () => {
    const { w, proc, on } = await fixedWorld();
    const fix = await on(BUCKET(0));
    expect(pap(w, BUCKET(0))).toBe('enforced');
    w.clock.advance(60_000); // a minute after the fix

    const r = await requestRollback(proc.deps, fix.id, 'user:alice', 'the website lost its images');
    expect(r).toMatchObject({
      status: 'rolled_back',
      action: { id: fix.id, state: 'rolled_back', leaseUntil: null },
    });
    expect(pap(w, BUCKET(0))).toBe('inherited');
    await proc.drain();

    // The restore came back through the feed: the finding reopened, and after a rolled-back fix the next
    // one waits for a human instead of undoing the rollback.
    const actions = await proc.deps.repo.listActions({ where: [['resourceName', '==', BUCKET(0)]] });
    expect(actions.map((a) => a.state).sort()).toEqual(['awaiting_approval', 'rolled_back']);
    const again = actions.find((a) => a.state === 'awaiting_approval')!;
    expect(again.decision.factors.at(-1)?.factor).toMatch(
      /earlier automatic fix\(es\) making this change on this resource failed or were rolled back/,
    );
    expect(await proc.deps.repo.reportedOutcomes()).toContainEqual([fix.id, 'rolled_back']);
    // The circuit breaker counts it: a fix that had to be undone.
    const breaker = await proc.deps.repo.getBreaker('storage.bucket.enforce-public-access-prevention');
    expect(breaker.outcomes.find((o) => o.actionId === fix.id)).toMatchObject({ ok: false });

    const audit = (await proc.deps.repo.readAuditRecords()).filter((x) => x['subject'] === fix.id);
    const kinds = audit.map((x) => x['kind']);
    expect(kinds.slice(-4)).toEqual([
      'action.rollback_requested',
      'action.rolled_back',
      'action.rollback',
      'outcome.reported',
    ]);
    const requested = audit.find((x) => x['kind'] === 'action.rollback_requested')!;
    expect(requested).toMatchObject({ actor: 'user:alice', reason: 'the website lost its images' });
    const rolled = audit.find((x) => x['kind'] === 'action.rollback')!;
    expect(rolled['actor']).toBe('user:alice');
    expect(JSON.parse(String(rolled['after']))).toMatchObject({ value: 'inherited' });

    expect(await requestRollback(proc.deps, fix.id, 'user:alice', 'twice')).toMatchObject({
      status: 'not_rollbackable',
      reason: 'the action was already rolled back',
    });
    expect(await requestRollback(proc.deps, again.id, 'user:alice', 'nothing ran')).toMatchObject({
      status: 'not_rollbackable',
      reason: 'the action is awaiting_approval: only a verified or failed fix can be rolled back',
    });
    expect(await requestRollback(proc.deps, 'no-such-action', 'user:alice', 'x')).toEqual({
      status: 'not_found',
    });
    expect(await proc.deps.repo.verifyAudit()).toMatchObject({ ok: true });
  }, 120_000);

  it('refuses, and says why, when the resource changed since the fix; the fix stays recorded as it was', async () => {
    const { w, proc, on } = await fixedWorld();
    const fix = await on(FIREWALL);
    // A person narrows the rule further after Warden's fix.
    const client = await w.cloud.firewalls();
    const [lro] = await client.patch({
      project: P.id,
      firewall: 'rb-fw',
      firewallResource: { sourceRanges: ['10.9.0.0/16'] },
    });
    await waitForGlobalOperation(
      { cloud: w.cloud, clock: w.clock, logger: w.logger, settings: DEFAULT_ACTION_SETTINGS },
      P.id,
      (lro as unknown as { latestResponse: protos.google.cloud.compute.v1.IOperation }).latestResponse,
    );
    await proc.drain();

    const r = await requestRollback(proc.deps, fix.id, 'user:bob', 'try');
    expect(r).toMatchObject({ status: 'refused', action: { state: 'verified', leaseUntil: null } });
    expect(r.status === 'refused' && r.reason).toMatch(/changed/);
    expect(w.twin.getAsset(FIREWALL)?.resource?.data['sourceRanges']).toEqual(['10.9.0.0/16']);
    const last = (await proc.deps.repo.readAuditRecords()).filter((x) => x['subject'] === fix.id).at(-1)!;
    expect(last).toMatchObject({ kind: 'action.rollback_refused', actor: 'user:bob' });
    expect(String(last['reason'])).toMatch(/changed/);
  }, 120_000);

  it('a rolled-back change is not redone by another policy asking for it, nor by the reopened finding', async () => {
    const w = await createWorld({
      assets: [projectAsset(P), firewallAsset(P, 'rb-fw', { open: true, logged: true })],
      policies: SIBLING_FIREWALL_POLICY,
    });
    worlds.push(w);
    const proc = await w.start();
    await proc.sweep();
    const fixes = (await proc.deps.repo.listActions()).filter((a) => a.state === 'verified');
    expect(fixes).toHaveLength(1);
    w.clock.advance(60_000);
    expect(await requestRollback(proc.deps, fixes[0]!.id, 'user:dana', 'the bastion needs it')).toMatchObject(
      {
        status: 'rolled_back',
      },
    );
    await proc.drain();
    // The rule stays as it was before the fix; both policies' findings are open and wait for a human.
    expect(w.twin.getAsset(FIREWALL)?.resource?.data['sourceRanges']).toEqual(['0.0.0.0/0']);
    const findings = await proc.deps.repo.listFindings({ where: [['resourceName', '==', FIREWALL]] });
    expect(findings.map((f) => f.status)).toEqual(['open', 'open']);
    const after = (await proc.deps.repo.listActions()).filter((a) => a.createdAt > fixes[0]!.updatedAt);
    expect(after.length).toBeGreaterThanOrEqual(1);
    for (const a of after) {
      expect(a.state).toBe('awaiting_approval');
      expect(a.decision.factors.at(-1)?.factor).toMatch(/1 earlier automatic fix\(es\) making this change/);
    }
    expect(new Set(after.map((a) => a.findingId)).size).toBe(after.length);
  }, 120_000);

  it('two requests at once restore once', async () => {
    const { w, proc, on } = await fixedWorld();
    const fix = await on(BUCKET(1));
    const before = metageneration(w, BUCKET(1));
    const results = await Promise.all([
      requestRollback(proc.deps, fix.id, 'user:a', 'one'),
      requestRollback(proc.deps, fix.id, 'user:b', 'two'),
    ]);
    expect(results.map((x) => x.status).sort()).toEqual(['refused', 'rolled_back']);
    expect(metageneration(w, BUCKET(1))).toBe(before + 1);
  }, 120_000);

  it('an irreversible action is never rolled back, and says so', async () => {
    const { proc, on } = await fixedWorld();
    const fix = await on(BUCKET(0));
    const irreversible: Action = {
      ...fix,
      id: 'irreversible-1',
      reversible: false,
      state: 'recommended',
      decision: { ...fix.decision, kind: 'recommend' },
      revision: 0,
    };
    await proc.deps.repo.createAction(irreversible, { actor: 'test', reason: 'an irreversible change' });
    expect(await requestRollback(proc.deps, 'irreversible-1', 'user:a', 'undo it')).toMatchObject({
      status: 'not_rollbackable',
      reason: `${fix.actionType} cannot be undone (irreversible)`,
    });
  }, 120_000);
});

describe('the rollback function (what the automation API hands on in production)', () => {
  const message = (data: unknown, id: string): BusMessage => ({
    messageId: id,
    publishTime: '2026-11-02T00:00:00Z',
    attributes: {},
    data: Buffer.from(JSON.stringify(data)),
  });

  it('restores the before-state once, however often the request is delivered, and keeps bad requests', async () => {
    const { w, proc, on } = await fixedWorld();
    const fix = await on(BUCKET(1));
    const request: RollbackRequest = {
      kind: 'rollback',
      actionId: fix.id,
      actor: 'google:alice@example.com',
      reason: 'the website lost its images',
    };
    const first = await handleRollbackRequest(message(request, 'm1'), proc.deps);
    expect(first).toMatchObject({ status: 'done' });
    expect(pap(w, BUCKET(1))).toBe('inherited');
    const writes = w.twin.requests.filter((r) => r.method === 'PATCH').length;
    // Pub/Sub delivers it again: nothing more is sent.
    expect(await handleRollbackRequest(message(request, 'm1'), proc.deps)).toMatchObject({
      status: 'ignored',
      reason: expect.stringContaining('already rolled back'),
    });
    expect(w.twin.requests.filter((r) => r.method === 'PATCH')).toHaveLength(writes);
    const audit = (await proc.deps.repo.readAuditRecords()).filter((x) => x['subject'] === fix.id);
    expect(audit.find((x) => x['kind'] === 'action.rollback')).toMatchObject({
      actor: 'google:alice@example.com',
      reason: 'on demand: the website lost its images',
    });

    expect(await handleRollbackRequest(message({ kind: 'rollback' }, 'm2'), proc.deps)).toMatchObject({
      status: 'rejected',
    });
    expect(
      await handleRollbackRequest(message({ ...request, actionId: 'nope' }, 'm3'), proc.deps),
    ).toMatchObject({ status: 'rejected', reason: 'unknown action nope' });
    expect((await proc.deps.repo.listDeadLetters()).map((d) => d.messageId).sort()).toEqual(['m2', 'm3']);
  });
});

describe('warden rollback', () => {
  const run = promisify(execFile);
  const warden = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(
        process.execPath,
        [path.join(projectRoot(), 'bin/warden.js'), ...args],
        {
          cwd: projectRoot(),
          env: { ...process.env, METADATA_SERVER_DETECTION: 'none' },
        },
      );
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it('rolls back through a running twin, with exit codes 0 (rolled back), 1 (cannot), 2 (not found, no state)', async () => {
    const { w, proc, on } = await fixedWorld();
    const fix = await on(BUCKET(0));
    const common = ['--state-dir', w.dir, '--twin-url', w.twin.url, '--json'];

    const done = await warden('rollback', fix.id, '--reason', 'rehearsal', ...common);
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout)).toEqual({
      status: 'rolled_back',
      action: { id: fix.id, state: 'rolled_back', actionType: fix.actionType, resourceName: BUCKET(0) },
    });
    expect(pap(w, BUCKET(0))).toBe('inherited');
    const requested = (await proc.deps.repo.readAuditRecords()).find(
      (x) => x['subject'] === fix.id && x['kind'] === 'action.rollback_requested',
    );
    expect(requested).toMatchObject({ actor: `cli:${os.userInfo().username}`, reason: 'rehearsal' });

    const twice = await warden('rollback', fix.id, ...common);
    expect(twice.code).toBe(1);
    expect(JSON.parse(twice.stdout)).toMatchObject({
      status: 'not_rollbackable',
      reason: 'the action was already rolled back',
    });

    const text = await warden('rollback', 'no-such-action', '--state-dir', w.dir, '--twin-url', w.twin.url);
    expect(text).toMatchObject({ code: 2, stdout: 'no action no-such-action in this state\n' });

    const empty = await mkdtemp(path.join(os.tmpdir(), 'warden-no-state-'));
    try {
      const none = await warden('rollback', fix.id, '--state-dir', empty);
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/no state at/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
    expect((await warden('rollback')).code).toBe(2);
  }, 180_000);
});
