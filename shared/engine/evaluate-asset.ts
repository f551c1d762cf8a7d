import type { Asset } from '../model/asset.js';
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
 * findings on the findings topic. Shared by the feed path and the sweep.
 */
export async function evaluateAsset(
  deps: Pick<Deps, 'policies' | 'repo' | 'bus' | 'logger' | 'clock'>,
  asset: Asset,
  version: string,
  source: Finding['source'],
  actor: string,
): Promise<{ counts: EvaluationCounts; changes: FindingChange[] }> {
  const results = deps.policies.evaluate(asset, await evaluationInput(deps, asset));
  const counts: EvaluationCounts = { evaluations: results.length, violations: 0, errors: 0 };
  for (const r of results) {
    if (r.verdict.kind === 'violation') counts.violations += 1;
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
  await announce(deps, changes, actor);
  return { counts, changes };
}

/** Announces opened findings; a resolved or suppressed finding's pending actions no longer stand. */
export async function announce(
  deps: Pick<Deps, 'bus' | 'repo'>,
  changes: FindingChange[],
  actor = 'detect',
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
    await deps.bus.publish('findings', { data: event, attributes: { policyId: c.finding.policyId } });
  }
}
