import type { Asset } from '../model/asset.js';
import type { Category } from '../model/policy.js';
import type { Finding } from '../model/finding.js';
import type { FindingEvent } from '../model/events.js';
import type { Deps } from './deps.js';
import { evaluationInput } from './evaluation-input.js';
import type { FindingChange } from './repository.js';

export interface EvaluationCounts {
  evaluations: number;
  violations: number;
  errors: number;
}

/**
 * Runs the asset's policies on one stored asset state, records the verdicts and announces newly opened
 * findings on the findings topic (unless the caller announces them itself: the sweep does, once it knows
 * its per-run caps). Shared by the feed path and the sweep.
 */
export async function evaluateAsset(
  deps: Pick<Deps, 'policies' | 'repo' | 'bus' | 'logger' | 'clock'>,
  asset: Asset,
  version: string,
  source: Finding['source'],
  actor: string,
  /** category: only that category's policies are evaluated (and only their findings change), e.g. `harden`. */
  opts: { announce?: boolean; category?: Category } = {},
): Promise<{ counts: EvaluationCounts; changes: FindingChange[]; flagged: string[] }> {
  const all = deps.policies.evaluate(asset, await evaluationInput(deps, asset));
  const results = opts.category ? all.filter((r) => r.policy.def.category === opts.category) : all;
  const counts: EvaluationCounts = { evaluations: results.length, violations: 0, errors: 0 };
  // Policies this resource violates and is not exempt from: what the per-run cap counts.
  const flagged: string[] = [];
  for (const r of results) {
    if (r.verdict.kind === 'violation') counts.violations += 1;
    if (r.verdict.kind === 'violation' && !r.exemption) flagged.push(r.policy.def.id);
    if (r.verdict.kind === 'error') {
      counts.errors += 1;
      deps.logger.warn('policy could not be evaluated', {
        policyId: r.policy.def.id,
        asset: asset.name,
        error: r.verdict.message,
      });
    }
  }
  const changes = await deps.repo.recordVerdicts({ asset, version, results, source, actor });
  if (opts.announce ?? true) await announce(deps, changes, actor);
  return { counts, changes, flagged };
}

/** What announcing a finding change needs (the sweep keeps only this until it announces). */
export type AnnouncedChange = {
  change: FindingChange['change'];
  finding: Pick<Finding, 'id' | 'assetVersion' | 'status' | 'policyId'>;
};

export function announcedChange(c: FindingChange): AnnouncedChange {
  const { id, assetVersion, status, policyId } = c.finding;
  return { change: c.change, finding: { id, assetVersion, status, policyId } };
}

/** Announces opened findings; a resolved or suppressed finding's pending actions no longer stand. */
export async function announce(
  deps: Pick<Deps, 'bus' | 'repo'>,
  changes: readonly AnnouncedChange[],
  actor = 'detect',
  attributes: Record<string, string> = {},
): Promise<void> {
  for (const c of changes) {
    if (c.change === 'resolved' || c.change === 'suppressed') {
      await deps.repo.expirePendingActions(c.finding.id, actor, `finding ${c.change} before the action ran`);
      continue;
    }
    const event: FindingEvent = {
      kind: 'finding',
      findingId: c.finding.id,
      assetVersion: c.finding.assetVersion,
      status: c.finding.status,
    };
    await deps.bus.publish('findings', {
      data: event,
      attributes: { ...attributes, policyId: c.finding.policyId },
    });
  }
}

/**
 * Announces again the resource's open findings that changed after `since` (an asset version). Called once
 * an action ends without a fix that holds: a change seen while it was under way (its own rollback, a
 * person's edit) may have reopened findings that were then set aside; now the decision sees the failed or
 * rolled-back fix and asks a human.
 */
export async function reannounceOpenFindings(
  deps: Pick<Deps, 'bus' | 'repo'>,
  resourceName: string,
  since: string,
): Promise<number> {
  const open = await deps.repo.listFindings({
    where: [
      ['resourceName', '==', resourceName],
      ['status', '==', 'open'],
    ],
  });
  const changed = open.filter((f) => f.assetVersion > since);
  for (const f of changed) {
    const event: FindingEvent = {
      kind: 'finding',
      findingId: f.id,
      assetVersion: f.assetVersion,
      status: f.status,
    };
    await deps.bus.publish('findings', { data: event, attributes: { policyId: f.policyId } });
  }
  return changed.length;
}
