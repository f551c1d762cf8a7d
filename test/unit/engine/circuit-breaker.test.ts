import { describe, expect, it } from '@jest/globals';
import { CircuitBreakerSchema } from '../../../shared/config/automation-config.js';
import {
  admitThroughBreaker,
  breakerFromDoc,
  breakerHolds,
  recordBreakerOutcome,
  type BreakerDoc,
} from '../../../shared/engine/circuit-breaker.js';

const cfg = CircuitBreakerSchema.parse({
  window_outcomes: 5,
  window_minutes: 60,
  min_outcomes: 3,
  failure_rate: 0.5,
  cooldown_minutes: 30,
});
const t0 = Date.parse('2026-05-01T10:00:00Z');
const at = (minutes: number) => new Date(t0 + minutes * 60_000);

function feed(doc: BreakerDoc, outcomes: Array<[string, boolean, number]>) {
  const changes: string[] = [];
  for (const [id, ok, m] of outcomes) {
    const r = recordBreakerOutcome(doc, { actionId: id, ok }, cfg, at(m));
    doc = r.doc;
    if (r.change) changes.push(`${r.change.from}→${r.change.to}`);
  }
  return { doc, changes };
}

describe('the circuit breaker', () => {
  it('opens when the failure or rollback rate over the window reaches the threshold, not before', () => {
    const closed = breakerFromDoc('x.fix', null);
    // Two failures are below min_outcomes; the third outcome (a success) makes 2 of 3 ≥ 50%.
    const r = feed(closed, [
      ['a', false, 0],
      ['b', false, 1],
      ['c', true, 2],
    ]);
    expect(r.changes).toEqual(['closed→open']);
    expect(r.doc.reason).toBe('2 of the last 3 outcomes failed or were rolled back (67% ≥ 50%)');
    const healthy = feed(closed, [
      ['a', true, 0],
      ['b', false, 1],
      ['c', true, 2],
      ['d', true, 3],
    ]);
    expect(healthy.doc.state).toBe('closed');
  });

  it('forgets outcomes older than the window, and keeps the last N', () => {
    const r = feed(breakerFromDoc('x.fix', null), [
      ['a', false, 0],
      ['b', false, 1],
      ['c', true, 120],
    ]);
    expect(r.doc.state).toBe('closed');
    expect(r.doc.outcomes.map((o) => o.actionId)).toEqual(['c']);
    const many = feed(
      breakerFromDoc('x.fix', null),
      ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((id, i) => [id, true, i] as [string, boolean, number]),
    );
    expect(many.doc.outcomes.map((o) => o.actionId)).toEqual(['c', 'd', 'e', 'f', 'g']);
  });

  it("an action's later outcome replaces its earlier one (a verified fix rolled back on demand)", () => {
    const r = feed(breakerFromDoc('x.fix', null), [
      ['a', true, 0],
      ['b', true, 1],
      ['c', false, 2],
      ['a', false, 3],
    ]);
    expect(r.doc.outcomes.map((o) => `${o.actionId}:${o.ok}`)).toEqual(['b:true', 'c:false', 'a:false']);
    expect(r.doc.state).toBe('open');
  });

  it('holds actions while open, lets one probe through after the cool-down, and closes on its success', () => {
    let doc = feed(breakerFromDoc('x.fix', null), [
      ['a', false, 0],
      ['b', false, 1],
      ['c', false, 2],
    ]).doc;
    expect(admitThroughBreaker(doc, 'd', cfg, at(10))).toMatchObject({ kind: 'blocked' });
    expect(breakerHolds(doc, 'd', cfg)).toMatch(/^opened /);
    const probe = admitThroughBreaker(doc, 'd', cfg, at(33));
    expect(probe).toMatchObject({ kind: 'probe', change: { from: 'open', to: 'half_open' } });
    if (probe.kind !== 'probe') throw new Error('no probe');
    doc = probe.doc;
    // One probe at a time.
    expect(admitThroughBreaker(doc, 'e', cfg, at(34))).toMatchObject({
      kind: 'blocked',
      why: 'half-open, waiting for probe d',
    });
    expect(admitThroughBreaker(doc, 'd', cfg, at(34))).toEqual({ kind: 'pass' });
    expect(breakerHolds(doc, 'd', cfg)).toBeNull();
    const closed = recordBreakerOutcome(doc, { actionId: 'd', ok: true }, cfg, at(35));
    expect(closed.change).toMatchObject({ from: 'half_open', to: 'closed' });
    expect(closed.doc).toMatchObject({
      state: 'closed',
      probe: null,
      outcomes: [{ actionId: 'd', ok: true }],
    });
  });

  it('a failed probe reopens it; a probe that never reports is replaced after another cool-down', () => {
    let doc = feed(breakerFromDoc('x.fix', null), [
      ['a', false, 0],
      ['b', false, 1],
      ['c', false, 2],
    ]).doc;
    const p = admitThroughBreaker(doc, 'd', cfg, at(40));
    if (p.kind !== 'probe') throw new Error('no probe');
    const reopened = recordBreakerOutcome(p.doc, { actionId: 'd', ok: false }, cfg, at(41));
    expect(reopened.doc).toMatchObject({ state: 'open', openedAt: at(41).toISOString(), probe: null });
    expect(admitThroughBreaker(reopened.doc, 'e', cfg, at(60))).toMatchObject({ kind: 'blocked' });
    doc = p.doc;
    expect(admitThroughBreaker(doc, 'e', cfg, at(69))).toMatchObject({ kind: 'blocked' });
    expect(admitThroughBreaker(doc, 'e', cfg, at(70))).toMatchObject({ kind: 'probe', change: null });
  });

  it('a disabled breaker never holds anything', () => {
    const off = { ...cfg, enabled: false };
    const r = recordBreakerOutcome(
      breakerFromDoc('x', null),
      { actionId: 'a', ok: false },
      { ...off, min_outcomes: 1 },
      at(0),
    );
    expect(r.doc.state).toBe('closed');
    const open = { ...r.doc, state: 'open' as const, openedAt: at(0).toISOString(), reason: 'r' };
    expect(admitThroughBreaker(open, 'b', off, at(1))).toEqual({ kind: 'pass' });
    expect(breakerHolds(open, 'b', off)).toBeNull();
  });
});
