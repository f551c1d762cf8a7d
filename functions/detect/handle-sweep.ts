import { listAssets } from '../../shared/cloud/list-assets.js';
import { expireApprovals } from '../../shared/approvals/expire.js';
import type { Deps, HandlerResult } from '../../shared/engine/deps.js';
import {
  announce,
  announcedChange,
  evaluateAsset,
  type AnnouncedChange,
  type EvaluationCounts,
} from '../../shared/engine/evaluate-asset.js';
import { trackedAssetTypes } from '../../shared/engine/asset-scope.js';
import { parseJsonMessage, rejectMessage } from '../../shared/engine/reject.js';
import { pruneGuardrailDocs } from '../../shared/engine/guardrail-housekeeping.js';
import { openRunCaps } from '../../shared/engine/run-cap.js';
import type { ActionState } from '../../shared/model/action.js';
import {
  REQUESTED_BY_ATTRIBUTE,
  SweepEventSchema,
  type FindingEvent,
  type OutcomeEvent,
} from '../../shared/model/events.js';
import type { Finding } from '../../shared/model/finding.js';
import type { ContentType } from '../../shared/model/asset.js';
import type { BusMessage } from '../../shared/ports/bus.js';
import { comparableTime } from '../../shared/util/timestamps.js';

const ACTOR = 'sweep';
export const SWEEPS = 'sweeps';
const CONTENT_TYPES: ContentType[] = ['RESOURCE', 'IAM_POLICY'];
/** States an executor holds under a lease: resumed by the sweep once the lease has expired. */
const LEASED: readonly ActionState[] = ['executing', 'succeeded'];
const ENDED: Array<OutcomeEvent['state'] & ActionState> = ['verified', 'failed', 'rolled_back'];

export interface SweepReport extends EvaluationCounts {
  sweepId: string;
  scope: string;
  assets: number;
  resolvedMissing: number;
  resumedActions: number;
  /** Ended actions whose outcome message was lost (a crash between the end and the report): sent again. */
  republishedOutcomes: number;
  /** Rate-limit counters and run caps no decision will read again, deleted. */
  prunedGuardrailDocs: number;
  startedAt: string;
  finishedAt: string;
}

/**
 * The periodic full scan, the safety net for lost or late feed messages: list every asset under the scope
 * through Cloud Asset Inventory, bring the stored state up to date, evaluate everything, close findings of
 * resources that no longer exist, and hand stuck actions back to the executor. Findings are announced once
 * everything is evaluated, named by the run (sweepId), after the run's per-policy caps are stored.
 */
export async function handleSweep(
  msg: BusMessage,
  deps: Deps,
  onProgress?: (done: number, total: number) => void,
): Promise<HandlerResult & { report?: SweepReport }> {
  const parsed = parseJsonMessage(msg, SweepEventSchema);
  if (!parsed.ok) return rejectMessage(deps, 'sweeps', msg, parsed.reason);
  const { scope, resource, requestedBy } = parsed.value;
  // optimize / harden / compliance sweeps evaluate only their category's policies; 'all' evaluates every one.
  const category = parsed.value.category === 'all' ? undefined : parsed.value.category;
  const sweepId = parsed.value.sweepId ?? `pubsub-${msg.messageId}`;
  const previous = await deps.repo.store.get(SWEEPS, sweepId);
  if (previous?.['finishedAt']) return { status: 'ignored', reason: `sweep ${sweepId} already ran` };

  const startedAt = deps.clock.now().toISOString();
  const tracked = trackedAssetTypes(deps.policies);
  if (resource && !tracked.includes(resource.assetType))
    return rejectMessage(deps, 'sweeps', msg, `no policy handles asset type ${resource.assetType}`);
  // The Asset API lists by scope and type, not by name: one resource is its type listed, the rest skipped.
  const assetTypes = resource ? [resource.assetType] : tracked;
  const seen = new Set<string>();
  for (const contentType of CONTENT_TYPES) {
    for await (const listed of listAssets(deps.cloud, { scope, contentType, assetTypes })) {
      if (resource && (listed.asset ? listed.asset.name : listed.name) !== resource.name) continue;
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
  const changes: AnnouncedChange[] = [];
  const flagged = new Map<string, number>();
  let done = 0;
  for (const name of seen) {
    const stored = await deps.repo.getAsset(name);
    done += 1;
    onProgress?.(done, seen.size);
    if (!stored) continue;
    const r = await evaluateAsset(deps, stored.asset, stored.version, 'sweep', ACTOR, {
      announce: false,
      ...(category ? { category } : {}),
    });
    counts.evaluations += r.counts.evaluations;
    counts.violations += r.counts.violations;
    counts.errors += r.counts.errors;
    changes.push(...r.changes.map(announcedChange));
    for (const p of r.flagged) flagged.set(p, (flagged.get(p) ?? 0) + 1);
  }
  await openRunCaps(deps.repo.store, deps.automation.guardrails.per_run_cap, sweepId, flagged, startedAt);
  const run = { sweepId };
  await announce(deps, changes, ACTOR, {
    ...run,
    ...(requestedBy ? { [REQUESTED_BY_ATTRIBUTE]: requestedBy } : {}),
  });

  let resolvedMissing = 0;
  const open = await deps.repo.listFindings({ where: [['status', '==', 'open']] });
  const sweepVersion = comparableTime(startedAt);
  for (const f of open) {
    const inScope = resource
      ? f.resourceName === resource.name
      : scope === f.project || f.ancestors.includes(scope) || f.resourceName.endsWith(`/${scope}`);
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
  const republishedOutcomes = await republishLostOutcomes(deps);
  // Findings this run just announced have no action yet only because assess-risk has not got to them.
  const announced = new Set(changes.map((c) => c.finding.id));
  const stillOpen = await deps.repo.listFindings({ where: [['status', '==', 'open']] });
  await reannounceOrphans(
    deps,
    stillOpen.filter((f) => !announced.has(f.id)),
    run,
  );
  // Approval requests past their expiry fail closed here too, so none waits on the approval tick alone.
  await expireApprovals(deps, deps.clock.now());
  const prunedGuardrailDocs = await pruneGuardrailDocs(deps.repo.store, deps.clock.now());
  const report: SweepReport = {
    sweepId,
    scope,
    assets: seen.size,
    ...counts,
    resolvedMissing,
    resumedActions,
    republishedOutcomes,
    prunedGuardrailDocs,
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
async function reannounceOrphans(deps: Deps, open: Finding[], run: { sweepId: string }): Promise<void> {
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
      await deps.bus.publish('findings', { data: event, attributes: { ...run, policyId: f.policyId } });
    }
  }
}

/**
 * Actions whose executor vanished (lease expired) or whose message was lost are offered again; the
 * executor resumes them from their recorded step.
 */
async function resumeStuckActions(deps: Deps): Promise<number> {
  const now = deps.clock.now().toISOString();
  const pending = await deps.repo.listActions({
    where: [['state', 'in', ['planned', 'approved', ...LEASED]]],
  });
  let resumed = 0;
  for (const a of pending) {
    if (LEASED.includes(a.state) && a.leaseUntil && a.leaseUntil > now) continue;
    await deps.bus.publish('actions', { data: { kind: 'action', actionId: a.id } });
    resumed += 1;
  }
  return resumed;
}

async function republishLostOutcomes(deps: Deps): Promise<number> {
  const reported = await deps.repo.reportedOutcomes();
  const ended = await deps.repo.listActions({ where: [['state', 'in', ENDED]] });
  let sent = 0;
  for (const a of ended) {
    if (reported.get(a.id) === a.state) continue;
    const event: OutcomeEvent = { kind: 'outcome', actionId: a.id, state: a.state as OutcomeEvent['state'] };
    await deps.bus.publish('outcomes', { data: event });
    sent += 1;
  }
  return sent;
}
