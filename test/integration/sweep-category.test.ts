// A sweep of one category (what POST /api/v1/automation/optimize and /harden start) evaluates only that
// category's policies: findings of the others are neither opened nor resolved by it.
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadInventory } from '../../shared/contracts/inventory-reader.js';
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
