import { canonicalJson } from '../util/canonical-json.js';
import { rec } from './compute-fingerprint-patch.js';
import { missingLabels } from './compute-labels.js';
import type { Json } from './compute-resource.js';
import { settingsOf, sqlSettingsPatchAction } from './sql-instance-patch.js';

function userLabelsOf(data: Json): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(rec(settingsOf(data)['userLabels']) ?? {})) out[k] = String(v ?? '');
  return out;
}

/**
 * Adds the required labels a Cloud SQL instance lacks (labels-sql-instance-required; Cloud SQL keeps labels
 * in settings.userLabels): instances.patch {settings: {settingsVersion, userLabels: current + missing}}. Only
 * missing keys are added, with their configured defaults; no existing label is changed.
 *
 * Not reversible: instances.patch merges userLabels key by key and removes a label only when it is sent as
 * null (gcloud's ExplicitNullificationDiff), and the Cloud SQL client library cannot send null in a map (it
 * would send the string "null"). Undo therefore refuses and sends nothing unless the labels are already back.
 */
export const sqlInstanceAddRequiredLabels = sqlSettingsPatchAction({
  id: 'sqladmin.instance.add-required-labels',
  title: 'Add the required labels a Cloud SQL instance lacks',
  risk: 'low',
  reversible: false,
  aspect: userLabelsOf,
  isFixed: (data, settings) => Object.keys(missingLabels(userLabelsOf(data), settings)).length === 0,
  fixSettings(data, settings) {
    const labels = userLabelsOf(data);
    return { userLabels: { ...labels, ...missingLabels(labels, settings) } };
  },
  undoSettings(before, live) {
    if (canonicalJson(userLabelsOf(before)) === canonicalJson(userLabelsOf(live))) return null;
    const added = Object.keys(userLabelsOf(live)).filter((k) => !(k in userLabelsOf(before)));
    return (
      `removing the labels ${JSON.stringify(added)} needs them sent as null, which the Cloud SQL client library ` +
      'cannot express; remove them by hand (gcloud sql instances patch --remove-labels) if they must go'
    );
  },
  describe(ref, data, settings) {
    const added = missingLabels(userLabelsOf(data), settings);
    return (
      `Add the missing required labels ${JSON.stringify(added)} to Cloud SQL instance ${ref.project}:${ref.instance}, ` +
      'keeping every existing label unchanged: instances.patch settings.userLabels (current labels plus the ' +
      "missing ones) carrying the instance's current settingsVersion (412 staleData if anyone changed its " +
      'settings since), then poll the operation until DONE. Labels do not affect the database. Not reversible ' +
      'by Warden: the client library cannot send the null that removes a Cloud SQL label.'
    );
  },
});
