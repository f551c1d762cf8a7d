import { rec } from './compute-fingerprint-patch.js';
import type { Json } from './compute-resource.js';
import { isReadReplica, settingsOf, sqlSettingsPatchAction } from './sql-instance-patch.js';

/** The backup window start (UTC, HH:MM) used when the instance has none; 4 h, like Cloud SQL's windows. */
export const DEFAULT_BACKUP_START_TIME = '02:00';

function backupConfigurationOf(data: Json): Json {
  return rec(settingsOf(data)['backupConfiguration']) ?? {};
}

function backupsOn(data: Json): boolean {
  return String(backupConfigurationOf(data)['enabled'] ?? false).toLowerCase() === 'true';
}

/**
 * Turns on automated backups (sql-backups-disabled, CIS 6.8): instances.patch {settings: {settingsVersion,
 * backupConfiguration: {…current, enabled: true, startTime: current or 02:00}}}. Only `enabled` is required by
 * the policy, so binary logging (MySQL) and point-in-time recovery are left as they are. Read replicas cannot
 * have automated backups and are refused, as the policy skips them.
 *
 * Undo sends the previous backupConfiguration back (enabled false, or {enabled: false} when the instance had
 * none: the client cannot send the configuration's absence). Backups taken meanwhile stay and are retained
 * by Cloud SQL's own retention.
 */
export const sqlInstanceEnableBackups = sqlSettingsPatchAction({
  id: 'sqladmin.instance.enable-backups',
  title: 'Turn on automated backups for a Cloud SQL instance',
  risk: 'low',
  refusal: (data) =>
    isReadReplica(data) ? 'it is a read replica, and Cloud SQL does not back up read replicas' : undefined,
  aspect: backupConfigurationOf,
  isFixed: backupsOn,
  fixSettings(data) {
    const current = backupConfigurationOf(data);
    return {
      backupConfiguration: {
        ...current,
        enabled: true,
        startTime:
          typeof current['startTime'] === 'string' ? current['startTime'] : DEFAULT_BACKUP_START_TIME,
      },
    };
  },
  undoSettings(before, live) {
    if (backupsOn(before) || !backupsOn(live)) return null;
    const was = backupConfigurationOf(before);
    return { backupConfiguration: { ...was, enabled: false } };
  },
  describe(ref, data) {
    const start = backupConfigurationOf(data)['startTime'];
    return (
      `Turn on automated backups for Cloud SQL instance ${ref.project}:${ref.instance}: instances.patch ` +
      `settings.backupConfiguration {…its current configuration, enabled: true, startTime: ${typeof start === 'string' ? start : `${DEFAULT_BACKUP_START_TIME} (default)`}} ` +
      "carrying the instance's current settingsVersion (412 staleData if anyone changed its settings since), then " +
      'poll the operation until DONE. Adds backup storage cost; binary logging and point-in-time recovery are not ' +
      'changed. Reversible: undo turns automated backups off again if the settings are still as the fix left them.'
    );
  },
});
