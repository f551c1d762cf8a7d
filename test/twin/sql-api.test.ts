import { afterEach, describe, expect, it } from '@jest/globals';
import type { protos } from '@google-cloud/sql';
import { AssetSchema } from '../../shared/model/asset.js';
import { COMPLIANT_FLAGS, SQL_V1, sqlInstanceAsset } from './sql-fixtures.js';
import { PROJECT_ID, startHarness, type TwinHarness } from './twin-fixtures.js';

type IDatabaseInstance = protos.google.cloud.sql.v1.IDatabaseInstance;
type Data = Record<string, unknown>;

const NAME = 'dev-reporting';
const ASSET_NAME = `//cloudsql.googleapis.com/projects/${PROJECT_ID}/instances/${NAME}`;
const PATH = `${SQL_V1}/instances/${NAME}`;

async function failure(p: Promise<unknown>): Promise<{ code?: number; message?: string; status?: number }> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as { code?: number; message?: string },
  );
}

/** A raw REST call, as another client (gcloud, curl) would make it: enum names, nulls, empty lists. */
async function rest(
  h: TwinHarness,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Data }> {
  const res = await fetch(`${h.twin.url}${path}`, {
    method,
    headers: { authorization: 'Bearer test', 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Data };
}

function storedSettings(h: TwinHarness): Data {
  return (h.twin.getAsset(ASSET_NAME)?.resource?.data['settings'] ?? {}) as Data;
}

describe('twin: Cloud SQL Admin v1 instances and operations', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  it('patches with settingsVersion: what the client sends, PENDING → RUNNING → DONE, a merge, a new settingsVersion, one feed message', async () => {
    h = await startHarness([sqlInstanceAsset(NAME)]);
    const sql = await h.cloud.sql('SqlInstancesServiceClient');
    const ops = await h.cloud.sql('SqlOperationsServiceClient');
    const [instance] = await sql.get({ project: PROJECT_ID, instance: NAME });
    expect(instance.kind).toBe('sql#instance');
    expect(instance.settings?.settingsVersion?.value).toBe('27');
    expect(instance.settings?.ipConfiguration?.sslMode).toBe('ALLOW_UNENCRYPTED_AND_ENCRYPTED');

    const [started] = await sql.patch({
      project: PROJECT_ID,
      instance: NAME,
      body: {
        settings: {
          settingsVersion: { value: '27' },
          ipConfiguration: { sslMode: 'ENCRYPTED_ONLY', requireSsl: { value: false } },
        },
      } as IDatabaseInstance,
    });
    // What @google-cloud/sql really sends over REST: the enum as a number, wrappers bare, int64 as a string,
    // and the (empty) maps every message carries.
    expect(h.twin.requests.at(-1)).toMatchObject({
      method: 'PATCH',
      path: PATH,
      query: { $alt: 'json;enum-encoding=int' },
    });
    expect(h.twin.requests.at(-1)?.body).toEqual({
      tags: {},
      settings: { userLabels: {}, settingsVersion: '27', ipConfiguration: { requireSsl: false, sslMode: 2 } },
    });
    expect(started).toMatchObject({
      kind: 'sql#operation',
      status: 'PENDING',
      operationType: 'UPDATE',
      targetId: NAME,
      targetProject: PROJECT_ID,
      targetLink: `https://sqladmin.googleapis.com/v1/projects/${PROJECT_ID}/instances/${NAME}`,
    });
    const [running] = await ops.get({ project: PROJECT_ID, operation: started.name ?? '' });
    expect(h.twin.requests.at(-1)?.path).toBe(`${SQL_V1}/operations/${started.name}`);
    expect(running.status).toBe('RUNNING');
    expect(h.feed).toHaveLength(0);
    const [done] = await ops.get({ project: PROJECT_ID, operation: started.name ?? '' });
    expect(done.status).toBe('DONE');
    expect(done.error).toBeFalsy();

    const [after] = await sql.get({ project: PROJECT_ID, instance: NAME });
    expect(after.settings?.settingsVersion?.value).toBe('28');
    expect(after.etag).not.toBe(instance.etag);
    expect(after.settings?.ipConfiguration?.sslMode).toBe('ENCRYPTED_ONLY');
    // ipConfiguration merged: the authorized networks and the public IP stay.
    expect(after.settings?.ipConfiguration?.authorizedNetworks).toHaveLength(2);
    expect(after.settings?.ipConfiguration?.ipv4Enabled?.value).toBe(true);
    expect(h.feed).toHaveLength(1);
    const msg = AssetSchema.parse((h.feed[0] as { asset: unknown }).asset);
    const settings = msg.resource?.data['settings'] as Data;
    expect(settings['settingsVersion']).toBe('28');
    expect((settings['ipConfiguration'] as Data)['sslMode']).toBe('ENCRYPTED_ONLY');
  });

  it('accepts enum names as well as numbers, replaces a sent list, and merges userLabels key by key (null removes)', async () => {
    h = await startHarness([sqlInstanceAsset(NAME)], { operationPolls: 0 });
    const r = await rest(h, 'PATCH', PATH, {
      settings: {
        settingsVersion: '27',
        ipConfiguration: { sslMode: 'ENCRYPTED_ONLY', authorizedNetworks: [] },
        databaseFlags: [{ name: 'log_connections', value: 'on' }],
        userLabels: { team: null, env: 'dev' },
      },
    });
    expect(r.status).toBe(200);
    expect(r.json['status']).toBe('DONE');
    const settings = storedSettings(h);
    expect(settings['ipConfiguration']).toMatchObject({ sslMode: 'ENCRYPTED_ONLY', ipv4Enabled: true });
    expect((settings['ipConfiguration'] as Data)['authorizedNetworks']).toEqual([]);
    expect(settings['databaseFlags']).toEqual([{ name: 'log_connections', value: 'on' }]);
    expect(settings['userLabels']).toEqual({ app: 'reporting', env: 'dev' });
    expect(settings['settingsVersion']).toBe('28');
  });

  it('patches without settingsVersion unguarded, and answers 412 staleData for a stale one, changing nothing', async () => {
    h = await startHarness([sqlInstanceAsset(NAME)], { operationPolls: 0 });
    const stale = await rest(h, 'PATCH', PATH, {
      settings: { settingsVersion: '26', deletionProtectionEnabled: true },
    });
    expect(stale.status).toBe(412);
    expect(stale.json['error']).toMatchObject({
      code: 412,
      message: 'Condition does not match.',
      status: 'FAILED_PRECONDITION',
      errors: [{ reason: 'staleData' }],
    });
    expect(storedSettings(h)['deletionProtectionEnabled']).toBe(false);
    const sql = await h.cloud.sql('SqlInstancesServiceClient');
    const err = await failure(
      sql.patch({
        project: PROJECT_ID,
        instance: NAME,
        body: { settings: { settingsVersion: { value: '1' } } } as IDatabaseInstance,
      }),
    );
    expect(err.status ?? err.code).toBe(412);
    expect(h.feed).toHaveLength(0);
    const unguarded = await rest(h, 'PATCH', PATH, { settings: { deletionProtectionEnabled: true } });
    expect(unguarded.status).toBe(200);
    expect(storedSettings(h)).toMatchObject({ deletionProtectionEnabled: true, settingsVersion: '28' });
  });

  it('answers 409 operationInProgress while an operation runs on the instance', async () => {
    h = await startHarness([sqlInstanceAsset(NAME)], { operationPolls: 2 });
    const first = await rest(h, 'PATCH', PATH, {
      settings: { settingsVersion: '27', deletionProtectionEnabled: true },
    });
    expect(first.json['status']).toBe('PENDING');
    const second = await rest(h, 'PATCH', PATH, {
      settings: { settingsVersion: '27', userLabels: { env: 'dev' } },
    });
    expect(second.status).toBe(409);
    expect(second.json['error']).toMatchObject({
      status: 'ABORTED',
      errors: [{ reason: 'operationInProgress' }],
    });
    const op = `${SQL_V1}/operations/${String(first.json['name'])}`;
    expect((await rest(h, 'GET', op)).json['status']).toBe('RUNNING');
    expect((await rest(h, 'GET', op)).json['status']).toBe('DONE');
    expect(storedSettings(h)['deletionProtectionEnabled']).toBe(true);
  });

  it.each([
    [
      'ENCRYPTED_ONLY with requireSsl true on PostgreSQL',
      'POSTGRES_15',
      { ipConfiguration: { sslMode: 'ENCRYPTED_ONLY', requireSsl: true } },
      /sslMode value ENCRYPTED_ONLY and requireSsl value true are conflicting/,
    ],
    [
      'ENCRYPTED_ONLY with requireSsl false on SQL Server',
      'SQLSERVER_2019_STANDARD',
      { ipConfiguration: { sslMode: 'ENCRYPTED_ONLY', requireSsl: false } },
      /are conflicting/,
    ],
    ['SSL_MODE_UNSPECIFIED', 'POSTGRES_15', { ipConfiguration: { sslMode: 0 } }, /TYPE_ENUM/],
    ['an unknown enum number', 'POSTGRES_15', { ipConfiguration: { sslMode: 7 } }, /is not a value of enum/],
    [
      'an authorized network that is not a CIDR range',
      'POSTGRES_15',
      { ipConfiguration: { authorizedNetworks: [{ value: '300.1.2.3/8' }] } },
      /Invalid authorized network value/,
    ],
    [
      'a MySQL flag on PostgreSQL',
      'POSTGRES_15',
      { databaseFlags: [{ name: 'local_infile', value: 'off' }] },
      /not supported/,
    ],
    [
      'turning cross db ownership chaining on',
      'SQLSERVER_2019_STANDARD',
      { databaseFlags: [{ name: 'cross db ownership chaining', value: 'on' }] },
      /deprecated/,
    ],
    [
      'a duplicate flag',
      'POSTGRES_15',
      {
        databaseFlags: [
          { name: 'log_connections', value: 'on' },
          { name: 'log_connections', value: 'off' },
        ],
      },
      /Duplicate/,
    ],
    [
      'an invalid label value',
      'POSTGRES_15',
      { userLabels: { env: 'Prod Env' } },
      /Invalid value 'Prod Env'/,
    ],
    [
      'a backup start time that is not HH:MM',
      'POSTGRES_15',
      { backupConfiguration: { enabled: true, startTime: '25:00' } },
      /start time/,
    ],
    [
      'binary logging on PostgreSQL',
      'POSTGRES_15',
      { backupConfiguration: { enabled: true, binaryLogEnabled: true } },
      /only supported for MySQL/,
    ],
    ['an unknown settings field', 'POSTGRES_15', { colour: 'blue' }, /unknown field "colour"/],
  ])('answers 400 for %s, changing nothing', async (_title, databaseVersion, settings, message) => {
    h = await startHarness([sqlInstanceAsset(NAME, { databaseVersion })], { operationPolls: 0 });
    const before = h.twin.getAsset(ASSET_NAME);
    const r = await rest(h, 'PATCH', PATH, { settings: { settingsVersion: '27', ...settings } });
    expect(r.status).toBe(400);
    expect(r.json['error']).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
    expect(String((r.json['error'] as Data)['message'])).toMatch(message);
    expect(h.twin.getAsset(ASSET_NAME)).toEqual(before);
  });

  it('refuses automated backups on a read replica (400)', async () => {
    h = await startHarness(
      [
        sqlInstanceAsset(NAME, {
          data: { instanceType: 'READ_REPLICA_INSTANCE', masterInstanceName: `${PROJECT_ID}:primary` },
        }),
      ],
      { operationPolls: 0 },
    );
    const r = await rest(h, 'PATCH', PATH, { settings: { backupConfiguration: { enabled: true } } });
    expect(r.status).toBe(400);
    expect(String((r.json['error'] as Data)['message'])).toMatch(/read replica/);
  });

  it('ends an operation DONE with error.errors[] under failOperation and leaves the instance as it was', async () => {
    h = await startHarness([sqlInstanceAsset(NAME)], {
      operationPolls: 1,
      faults: [{ match: { method: 'PATCH' }, failOperation: true }],
    });
    const before = h.twin.getAsset(ASSET_NAME);
    const sql = await h.cloud.sql('SqlInstancesServiceClient');
    const ops = await h.cloud.sql('SqlOperationsServiceClient');
    const [started] = await sql.patch({
      project: PROJECT_ID,
      instance: NAME,
      body: { settings: { deletionProtectionEnabled: { value: true } } } as IDatabaseInstance,
    });
    const [done] = await ops.get({ project: PROJECT_ID, operation: started.name ?? '' });
    expect(done.status).toBe('DONE');
    expect(done.error?.errors?.[0]).toMatchObject({ kind: 'sql#operationError', code: 'INTERNAL_ERROR' });
    expect(h.twin.getAsset(ASSET_NAME)).toEqual(before);
    expect(h.feed).toHaveLength(0);
  });

  it('plays a concurrent modification as a settings change by someone else (new settingsVersion, maintenance window)', async () => {
    h = await startHarness([sqlInstanceAsset(NAME)], {
      operationPolls: 0,
      faults: [{ match: { method: 'PATCH', pathPattern: PATH }, concurrentModification: true, times: 1 }],
    });
    const r = await rest(h, 'PATCH', PATH, {
      settings: { settingsVersion: '27', deletionProtectionEnabled: true },
    });
    expect(r.status).toBe(412);
    expect(storedSettings(h)).toMatchObject({
      settingsVersion: '28',
      deletionProtectionEnabled: false,
      maintenanceWindow: { day: 7, hour: 4 },
    });
    expect(h.feed).toHaveLength(1);
  });

  it('answers 404 in Google error format for an unknown instance or operation, and 401 without a token', async () => {
    h = await startHarness([
      sqlInstanceAsset(NAME, { settings: { databaseFlags: COMPLIANT_FLAGS['POSTGRES_15'] } }),
    ]);
    const sql = await h.cloud.sql('SqlInstancesServiceClient');
    const missing = await failure(sql.get({ project: PROJECT_ID, instance: 'nope' }));
    expect(missing.status ?? missing.code).toBe(404);
    expect(missing.message).toContain('instanceDoesNotExist');
    const op = await rest(h, 'GET', `${SQL_V1}/operations/nope`);
    expect(op.status).toBe(404);
    const anonymous = await fetch(`${h.twin.url}${PATH}`);
    expect(anonymous.status).toBe(401);
  });
});
