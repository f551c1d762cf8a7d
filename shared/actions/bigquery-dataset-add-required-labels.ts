import { missingLabels } from './compute-labels.js';
import { rec } from './compute-fingerprint-patch.js';
import type { Json } from './compute-resource.js';
import { datasetPatchAction } from './bigquery-dataset-patch.js';

function labelsOf(data: Json): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(rec(data['labels']) ?? {})) out[k] = String(v ?? '');
  return out;
}

/**
 * Adds the required labels a BigQuery dataset lacks (labels-bigquery-dataset-required), with their
 * configured default values; no existing label is changed. datasets.patch merges `labels` key by key (a
 * key set to null is removed, BigQuery's documented way to delete a label), so the full merged map is sent
 * with the etag as If-Match. Undo sends the added keys as null, which the JSON client can express.
 */
export const addDatasetRequiredLabels = datasetPatchAction({
  id: 'bigquery.dataset.add-required-labels',
  title: 'Add the required labels a BigQuery dataset lacks',
  risk: 'low',
  aspect: labelsOf,
  isFixed: (data, settings) => Object.keys(missingLabels(labelsOf(data), settings)).length === 0,
  fixBody: (data, settings) => {
    const labels = labelsOf(data);
    return { labels: { ...labels, ...missingLabels(labels, settings) } };
  },
  undoBody(before, live) {
    const was = labelsOf(before);
    const now = labelsOf(live);
    const labels: Record<string, string | null> = {};
    for (const k of Object.keys(now)) if (!(k in was)) labels[k] = null;
    for (const [k, v] of Object.entries(was)) if (now[k] !== v) labels[k] = v;
    return Object.keys(labels).length > 0 ? { labels } : null;
  },
  describe(ref, data, settings) {
    const added = missingLabels(labelsOf(data), settings);
    return (
      `Add the missing required labels ${JSON.stringify(added)} to BigQuery dataset ${ref.project}:${ref.dataset}, ` +
      'keeping every existing label unchanged: re-read the dataset, then datasets.patch its labels with the ' +
      "dataset's etag as If-Match (412 if anyone changed it since). Reversible: undo removes the added labels " +
      '(set to null) if the dataset is still as the fix left it.'
    );
  },
});
