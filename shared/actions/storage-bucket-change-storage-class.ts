import { z } from 'zod';
import { bucketPatchAction, type BucketJson } from './bucket-setting.js';

/** Legacy classes (catalog F3); the current ones are STANDARD, NEARLINE, COLDLINE and ARCHIVE. */
const LEGACY = new Set(['MULTI_REGIONAL', 'REGIONAL', 'DURABLE_REDUCED_AVAILABILITY']);

function storageClassOf(bucket: BucketJson): string {
  const c = bucket['storageClass'];
  return typeof c === 'string' ? c : '';
}

function whatStandardMeans(data: BucketJson): string {
  const location = String(data['location'] ?? 'its location');
  const type = String(data['locationType'] ?? '').toLowerCase();
  const where =
    type === 'multi-region' || type === 'dual-region'
      ? `in its ${type} location ${location}, STANDARD is what MULTI_REGIONAL was (same geo-redundancy and price)`
      : type === 'region'
        ? `in its region ${location}, STANDARD is what REGIONAL was (same price)`
        : `STANDARD keeps the bucket's location ${location}: it is MULTI_REGIONAL's successor in a multi-region or dual-region and REGIONAL's in a region`;
  return (
    `The location does not change: ${where}; from DURABLE_REDUCED_AVAILABILITY it raises availability ` +
    '(DRA had a 99% SLA) at Standard prices.'
  );
}

/**
 * Replaces a legacy default storage class with STANDARD (storage-bucket-legacy-storage-class). Only the
 * bucket's default class changes: GCS never rewrites existing objects on a class change, they keep their class
 * until rewritten or moved by a lifecycle SetStorageClass rule. A bucket with a current class (NEARLINE,
 * COLDLINE, ARCHIVE or STANDARD) is never touched. Reversible: the legacy class can be set back.
 */
export const bucketChangeStorageClass = bucketPatchAction<string>({
  id: 'storage.bucket.change-storage-class',
  title: 'Replace the legacy default storage class of a Cloud Storage bucket with STANDARD',
  risk: 'low',
  valueSchema: z.string(),
  read: storageClassOf,
  isFixed: (value) => !LEGACY.has(value.toUpperCase()),
  fixBody: () => ({ storageClass: 'STANDARD' }),
  restoreBody: (before) => ({ storageClass: before }),
  describe: (bucket, data) =>
    `Set the default storageClass of bucket ${bucket} from ${storageClassOf(data) || 'its legacy class'} to ` +
    'STANDARD with buckets.patch guarded by its metageneration. Only the default class for new objects ' +
    'changes: existing objects keep their storage class until they are rewritten (gcloud storage objects ' +
    `update --storage-class=STANDARD) or a lifecycle rule moves them. ${whatStandardMeans(data)} Reversible: ` +
    'undo sets the previous class back if the bucket is still as the fix left it.',
});
