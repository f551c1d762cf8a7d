import { z } from 'zod';
import { bucketPatchAction, type BucketJson } from './bucket-setting.js';
import { missingLabels } from './compute-labels.js';

function labelsOf(bucket: BucketJson): Record<string, string> {
  const l = bucket['labels'];
  if (!l || typeof l !== 'object' || Array.isArray(l)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(l as Record<string, unknown>)) out[k] = String(v ?? '');
  return out;
}

/**
 * Adds the required labels a bucket lacks (settings.requiredLabels, labels-storage-bucket-required), with
 * their default values. buckets.patch merges `labels` key by key (JSON merge patch: a key set to null is
 * removed, keys not named stay), so the body names only the missing keys and no existing label, a human's
 * value included, can be overwritten; the write carries ifMetagenerationMatch. Undo removes exactly the added
 * keys (set to null) if the bucket's metadata is still as the fix left it.
 */
export const bucketAddRequiredLabels = bucketPatchAction<Record<string, string>>({
  id: 'storage.bucket.add-required-labels',
  title: 'Add the required labels a Cloud Storage bucket lacks',
  risk: 'low',
  valueSchema: z.record(z.string(), z.string()),
  read: labelsOf,
  isFixed: (labels, settings) => Object.keys(missingLabels(labels, settings)).length === 0,
  fixBody: (labels, settings) => ({ labels: missingLabels(labels, settings) }),
  restoreBody: (before, live) => {
    const labels: Record<string, string | null> = {};
    for (const k of Object.keys(live)) if (!(k in before)) labels[k] = null;
    for (const [k, v] of Object.entries(before)) if (live[k] !== v) labels[k] = v;
    return { labels };
  },
  describe: (bucket, data, settings) =>
    `Add the missing required labels ${JSON.stringify(missingLabels(labelsOf(data), settings))} to bucket ` +
    `${bucket} with buckets.patch guarded by its metageneration (412 conditionNotMet if the bucket changed). ` +
    'The patch names only the missing keys, so every existing label keeps its value. Reversible: undo removes ' +
    'the added keys if the bucket is still as the fix left it.',
});
