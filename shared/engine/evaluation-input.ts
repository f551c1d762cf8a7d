import type { Asset } from '../model/asset.js';
import type { EvaluationInput } from '../policy/policy-set.js';
import { isRelated } from '../policy/related.js';
import type { Deps } from './deps.js';

/**
 * What the engine knows beyond the asset: its ancestors from the store (for inherited settings such as
 * audit configs) and the time. VPC Service Controls perimeters are not tracked by the engine yet, so
 * perimeter rules see them as unknown and stay silent rather than guess.
 */
export async function evaluationInput(
  deps: Pick<Deps, 'repo' | 'clock' | 'policies'>,
  asset: Asset,
): Promise<EvaluationInput> {
  const ancestry: Asset[] = [];
  for (const a of asset.ancestors) {
    if (`//cloudresourcemanager.googleapis.com/${a}` === asset.name) continue;
    const stored = await deps.repo.getAsset(`//cloudresourcemanager.googleapis.com/${a}`);
    if (stored) ancestry.push(stored.asset);
  }
  const input: EvaluationInput = { ancestry, now: deps.clock.now().toISOString() };
  const relatedTypes = deps.policies.relatedTypesOf(asset.assetType);
  if (relatedTypes.length) {
    const candidates = (await Promise.all(relatedTypes.map((t) => deps.repo.listAssetsOfType(t)))).flat();
    input.related = (a, types) => candidates.filter((c) => types.includes(c.assetType) && isRelated(a, c));
    // The feeds and the sweep cover every related type, so an absent metric or contact is really absent.
    input.relatedKnown = relatedTypes;
  }
  return input;
}
