import { describe, expect, it } from '@jest/globals';
import {
  CRASH_POINTS,
  crashAfter,
  permanentFailures,
  transientFaults,
  tripleShuffledDelivery,
} from '../../bench/lifecycle-failures.js';

// The scenarios are shared with `bench/lifecycle-failures.ts`, which prints their figures; here their
// properties are asserted, on the embedded stack (SQLite, in-process bus, the GCP twin).

const ENDED = ['verified', 'failed', 'rolled_back'];

describe('the action lifecycle under failures (embedded)', () => {
  it('every message delivered three times, shuffled: every fix applied exactly once, nothing lost', async () => {
    const f = await tripleShuffledDelivery();
    expect(f.resources).toBe(36);
    expect(f).toMatchObject({
      actions: 36,
      verified: 36,
      lost: 0,
      doubleApplications: 0,
      outcomesReported: 36,
    });
  }, 120_000);

  it.each(CRASH_POINTS)(
    'killed after %s: resumed by the sweep once the lease expired — nothing lost, nothing applied twice',
    async (point) => {
      const f = await crashAfter(point);
      expect(f.killed).toBe(true);
      // The crash left actions mid-way at the step under test...
      const at = {
        before_captured: 'executing/before_captured',
        api_called: 'executing/before_captured',
        operation_done: 'succeeded/operation_done',
        verified: 'verified/verified',
      }[point];
      expect(f.atCrash[at]).toBeGreaterThanOrEqual(1);
      if (point === 'verified') expect(f.republishedOutcomes).toBeGreaterThanOrEqual(1);
      else expect(f.resumed).toBeGreaterThanOrEqual(1);
      // ...and after recovery every action ended, every resource is fixed, once, and every outcome reported.
      expect(f).toMatchObject({ resources: 10, actions: 10, verified: 10, lost: 0, doubleApplications: 0 });
      expect(f.all.every((a) => ENDED.includes(a.state))).toBe(true);
      expect(f.outcomesReported).toBe(10);
    },
    120_000,
  );

  it('30% of twin calls failing transiently: every action still ends verified, applied once', async () => {
    const f = await transientFaults({ rate: 0.3 });
    expect(f.redeliveries).toBeGreaterThan(10);
    expect(f).toMatchObject({ resources: 28, actions: 28, verified: 28, lost: 0, doubleApplications: 0 });
  }, 120_000);

  it('permanent failures end failed, the breaker opens as configured, alerts, and holds the rest', async () => {
    const f = await permanentFailures({ firewalls: 8, minOutcomes: 3 });
    // It opened at the third failure, and no fix started touching a resource after that: the failures
    // beyond three (none, unless a transient error delayed one already under way) were under way before.
    expect(f).toMatchObject({
      breakerState: 'open',
      breakerOpenings: 1,
      failuresBeforeOpening: 3,
      alertsRaised: 1,
    });
    expect(f.startedAfterOpening).toBe(0);
    expect(f.failed + f.awaitingApproval).toBe(8);
    expect(f.held).toBe(f.awaitingApproval);
    expect(f.awaitingApproval).toBeGreaterThanOrEqual(4);
    expect(f.lost).toBe(0);
    for (const a of f.all.filter((x) => x.state === 'failed'))
      expect(a.error).toMatchObject({ retryable: false });
    for (const a of f.all.filter((x) => x.state === 'awaiting_approval'))
      expect(a.decision.factors.at(-1)?.factor).toMatch(
        /^circuit breaker for compute\.firewall\.restrict-internet-source is open: opened .*3 of the last 3 outcomes failed/,
      );
  }, 120_000);
});
