import { listAssets } from '../../shared/cloud/list-assets.js';
import type { Deps, HandlerResult } from '../../shared/engine/deps.js';
import { evaluateAsset, type EvaluationCounts } from '../../shared/engine/evaluate-asset.js';
import { trackedAssetTypes } from '../../shared/engine/asset-scope.js';
import { parseJsonMessage, rejectMessage } from '../../shared/engine/reject.js';
import { SweepEventSchema, type FindingEvent } from '../../shared/model/events.js';
import type { Finding } from '../../shared/model/finding.js';
import type { ContentType } from '../../shared/model/asset.js';
import type { BusMessage } from '../../shared/ports/bus.js';
import { comparableTime } from '../../shared/util/timestamps.js';

const ACTOR = 'sweep';
const SWEEPS = 'sweeps';
const CONTENT_TYPES: ContentType[] = ['RESOURCE', 'IAM_POLICY'];

export interface SweepReport extends EvaluationCounts {
  sweepId: string;
  scope: string;
  assets: number;
  resolvedMissing: number;
  resumedActions: number;
  startedAt: string;
  finishedAt: string;
}

/**
 * The periodic full scan, the safety net for lost or late feed messages: list every asset under the scope
 * through Cloud Asset Inventory, bring the stored state up to date, evaluate everything, close findings of
 * resources that no longer exist, and hand stuck actions back to the executor.
 */
export async function handleSweep(
  msg: BusMessage,
  deps: Deps,
  onProgress?: (done: number, total: number) => void,
): Promise<HandlerResult & { report?: SweepReport }> {
  const parsed = parseJsonMessage(msg, SweepEventSchema);
  if (!parsed.ok) return rejectMessage(deps, 'sweeps', msg, parsed.reason);
  const { scope } = parsed.value;
  const sweepId = parsed.value.sweepId ?? `pubsub-${msg.messageId}`;
  const previous = await deps.repo.store.get(SWEEPS, sweepId);
  if (previous?.['finishedAt']) return { status: 'ignored', reason: `sweep ${sweepId} already ran` };

  const startedAt = deps.clock.now().toISOString();
  const assetTypes = trackedAssetTypes(deps.policies);
  const seen = new Set<string>();
  for (const contentType of CONTENT_TYPES) {
    for await (const listed of listAssets(deps.cloud, { scope, contentType, assetTypes })) {
      if (listed.asset === null) {
        deps.logger.warn('listed asset not understood', {
          name: listed.name,
          reason: listed.reason,
          contentType,
        });
        continue;
      }
      const { asset, readTime } = listed;
      seen.add(asset.name);
      await deps.repo.applyAssetChange(
        { kind: 'upsert', asset, contentType, changeTime: asset.updateTime ?? readTime },
        ACTOR,
      );
    }
  }

  const counts: EvaluationCounts = { evaluations: 0, violations: 0, errors: 0 };
  let done = 0;
  for (const name of seen) {
    const stored = await deps.repo.getAsset(name);
    done += 1;
    onProgress?.(done, seen.size);
    if (!stored) continue;
    const r = await evaluateAsset(deps, stored.asset, stored.version, 'sweep', ACTOR);
    counts.evaluations += r.counts.evaluations;
    counts.violations += r.counts.violations;
    counts.errors += r.counts.errors;
  }

  let resolvedMissing = 0;
  const open = await deps.repo.listFindings({ where: [['status', '==', 'open']] });
  const sweepVersion = comparableTime(startedAt);
  for (const f of open) {
    const inScope =
      scope === f.project || f.ancestors.includes(scope) || f.resourceName.endsWith(`/${scope}`);
    if (!inScope || seen.has(f.resourceName)) continue;
    resolvedMissing += (
      await deps.repo.resolveFindingsOf(
        f.resourceName,
        sweepVersion,
        ACTOR,
        'resource no longer listed by Cloud Asset Inventory',
      )
    ).length;
  }

  const resumedActions = await resumeStuckActions(deps);
  await reannounceOrphans(deps, await deps.repo.listFindings({ where: [['status', '==', 'open']] }));
  const report: SweepReport = {
    sweepId,
    scope,
    assets: seen.size,
    ...counts,
    resolvedMissing,
    resumedActions,
    startedAt,
    finishedAt: deps.clock.now().toISOString(),
  };
  await deps.repo.store.set(SWEEPS, sweepId, { ...report });
  return { status: 'done', detail: `${seen.size} assets, ${counts.violations} violations`, report };
}

/**
 * Open findings with a remediation but no action under way (a lost message, or a change another action
 * covered and did not fix) are announced again; assess-risk derives the same action id, so this is idempotent.
 */
async function reannounceOrphans(deps: Deps, open: Finding[]): Promise<void> {
  for (const f of open) {
    if (f.remediation?.kind !== 'action' || !deps.actions.has(f.remediation.action)) continue;
    const active = await deps.repo.countActions([
      ['findingId', '==', f.id],
      ['state', 'in', ['planned', 'awaiting_approval', 'approved', 'executing', 'succeeded']],
    ]);
    if (active === 0) {
      const event: FindingEvent = {
        kind: 'finding',
        findingId: f.id,
        assetVersion: f.assetVersion,
        status: 'open',
      };
      await deps.bus.publish('findings', { data: event, attributes: { policyId: f.policyId } });
    }
  }
}

/** Actions whose executor vanished (lease expired) or whose message was lost are offered again. */
async function resumeStuckActions(deps: Deps): Promise<number> {
  const now = deps.clock.now().toISOString();
  const pending = await deps.repo.listActions({
    where: [['state', 'in', ['planned', 'approved', 'executing']]],
  });
  let resumed = 0;
  for (const a of pending) {
    if (a.state === 'executing' && a.leaseUntil && a.leaseUntil > now) continue;
    await deps.bus.publish('actions', { data: { kind: 'action', actionId: a.id } });
    resumed += 1;
  }
  return resumed;
}
