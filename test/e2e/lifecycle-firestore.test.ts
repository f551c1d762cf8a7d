import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Firestore } from '@google-cloud/firestore';
import { randomBytes } from 'node:crypto';
import {
  baseAutomation,
  bucketAsset,
  crashAfter,
  createWorld,
  detectQuietly,
  findingMessage,
  project,
  projectAsset,
  tripleShuffledDelivery,
  type World,
} from '../../bench/lifecycle-failures.js';
import { handleFinding } from '../../functions/assess-risk/handler.js';
import { createInProcessBus } from '../../shared/adapters/bus-inprocess.js';
import { createFirestoreDocumentStore } from '../../shared/adapters/document-store-firestore.js';
import { AutomationConfigSchema } from '../../shared/config/automation-config.js';
import type { Deps } from '../../shared/engine/deps.js';
import { RATE_COUNTERS } from '../../shared/engine/rate-limits.js';
import { Repository } from '../../shared/engine/repository.js';
import type { Action } from '../../shared/model/action.js';
import { ManualClock } from '../../shared/ports/clock.js';
import type { DocumentStore } from '../../shared/ports/document-store.js';
import { randomIds } from '../../shared/ports/ids.js';
import { buildDeps } from '../../shared/roots/build-deps.js';
import { describeWithEmulator } from '../support/describe-with-emulator.js';
import { EMULATOR_PROJECT, startFirestoreEmulator, type RunningEmulator } from '../support/emulators.js';

const describeIf = describeWithEmulator('firestore');

describeIf('the action lifecycle on Firestore (emulator)', () => {
  let emulator: RunningEmulator | undefined;
  const run = randomBytes(4).toString('hex');
  let n = 0;
  /** A new client (a process of its own) on the same documents when given the same prefix. */
  const firestoreStore = (prefix = `lc${run}-${n++}-`): DocumentStore => {
    if (!emulator) throw new Error('the Firestore emulator did not start');
    return createFirestoreDocumentStore({
      firestore: new Firestore({ projectId: EMULATOR_PROJECT, host: emulator.host, ssl: false }),
      prefix,
      maxTransactionAttempts: 20,
    });
  };
  const openStore = async () => firestoreStore();

  beforeAll(async () => {
    emulator = await startFirestoreEmulator();
  }, 60_000);
  afterAll(async () => {
    await emulator?.stop();
  }, 30_000);

  /** Pub/Sub redelivers what failed transiently (here: a transaction that kept losing to the other client). */
  async function delivered<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (attempt >= 10) throw err;
      }
    }
  }

  it('rate-limit counters hold exactly when two clients decide the same findings at once', async () => {
    const prefix = `lc${run}-rate-`;
    const p = project(1);
    const assets = [projectAsset(p), ...Array.from({ length: 16 }, (_, i) => bucketAsset(p, `fs-rl-${i}`))];
    const automation = baseAutomation();
    automation['guardrails'] = { rate_limits: { per_project: { max: 5, window_minutes: 60 } } };
    let w: World | undefined;
    const second = firestoreStore(prefix);
    try {
      w = await createWorld({ assets, automation, openStore: async () => firestoreStore(prefix) });
      const world = w;
      const deps = (store: DocumentStore): Deps =>
        buildDeps({
          store,
          bus: createInProcessBus({ logger: world.logger }),
          cloud: world.cloud,
          clock: world.clock,
          ids: randomIds,
          logger: world.logger,
          config: world.config,
        });
      const a = deps(world.store);
      const b = deps(second);
      const { changes } = await detectQuietly(a, assets);
      expect(changes).toHaveLength(16);
      await Promise.all(
        changes.flatMap((c) => [
          delivered(() => handleFinding(findingMessage(c), a)),
          delivered(() => handleFinding(findingMessage(c), b)),
        ]),
      );
      const actions = await a.repo.listActions();
      expect(actions).toHaveLength(16);
      expect(actions.filter((x) => x.state === 'planned')).toHaveLength(5);
      expect(actions.filter((x) => x.state === 'awaiting_approval')).toHaveLength(11);
      expect((await world.store.query(RATE_COUNTERS, {})).map((c) => c.doc['count'])).toEqual([5]);
      expect(await a.repo.verifyAudit()).toMatchObject({ ok: true, records: expect.any(Number) });
    } finally {
      await second.close();
      await w?.close();
    }
  }, 120_000);

  it('the circuit breaker counts every outcome reported by two clients at once, and opens once', async () => {
    const prefix = `lc${run}-breaker-`;
    const cfg = AutomationConfigSchema.parse({
      ...baseAutomation(),
      guardrails: { circuit_breaker: { min_outcomes: 4, failure_rate: 0.5, window_outcomes: 10 } },
    });
    const clock = new ManualClock('2026-06-01T00:00:00Z');
    const storeA = firestoreStore(prefix);
    const storeB = firestoreStore(prefix);
    try {
      const a = new Repository(storeA, clock, undefined, cfg.guardrails);
      const b = new Repository(storeB, clock, undefined, cfg.guardrails);
      const ids = Array.from({ length: 6 }, (_, i) => `fs-breaker-${i}`);
      for (const id of ids) {
        const action: Action = {
          id,
          findingId: `f-${id}`,
          policyId: 'p',
          actionType: 'x.always-fails',
          resourceName: `r-${id}`,
          assetType: 'storage.googleapis.com/Bucket',
          project: 'projects/1',
          assetVersion: 'v',
          state: 'planned',
          decision: { kind: 'auto', risk: 'low', factors: [], dryRun: false },
          plan: { description: 'd', requests: [] },
          reversible: true,
          step: 'none',
          beforeState: null,
          afterState: null,
          error: null,
          attempts: 0,
          replans: 0,
          requestedBy: null,
          leaseUntil: null,
          createdAt: clock.now().toISOString(),
          updatedAt: clock.now().toISOString(),
          revision: 0,
        };
        await a.createAction(action, { actor: 'test', reason: 'planned' });
        expect(await a.fire(id, 'claim', { audit: { actor: 'test', reason: 'claim' } })).toMatchObject({
          ok: true,
        });
      }
      const failed = await Promise.all(
        ids.map((id, i) =>
          delivered(() =>
            (i % 2 ? a : b).fire(id, 'fail', {
              patch: { error: { message: 'boom', retryable: false } },
              audit: { actor: 'test', reason: 'failed' },
            }),
          ),
        ),
      );
      expect(failed.every((t) => t.ok)).toBe(true);
      const breaker = await a.getBreaker('x.always-fails');
      expect(breaker.state).toBe('open');
      expect(breaker.outcomes.map((o) => o.actionId).sort()).toEqual(ids);
      const opened = (await a.readAuditRecords()).filter((r) => r['kind'] === 'breaker.open');
      expect(opened).toHaveLength(1);
      expect(failed.filter((t) => t.ok && t.breaker?.to === 'open')).toHaveLength(1);
      expect(await a.verifyAudit()).toMatchObject({ ok: true });
    } finally {
      await storeA.close();
      await storeB.close();
    }
  }, 120_000);

  it('every message delivered three times, shuffled: every fix applied exactly once', async () => {
    const f = await tripleShuffledDelivery({ openStore, storeName: 'firestore', buckets: 8, firewalls: 4 });
    expect(f).toMatchObject({
      resources: 12,
      actions: 12,
      verified: 12,
      lost: 0,
      doubleApplications: 0,
      outcomesReported: 12,
    });
  }, 180_000);

  it('killed after the API call: recovered by the sweep, applied once', async () => {
    const f = await crashAfter('api_called', { openStore, storeName: 'firestore', buckets: 4, firewalls: 2 });
    expect(f.killed).toBe(true);
    expect(f).toMatchObject({ actions: 6, verified: 6, lost: 0, doubleApplications: 0, outcomesReported: 6 });
  }, 180_000);
});
