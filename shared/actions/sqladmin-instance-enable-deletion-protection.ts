import type { Json } from './compute-resource.js';
import { settingsOf, sqlSettingsPatchAction } from './sql-instance-patch.js';

function protectedFromDeletion(data: Json): boolean {
  return String(settingsOf(data)['deletionProtectionEnabled'] ?? false).toLowerCase() === 'true';
}

/**
 * Turns on deletion protection (sql-deletion-protection-disabled, CIS 6.9): instances.patch {settings:
 * {settingsVersion, deletionProtectionEnabled: true}}. It only blocks instances.delete until someone turns it
 * off, with no effect on the running database. Undo turns it off again (an absent field meant off).
 */
export const sqlInstanceEnableDeletionProtection = sqlSettingsPatchAction({
  id: 'sqladmin.instance.enable-deletion-protection',
  title: 'Turn on deletion protection for a Cloud SQL instance',
  risk: 'low',
  aspect: (data) => settingsOf(data)['deletionProtectionEnabled'],
  isFixed: protectedFromDeletion,
  fixSettings: () => ({ deletionProtectionEnabled: true }),
  undoSettings: (before, live) =>
    protectedFromDeletion(before) || !protectedFromDeletion(live)
      ? null
      : { deletionProtectionEnabled: false },
  describe(ref) {
    return (
      `Turn on deletion protection for Cloud SQL instance ${ref.project}:${ref.instance}: instances.patch ` +
      "settings.deletionProtectionEnabled true carrying the instance's current settingsVersion (412 staleData if " +
      'anyone changed its settings since), then poll the operation until DONE. It only blocks deleting the ' +
      'instance. Reversible: undo turns it off again if the settings are still as the fix left them.'
    );
  },
});
