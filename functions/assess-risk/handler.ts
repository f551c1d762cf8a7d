import { actionPlan } from '../../shared/actions/action-plan.js';
import { INITIAL_STATE, changeUnderWay } from '../../shared/engine/action-machine.js';
import { blastRadius } from '../../shared/engine/blast-radius.js';
import type { Deps, HandlerResult } from '../../shared/engine/deps.js';
import { decide, productionMarker } from '../../shared/engine/decide.js';
import { guardrailAdmission } from '../../shared/engine/guardrail-admission.js';
import { parseJsonMessage, rejectMessage } from '../../shared/engine/reject.js';
import { explainDecision } from '../../shared/engine/repository.js';
import type { Action, ActionState } from '../../shared/model/action.js';
import { labelsOf, type Asset } from '../../shared/model/asset.js';
import { FindingEventSchema, REQUESTED_BY_ATTRIBUTE } from '../../shared/model/events.js';
import type { BusMessage } from '../../shared/ports/bus.js';
import { stableId } from '../../shared/ports/ids.js';

const ACTOR = 'assess-risk';
/** The message attribute naming the sweep run a finding was announced by (for the per-run cap). */
export const SWEEP_ATTRIBUTE = 'sweepId';

const IN_FLIGHT: readonly ActionState[] = ['planned', 'approved', 'executing', 'succeeded'];

function underWayReason(busy: Action): string {
  return IN_FLIGHT.includes(busy.state)
    ? `the same change is already under way (${busy.id}, ${busy.state})`
    : `a rollback of the same change is under way (${busy.id})`;
}

/** An irreversible change says so in its plan, wherever the plan is shown (approvals, dry runs, the API). */
export function actionIdFor(findingId: string, actionType: string, assetVersion: string): string {
  return stableId('action', findingId, actionType, assetVersion);
}

/**
 * Turns an open finding into a decision and a planned action. The finding in the store is the truth: the
 * event only names it, so a late or repeated event re-derives the same action id and changes nothing.
 * Rate limits, the circuit breaker and the per-run cap are applied where the action is created, in one
 * transaction with the counters they keep.
 */
export async function handleFinding(msg: BusMessage, deps: Deps): Promise<HandlerResult> {
  const parsed = parseJsonMessage(msg, FindingEventSchema);
  if (!parsed.ok) return rejectMessage(deps, 'findings', msg, parsed.reason);
  const finding = await deps.repo.getFinding(parsed.value.findingId);
  if (!finding) return rejectMessage(deps, 'findings', msg, `unknown finding ${parsed.value.findingId}`);
  if (finding.status !== 'open') return { status: 'ignored', reason: `finding is ${finding.status}` };
  if (finding.remediation?.kind !== 'action') return { status: 'ignored', reason: 'policy only recommends' };

  const policy = deps.policies.get(finding.policyId);
  const action = deps.actions.get(finding.remediation.action);
  if (!policy) return rejectMessage(deps, 'findings', msg, `policy ${finding.policyId} is not loaded`);
  if (!action) {
    return {
      status: 'ignored',
      reason: `action ${finding.remediation.action} is not available in this version: recommend only`,
    };
  }
  const stored = await deps.repo.getAsset(finding.resourceName);
  if (!stored) return { status: 'ignored', reason: 'resource no longer exists' };
  // The history of this change on this resource, whichever policy asked for it (SSH open, and any port
  // open, ask for the same fix). While one such action is on its way — or being rolled back — a second
  // would only apply the same change again; a change that failed or was undone is not redone blindly.
  const now = deps.clock.now();
  const id = actionIdFor(finding.id, action.id, finding.assetVersion);
  const history = (await deps.repo.actionsOn(finding.resourceName)).filter((a) => a.actionType === action.id);
  const busy = history.find((a) => a.id !== id && changeUnderWay(a, now.toISOString()));
  if (busy) return { status: 'ignored', reason: underWayReason(busy) };

  const production = await findProduction(deps, stored.asset);
  const previousFailures = history.filter((a) => a.state === 'failed' || a.state === 'rolled_back').length;
  const plan = actionPlan(action, stored.asset, deps.actionSettings);
  const decision = decide({
    finding,
    policy: policy.def,
    action,
    automation: deps.automation,
    production,
    previousFailures,
    blastRadius: await blastRadius(deps.repo, stored.asset, plan),
    now,
  });
  const at = now.toISOString();
  const candidate: Action = {
    id,
    findingId: finding.id,
    policyId: finding.policyId,
    actionType: action.id,
    resourceName: finding.resourceName,
    assetType: finding.assetType,
    project: finding.project,
    assetVersion: finding.assetVersion,
    state: INITIAL_STATE[decision.kind],
    decision,
    plan,
    reversible: action.reversible,
    step: 'none',
    beforeState: null,
    afterState: null,
    error: null,
    attempts: 0,
    replans: 0,
    requestedBy: msg.attributes[REQUESTED_BY_ATTRIBUTE] || null,
    leaseUntil: null,
    createdAt: at,
    updatedAt: at,
    revision: 0,
  };
  const sweepId = msg.attributes[SWEEP_ATTRIBUTE] || null;
  // The history above is read outside the transaction: two findings decided at once both see it empty.
  // The creating transaction checks again, exactly.
  const {
    created,
    superseded,
    action: current,
  } = await deps.repo.createAction(
    candidate,
    { actor: ACTOR, reason: explainDecision(candidate) },
    {
      admission: guardrailAdmission(deps.automation.guardrails, now, sweepId, ACTOR),
      exclusive: { now: at },
    },
  );
  if (superseded) return { status: 'ignored', reason: underWayReason(current) };
  if (current.state === 'planned') {
    await deps.bus.publish('actions', { data: { kind: 'action', actionId: current.id } });
  } else if (created && current.state === 'awaiting_approval') {
    await deps.bus.publish('approval-requests', { data: { kind: 'action', actionId: current.id } });
  }
  return created
    ? { status: 'done', detail: `${current.id} ${current.state}` }
    : { status: 'ignored', reason: `action ${current.id} already ${current.state}` };
}

async function findProduction(deps: Deps, asset: Asset): Promise<string | null> {
  const labelsets = [{ where: asset.name, labels: labelsOf(asset) }];
  const folders: Array<{ where: string; displayName: string }> = [];
  for (const ancestor of asset.ancestors) {
    const stored = await deps.repo.getAsset(`//cloudresourcemanager.googleapis.com/${ancestor}`);
    if (!stored) continue;
    if (ancestor.startsWith('projects/')) labelsets.push({ where: ancestor, labels: labelsOf(stored.asset) });
    if (ancestor.startsWith('folders/')) {
      const displayName = stored.asset.resource?.data['displayName'];
      if (typeof displayName === 'string') folders.push({ where: ancestor, displayName });
    }
  }
  return productionMarker(labelsets, folders, deps.automation.production_labels);
}
