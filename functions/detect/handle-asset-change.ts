import { decodeFeedMessage } from '../../shared/contracts/cai.js';
import type { Deps, HandlerResult } from '../../shared/engine/deps.js';
import { announce, evaluateAsset } from '../../shared/engine/evaluate-asset.js';
import { rejectMessage } from '../../shared/engine/reject.js';
import { isTracked } from '../../shared/engine/asset-scope.js';
import type { BusMessage } from '../../shared/ports/bus.js';

const ACTOR = 'detect';

/**
 * A Cloud Asset Inventory feed message: merge the changed part into the stored asset (late and duplicate
 * parts lose), re-run the asset's policies on the merged state, and announce what opened.
 */
export async function handleAssetChange(msg: BusMessage, deps: Deps): Promise<HandlerResult> {
  const decoded = decodeFeedMessage(msg.data.toString('utf8'));
  if (decoded.kind === 'welcome') {
    deps.logger.info('feed welcome message', { text: decoded.text });
    return { status: 'ignored', reason: 'feed welcome message' };
  }
  if (decoded.kind === 'invalid') return rejectMessage(deps, 'asset-changes', msg, decoded.reason);

  const change = decoded.change;
  const assetType = change.kind === 'delete' ? change.assetType : change.asset.assetType;
  if (!isTracked(deps.policies, assetType)) {
    return rejectMessage(deps, 'asset-changes', msg, `no policy handles asset type ${assetType}`);
  }

  const applied = await deps.repo.applyAssetChange(change, ACTOR);
  if (applied.status !== 'applied') {
    const reason = applied.status === 'stale' ? `stale change: ${applied.reason}` : 'duplicate change';
    deps.logger.info('asset change skipped', { messageId: msg.messageId, reason });
    return { status: 'ignored', reason };
  }
  const ancestors = change.kind === 'delete' ? change.ancestors : change.asset.ancestors;
  await reevaluateRelating(deps, assetType, ancestors);
  if (applied.asset === null) {
    const name = change.kind === 'delete' ? change.name : change.asset.name;
    const changes = await deps.repo.resolveFindingsOf(name, applied.version, ACTOR, 'resource deleted');
    await announce(deps, changes, ACTOR);
    return { status: 'done', detail: `deleted; ${changes.length} finding(s) closed` };
  }
  const { counts, changes } = await evaluateAsset(deps, applied.asset, applied.version, 'feed', ACTOR);
  return {
    status: 'done',
    detail: `${counts.evaluations} evaluated, ${counts.violations} violating, ${changes.length} finding change(s)`,
  };
}

/**
 * A log metric, alert policy or contact changed: the projects, folders or organization whose policies read
 * such assets as `related` context are judged again, since their verdict may have changed with it.
 */
async function reevaluateRelating(deps: Deps, assetType: string, ancestors: string[]): Promise<void> {
  const relating = deps.policies.typesRelatingTo(assetType);
  if (relating.length === 0) return;
  for (const a of ancestors) {
    const stored = await deps.repo.getAsset(`//cloudresourcemanager.googleapis.com/${a}`);
    if (stored && relating.includes(stored.asset.assetType)) {
      await evaluateAsset(deps, stored.asset, stored.version, 'feed', ACTOR);
    }
  }
}
