import { canonicalJson } from '../util/canonical-json.js';
import { rec } from './compute-fingerprint-patch.js';
import type { Json } from './compute-resource.js';
import { datasetPatchAction } from './bigquery-dataset-patch.js';

/** The members that make a dataset public (catalog F14: allAuthenticatedUsers is any Google account). */
const PUBLIC_MEMBERS = new Set(['allUsers', 'allAuthenticatedUsers']);

/**
 * Whether an access entry grants to everyone: specialGroup allAuthenticatedUsers (the REST spelling) or
 * iamMember allUsers / allAuthenticatedUsers; specialGroup allUsers is not a documented value but is read
 * the same way, as bq-dataset-public does.
 */
export function isPublicEntry(entry: unknown): boolean {
  const e = rec(entry);
  if (!e) return false;
  return (
    PUBLIC_MEMBERS.has(String(e['specialGroup'] ?? '')) || PUBLIC_MEMBERS.has(String(e['iamMember'] ?? ''))
  );
}

function accessOf(data: Json): unknown[] {
  return Array.isArray(data['access']) ? data['access'] : [];
}

/**
 * Removes the public entries from a BigQuery dataset's access list (bq-dataset-public, CIS 7.1):
 * datasets.get → datasets.patch {access: the list without allUsers / allAuthenticatedUsers entries} with
 * the dataset's etag as If-Match (412 if anyone changed the dataset since it was read). access[] is replaced
 * whole by the patch, so every other entry (project groups, users, groups, domains, authorized views,
 * conditional entries) is sent back unchanged. The dataset's IAM policy is the same list, so it loses the
 * public members too. Undo puts the captured list back if the dataset is still as the fix left it.
 */
export const removeDatasetPublicAccess = datasetPatchAction({
  id: 'bigquery.dataset.remove-public-access',
  title: 'Remove allUsers / allAuthenticatedUsers from a BigQuery dataset',
  risk: 'medium',
  aspect: accessOf,
  isFixed: (data) => !accessOf(data).some(isPublicEntry),
  fixBody: (data) => ({ access: accessOf(data).filter((e) => !isPublicEntry(e)) }),
  undoBody(before, live) {
    const was = accessOf(before);
    return canonicalJson(was) === canonicalJson(accessOf(live)) ? null : { access: was };
  },
  describe(ref, data) {
    const removed = accessOf(data).filter(isPublicEntry);
    return (
      `Remove the public access entries ${JSON.stringify(removed)} from BigQuery dataset ${ref.project}:${ref.dataset}: ` +
      're-read the dataset, then datasets.patch its access list without them, every other entry sent back ' +
      "unchanged, with the dataset's etag as If-Match (412 if anyone changed it since). Anonymous and " +
      'any-Google-account readers lose access, which is the point; intentionally public datasets should be ' +
      'exempted instead. Reversible: undo restores the previous access list if the dataset is still as the ' +
      'fix left it.'
    );
  },
});
