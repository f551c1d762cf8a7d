import type { Deps, HandlerResult } from '../../shared/engine/deps.js';
import { decide, productionMarker } from '../../shared/engine/decide.js';
import { parseJsonMessage, rejectMessage } from '../../shared/engine/reject.js';
import type { Action, ActionState, DecisionKind } from '../../shared/model/action.js';
import { labelsOf, type Asset } from '../../shared/model/asset.js';
import { FindingEventSchema } from '../../shared/model/events.js';
import type { BusMessage } from '../../shared/ports/bus.js';
import { stableId } from '../../shared/ports/ids.js';

const ACTOR = 'assess-risk';

const STATE_FOR: Record<DecisionKind, ActionState> = {
  auto: 'planned',
  approve: 'awaiting_approval',
  recommend: 'recommended',
  suppress: 'suppressed',
};

export function actionIdFor(findingId: string, actionType: string, assetVersion: string): string {
  return stableId('action', findingId, actionType, assetVersion);
}

/**
 * Turns an open finding into a decision and a planned action. The finding in the store is the truth: the
 * event only names it, so a late or repeated event re-derives the same action id and changes nothing.
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
  // Two policies may call for the same change on one resource (SSH open, and any port open): while one such
  // action is on its way, a second would only apply the same change again.
  const inFlight = await deps.repo.listActions({
    where: [
      ['resourceName', '==', finding.resourceName],
      ['state', 'in', ['planned', 'approved', 'executing', 'succeeded']],
    ],
  });
  const same = inFlight.find((a) => a.actionType === action.id && a.findingId !== finding.id);
  if (same)
    return { status: 'ignored', reason: `the same change is already under way (${same.id}, ${same.state})` };

  const production = await findProduction(deps, stored.asset);
  const previousFailures = await deps.repo.countActions([
    ['findingId', '==', finding.id],
    ['state', 'in', ['failed', 'rolled_back']],
  ]);
  const decision = decide({
    finding,
    policy: policy.def,
    action,
    automation: deps.automation,
    production,
    previousFailures,
  });
  const now = deps.clock.now().toISOString();
  const candidate: Action = {
    id: actionIdFor(finding.id, action.id, finding.assetVersion),
    findingId: finding.id,
    policyId: finding.policyId,
    actionType: action.id,
    resourceName: finding.resourceName,
    assetType: finding.assetType,
    project: finding.project,
    assetVersion: finding.assetVersion,
    state: STATE_FOR[decision.kind],
    decision,
    plan: action.plan(stored.asset, deps.actionSettings),
    reversible: action.reversible,
    step: 'none',
    beforeState: null,
    afterState: null,
    error: null,
    attempts: 0,
    leaseUntil: null,
    createdAt: now,
    updatedAt: now,
    revision: 0,
  };
  const { created, action: current } = await deps.repo.createAction(candidate, {
    actor: ACTOR,
    reason: decision.factors.map((f) => `${f.factor}: ${f.effect}`).join('; '),
  });
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
