import type { Asset } from '../model/asset.js';
import type { Plan } from '../model/action.js';
import type { Risk } from '../model/policy.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { CloudClients } from '../cloud/clients.js';
import type { PolicyParams } from '../policy/policy-params.js';

export interface ActionSettings {
  /** Source ranges an internet-open firewall rule is narrowed to (IAP TCP forwarding by default). */
  firewallSafeSourceRanges: string[];
  /** Label keys every VM and disk must carry: set from required_labels in policies/params.yaml. */
  requiredLabels: string[];
  /** The value a missing required label is added with, by key; keys not listed get `labelDefaultValue`. */
  labelDefaults: Record<string, string>;
  labelDefaultValue: string;
  /** Longest KMS rotation period, in days (max_key_age_days in policies/params.yaml). */
  maxKeyAgeDays: number;
  /** Region -> snapshot schedule resource policy a disk is attached to (snapshot_schedules in params.yaml). */
  snapshotSchedules: Record<string, string>;
}

export const DEFAULT_ACTION_SETTINGS: ActionSettings = {
  firewallSafeSourceRanges: ['35.235.240.0/20'],
  requiredLabels: ['env', 'team', 'cost-center'],
  labelDefaults: {},
  labelDefaultValue: 'unassigned',
  maxKeyAgeDays: 90,
  snapshotSchedules: {},
};

/** The settings the organization's params.yaml decides; the rest keep their defaults. */
export function actionSettingsFromParams(params: PolicyParams): ActionSettings {
  return {
    ...DEFAULT_ACTION_SETTINGS,
    // The label fixes add exactly the keys the label policies require: one list, in params.yaml.
    requiredLabels: params.required_labels,
    maxKeyAgeDays: params.max_key_age_days,
    snapshotSchedules: params.snapshot_schedules,
  };
}

export interface ActionContext {
  cloud: CloudClients;
  clock: Clock;
  logger: Logger;
  settings: ActionSettings;
}

/** What apply found and did. `before` is persisted by the executor before apply is called. */
export type ApplyOutcome =
  | { status: 'applied'; after: unknown }
  /** The live resource already has the fixed value: nothing was sent. Applying twice is a no-op. */
  | { status: 'already_applied'; after: unknown }
  /**
   * Nothing was sent, for `reason`. `stale`: only because the resource changed since its before-state was
   * captured, or while the fix was sent (a precondition failure); a fresh capture and plan may still succeed.
   */
  | { status: 'conflict'; reason: string; stale?: boolean }
  | { status: 'gone' };

export type UndoOutcome =
  | { status: 'restored' }
  /** The resource changed since our fix: restoring would overwrite someone's change, so nothing was sent. */
  | { status: 'refused'; reason: string }
  | { status: 'gone' };

/**
 * One remediation (design §4). Every step talks to GCP through the official clients in ctx.cloud;
 * reads-then-writes carry the resource's etag, metageneration or fingerprint as a precondition.
 */
export interface RemediationAction<Before = unknown> {
  id: string;
  title: string;
  risk: Risk;
  reversible: boolean;
  assetTypes: readonly string[];
  /** The exact requests apply will make, computed from the asset alone (dry runs, approvals). */
  plan(asset: Asset, settings: ActionSettings): Plan;
  /** Reads the live resource and returns what undo needs; null when the resource is gone. */
  captureBefore(asset: Asset, ctx: ActionContext): Promise<Before | null>;
  /** Applies the fix guarded by the captured state, and waits for any long-running operation. */
  apply(asset: Asset, before: Before, ctx: ActionContext): Promise<ApplyOutcome>;
  /** Re-reads the live resource as a CAI-shaped asset, for verification by the policy that found it. */
  readLive(asset: Asset, ctx: ActionContext): Promise<Asset | null>;
  /** Restores `before` unless the live resource differs from `after` (what apply left). */
  undo(asset: Asset, before: Before, after: unknown, ctx: ActionContext): Promise<UndoOutcome>;
}
