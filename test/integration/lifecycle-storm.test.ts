import { describe, expect, it } from '@jest/globals';
import { STORM_LIMITS, storm } from '../../bench/lifecycle-failures.js';

describe('a storm of 10,000 findings at once (embedded)', () => {
  it('rate limits and the per-run cap hold exactly, and every other action waits for a human', async () => {
    const f = await storm();
    expect(f.findings).toBe(10_000);
    expect(f.actions).toBe(10_000);
    // One binding limit per group of projects, each reached exactly, none exceeded.
    expect(f.expected).toEqual({
      A: 5 * STORM_LIMITS.perProject,
      B: STORM_LIMITS.firewallRestrictPerType,
      C: 20,
    });
    expect(f.planned).toEqual(f.expected);
    expect(f.maxPerProject).toBe(STORM_LIMITS.perProject);
    const auto = f.planned.A + f.planned.B + f.planned.C;
    expect(f.awaitingApproval).toBe(10_000 - auto);
    expect(f.verified).toBe(auto);
    expect(f.doubleApplications).toBe(0);
    // Each held action says which guardrail held it: group A's is always its project's rate limit.
    const held = f.all.filter((a) => a.state === 'awaiting_approval');
    const guardrail =
      /^(rate limit for (project|action type) .* reached|per-run cap of policy .* reached in sweep storm-sweep)/;
    for (const a of held) expect(a.decision.factors.some((x) => guardrail.test(x.factor))).toBe(true);
    const heldA = held.filter((a) => a.policyId === 'lifecycle-bucket-public');
    expect(
      heldA.every((a) => a.decision.factors.some((x) => /^rate limit for project /.test(x.factor))),
    ).toBe(true);
    expect(
      held.some((a) =>
        a.decision.factors.some((x) =>
          x.factor.startsWith(
            'rate limit for action type compute.firewall.restrict-internet-source reached (25 of 25',
          ),
        ),
      ),
    ).toBe(true);
    expect(
      held.some((a) =>
        a.decision.factors.some((x) => /^per-run cap of policy lifecycle-firewall-unlogged/.test(x.factor)),
      ),
    ).toBe(true);
  }, 300_000);
});
