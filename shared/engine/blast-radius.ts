import type { Plan } from '../model/action.js';
import type { Asset } from '../model/asset.js';
import type { BlastRadius } from './decide.js';
import type { Repository } from './repository.js';

const FIREWALL = 'compute.googleapis.com/Firewall';
const INSTANCE = 'compute.googleapis.com/Instance';
const SERVICE_ACCOUNT = 'iam.googleapis.com/ServiceAccount';

type Json = Record<string, unknown>;

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
const objects = (v: unknown): Json[] =>
  Array.isArray(v) ? v.filter((x): x is Json => typeof x === 'object' && x !== null) : [];

/** projects/P/global/networks/N, whatever URL form (full, compute/v1-relative, or relative) names it. */
function networkKey(url: unknown): string | null {
  if (typeof url !== 'string') return null;
  const m = /projects\/[^/]+\/global\/networks\/[^/?]+/.exec(url);
  return m ? m[0] : null;
}

function instanceNetworks(data: Json): string[] {
  return objects(data['networkInterfaces'])
    .map((n) => networkKey(n['network']))
    .filter((n): n is string => n !== null);
}
const instanceTags = (data: Json): string[] => strings((data['tags'] as Json | undefined)?.['items']);
const instanceServiceAccounts = (data: Json): string[] =>
  objects(data['serviceAccounts'])
    .map((s) => s['email'])
    .filter((e): e is string => typeof e === 'string');

/**
 * The instances a firewall rule applies to: those on its network that carry one of its target tags or run
 * as one of its target service accounts, or every instance of the network when it names neither.
 */
export function firewallReach(firewall: Json, instances: readonly Asset[]): number {
  const network = networkKey(firewall['network']);
  if (!network) return 0;
  const tags = strings(firewall['targetTags']);
  const accounts = strings(firewall['targetServiceAccounts']);
  return instances.filter((i) => {
    const data = i.resource?.data ?? {};
    if (!instanceNetworks(data).includes(network)) return false;
    if (tags.length === 0 && accounts.length === 0) return true;
    return (
      instanceTags(data).some((t) => tags.includes(t)) ||
      instanceServiceAccounts(data).some((a) => accounts.includes(a))
    );
  }).length;
}

/** (role, member) pairs granted now that the plan's new policy drops, plus the pairs it adds. */
export function bindingChanges(asset: Asset, plan: Plan): number | null {
  const pairs = (bindings: Json[]): Set<string> =>
    new Set(
      bindings.flatMap((b) =>
        strings(b['members']).map(
          (m) => `${String(b['role'])}\u0000${m}\u0000${JSON.stringify(b['condition'] ?? null)}`,
        ),
      ),
    );
  const proposed = plan.requests
    .map((r) => r.body as Json | undefined)
    .map((body) => body?.['bindings'] ?? (body?.['policy'] as Json | undefined)?.['bindings'])
    .find((b) => Array.isArray(b));
  if (!proposed) return null;
  const now = pairs(objects(asset.iamPolicy?.bindings));
  const next = pairs(objects(proposed));
  let changed = 0;
  for (const p of now) if (!next.has(p)) changed += 1;
  for (const p of next) if (!now.has(p)) changed += 1;
  return changed;
}

/**
 * How far a change reaches, from the assets in the store (design §5). A bucket's objects are not in the
 * inventory, so a bucket change has no known radius. Every instance of the inventory is read for a
 * firewall rule or a service account: the store has no index from network to instance.
 */
export async function blastRadius(repo: Repository, asset: Asset, plan: Plan): Promise<BlastRadius | null> {
  const parts: BlastRadius[] = [];
  const data = asset.resource?.data ?? {};
  if (asset.assetType === FIREWALL) {
    const count = firewallReach(data, await repo.listAssetsOfType(INSTANCE));
    parts.push({
      count,
      what: `the rule applies to ${count} instance(s) of ${networkKey(data['network']) ?? 'its network'}`,
    });
  } else if (asset.assetType === SERVICE_ACCOUNT && typeof data['email'] === 'string') {
    const email = data['email'];
    const count = (await repo.listAssetsOfType(INSTANCE)).filter((i) =>
      instanceServiceAccounts(i.resource?.data ?? {}).includes(email),
    ).length;
    parts.push({ count, what: `${count} instance(s) run as ${email}` });
  }
  const bindings = bindingChanges(asset, plan);
  if (bindings !== null)
    parts.push({ count: bindings, what: `${bindings} IAM member grant(s) removed or changed` });
  if (parts.length === 0) return null;
  return { count: parts.reduce((n, p) => n + p.count, 0), what: parts.map((p) => p.what).join('; ') };
}
