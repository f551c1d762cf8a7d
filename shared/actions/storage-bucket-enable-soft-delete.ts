import { z } from 'zod';
import { WardenError } from '../model/errors.js';
import { bucketPatchAction, type BucketJson } from './bucket-setting.js';

/** GCS's default soft delete retention, 7 days (allowed: 0 = off, or 604800 to 7776000 seconds = 7 to 90 days). */
export const SOFT_DELETE_SECONDS = '604800';

/** retentionDurationSeconds as a decimal string (an int64: a string in the JSON API, a number in some CAI data). */
function retentionOf(bucket: BucketJson): string | null {
  const p = bucket['softDeletePolicy'];
  if (!p || typeof p !== 'object') return null;
  const v = (p as Record<string, unknown>)['retentionDurationSeconds'];
  return v === undefined || v === null ? null : String(v);
}

/**
 * Turns soft delete back on with GCS's default 7-day retention (storage-bucket-soft-delete-disabled). Only an
 * explicit retention of 0 is changed: a bucket reporting any other duration, a human's 30 days say, is left
 * as it is, and one reporting no softDeletePolicy is not judged. Reversible: undo sets 0 again.
 */
export const bucketEnableSoftDelete = bucketPatchAction<string | null>({
  id: 'storage.bucket.enable-soft-delete',
  title: 'Turn soft delete back on for a Cloud Storage bucket (7 days)',
  risk: 'low',
  valueSchema: z.string().nullable(),
  read: retentionOf,
  isFixed: (value) => value !== '0',
  fixBody: () => ({ softDeletePolicy: { retentionDurationSeconds: SOFT_DELETE_SECONDS } }),
  restoreBody: (before) => {
    // apply only ever changes a bucket that reported an explicit duration, so `before` has one.
    if (before === null)
      throw new WardenError('the recorded before-state has no soft delete duration to restore', {
        retryable: false,
        code: 'invalid_state',
      });
    return { softDeletePolicy: { retentionDurationSeconds: before } };
  },
  describe: (bucket) =>
    `Set softDeletePolicy.retentionDurationSeconds of bucket ${bucket} from 0 to ${SOFT_DELETE_SECONDS} (7 ` +
    "days, GCS's default) with buckets.patch guarded by its metageneration. Objects deleted or overwritten " +
    'from then on stay recoverable for 7 days, and are billed as stored for that time (soft delete costs ' +
    'storage, most on buckets of short-lived data); objects deleted before are not brought back. Reversible: ' +
    'undo sets the duration back to 0 if the bucket is still as the fix left it.',
});
