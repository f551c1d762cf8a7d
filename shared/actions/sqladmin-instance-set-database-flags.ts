import { canonicalJson } from '../util/canonical-json.js';
import { rec } from './compute-fingerprint-patch.js';
import type { Json } from './compute-resource.js';
import { engineOf, settingsOf, sqlSettingsPatchAction } from './sql-instance-patch.js';

export interface DatabaseFlag {
  name: string;
  value?: string;
}

/**
 * One CIS flag rule, as the sql-* policy that names this action reads it: the engine, the flag, when the
 * flag list violates the policy, and the fix (a value, or removing the flag so the engine default applies).
 */
export interface FlagRule {
  policy: string;
  engine: 'mysql' | 'postgres' | 'sqlserver';
  flag: string;
  violates(values: string[]): boolean;
  fix: { value: string } | { remove: true };
  /** Cloud SQL restarts the instance to apply the change (or may: conservative for MySQL and SQL Server). */
  restart: boolean;
}

const ON = ['on', 'true', '1'];
const OFF = ['off', 'false', '0'];
const someIn = (set: string[]) => (values: string[]) => values.some((v) => set.includes(v));
const noneIn = (set: string[]) => (values: string[]) => !values.some((v) => set.includes(v));

/**
 * The 16 flag policies that name sqladmin.instance.set-database-flags, with the target values their
 * descriptions state (sql-postgres-pgaudit-disabled is recommend-only: the flag alone audits nothing).
 */
export const FLAG_RULES: readonly FlagRule[] = [
  {
    policy: 'sql-mysql-local-infile-on',
    engine: 'mysql',
    flag: 'local_infile',
    violates: noneIn(OFF),
    fix: { value: 'off' },
    restart: true,
  },
  {
    policy: 'sql-mysql-skip-show-database-off',
    engine: 'mysql',
    flag: 'skip_show_database',
    violates: noneIn(ON),
    fix: { value: 'on' },
    restart: true,
  },
  {
    policy: 'sql-postgres-log-connections-off',
    engine: 'postgres',
    flag: 'log_connections',
    violates: noneIn(ON),
    fix: { value: 'on' },
    restart: false,
  },
  {
    policy: 'sql-postgres-log-disconnections-off',
    engine: 'postgres',
    flag: 'log_disconnections',
    violates: noneIn(ON),
    fix: { value: 'on' },
    restart: false,
  },
  {
    policy: 'sql-postgres-log-error-verbosity-verbose',
    engine: 'postgres',
    flag: 'log_error_verbosity',
    violates: someIn(['verbose']),
    fix: { value: 'default' },
    restart: false,
  },
  {
    policy: 'sql-postgres-log-min-duration-statement-enabled',
    engine: 'postgres',
    flag: 'log_min_duration_statement',
    violates: (values) => values.some((v) => v !== '' && v !== '-1'),
    fix: { value: '-1' },
    restart: false,
  },
  {
    policy: 'sql-postgres-log-min-error-statement-too-low',
    engine: 'postgres',
    flag: 'log_min_error_statement',
    violates: someIn(['debug5', 'debug4', 'debug3', 'debug2', 'debug1', 'info', 'notice', 'warning']),
    fix: { value: 'error' },
    restart: false,
  },
  {
    policy: 'sql-postgres-log-min-messages-too-low',
    engine: 'postgres',
    flag: 'log_min_messages',
    violates: someIn(['debug5', 'debug4', 'debug3', 'debug2', 'debug1', 'info', 'notice']),
    fix: { value: 'warning' },
    restart: false,
  },
  {
    policy: 'sql-postgres-log-statement-not-ddl',
    engine: 'postgres',
    flag: 'log_statement',
    violates: noneIn(['ddl', 'mod', 'all']),
    fix: { value: 'ddl' },
    restart: false,
  },
  {
    policy: 'sql-sqlserver-contained-db-authentication-on',
    engine: 'sqlserver',
    flag: 'contained database authentication',
    violates: someIn(ON),
    fix: { value: 'off' },
    restart: true,
  },
  // Deprecated: it can no longer be set to on; removed, the default (off) applies.
  {
    policy: 'sql-sqlserver-cross-db-ownership-chaining-on',
    engine: 'sqlserver',
    flag: 'cross db ownership chaining',
    violates: someIn(ON),
    fix: { remove: true },
    restart: true,
  },
  {
    policy: 'sql-sqlserver-external-scripts-enabled',
    engine: 'sqlserver',
    flag: 'external scripts enabled',
    violates: someIn(ON),
    fix: { value: 'off' },
    restart: true,
  },
  {
    policy: 'sql-sqlserver-remote-access-on',
    engine: 'sqlserver',
    flag: 'remote access',
    violates: noneIn(OFF),
    fix: { value: 'off' },
    restart: true,
  },
  {
    policy: 'sql-sqlserver-trace-flag-3625-off',
    engine: 'sqlserver',
    flag: '3625',
    violates: noneIn(ON),
    fix: { value: 'on' },
    restart: true,
  },
  {
    policy: 'sql-sqlserver-user-connections-limited',
    engine: 'sqlserver',
    flag: 'user connections',
    violates: (values) => values.some((v) => v !== '' && v !== '0'),
    fix: { value: '0' },
    restart: true,
  },
  {
    policy: 'sql-sqlserver-user-options-configured',
    engine: 'sqlserver',
    flag: 'user options',
    violates: (values) => values.length > 0,
    fix: { remove: true },
    restart: true,
  },
];

export function databaseFlagsOf(data: Json): DatabaseFlag[] {
  const list = settingsOf(data)['databaseFlags'];
  if (!Array.isArray(list)) return [];
  return list
    .map((f) => rec(f))
    .filter((f): f is Json => f !== undefined && typeof f['name'] === 'string')
    .map((f) =>
      f['value'] === undefined || f['value'] === null
        ? { name: String(f['name']) }
        : { name: String(f['name']), value: String(f['value']) },
    );
}

/** The flag's values as the policies compare them: trimmed, lower-case, "" for a flag without value. */
function valuesOf(flags: readonly DatabaseFlag[], name: string): string[] {
  return flags.filter((f) => f.name === name).map((f) => (f.value ?? '').trim().toLowerCase());
}

/** The rules the instance's flags break, for its engine. */
export function violatedRules(data: Json): FlagRule[] {
  const engine = engineOf(data);
  const flags = databaseFlagsOf(data);
  return FLAG_RULES.filter((r) => r.engine === engine && r.violates(valuesOf(flags, r.flag)));
}

/**
 * The full flag list with every violated rule fixed: each flag keeps its place (a fixed one gets its new
 * value there, a removed one is dropped, duplicates of a fixed name go), missing ones are appended in rule
 * order, and every other flag stays as it is.
 */
export function fixedFlags(data: Json): DatabaseFlag[] {
  const fixes = new Map(violatedRules(data).map((r) => [r.flag, r.fix] as const));
  const out: DatabaseFlag[] = [];
  const placed = new Set<string>();
  for (const f of databaseFlagsOf(data)) {
    const fix = fixes.get(f.name);
    if (!fix) out.push(f);
    else if ('value' in fix && !placed.has(f.name)) out.push({ name: f.name, value: fix.value });
    placed.add(f.name);
  }
  for (const [flag, fix] of fixes)
    if ('value' in fix && !placed.has(flag)) out.push({ name: flag, value: fix.value });
  return out;
}

/**
 * Sets the CIS database flags of a Cloud SQL instance (the sql-mysql-*, sql-postgres-* and sql-sqlserver-*
 * flag policies, CIS 6.1–6.3). The action receives the asset, not the finding, so it fixes every flag rule
 * of FLAG_RULES the live instance breaks, for its engine, in one instances.patch {settings:
 * {settingsVersion, databaseFlags}}. databaseFlags is replaced wholesale (catalog F11: "any flag not
 * specifically included is set to its default value"), so the full current list is sent with only the
 * broken flags changed, added or removed. Several of these flags restart the instance.
 *
 * The gax client drops an empty list from the request. A fix never leaves the list empty (each engine has
 * flags CIS wants present), but an undo to an instance that had no flags cannot be sent and is refused with
 * the reason. Undo cannot turn "cross db ownership chaining" back on either (Cloud SQL no longer accepts on).
 */
export const sqlInstanceSetDatabaseFlags = sqlSettingsPatchAction({
  id: 'sqladmin.instance.set-database-flags',
  title: 'Set the CIS database flags of a Cloud SQL instance',
  risk: 'medium',
  aspect: databaseFlagsOf,
  isFixed: (data) => violatedRules(data).length === 0,
  fixSettings: (data) => ({ databaseFlags: fixedFlags(data) }),
  undoSettings(before, live) {
    const was = databaseFlagsOf(before);
    if (canonicalJson(was) === canonicalJson(databaseFlagsOf(live))) return null;
    if (was.length === 0) {
      return (
        'the instance had no database flags, and restoring that needs an explicit empty databaseFlags list ' +
        "that Cloud SQL's client library cannot send"
      );
    }
    const chaining = was.find(
      (f) => f.name === 'cross db ownership chaining' && ON.includes((f.value ?? '').trim().toLowerCase()),
    );
    if (chaining)
      return '"cross db ownership chaining" was on, and Cloud SQL no longer accepts setting it on';
    return { databaseFlags: was };
  },
  describe(ref, data) {
    const rules = violatedRules(data);
    const changes = rules.map((r) => ('value' in r.fix ? `${r.flag}=${r.fix.value}` : `remove "${r.flag}"`));
    const restart = rules.some((r) => r.restart);
    return (
      `Set the database flags of Cloud SQL instance ${ref.project}:${ref.instance} (${engineOf(data) || 'unknown engine'}) ` +
      `that break CIS: ${changes.join(', ') || 'none as captured'} (${rules.map((r) => r.policy).join(', ') || '-'}). ` +
      'databaseFlags is replaced wholesale, so instances.patch sends the full current list with only those flags ' +
      "changed, carrying the instance's current settingsVersion (412 staleData if anyone changed its settings " +
      'since), then polls the operation until DONE. ' +
      (restart
        ? 'Changing these flags restarts the instance (brief downtime): run it in a maintenance window. '
        : 'These flags apply without a restart. ') +
      'Reversible: undo restores the previous flag list if the settings are still as the fix left them.'
    );
  },
});
