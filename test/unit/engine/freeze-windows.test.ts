import { describe, expect, it } from '@jest/globals';
import { AutomationConfigSchema, FreezeWindowSchema } from '../../../shared/config/automation-config.js';
import { activeFreeze } from '../../../shared/engine/freeze-windows.js';

const windows = (...ws: unknown[]) => ws.map((w) => FreezeWindowSchema.parse(w));
const at = (iso: string) => new Date(iso);

describe('change-freeze windows', () => {
  it('a date range with offsets is a span of instants, end excluded', () => {
    const w = windows({
      start: '2026-12-20T00:00:00Z',
      end: '2027-01-04T00:00:00Z',
      reason: 'holiday freeze',
    });
    expect(activeFreeze(w, at('2026-12-19T23:59:59Z'))).toBeNull();
    expect(activeFreeze(w, at('2026-12-20T00:00:00Z'))).toEqual({
      reason: 'holiday freeze',
      window: '2026-12-20T00:00:00Z – 2027-01-04T00:00:00Z',
    });
    expect(activeFreeze(w, at('2027-01-03T23:59:59.999Z'))).not.toBeNull();
    expect(activeFreeze(w, at('2027-01-04T00:00:00Z'))).toBeNull();
  });

  it('a date range without offsets is wall-clock time in its time zone', () => {
    const w = windows({
      start: '2026-11-26',
      end: '2026-11-30T08:00',
      time_zone: 'America/New_York',
      reason: 'Thanksgiving',
    });
    // 2026-11-26 00:00 in New York is 05:00 UTC.
    expect(activeFreeze(w, at('2026-11-26T04:59:59Z'))).toBeNull();
    expect(activeFreeze(w, at('2026-11-26T05:00:00Z'))?.reason).toBe('Thanksgiving');
    expect(activeFreeze(w, at('2026-11-30T12:59:59Z'))).not.toBeNull();
    expect(activeFreeze(w, at('2026-11-30T13:00:00Z'))).toBeNull();
  });

  it('weekly windows follow the zone, across daylight saving and across midnight', () => {
    const w = windows({
      weekly: { days: ['fri'], from: '16:00', to: '08:00' },
      time_zone: 'Europe/Paris',
      reason: 'no weekend changes',
    });
    // Friday 2026-03-27 16:00 in Paris is 15:00 UTC (CET); the freeze runs until Saturday 08:00.
    expect(activeFreeze(w, at('2026-03-27T14:59:00Z'))).toBeNull();
    expect(activeFreeze(w, at('2026-03-27T15:00:00Z'))).not.toBeNull();
    expect(activeFreeze(w, at('2026-03-28T06:59:00Z'))).not.toBeNull();
    expect(activeFreeze(w, at('2026-03-28T07:00:00Z'))).toBeNull();
    // After the switch to CEST (2026-03-29) Friday 16:00 is 14:00 UTC.
    expect(activeFreeze(w, at('2026-04-03T14:00:00Z'))).not.toBeNull();
    expect(activeFreeze(w, at('2026-04-03T13:59:00Z'))).toBeNull();
    // Not on Thursday, nor on Sunday morning.
    expect(activeFreeze(w, at('2026-04-02T18:00:00Z'))).toBeNull();
    expect(activeFreeze(w, at('2026-04-05T05:00:00Z'))).toBeNull();

    const day = windows({ weekly: { days: ['sat', 'sun'], from: '00:00', to: '24:00' }, reason: 'weekend' });
    expect(activeFreeze(day, at('2026-04-04T00:00:00Z'))).not.toBeNull();
    expect(activeFreeze(day, at('2026-04-05T23:59:59Z'))).not.toBeNull();
    expect(activeFreeze(day, at('2026-04-06T00:00:00Z'))).toBeNull();
  });

  it('bad windows are refused when automation.yaml is loaded', () => {
    const base = {
      automation: {
        compliance: {
          enabled: true,
          auto_remediate_low_risk: true,
          auto_remediate_medium_risk_with_approval: true,
          auto_remediate_high_risk: false,
        },
        cost_optimization: {
          enabled: true,
          auto_apply_threshold_dollars: 100,
          auto_apply_low_risk_only: true,
        },
        security: { enabled: true, auto_patch_critical: true, auto_fix_public_resources: true },
      },
    };
    const bad = (freeze: unknown) =>
      AutomationConfigSchema.safeParse({ ...base, guardrails: { freeze: [freeze] } }).success;
    expect(bad({ start: '2026-12-20T00:00:00Z', end: '2026-12-19T00:00:00Z', reason: 'backwards' })).toBe(
      false,
    );
    expect(bad({ start: '2026-12-20T00:00:00Z', end: '2026-12-21T00:00', reason: 'mixed offsets' })).toBe(
      false,
    );
    expect(
      bad({ start: '2026-12-20', end: '2026-12-21', time_zone: 'Mars/Olympus', reason: 'no such zone' }),
    ).toBe(false);
    expect(bad({ weekly: { days: ['fri'], from: '25:00', to: '08:00' }, reason: 'bad hour' })).toBe(false);
    expect(bad({ start: '2026-12-20', end: '2026-12-21', reason: 'fine' })).toBe(true);
  });
});
