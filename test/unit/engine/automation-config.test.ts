import { describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadAutomationConfig } from '../../../shared/config/automation-config.js';
import { projectRoot } from '../../../shared/util/project-root.js';

describe('policies/automation.yaml', () => {
  it('the shipped file loads, with its guardrails', async () => {
    const cfg = await loadAutomationConfig(path.join(projectRoot(), 'policies', 'automation.yaml'));
    expect(cfg.blast_radius).toEqual({ raise_above: 10, approve_above: 50 });
    expect(cfg.guardrails.rate_limits.per_project).toEqual({ max: 25, window_minutes: 60 });
    expect(cfg.guardrails.circuit_breaker).toMatchObject({
      enabled: true,
      min_outcomes: 5,
      failure_rate: 0.5,
    });
    expect(cfg.guardrails.freeze).toEqual([]);
    expect(cfg.guardrails.per_run_cap).toEqual({ max_resources: 25 });
  });

  it('a file without guardrails still loads: every guardrail has a default', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'warden-automation-'));
    try {
      const file = path.join(dir, 'automation.yaml');
      await writeFile(
        file,
        [
          'automation:',
          '  compliance: { enabled: true, auto_remediate_low_risk: true, auto_remediate_medium_risk_with_approval: true, auto_remediate_high_risk: false }',
          '  cost_optimization: { enabled: true, auto_apply_threshold_dollars: 100, auto_apply_low_risk_only: true }',
          '  security: { enabled: true, auto_patch_critical: true, auto_fix_public_resources: true }',
        ].join('\n'),
      );
      const cfg = await loadAutomationConfig(file);
      expect(cfg.guardrails.rate_limits).toEqual({ by_action_type: {} });
      expect(cfg.guardrails.circuit_breaker.cooldown_minutes).toBe(30);

      await writeFile(
        file,
        [
          'automation:',
          '  compliance: { enabled: true, auto_remediate_low_risk: true, auto_remediate_medium_risk_with_approval: true, auto_remediate_high_risk: false }',
          '  cost_optimization: { enabled: true, auto_apply_threshold_dollars: 100, auto_apply_low_risk_only: true }',
          '  security: { enabled: true, auto_patch_critical: true, auto_fix_public_resources: true }',
          'guardrails:',
          '  circuit_breaker: { failure_rate: 1.5 }',
          '  freeze:',
          '    - { start: "2026-12-20", end: "2026-12-01", reason: "backwards" }',
        ].join('\n'),
      );
      await expect(loadAutomationConfig(file)).rejects.toThrow(
        /automation\.yaml:6.*failure_rate|automation\.yaml:6/,
      );
      await expect(loadAutomationConfig(file)).rejects.toThrow(/automation\.yaml:8.*end must be after start/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
