import { describe, expect, it } from '@jest/globals';
import type { RemediationAction } from '../../../shared/actions/types.js';
import { AutomationConfigSchema, type AutomationConfig } from '../../../shared/config/automation-config.js';
import { decide, type BlastRadius } from '../../../shared/engine/decide.js';
import { SAFETY, applyGuardrails, type GuardrailView } from '../../../shared/engine/guardrails.js';
import { rateKeys } from '../../../shared/engine/rate-limits.js';
import { allowedInRun } from '../../../shared/engine/run-cap.js';
import type { Decision, DecisionKind } from '../../../shared/model/action.js';
import type { Finding } from '../../../shared/model/finding.js';
import { RISKS, riskRank, type Risk } from '../../../shared/model/policy.js';
import type { PolicyFile } from '../../../shared/policy/policy-schema.js';
import { seededRng } from '../../../shared/util/seeded-random.js';

const rng = seededRng(20261129);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
const chance = (p = 0.5) => rng() < p;

function randomView(): GuardrailView {
  return {
    dryRun: chance(0.3),
    freeze: chance(0.3) ? { reason: 'holiday', window: 'w' } : null,
    breaker: chance(0.3) ? { actionType: 't', why: 'opened' } : null,
    rateLimits: Array.from({ length: Math.floor(rng() * 3) }, () => {
      const max = Math.floor(rng() * 4);
      return {
        scope: pick(['project p', 'action type t']),
        used: Math.floor(rng() * 6),
        max,
        windowMinutes: 60,
      };
    }),
    runCap: chance(0.4)
      ? {
          policyId: 'p',
          sweepId: 's',
          used: Math.floor(rng() * 5),
          allowed: Math.floor(rng() * 5),
          flagged: 9,
        }
      : null,
  };
}

/** The same view with one more guardrail switched on (or tightened): never less safe. */
function tighten(v: GuardrailView): GuardrailView {
  switch (Math.floor(rng() * 5)) {
    case 0:
      return { ...v, dryRun: true };
    case 1:
      return { ...v, freeze: { reason: 'freeze', window: 'w' } };
    case 2:
      return { ...v, breaker: { actionType: 't', why: 'open' } };
    case 3:
      return {
        ...v,
        rateLimits: [...(v.rateLimits ?? []), { scope: 'project q', used: 3, max: 3, windowMinutes: 60 }],
      };
    default:
      return { ...v, runCap: { policyId: 'p', sweepId: 's', used: 2, allowed: 1, flagged: 9 } };
  }
}

const automation = (over: Record<string, unknown> = {}): AutomationConfig =>
  AutomationConfigSchema.parse({
    automation: {
      compliance: {
        enabled: chance(0.9),
        auto_remediate_low_risk: chance(0.8),
        auto_remediate_medium_risk_with_approval: chance(0.8),
        auto_remediate_high_risk: chance(0.3),
      },
      cost_optimization: {
        enabled: chance(0.9),
        auto_apply_threshold_dollars: 100,
        auto_apply_low_risk_only: true,
      },
      security: { enabled: chance(0.9), auto_patch_critical: true, auto_fix_public_resources: chance(0.7) },
    },
    ...over,
  });

describe('guardrails can only make a decision safer (property, seeded)', () => {
  it('applyGuardrails never lowers safety or risk, keeps every factor, and adding a guardrail never helps', () => {
    for (let i = 0; i < 5000; i++) {
      const decision: Decision = {
        kind: pick<DecisionKind>(['auto', 'approve', 'recommend', 'suppress']),
        risk: pick(RISKS),
        factors: [{ factor: 'base', effect: 'x' }],
        dryRun: false,
      };
      const view = randomView();
      const out = applyGuardrails(decision, view);
      expect(SAFETY[out.kind]).toBeGreaterThanOrEqual(SAFETY[decision.kind]);
      expect(out.risk).toBe(decision.risk);
      expect(out.factors.slice(0, decision.factors.length)).toEqual(decision.factors);
      // Every change of kind is explained by a factor of its own.
      if (out.kind !== decision.kind) expect(out.factors.length).toBeGreaterThan(decision.factors.length);
      const tighter = applyGuardrails(decision, tighten(view));
      expect(SAFETY[tighter.kind]).toBeGreaterThanOrEqual(SAFETY[out.kind]);
      // Applying the guardrails twice (once at decision time, once in the creating transaction) is safe too.
      expect(SAFETY[applyGuardrails(out, view).kind]).toBe(SAFETY[out.kind]);
    }
  });

  it('decide: turning on dry run, a freeze, more blast radius or less confidence never makes it less safe', () => {
    const now = new Date('2026-12-24T12:00:00Z');
    for (let i = 0; i < 3000; i++) {
      const cfg = automation();
      const input = {
        finding: { category: pick(['compliance', 'security', 'cost'] as const) } as Finding,
        policy: {
          id: 'p',
          tags: chance() ? ['public-exposure'] : [],
          confidence: pick([undefined, 'high', 'medium', 'low'] as const),
        } as PolicyFile,
        action: { id: 'x.y', risk: pick(RISKS), reversible: chance(0.8) } as unknown as RemediationAction,
        automation: cfg,
        production: chance(0.3) ? 'label env=prod' : null,
        previousFailures: chance(0.2) ? 1 : 0,
        blastRadius: chance(0.5)
          ? ({ count: Math.floor(rng() * 80), what: 'n instances' } as BlastRadius)
          : null,
        now,
      };
      const base = decide(input);
      const variants = [
        decide({ ...input, automation: { ...cfg, dry_run: true } }),
        decide({
          ...input,
          automation: {
            ...cfg,
            guardrails: {
              ...cfg.guardrails,
              freeze: [
                {
                  start: '2026-12-20T00:00:00Z',
                  end: '2027-01-04T00:00:00Z',
                  time_zone: 'UTC',
                  reason: 'holiday',
                },
              ],
            },
          },
        }),
        decide({ ...input, blastRadius: { count: (input.blastRadius?.count ?? 0) + 60, what: 'more' } }),
        decide({ ...input, policy: { ...input.policy, confidence: 'low' } }),
        decide({ ...input, production: 'label env=prod' }),
        decide({ ...input, previousFailures: 2 }),
      ];
      for (const v of variants) {
        expect(SAFETY[v.kind]).toBeGreaterThanOrEqual(SAFETY[base.kind]);
        expect(riskRank(v.risk)).toBeGreaterThanOrEqual(riskRank(base.risk));
      }
      // Never automatic: low confidence, irreversible above low risk, a blast radius above approve_above.
      if (input.policy.confidence === 'low') expect(base.kind).not.toBe('auto');
      if (!input.action.reversible && base.risk !== 'low') expect(base.kind).not.toBe('auto');
      if ((input.blastRadius?.count ?? 0) > cfg.blast_radius.approve_above)
        expect(base.kind).not.toBe('auto');
    }
  });
});

describe('each guardrail, and the factor it records', () => {
  const auto: Decision = { kind: 'auto', risk: 'low', factors: [], dryRun: false };

  it('a freeze, an open breaker, a full rate limit or a used-up cap turn auto into approve', () => {
    const cases: Array<[GuardrailView, RegExp]> = [
      [
        { freeze: { reason: 'holiday freeze', window: '2026-12-20 – 2027-01-04' } },
        /change freeze \(holiday freeze/,
      ],
      [
        { breaker: { actionType: 'x.fix', why: 'opened: 3 of 4 failed' } },
        /circuit breaker for x.fix is open/,
      ],
      [
        { rateLimits: [{ scope: 'project projects/1', used: 5, max: 5, windowMinutes: 60 }] },
        /rate limit for project projects\/1 reached \(5 of 5 per 60 min\)/,
      ],
      [
        { runCap: { policyId: 'p', sweepId: 's1', used: 3, allowed: 3, flagged: 30 } },
        /per-run cap of policy p reached in sweep s1/,
      ],
    ];
    for (const [view, factor] of cases) {
      const d = applyGuardrails(auto, view);
      expect(d.kind).toBe('approve');
      expect(d.factors.map((f) => f.factor).join('\n')).toMatch(factor);
    }
    expect(
      applyGuardrails(auto, { rateLimits: [{ scope: 's', used: 4, max: 5, windowMinutes: 60 }] }).kind,
    ).toBe('auto');
    expect(applyGuardrails(auto, { dryRun: true })).toMatchObject({
      kind: 'recommend',
      dryRun: true,
      factors: [{ factor: 'global dry run', effect: 'would auto; recommend only' }],
    });
  });

  it('rate-limit windows are fixed and aligned; per-type overrides replace the default', () => {
    const limits = {
      per_project: { max: 3, window_minutes: 60 },
      per_action_type: { max: 10, window_minutes: 15 },
      by_action_type: { 'x.tight': { max: 1, window_minutes: 1440 } },
    };
    const at = (iso: string) =>
      rateKeys(limits, { project: 'projects/1', actionType: 'x.fix' }, new Date(iso));
    expect(at('2026-03-01T10:59:59Z').map((k) => [k.scope, k.windowStart, k.max])).toEqual([
      ['project projects/1', '2026-03-01T10:00:00.000Z', 3],
      ['action type x.fix', '2026-03-01T10:45:00.000Z', 10],
    ]);
    expect(at('2026-03-01T10:59:59Z')[0]!.id).toBe(at('2026-03-01T10:00:00Z')[0]!.id);
    expect(at('2026-03-01T11:00:00Z')[0]!.id).not.toBe(at('2026-03-01T10:59:59Z')[0]!.id);
    const tight = rateKeys(
      limits,
      { project: null, actionType: 'x.tight' },
      new Date('2026-03-01T10:00:00Z'),
    );
    expect(tight.map((k) => [k.scope, k.max, k.windowStart])).toEqual([
      ['action type x.tight', 1, '2026-03-01T00:00:00.000Z'],
    ]);
  });

  it('the per-run cap is the smaller of its count and its share, rounded down', () => {
    expect(allowedInRun({}, 100)).toBeNull();
    expect(allowedInRun({ max_resources: 10 }, 100)).toBe(10);
    expect(allowedInRun({ max_percent: 5 }, 199)).toBe(9);
    expect(allowedInRun({ max_resources: 3, max_percent: 50 }, 100)).toBe(3);
    expect(allowedInRun({ max_percent: 20 }, 4)).toBe(0);
  });
});

describe('risk never goes above high', () => {
  it('raises saturate', () => {
    const d = decide({
      finding: { category: 'compliance' } as Finding,
      policy: { id: 'p', tags: [], confidence: 'low' } as unknown as PolicyFile,
      action: { id: 'x', risk: 'high' as Risk, reversible: false } as unknown as RemediationAction,
      automation: automation(),
      production: 'prod',
      blastRadius: { count: 999, what: 'all' },
    });
    expect(d.risk).toBe('high');
  });
});
