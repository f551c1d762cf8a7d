import type { RemediationAction } from '../actions/types.js';
import type { AutomationConfig } from '../config/automation-config.js';
import type { Decision, DecisionKind } from '../model/action.js';
import type { Finding } from '../model/finding.js';
import { RISKS, riskRank, type Risk } from '../model/policy.js';
import type { PolicyFile } from '../policy/policy-schema.js';
import { activeFreeze } from './freeze-windows.js';
import { applyGuardrails } from './guardrails.js';

/** How many workloads or bindings a change reaches, and what they are. */
export interface BlastRadius {
  count: number;
  what: string;
}

export interface RiskInputs {
  finding: Pick<Finding, 'category'>;
  policy: PolicyFile;
  action: RemediationAction;
  automation: AutomationConfig;
  /** Where production was recognised (e.g. "label env=prod on projects/123"), or null. */
  production: string | null;
  /** Earlier actions making the same change on the same resource that failed or were rolled back. */
  previousFailures?: number;
  /** Where the change's reach is known (firewall rules, service accounts, IAM); null: unknown. */
  blastRadius?: BlastRadius | null;
  /** When the decision is taken, for change-freeze windows; absent: no freeze applies (offline planning). */
  now?: Date;
}

function raise(r: Risk): Risk {
  return RISKS[Math.min(riskRank(r) + 1, RISKS.length - 1)]!;
}

/**
 * Decision = the action's base risk, raised by environment, blast radius, irreversibility and detection
 * confidence, then automation.yaml, then guardrails, which can only make it safer (design §5). Every factor
 * is recorded so the decision explains itself. Guardrails that need the store (rate limits, the circuit
 * breaker, per-run caps) are applied when the action is created, in the same transaction.
 */
export function decide(input: RiskInputs): Decision {
  const factors: Decision['factors'] = [];
  let risk: Risk = input.action.risk;
  factors.push({ factor: `base risk of ${input.action.id}`, effect: risk });
  if (input.production) {
    risk = raise(risk);
    factors.push({ factor: `production environment (${input.production})`, effect: `raised to ${risk}` });
  }
  const radius = input.blastRadius ?? null;
  const limits = input.automation.blast_radius;
  if (radius && radius.count > limits.raise_above) {
    risk = raise(risk);
    factors.push({
      factor: `blast radius: ${radius.what} (more than ${limits.raise_above})`,
      effect: `raised to ${risk}`,
    });
  }
  if (!input.action.reversible) {
    risk = raise(risk);
    factors.push({ factor: 'the change cannot be undone', effect: `raised to ${risk}` });
  }
  const confidence = input.policy.confidence ?? 'high';
  if (confidence !== 'high') {
    risk = raise(risk);
    factors.push({
      factor: `${confidence} detection confidence of ${input.policy.id}`,
      effect: `raised to ${risk}`,
    });
  }

  let kind: DecisionKind;
  const a = input.automation.automation;
  const category = input.finding.category;
  if (category === 'security' && !a.security.enabled) {
    kind = 'recommend';
    factors.push({ factor: 'automation.security.enabled is false', effect: 'recommend only' });
  } else if (category === 'compliance' && !a.compliance.enabled) {
    kind = 'recommend';
    factors.push({ factor: 'automation.compliance.enabled is false', effect: 'recommend only' });
  } else if (category === 'cost' && !a.cost_optimization.enabled) {
    kind = 'recommend';
    factors.push({ factor: 'automation.cost_optimization.enabled is false', effect: 'recommend only' });
  } else if (
    category === 'security' &&
    input.policy.tags.includes('public-exposure') &&
    a.security.auto_fix_public_resources &&
    risk !== 'high'
  ) {
    kind = 'auto';
    factors.push({ factor: 'automation.security.auto_fix_public_resources', effect: `auto at ${risk} risk` });
  } else if (risk === 'low') {
    kind = a.compliance.auto_remediate_low_risk ? 'auto' : 'approve';
    factors.push({ factor: 'automation.compliance.auto_remediate_low_risk', effect: kind });
  } else if (risk === 'medium') {
    kind = a.compliance.auto_remediate_medium_risk_with_approval ? 'approve' : 'recommend';
    factors.push({ factor: 'automation.compliance.auto_remediate_medium_risk_with_approval', effect: kind });
  } else {
    // High risk always needs an explicit human; without auto_remediate_high_risk Warden only recommends.
    // A higher risk never gets a looser decision: if medium-risk fixes are recommend-only, so are these.
    const medium = a.compliance.auto_remediate_medium_risk_with_approval;
    kind = a.compliance.auto_remediate_high_risk && medium ? 'approve' : 'recommend';
    factors.push({
      factor:
        a.compliance.auto_remediate_high_risk && !medium
          ? 'automation.compliance.auto_remediate_high_risk, but medium-risk fixes are recommend only'
          : 'automation.compliance.auto_remediate_high_risk',
      effect: kind,
    });
  }

  if (!input.action.reversible && kind === 'auto' && risk !== 'low') {
    kind = 'approve';
    factors.push({
      factor: 'irreversible actions are never auto-executed above low risk',
      effect: 'approve',
    });
  }
  // A fix that already failed or did not hold on this resource is not retried blindly: that is how
  // automation cascades (fix, roll back, re-detect, fix again…). A human looks first.
  if (kind === 'auto' && (input.previousFailures ?? 0) > 0) {
    kind = 'approve';
    factors.push({
      factor: `${input.previousFailures} earlier automatic fix(es) making this change on this resource failed or were rolled back`,
      effect: 'approve',
    });
  }
  if (kind === 'auto' && confidence === 'low') {
    kind = 'approve';
    factors.push({ factor: 'low detection confidence: never executed without a human', effect: 'approve' });
  }
  if (kind === 'auto' && radius && radius.count > limits.approve_above) {
    kind = 'approve';
    factors.push({
      factor: `blast radius: ${radius.what} (more than ${limits.approve_above})`,
      effect: 'approve',
    });
  }
  return applyGuardrails(
    { kind, risk, factors, dryRun: input.automation.dry_run },
    {
      dryRun: input.automation.dry_run,
      freeze: input.now ? activeFreeze(input.automation.guardrails.freeze, input.now) : null,
    },
  );
}

/** Production by a label on the resource or its project, or a folder whose display name says prod. */
export function productionMarker(
  labelsets: Array<{ where: string; labels: Record<string, string> }>,
  folders: Array<{ where: string; displayName: string }>,
  productionLabels: Record<string, string[]>,
): string | null {
  for (const { where, labels } of labelsets) {
    for (const [key, values] of Object.entries(productionLabels)) {
      const v = labels[key];
      if (v !== undefined && values.includes(v.toLowerCase())) return `label ${key}=${v} on ${where}`;
    }
  }
  for (const f of folders) {
    if (/(^|[^a-z])prod(uction)?([^a-z]|$)/i.test(f.displayName) && !/non-?prod/i.test(f.displayName))
      return `folder "${f.displayName}" (${f.where})`;
  }
  return null;
}
