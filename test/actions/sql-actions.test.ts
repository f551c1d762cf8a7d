import { afterEach, describe, expect, it } from '@jest/globals';
import { sqlInstanceAddRequiredLabels } from '../../shared/actions/sqladmin-instance-add-required-labels.js';
import { sqlInstanceEnableBackups } from '../../shared/actions/sqladmin-instance-enable-backups.js';
import { sqlInstanceEnableDeletionProtection } from '../../shared/actions/sqladmin-instance-enable-deletion-protection.js';
import { sqlInstanceRemovePublicAuthorizedNetworks } from '../../shared/actions/sqladmin-instance-remove-public-authorized-networks.js';
import { sqlInstanceRequireSsl } from '../../shared/actions/sqladmin-instance-require-ssl.js';
import {
  FLAG_RULES,
  sqlInstanceSetDatabaseFlags,
} from '../../shared/actions/sqladmin-instance-set-database-flags.js';
import { DEFAULT_ACTION_SETTINGS, type RemediationAction } from '../../shared/actions/types.js';
import type { Asset } from '../../shared/model/asset.js';
import { WardenError } from '../../shared/model/errors.js';
import { SQL_V1, sqlInstanceAsset } from '../twin/sql-fixtures.js';
import { PROJECT_ID, startHarness, type TwinHarness } from '../twin/twin-fixtures.js';
import { actionContext, rejection } from './action-context.js';
import {
  basicsOf,
  describeActionContract,
  request,
  sameData,
  type ActionContract,
  type CaseBasics,
} from './action-contract.js';
import { expectRegistered, policiesNaming, verdict } from './policies.js';

const API = 'https://sqladmin.googleapis.com';

type Data = Record<string, unknown>;

interface Case extends CaseBasics {
  /** The settings patch the plan and the fix send (settingsVersion aside). */
  fixSettings: Data;
  /** The part of the instance the fix changes, and its value once fixed. */
  field: (data: Data) => unknown;
  fixed: unknown;
  /** Undo can be expressed (else it refuses and sends nothing). */
  reversible: boolean;
  /** The before-state as undo can send it back, when Cloud SQL refuses the recorded one. */
  restorable?: (before: Data) => Data;
}

const settingsOf = (d: Data): Data => (d['settings'] ?? {}) as Data;
const ipOf = (d: Data): Data => (settingsOf(d)['ipConfiguration'] ?? {}) as Data;
const ssl = (d: Data) => ({ sslMode: ipOf(d)['sslMode'], requireSsl: ipOf(d)['requireSsl'] });

const PG_BAD_FLAGS = [
  { name: 'cloudsql.iam_authentication', value: 'on' },
  { name: 'log_connections', value: 'off' },
  { name: 'log_error_verbosity', value: 'VERBOSE' },
  { name: 'log_min_duration_statement', value: '0' },
  { name: 'log_min_error_statement', value: 'notice' },
  { name: 'log_min_messages', value: 'debug1' },
  { name: 'log_statement', value: 'none' },
];
const PG_FIXED_FLAGS = [
  { name: 'cloudsql.iam_authentication', value: 'on' },
  { name: 'log_connections', value: 'on' },
  { name: 'log_error_verbosity', value: 'default' },
  { name: 'log_min_duration_statement', value: '-1' },
  { name: 'log_min_error_statement', value: 'error' },
  { name: 'log_min_messages', value: 'warning' },
  { name: 'log_statement', value: 'ddl' },
  { name: 'log_disconnections', value: 'on' },
];
const SQLSERVER_BAD_FLAGS = [
  { name: 'contained database authentication', value: 'on' },
  { name: 'cross db ownership chaining', value: 'off' },
  { name: 'external scripts enabled', value: '1' },
  { name: 'user connections', value: '100' },
  { name: 'user options', value: '32' },
];
const SQLSERVER_FIXED_FLAGS = [
  { name: 'contained database authentication', value: 'off' },
  { name: 'cross db ownership chaining', value: 'off' },
  { name: 'external scripts enabled', value: 'off' },
  { name: 'user connections', value: '0' },
  { name: 'remote access', value: 'off' },
  { name: '3625', value: 'on' },
];

const postgresFlagPolicies = FLAG_RULES.filter((r) => r.engine === 'postgres').map((r) => r.policy);
const sqlserverFlagPolicies = [
  'sql-sqlserver-contained-db-authentication-on',
  'sql-sqlserver-external-scripts-enabled',
  'sql-sqlserver-remote-access-on',
  'sql-sqlserver-trace-flag-3625-off',
  'sql-sqlserver-user-connections-limited',
  'sql-sqlserver-user-options-configured',
];

const FLAGS = sqlInstanceSetDatabaseFlags as RemediationAction;
const BACKUPS = sqlInstanceEnableBackups as RemediationAction;

const CASES: Case[] = [
  {
    title: 'PostgreSQL accepting unencrypted connections',
    action: sqlInstanceRequireSsl,
    policyIds: ['sql-ssl-not-enforced'],
    asset: () => sqlInstanceAsset('pg-ssl'),
    fixSettings: { ipConfiguration: { sslMode: 'ENCRYPTED_ONLY', requireSsl: false } },
    field: ssl,
    fixed: { sslMode: 'ENCRYPTED_ONLY', requireSsl: false },
    reversible: true,
  },
  {
    // sslMode wins over the legacy flag (IpConfiguration.sslMode reference): this instance accepts plain text.
    title: 'PostgreSQL with sslMode ALLOW_UNENCRYPTED_AND_ENCRYPTED beside a legacy requireSsl true',
    action: sqlInstanceRequireSsl,
    policyIds: ['sql-ssl-not-enforced'],
    asset: () =>
      sqlInstanceAsset('pg-ssl-legacy', {
        settings: {
          ipConfiguration: {
            ipv4Enabled: true,
            requireSsl: true,
            sslMode: 'ALLOW_UNENCRYPTED_AND_ENCRYPTED',
          },
        },
      }),
    fixSettings: { ipConfiguration: { sslMode: 'ENCRYPTED_ONLY', requireSsl: false } },
    field: ssl,
    fixed: { sslMode: 'ENCRYPTED_ONLY', requireSsl: false },
    reversible: true,
    // Cloud SQL refuses ALLOW_UNENCRYPTED_AND_ENCRYPTED with requireSsl true now: the mode comes back, paired.
    restorable: (before) => {
      const settings = settingsOf(before);
      return {
        ...before,
        settings: { ...settings, ipConfiguration: { ...ipOf(before), requireSsl: false } },
      };
    },
  },
  {
    title: 'SQL Server accepting unencrypted connections (requireSsl true pairs with ENCRYPTED_ONLY there)',
    action: sqlInstanceRequireSsl,
    policyIds: ['sql-ssl-not-enforced'],
    asset: () => sqlInstanceAsset('mssql-ssl', { databaseVersion: 'SQLSERVER_2019_STANDARD' }),
    fixSettings: { ipConfiguration: { sslMode: 'ENCRYPTED_ONLY', requireSsl: true } },
    field: ssl,
    fixed: { sslMode: 'ENCRYPTED_ONLY', requireSsl: true },
    reversible: true,
  },
  {
    title: '0.0.0.0/0 beside an office network',
    action: sqlInstanceRemovePublicAuthorizedNetworks,
    policyIds: ['sql-authorized-network-world'],
    asset: () => sqlInstanceAsset('world'),
    fixSettings: {
      ipConfiguration: {
        authorizedNetworks: [{ kind: 'sql#aclEntry', name: 'office-nyc', value: '203.0.113.0/24' }],
      },
    },
    field: (d) => ipOf(d)['authorizedNetworks'],
    fixed: [{ kind: 'sql#aclEntry', name: 'office-nyc', value: '203.0.113.0/24' }],
    reversible: true,
  },
  {
    title: 'automated backups off',
    action: sqlInstanceEnableBackups,
    policyIds: ['sql-backups-disabled'],
    asset: () => sqlInstanceAsset('no-backups', { databaseVersion: 'MYSQL_8_0' }),
    fixSettings: {
      backupConfiguration: {
        backupRetentionSettings: { retainedBackups: 7, retentionUnit: 'COUNT' },
        binaryLogEnabled: false,
        enabled: true,
        kind: 'sql#backupConfiguration',
        startTime: '04:00',
        transactionLogRetentionDays: 7,
      },
    },
    field: (d) => (settingsOf(d)['backupConfiguration'] as Data)['enabled'],
    fixed: true,
    reversible: true,
  },
  {
    title: 'deletion protection off',
    action: sqlInstanceEnableDeletionProtection,
    policyIds: ['sql-deletion-protection-disabled'],
    asset: () => sqlInstanceAsset('unprotected'),
    fixSettings: { deletionProtectionEnabled: true },
    field: (d) => settingsOf(d)['deletionProtectionEnabled'],
    fixed: true,
    reversible: true,
  },
  {
    title: 'required labels missing',
    action: sqlInstanceAddRequiredLabels,
    policyIds: ['labels-sql-instance-required'],
    asset: () => sqlInstanceAsset('unlabelled'),
    fixSettings: {
      userLabels: { app: 'reporting', team: 'data', env: 'unassigned', 'cost-center': 'unassigned' },
    },
    field: (d) => settingsOf(d)['userLabels'],
    fixed: { app: 'reporting', team: 'data', env: 'unassigned', 'cost-center': 'unassigned' },
    reversible: false,
  },
  {
    title: 'PostgreSQL flags below CIS (every postgres flag policy at once)',
    action: sqlInstanceSetDatabaseFlags,
    policyIds: postgresFlagPolicies,
    asset: () => sqlInstanceAsset('pg-flags', { settings: { databaseFlags: PG_BAD_FLAGS } }),
    fixSettings: { databaseFlags: PG_FIXED_FLAGS },
    field: (d) => settingsOf(d)['databaseFlags'],
    fixed: PG_FIXED_FLAGS,
    reversible: true,
  },
  {
    title: 'MySQL local_infile on, skip_show_database missing',
    action: sqlInstanceSetDatabaseFlags,
    policyIds: ['sql-mysql-local-infile-on', 'sql-mysql-skip-show-database-off'],
    asset: () =>
      sqlInstanceAsset('mysql-flags', {
        databaseVersion: 'MYSQL_8_0',
        settings: { databaseFlags: [{ name: 'local_infile', value: 'ON' }] },
      }),
    fixSettings: {
      databaseFlags: [
        { name: 'local_infile', value: 'off' },
        { name: 'skip_show_database', value: 'on' },
      ],
    },
    field: (d) => settingsOf(d)['databaseFlags'],
    fixed: [
      { name: 'local_infile', value: 'off' },
      { name: 'skip_show_database', value: 'on' },
    ],
    reversible: true,
  },
  {
    title: 'SQL Server flags below CIS (user options removed, the rest set)',
    action: sqlInstanceSetDatabaseFlags,
    policyIds: sqlserverFlagPolicies,
    asset: () =>
      sqlInstanceAsset('mssql-flags', {
        databaseVersion: 'SQLSERVER_2019_STANDARD',
        settings: { databaseFlags: SQLSERVER_BAD_FLAGS },
      }),
    fixSettings: { databaseFlags: SQLSERVER_FIXED_FLAGS },
    field: (d) => settingsOf(d)['databaseFlags'],
    fixed: SQLSERVER_FIXED_FLAGS,
    reversible: true,
  },
];

/** The instance without what every settings write bumps. */
function stable(data: Data | undefined): Data {
  const { etag: _e, settings, ...rest } = data ?? {};
  const { settingsVersion: _v, ...s } = (settings ?? {}) as Data;
  return { ...rest, settings: s };
}

/** Enum numbers the gax client sends (`enum-encoding=int`), by field, in proto order. */
const WIRE_ENUMS: Record<string, string[]> = {
  sslMode: [
    'SSL_MODE_UNSPECIFIED',
    'ALLOW_UNENCRYPTED_AND_ENCRYPTED',
    'ENCRYPTED_ONLY',
    'TRUSTED_CLIENT_CERTIFICATE_REQUIRED',
  ],
  retentionUnit: ['RETENTION_UNIT_UNSPECIFIED', 'COUNT'],
};

/** A request body as the client sent it, read back as the plan writes it: enum names, no empty maps. */
function fromWire(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => fromWire(x));
  if (typeof v === 'number' && WIRE_ENUMS[key]) return WIRE_ENUMS[key]?.[v];
  if (typeof v !== 'object' || v === null) return v;
  const out: Data = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === 'object' && x !== null && !Array.isArray(x) && Object.keys(x).length === 0) continue;
    out[k] = fromWire(x, k);
  }
  return out;
}

function instancePath(asset: Asset): string {
  return `${SQL_V1}/instances/${String(asset.resource?.data['name'])}`;
}

/** The maintenance window the twin's concurrent change moves an hour each time (from 3). */
const windowOf = (a: Asset | undefined) => settingsOf(a?.resource?.data ?? {})['maintenanceWindow'];

describe('the Cloud SQL actions are registered with the policies that use them', () => {
  it('registers each action with its risk and reversibility, named by the policies', () => {
    for (const [id, risk, reversible] of [
      ['sqladmin.instance.require-ssl', 'medium', true],
      ['sqladmin.instance.remove-public-authorized-networks', 'medium', true],
      ['sqladmin.instance.enable-backups', 'low', true],
      ['sqladmin.instance.enable-deletion-protection', 'low', true],
      ['sqladmin.instance.add-required-labels', 'low', false],
      ['sqladmin.instance.set-database-flags', 'medium', true],
    ] as const) {
      for (const p of expectRegistered(id, {
        risk,
        reversible,
        assetTypes: ['sqladmin.googleapis.com/Instance'],
      })) {
        const remediation = p.def.remediation as { risk?: string };
        expect(`${p.def.id}: ${remediation.risk ?? risk}`).toBe(`${p.def.id}: ${risk}`);
      }
    }
  });

  it('knows the target value of every flag policy that names set-database-flags, and only those', () => {
    const naming = policiesNaming('sqladmin.instance.set-database-flags')
      .map((p) => p.def.id)
      .sort();
    expect(naming).toHaveLength(16);
    expect(FLAG_RULES.map((r) => r.policy).sort()).toEqual(naming);
  });
});

describeActionContract(
  CASES.map((c): ActionContract => ({
    ...basicsOf(c),
    api: 'sqladmin.googleapis.com',
    plan: ({ asset }, plan) => {
      const url = `${API}${instancePath(asset)}`;
      expect(plan.requests).toEqual([
        { method: 'GET', url },
        { method: 'PATCH', url, body: { settings: { settingsVersion: '27', ...c.fixSettings } } },
        { method: 'GET', url: `${API}${SQL_V1}/operations/{operation}` },
      ]);
      expect(plan.description).toContain(`${PROJECT_ID}:${String(asset.resource?.data['name'])}`);
      expect(plan.description).toMatch(/settingsVersion/);
    },
    field: (a) => c.field(a?.resource?.data ?? {}),
    fixed: c.fixed,
    isWrite: request('PATCH', instancePath(c.asset())),
    untouched: sameData,
    fix: {
      sent: ({ h, asset }) => {
        const sent = h.twin.requests.find((r) => r.method === 'PATCH');
        expect(fromWire(sent?.body)).toEqual(c.action.plan(asset, DEFAULT_ACTION_SETTINGS).requests[1]?.body);
      },
      live: (live) => expect(settingsOf(live.resource?.data ?? {})['settingsVersion']).toBe('28'),
      feed: 1,
      undo: c.reversible ? 'restores' : 'refused',
      restored: ({ restored, before }) => {
        const data = (before as { data: Data }).data;
        expect(stable(restored.resource?.data)).toEqual(stable(c.restorable ? c.restorable(data) : data));
      },
    },
    conflict: {
      // One 412 is re-planned (see below); the second stops.
      atWrite: {
        at: { method: 'PATCH', pathPattern: instancePath(c.asset()) },
        times: 2,
        reason: '412 staleData',
        // It re-planned once itself: not stale, so the executor does not re-plan a second time.
        stale: false,
        // Both of someone else's changes stand: 3 → 4 → 5.
        theirs: (now) => expect(windowOf(now)).toMatchObject({ hour: 5 }),
      },
    },
    undoAfterChange: {
      change: { at: { method: 'GET', pathPattern: instancePath(c.asset()) } },
      reason: /settingsVersion 28 → 29/,
    },
    retryable: {
      unavailable: { at: { method: 'PATCH' } },
      throttled: { at: { method: 'PATCH' }, via: 'apply' },
    },
    failedOperation: { at: { method: 'PATCH' }, message: /Cloud SQL operation .* failed: INTERNAL_ERROR/ },
    more: ({ start, writes }) => {
      it('re-reads and re-plans once after a concurrent settings change (412 staleData), keeping that change', async () => {
        const { h, ctx, asset } = await start();
        const before = await c.action.captureBefore(asset, ctx);
        h.twin.setFaults([
          {
            match: { method: 'PATCH', pathPattern: instancePath(asset) },
            concurrentModification: true,
            times: 1,
          },
        ]);
        expect((await c.action.apply(asset, before, ctx)).status).toBe('applied');
        const now = h.twin.getAsset(asset.name);
        expect(windowOf(now)).toMatchObject({ hour: 4 });
        expect(c.field(now?.resource?.data ?? {})).toEqual(c.fixed);
        expect(writes(h)).toBe(2);
      });
    },
  })),
);

describe('Cloud SQL actions: what they refuse, and what the client cannot express', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  async function applyTo(action: RemediationAction, asset: Asset) {
    h = await startHarness([asset]);
    const ctx = actionContext(h);
    const before = await action.captureBefore(asset, ctx);
    const outcome = await action.apply(asset, before, ctx);
    return { ctx, before, outcome };
  }

  it.each([
    [
      'an external primary',
      sqlInstanceEnableDeletionProtection,
      sqlInstanceAsset('external', { data: { instanceType: 'ON_PREMISES_INSTANCE' } }),
      /external primary/,
    ],
    [
      'a read replica (no automated backups)',
      sqlInstanceEnableBackups,
      sqlInstanceAsset('replica', {
        data: { instanceType: 'READ_REPLICA_INSTANCE', masterInstanceName: `${PROJECT_ID}:primary` },
      }),
      /read replica/,
    ],
    [
      'authorized networks that are all world-open (an empty list cannot be sent)',
      sqlInstanceRemovePublicAuthorizedNetworks,
      sqlInstanceAsset('only-world', {
        settings: {
          ipConfiguration: {
            authorizedNetworks: [{ value: '0.0.0.0/0' }, { value: '::/0' }],
            ipv4Enabled: true,
            requireSsl: false,
            sslMode: 'ENCRYPTED_ONLY',
          },
        },
      }),
      /clear-authorized-networks/,
    ],
  ])('refuses %s and sends nothing', async (_title, action, asset, reason) => {
    const { outcome } = await applyTo(action as RemediationAction, asset);
    if (outcome.status === 'conflict') expect(outcome.reason).toMatch(reason);
    expect(outcome.status).toBe('conflict');
    expect(h.twin.requests.filter((r) => r.method !== 'GET')).toHaveLength(0);
    expect(action.plan(asset, DEFAULT_ACTION_SETTINGS).description).toMatch(/would be refused/);
  });

  it('goes ahead when only other settings changed since the capture (another fix), guarded by the new settingsVersion', async () => {
    const asset = sqlInstanceAsset('two-fixes');
    h = await startHarness([asset]);
    const ctx = actionContext(h);
    const protection = sqlInstanceEnableDeletionProtection as RemediationAction;
    const networks = sqlInstanceRemovePublicAuthorizedNetworks as RemediationAction;
    const protectionBefore = await protection.captureBefore(asset, ctx);
    const networksBefore = await networks.captureBefore(asset, ctx);
    expect((await networks.apply(asset, networksBefore, ctx)).status).toBe('applied');
    expect((await protection.apply(asset, protectionBefore, ctx)).status).toBe('applied');
    const sent = h.twin.requests.filter((r) => r.method === 'PATCH').map((r) => fromWire(r.body) as Data);
    expect(sent.map((b) => settingsOf(b)['settingsVersion'])).toEqual(['27', '28']);
    const live = (await protection.readLive(asset, ctx)) as Asset;
    expect(verdict('sql-deletion-protection-disabled', live)).toBe('pass');
    expect(verdict('sql-authorized-network-world', live)).toBe('pass');
  });

  it('reports conflict, sending nothing, when the part it fixes changed since the capture', async () => {
    const asset = sqlInstanceAsset('moved');
    h = await startHarness([asset], { operationPolls: 0 });
    const ctx = actionContext(h);
    const before = await sqlInstanceRemovePublicAuthorizedNetworks.captureBefore(asset, ctx);
    const sql = await h.cloud.sql('SqlInstancesServiceClient');
    await sql.patch({
      project: PROJECT_ID,
      instance: 'moved',
      body: {
        settings: {
          ipConfiguration: {
            authorizedNetworks: [
              { value: '0.0.0.0/0', name: 'anywhere' },
              { value: '198.51.100.0/24', name: 'vpn' },
            ],
          },
        },
      },
    });
    const outcome = await sqlInstanceRemovePublicAuthorizedNetworks.apply(asset, before as never, ctx);
    expect(outcome.status).toBe('conflict');
    if (outcome.status === 'conflict') expect(outcome.reason).toMatch(/changed since they were captured/);
    expect(h.twin.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
  });

  it('counts an instance already passing as applied without sending anything', async () => {
    const asset = sqlInstanceAsset('good', {
      settings: { deletionProtectionEnabled: true },
    });
    const { outcome } = await applyTo(sqlInstanceEnableDeletionProtection, asset);
    expect(outcome.status).toBe('already_applied');
    expect(h.twin.requests.filter((r) => r.method !== 'GET')).toHaveLength(0);
  });

  it('refuses to undo flags to an instance that had none (the empty list cannot be sent)', async () => {
    const asset = sqlInstanceAsset('no-flags', { settings: { databaseFlags: [] } });
    const { ctx, before, outcome } = await applyTo(FLAGS, asset);
    expect(outcome.status).toBe('applied');
    const undo = await FLAGS.undo(asset, before, outcome.status === 'applied' ? outcome.after : null, ctx);
    expect(undo.status).toBe('refused');
    if (undo.status === 'refused') expect(undo.reason).toMatch(/had no database flags/);
    expect(h.twin.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
  });

  it('refuses to undo a flag fix that turned cross db ownership chaining off (Cloud SQL no longer accepts on)', async () => {
    const asset = sqlInstanceAsset('chaining', {
      databaseVersion: 'SQLSERVER_2019_STANDARD',
      settings: {
        databaseFlags: [
          { name: '3625', value: 'on' },
          { name: 'cross db ownership chaining', value: 'on' },
          { name: 'remote access', value: 'off' },
        ],
      },
    });
    const { ctx, before, outcome } = await applyTo(FLAGS, asset);
    expect(outcome.status).toBe('applied');
    const live = (await sqlInstanceSetDatabaseFlags.readLive(asset, ctx)) as Asset;
    expect(settingsOf(live.resource?.data ?? {})['databaseFlags']).toEqual([
      { name: '3625', value: 'on' },
      { name: 'remote access', value: 'off' },
    ]);
    expect(verdict('sql-sqlserver-cross-db-ownership-chaining-on', live)).toBe('pass');
    const undo = await FLAGS.undo(asset, before, outcome.status === 'applied' ? outcome.after : null, ctx);
    expect(undo.status).toBe('refused');
    expect(h.twin.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
  });

  it('uses a default backup window when the instance has none, and turns backups off again on undo', async () => {
    const asset = sqlInstanceAsset('no-window', {
      databaseVersion: 'MYSQL_8_0',
      settings: { backupConfiguration: { enabled: false } },
    });
    const { ctx, before, outcome } = await applyTo(BACKUPS, asset);
    expect(outcome.status).toBe('applied');
    const live = (await sqlInstanceEnableBackups.readLive(asset, ctx)) as Asset;
    expect(settingsOf(live.resource?.data ?? {})['backupConfiguration']).toEqual({
      enabled: true,
      startTime: '02:00',
    });
    expect(
      await BACKUPS.undo(asset, before, outcome.status === 'applied' ? outcome.after : null, ctx),
    ).toEqual({ status: 'restored' });
    const undone = (await sqlInstanceEnableBackups.readLive(asset, ctx)) as Asset;
    expect(settingsOf(undone.resource?.data ?? {})['backupConfiguration']).toEqual({
      enabled: false,
      startTime: '02:00',
    });
    expect(verdict('sql-backups-disabled', undone)).toBe('violation');
  });

  it('surfaces a 400 from Cloud SQL as a non-retryable WardenError and leaves the instance as it was', async () => {
    const asset = sqlInstanceAsset('bad-default');
    h = await startHarness([asset]);
    const ctx = {
      ...actionContext(h),
      settings: { ...DEFAULT_ACTION_SETTINGS, labelDefaultValue: 'Not Set!' },
    };
    const before = await sqlInstanceAddRequiredLabels.captureBefore(asset, ctx);
    const err = await rejection(sqlInstanceAddRequiredLabels.apply(asset, before as never, ctx));
    expect(err).toBeInstanceOf(WardenError);
    expect((err as WardenError).retryable).toBe(false);
    expect((err as WardenError).code).toBe('INVALID_ARGUMENT');
    expect((err as WardenError).message).toMatch(
      /patching Cloud SQL instance warden-demo:bad-default: .*Invalid value 'Not Set!'/,
    );
    expect(h.twin.getAsset(asset.name)?.resource?.data).toEqual(asset.resource?.data);
  });

  it('surfaces 409 operationInProgress (another operation running) as a retryable WardenError', async () => {
    const asset = sqlInstanceAsset('busy');
    h = await startHarness([asset], { operationPolls: 5 });
    const ctx = actionContext(h);
    const before = await sqlInstanceEnableDeletionProtection.captureBefore(asset, ctx);
    const sql = await h.cloud.sql('SqlInstancesServiceClient');
    await sql.patch({
      project: PROJECT_ID,
      instance: 'busy',
      body: { settings: { userLabels: { env: 'dev' } } },
    });
    const err = await rejection(sqlInstanceEnableDeletionProtection.apply(asset, before as never, ctx));
    expect(err).toBeInstanceOf(WardenError);
    expect((err as WardenError).retryable).toBe(true);
    expect((err as WardenError).code).toBe('ABORTED');
  });
});

describe('sqladmin.instance.set-database-flags: its plan', () => {
  it('says in the plan when the flags restart the instance', () => {
    const mysql = sqlInstanceAsset('m', { databaseVersion: 'MYSQL_8_0', settings: { databaseFlags: [] } });
    const pg = sqlInstanceAsset('p', { settings: { databaseFlags: PG_BAD_FLAGS } });
    expect(sqlInstanceSetDatabaseFlags.plan(mysql, DEFAULT_ACTION_SETTINGS).description).toMatch(
      /restarts the instance/,
    );
    expect(sqlInstanceSetDatabaseFlags.plan(pg, DEFAULT_ACTION_SETTINGS).description).toMatch(
      /without a restart/,
    );
  });
});
