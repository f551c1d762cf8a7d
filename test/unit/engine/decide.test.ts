import { describe, expect, it } from '@jest/globals';
import type { RemediationAction } from '../../../shared/actions/types.js';
import { AutomationConfigSchema, type AutomationConfig } from '../../../shared/config/automation-config.js';
import { decide, productionMarker } from '../../../shared/engine/decide.js';
import type { Finding } from '../../../shared/model/finding.js';
import type { Risk } from '../../../shared/model/policy.js';
import type { PolicyFile } from '../../../shared/policy/policy-schema.js';

const automation = (over: Record<string, unknown> = {}): AutomationConfig =>
  AutomationConfigSchema.parse({
    automation: {
      compliance: {
        enabled: true,
        auto_remediate_low_risk: true,
        auto_remediate_medium_risk_with_approval: true,
        auto_remediate_high_risk: false,
      },
      cost_optimization: { enabled: true, auto_apply_threshold_dollars: 100, auto_apply_low_risk_only: true },
      security: { enabled: true, auto_patch_critical: true, auto_fix_public_resources: true },
    },
    ...over,
  });

const action = (risk: Risk, reversible = true) =>
  ({ id: 'x.y.z', risk, reversible }) as unknown as RemediationAction;
const finding = (category: Finding['category']) => ({ category }) as Finding;
const policy = (tags: PolicyFile['tags'] = []) => ({ tags }) as PolicyFile;

describe('decide', () => {
  it('auto-fixes low risk compliance, asks for medium, only recommends high', () => {
    expect(
      decide({
        finding: finding('compliance'),
        policy: policy(),
        action: action('low'),
        automation: automation(),
        production: null,
      }).kind,
    ).toBe('auto');
    expect(
      decide({
        finding: finding('compliance'),
        policy: policy(),
        action: action('medium'),
        automation: automation(),
        production: null,
      }).kind,
    ).toBe('approve');
    expect(
      decide({
        finding: finding('compliance'),
        policy: policy(),
        action: action('high'),
        automation: automation(),
        production: null,
      }).kind,
    ).toBe('recommend');
  });

  it('raises risk in production and explains why', () => {
    const d = decide({
      finding: finding('compliance'),
      policy: policy(),
      action: action('low'),
      automation: automation(),
      production: 'label env=prod on projects/1',
    });
    expect(d).toMatchObject({ kind: 'approve', risk: 'medium' });
    expect(d.factors.map((f) => f.factor)).toContain('production environment (label env=prod on projects/1)');
  });

  it('fixes public exposure automatically up to medium risk, never at high', () => {
    const pub = policy(['public-exposure']);
    expect(
      decide({
        finding: finding('security'),
        policy: pub,
        action: action('medium'),
        automation: automation(),
        production: null,
      }).kind,
    ).toBe('auto');
    expect(
      decide({
        finding: finding('security'),
        policy: pub,
        action: action('medium'),
        automation: automation(),
        production: 'prod',
      }).kind,
    ).toBe('recommend');
  });

  it('never auto-executes an irreversible action above low risk', () => {
    const d = decide({
      finding: finding('compliance'),
      policy: policy(),
      action: action('low', false),
      automation: automation(),
      production: null,
    });
    expect(d.risk).toBe('medium');
    expect(d.kind).not.toBe('auto');
  });

  it('dry run and disabled categories only recommend', () => {
    expect(
      decide({
        finding: finding('compliance'),
        policy: policy(),
        action: action('low'),
        automation: automation({ dry_run: true }),
        production: null,
      }),
    ).toMatchObject({ kind: 'recommend', dryRun: true });
    const off = automation();
    off.automation.security.enabled = false;
    expect(
      decide({
        finding: finding('security'),
        policy: policy(['public-exposure']),
        action: action('low'),
        automation: off,
        production: null,
      }).kind,
    ).toBe('recommend');
  });
});

describe('productionMarker', () => {
  const labels = { env: ['prod', 'production'] };
  it('finds production by label, case-insensitively, or by folder name', () => {
    expect(productionMarker([{ where: 'projects/1', labels: { env: 'PROD' } }], [], labels)).toMatch(
      /label env=PROD/,
    );
    expect(productionMarker([], [{ where: 'folders/1', displayName: 'prod' }], labels)).toMatch(
      /folder "prod"/,
    );
    expect(productionMarker([], [{ where: 'folders/2', displayName: 'non-prod' }], labels)).toBeNull();
    expect(
      productionMarker(
        [{ where: 'p', labels: { env: 'dev' } }],
        [{ where: 'f', displayName: 'products' }],
        labels,
      ),
    ).toBeNull();
  });
});

describe('decide after earlier failures', () => {
  it('asks a human instead of fixing automatically again', () => {
    const d = decide({
      finding: finding('compliance'),
      policy: policy(),
      action: action('low'),
      automation: automation(),
      production: null,
      previousFailures: 1,
    });
    expect(d.kind).toBe('approve');
    expect(d.factors.at(-1)?.factor).toMatch(/earlier automatic fix/);
  });
});

describe('decide with blast radius, confidence and change freezes', () => {
  const pol = (confidence?: 'high' | 'medium' | 'low') =>
    ({ id: 'p1', tags: [], ...(confidence ? { confidence } : {}) }) as unknown as PolicyFile;

  it('a blast radius above raise_above raises the risk; above approve_above a human approves', () => {
    const at = (count: number) =>
      decide({
        finding: finding('compliance'),
        policy: policy(),
        action: action('low'),
        automation: automation({ blast_radius: { raise_above: 10, approve_above: 50 } }),
        production: null,
        blastRadius: { count, what: `the rule applies to ${count} instance(s)` },
      });
    expect(at(10)).toMatchObject({ kind: 'auto', risk: 'low' });
    expect(at(11)).toMatchObject({ kind: 'approve', risk: 'medium' });
    expect(at(11).factors).toContainEqual({
      factor: 'blast radius: the rule applies to 11 instance(s) (more than 10)',
      effect: 'raised to medium',
    });
    // Public exposure is fixed at medium risk on its own — but not past approve_above.
    const wide = decide({
      finding: finding('security'),
      policy: policy(['public-exposure']),
      action: action('low'),
      automation: automation(),
      production: null,
      blastRadius: { count: 51, what: '51 IAM member grant(s) removed or changed' },
    });
    expect(wide.kind).toBe('approve');
    expect(wide.factors.at(-1)).toEqual({
      factor: 'blast radius: 51 IAM member grant(s) removed or changed (more than 50)',
      effect: 'approve',
    });
  });

  it('lower detection confidence raises the risk, and low confidence never runs without a human', () => {
    const d = (c?: 'high' | 'medium' | 'low', tags: PolicyFile['tags'] = []) =>
      decide({
        finding: finding(tags.length ? 'security' : 'compliance'),
        policy: { ...pol(c), tags } as PolicyFile,
        action: action('low'),
        automation: automation(),
        production: null,
      });
    expect(d()).toMatchObject({ kind: 'auto', risk: 'low' });
    expect(d('high')).toMatchObject({ kind: 'auto', risk: 'low' });
    expect(d('medium')).toMatchObject({ kind: 'approve', risk: 'medium' });
    const low = d('low', ['public-exposure']);
    expect(low).toMatchObject({ kind: 'approve', risk: 'medium' });
    expect(low.factors.map((f) => f.factor)).toEqual([
      'base risk of x.y.z',
      'low detection confidence of p1',
      'automation.security.auto_fix_public_resources',
      'low detection confidence: never executed without a human',
    ]);
  });

  it('during a change freeze an automatic fix waits for approval, and says which freeze', () => {
    const cfg = automation({
      guardrails: {
        freeze: [
          { start: '2026-12-20T00:00:00Z', end: '2027-01-04T00:00:00Z', reason: 'holiday freeze' },
          {
            weekly: { days: ['fri'], from: '16:00', to: '24:00' },
            time_zone: 'Europe/Paris',
            reason: 'Friday',
          },
        ],
      },
    });
    const at = (iso: string) =>
      decide({
        finding: finding('compliance'),
        policy: policy(),
        action: action('low'),
        automation: cfg,
        production: null,
        now: new Date(iso),
      });
    expect(at('2026-12-18T10:00:00Z').kind).toBe('auto');
    expect(at('2026-12-24T10:00:00Z')).toMatchObject({ kind: 'approve' });
    expect(at('2026-12-24T10:00:00Z').factors.at(-1)).toEqual({
      factor: 'change freeze (holiday freeze; 2026-12-20T00:00:00Z – 2027-01-04T00:00:00Z)',
      effect: 'approve: no automatic execution',
    });
    expect(at('2026-12-18T15:30:00Z').factors.at(-1)?.factor).toMatch(
      /change freeze \(Friday; fri 16:00–24:00/,
    );
    // Planning offline (no time given) knows of no freeze.
    expect(
      decide({
        finding: finding('compliance'),
        policy: policy(),
        action: action('low'),
        automation: cfg,
        production: null,
      }).kind,
    ).toBe('auto');
  });

  it('a higher risk never gets a looser decision than a lower one', () => {
    const cfg = automation();
    cfg.automation.compliance.auto_remediate_medium_risk_with_approval = false;
    cfg.automation.compliance.auto_remediate_high_risk = true;
    const at = (r: Risk) =>
      decide({
        finding: finding('compliance'),
        policy: policy(),
        action: action(r),
        automation: cfg,
        production: null,
      }).kind;
    expect([at('low'), at('medium'), at('high')]).toEqual(['auto', 'recommend', 'recommend']);
  });
});
