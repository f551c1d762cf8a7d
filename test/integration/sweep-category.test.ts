// A sweep of one category (what POST /api/v1/automation/optimize and /harden start) evaluates only that
// category's policies: findings of the others are neither opened nor resolved by it.
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SWEEPS } from '../../functions/detect/handle-sweep.js';
import { castVote } from '../../shared/approvals/cast-vote.js';
import { loadInventory } from '../../shared/contracts/inventory-reader.js';
import type { SweepEvent } from '../../shared/model/events.js';
import { MemoryLogger } from '../../shared/ports/logger.js';
import { startEmbedded, type Embedded } from '../../shared/roots/embedded.js';
import { projectRoot } from '../../shared/util/project-root.js';

const ORG = 'organizations/123456789012';
const open: Array<{ engine: Embedded; dir: string }> = [];

async function start(): Promise<Embedded> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'warden-category-'));
  const { assets, errors } = await loadInventory([path.join(projectRoot(), 'examples', 'landing-zone')]);
  expect(errors).toEqual([]);
  const engine = await startEmbedded({ stateDir: dir, assets, scope: ORG, logger: new MemoryLogger() });
  open.push({ engine, dir });
  return engine;
}

afterEach(async () => {
  for (const { engine, dir } of open.splice(0)) {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  }
});

describe('a sweep of one category', () => {
  it('opens findings of that category only, then a full sweep adds the others and leaves those in place', async () => {
    const engine = await start();
    const costSweep = await engine.sweep(undefined, 'cost');
    const afterCost = await engine.deps.repo.listFindings();
    expect(afterCost.length).toBeGreaterThan(0);
    expect(new Set(afterCost.map((f) => f.category))).toEqual(new Set(['cost']));

    const full = await engine.sweep();
    expect(full.evaluations).toBeGreaterThan(costSweep.evaluations);
    const afterFull = await engine.deps.repo.listFindings();
    const categories = new Set(afterFull.map((f) => f.category));
    expect(categories.has('security')).toBe(true);
    expect(categories.has('compliance')).toBe(true);

    // A later cost-only sweep leaves the security and compliance findings as they are.
    const before = afterFull.filter((f) => f.category !== 'cost').map((f) => `${f.id}:${f.status}`);
    await engine.sweep(undefined, 'cost');
    const again = (await engine.deps.repo.listFindings()).filter((f) => f.category !== 'cost');
    expect(again.map((f) => `${f.id}:${f.status}`)).toEqual(before);
  });
});

describe('a sweep of one resource (what POST /api/v1/automation/remediate starts)', () => {
  it('lists and evaluates that resource alone, and names the person who asked as requester, who cannot approve', async () => {
    // A fix that waits for approval, found by a full sweep of another engine on the same inventory.
    const scout = await start();
    await scout.sweep();
    const waiting = (await scout.deps.repo.listActions()).find((a) => a.state === 'awaiting_approval');
    if (!waiting) throw new Error('the landing zone has no fix that waits for approval');

    const engine = await start();
    const event: SweepEvent = {
      kind: 'sweep',
      sweepId: 'api-sweep-1',
      scope: waiting.project!,
      category: 'all',
      resource: { name: waiting.resourceName, assetType: waiting.assetType },
      requestedBy: 'local',
    };
    await engine.deps.bus.publish('sweeps', { data: event });
    await engine.deps.bus.drain();
    await engine.approvals.idle();
    expect(await engine.deps.repo.store.get(SWEEPS, 'api-sweep-1')).toMatchObject({ assets: 1 });
    const findings = await engine.deps.repo.listFindings();
    expect(findings.length).toBeGreaterThan(0);
    expect(new Set(findings.map((f) => f.resourceName))).toEqual(new Set([waiting.resourceName]));

    const action = (await engine.deps.repo.listActions()).find((a) => a.id === waiting.id);
    expect(action).toMatchObject({ state: 'awaiting_approval', requestedBy: 'local' });
    expect(await engine.approvals.deps.approvals.get(waiting.id)).toMatchObject({ requester: ['local'] });
    // The local user (the configured local approver) asked for it, so cannot approve it.
    const voted = await castVote(engine.approvals.deps, {
      approvalId: waiting.id,
      voter: { kind: 'local' },
      vote: 'approve',
      reason: null,
      via: 'cli',
    });
    expect(voted.outcome).toMatchObject({ kind: 'refused', reason: 'self_approval' });
    // A type no policy handles is refused as bad input, kept as a dead letter, and lists nothing.
    await engine.deps.bus.publish('sweeps', {
      data: {
        ...event,
        sweepId: 'api-sweep-2',
        resource: { name: '//x.googleapis.com/a', assetType: 'x.googleapis.com/A' },
      },
    });
    await engine.deps.bus.drain();
    expect(await engine.deps.repo.store.get(SWEEPS, 'api-sweep-2')).toBeNull();
    expect(await engine.deps.repo.listDeadLetters()).toEqual([
      expect.objectContaining({ topic: 'sweeps', reason: 'no policy handles asset type x.googleapis.com/A' }),
    ]);
  });
});
