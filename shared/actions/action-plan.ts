import type { Asset } from '../model/asset.js';
import type { Plan } from '../model/action.js';
import type { ActionSettings, RemediationAction } from './types.js';

/**
 * The plan an action is decided, approved and re-planned on: the action's own, saying so when the change
 * cannot be undone. One function, so that a re-plan compares like with like against what was approved.
 */
export function actionPlan(action: RemediationAction, asset: Asset, settings: ActionSettings): Plan {
  const plan = action.plan(asset, settings);
  if (action.reversible || /irreversible|cannot be undone|cannot be rolled back/i.test(plan.description))
    return plan;
  return {
    ...plan,
    description: `${plan.description} Irreversible: this change cannot be rolled back, so it is never made automatically above low risk.`,
  };
}
