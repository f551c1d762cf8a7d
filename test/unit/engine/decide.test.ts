import { describe, expect, it } from '@jest/globals';
import type { RemediationAction } from '../../../shared/actions/types.js';
import { AutomationConfigSchema, type AutomationConfig } from '../../../shared/config/automation-config.js';
import { decide, productionMarker } from '../../../shared/engine/decide.js';
import type { Finding } from '../../../shared/model/finding.js';
import type { Risk } from '../../../shared/model/policy.js';
import type { PolicyFile } from '../../../shared/policy/policy-schema.js';

const automation = (over: Partial<AutomationConfig> = {}): AutomationConfig =>
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
