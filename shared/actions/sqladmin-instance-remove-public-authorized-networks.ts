import { canonicalJson } from '../util/canonical-json.js';
import { rec } from './compute-fingerprint-patch.js';
import type { Json } from './compute-resource.js';
import { settingsOf, sqlSettingsPatchAction } from './sql-instance-patch.js';

const WORLD = new Set(['0.0.0.0/0', '::/0']);

function authorizedNetworksOf(data: Json): Json[] {
  const list = rec(settingsOf(data)['ipConfiguration'])?.['authorizedNetworks'];
  return Array.isArray(list) ? list.filter((e): e is Json => rec(e) !== undefined) : [];
}

function isWorld(entry: Json): boolean {
  return WORLD.has(String(entry['value'] ?? '').trim());
}

function remaining(data: Json): Json[] {
  return authorizedNetworksOf(data).filter((e) => !isWorld(e));
}

/**
 * Removes 0.0.0.0/0 and ::/0 from a Cloud SQL instance's authorized networks (sql-authorized-network-world,
 * CIS 6.5): instances.patch {settings: {settingsVersion, ipConfiguration: {authorizedNetworks: the list
 * without them}}}. A sent list replaces the instance's list, so every other entry goes back unchanged (name,
 * value, expirationTime).
 *
 * When only world-open entries are listed the result is an empty list, which Cloud SQL clears only when it
 * is sent explicitly (gcloud --clear-authorized-networks sends `[]`). The gax client Warden uses drops empty
 * lists from every request, so it cannot say that: such an instance is refused with the reason and left to a
 * human (or to sql-instance-public-ip's private-IP route).
 */
export const sqlInstanceRemovePublicAuthorizedNetworks = sqlSettingsPatchAction({
  id: 'sqladmin.instance.remove-public-authorized-networks',
  title: 'Remove 0.0.0.0/0 and ::/0 from a Cloud SQL instance’s authorized networks',
  risk: 'medium',
  refusal(data) {
    if (!authorizedNetworksOf(data).some(isWorld) || remaining(data).length > 0) return undefined;
    return (
      'every authorized network is world-open, and clearing the list needs an explicit empty authorizedNetworks ' +
      "that Cloud SQL's client library cannot send (it omits empty lists); remove them with " +
      '`gcloud sql instances patch --clear-authorized-networks` after checking who connects, or turn the public IP off'
    );
  },
  aspect: authorizedNetworksOf,
  isFixed: (data) => !authorizedNetworksOf(data).some(isWorld),
  fixSettings: (data) => ({ ipConfiguration: { authorizedNetworks: remaining(data) } }),
  undoSettings(before, live) {
    const was = authorizedNetworksOf(before);
    if (canonicalJson(was) === canonicalJson(authorizedNetworksOf(live))) return null;
    return { ipConfiguration: { authorizedNetworks: was } };
  },
  describe(ref, data) {
    const removed = authorizedNetworksOf(data).filter(isWorld);
    return (
      `Remove the world-open authorized networks ${JSON.stringify(removed)} from Cloud SQL instance ` +
      `${ref.project}:${ref.instance}: instances.patch settings.ipConfiguration.authorizedNetworks with the ` +
      "remaining entries, unchanged, carrying the instance's current settingsVersion (412 staleData if anyone " +
      'changed its settings since), then poll the operation until DONE. Clients outside the remaining networks ' +
      'lose direct access to the public IP, which is the point (the Cloud SQL Auth Proxy and connectors keep ' +
      'working). Reversible: undo restores the previous list if the settings are still as the fix left them.'
    );
  },
});
