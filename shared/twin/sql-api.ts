import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { Asset } from '../model/asset.js';
import { TwinHttpError } from './http.js';
import type { Inventory } from './inventory.js';
import { getIn, isObject, mergePatch, type JsonObject } from './merge-patch.js';
import type { ApiSurface, ConcurrentChange, Route, SurfaceOptions } from './routes.js';

/**
 * Cloud SQL Admin v1 (sqladmin.googleapis.com), the calls Warden makes: instances.get, instances.patch and
 * operations.get (https://cloud.google.com/sql/docs/mysql/admin-api/rest/v1/instances/patch).
 *
 * CAI names an instance //cloudsql.googleapis.com/projects/P/instances/I and holds the REST DatabaseInstance
 * as resource.data. instances.patch "partially updates settings ... by merging the request with the current
 * configuration": nested messages merge, a repeated field that is sent (authorizedNetworks, databaseFlags)
 * replaces the list, and userLabels merge key by key with `null` removing a label (gcloud's
 * ExplicitNullificationDiff) — JSON merge patch. The gax client cannot send an empty list or a null, so
 * through it no list can be cleared and no label removed.
 *
 * settings.settingsVersion is the precondition: a stale one answers 412 "Condition does not match." with
 * reason staleData (terraform-provider-google#25246). The reference makes it required for instances.update;
 * the twin applies a patch without one unguarded.
 * Every accepted settings change increments it. The patch answers an Operation (sql#operation, PENDING);
 * the change lands when operations.get has seen it reach DONE (after `operationPolls` reads), and a second
 * patch while one runs answers 409 operationInProgress. Enums may arrive as numbers (the gax client sends
 * `$alt=json;enum-encoding=int`) and are stored and answered by name; int64 values are rendered as strings.
 */

const P = '([^/]+)';
const INSTANCE = new RegExp(`^/v1/projects/${P}/instances/${P}$`);
const OPERATION = new RegExp(`^/v1/projects/${P}/operations/${P}$`);
const API_BASE = 'https://sqladmin.googleapis.com/v1';

export const SQL_INSTANCE_TYPE = 'sqladmin.googleapis.com/Instance';

export function sqlInstanceAssetName(project: string, instance: string): string {
  return `//cloudsql.googleapis.com/projects/${project}/instances/${instance}`;
}

/** Enum fields the twin validates, by message, with their values in proto order (index = number). */
const ENUMS: Record<string, Record<string, readonly string[]>> = {
  settings: {
    activationPolicy: ['SQL_ACTIVATION_POLICY_UNSPECIFIED', 'ALWAYS', 'NEVER', 'ON_DEMAND'],
    availabilityType: ['SQL_AVAILABILITY_TYPE_UNSPECIFIED', 'ZONAL', 'REGIONAL'],
    pricingPlan: ['SQL_PRICING_PLAN_UNSPECIFIED', 'PACKAGE', 'PER_USE'],
    replicationType: ['SQL_REPLICATION_TYPE_UNSPECIFIED', 'SYNCHRONOUS', 'ASYNCHRONOUS'],
    connectorEnforcement: ['CONNECTOR_ENFORCEMENT_UNSPECIFIED', 'NOT_REQUIRED', 'REQUIRED'],
  },
  ipConfiguration: {
    sslMode: [
      'SSL_MODE_UNSPECIFIED',
      'ALLOW_UNENCRYPTED_AND_ENCRYPTED',
      'ENCRYPTED_ONLY',
      'TRUSTED_CLIENT_CERTIFICATE_REQUIRED',
    ],
    serverCaMode: [
      'CA_MODE_UNSPECIFIED',
      'GOOGLE_MANAGED_INTERNAL_CA',
      'GOOGLE_MANAGED_CAS_CA',
      'CUSTOMER_MANAGED_CAS_CA',
    ],
  },
  backupRetentionSettings: { retentionUnit: ['RETENTION_UNIT_UNSPECIFIED', 'COUNT'] },
};
/** Enums with gaps in their numbering: name by number. */
const SPARSE_ENUMS: Record<string, Record<string, Record<number, string>>> = {
  settings: {
    edition: { 0: 'EDITION_UNSPECIFIED', 2: 'ENTERPRISE', 3: 'ENTERPRISE_PLUS', 5: 'DEVELOPER' },
    dataDiskType: {
      0: 'SQL_DATA_DISK_TYPE_UNSPECIFIED',
      1: 'PD_SSD',
      2: 'PD_HDD',
      3: 'OBSOLETE_LOCAL_SSD',
      4: 'HYPERDISK_BALANCED',
    },
  },
};

/** DatabaseInstance fields the server sets; ignored in a patch body, as the API does. */
const OUTPUT_ONLY = [
  'kind',
  'state',
  'etag',
  'selfLink',
  'connectionName',
  'ipAddresses',
  'ipv6Address',
  'serverCaCert',
  'createTime',
  'databaseInstalledVersion',
  'maintenanceVersion',
  'availableMaintenanceVersions',
  'upgradableDatabaseVersions',
  'serviceAccountEmailAddress',
  'gceZone',
  'secondaryGceZone',
  'backendType',
  'instanceType',
  'masterInstanceName',
  'replicaNames',
  'diskEncryptionStatus',
  'satisfiesPzs',
  'satisfiesPzi',
  'currentDiskSize',
  'maxDiskSize',
  'suspensionReason',
  'scheduledMaintenance',
  'dnsName',
  'dnsNames',
  'pscServiceAttachmentLink',
  'writeEndpoint',
];
/** Fields a patch may carry only with their current value here (the twin does not upgrade or move instances). */
const UNCHANGED = ['name', 'project', 'region', 'databaseVersion', 'diskEncryptionConfiguration'];
/** Int64 fields the REST API renders as decimal strings. */
const INT64_SETTINGS = ['settingsVersion', 'storageAutoResizeLimit', 'dataDiskSizeGb'];

/** Flags of one engine the twin knows; sending one to another engine is refused as Cloud SQL does. */
const ENGINE_FLAGS: Record<string, readonly string[]> = {
  mysql: ['local_infile', 'skip_show_database', 'cloudsql_iam_authentication'],
  postgres: [
    'log_connections',
    'log_disconnections',
    'log_error_verbosity',
    'log_min_duration_statement',
    'log_min_error_statement',
    'log_min_messages',
    'log_statement',
    'cloudsql.enable_pgaudit',
    'cloudsql.iam_authentication',
  ],
  sqlserver: [
    'external scripts enabled',
    'cross db ownership chaining',
    'user connections',
    'user options',
    'remote access',
    '3625',
    'contained database authentication',
  ],
};

const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;

function invalid(message: string): TwinHttpError {
  return new TwinHttpError(400, `Invalid request: ${message}`, { reason: 'invalid' });
}

function engineOf(data: JsonObject): string {
  return String(data['databaseVersion'] ?? '')
    .toLowerCase()
    .replace(/_.*$/, '');
}

/** An enum value (name or number, as the gax client sends it) as its name; 400 for anything else. */
function enumName(message: string, field: string, value: unknown): string | undefined {
  const dense = ENUMS[message]?.[field];
  const sparse = SPARSE_ENUMS[message]?.[field];
  if (!dense && !sparse) return undefined;
  const names = dense ?? Object.values(sparse ?? {});
  const byNumber = typeof value === 'number' ? (dense ? dense[value] : sparse?.[value]) : undefined;
  const name = byNumber ?? (typeof value === 'string' && names.includes(value) ? value : undefined);
  if (!name || name.endsWith('_UNSPECIFIED')) {
    throw new TwinHttpError(
      400,
      `Invalid value at 'body.settings.${message === 'settings' ? '' : `${message}.`}${field}' (TYPE_ENUM), ${JSON.stringify(value)}`,
      { reason: 'invalid' },
    );
  }
  return name;
}

/** Enum numbers in a patch replaced by their names, in the messages the twin knows. */
function namedEnums(message: string, obj: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(obj)) {
    const name = v === null ? undefined : enumName(message, k, v);
    if (name !== undefined) out[k] = name;
    else if (isObject(v)) out[k] = namedEnums(k, v);
    else out[k] = v;
  }
  return out;
}

function checkAuthorizedNetworks(value: unknown): void {
  if (value === undefined || value === null) return;
  if (!Array.isArray(value)) throw invalid('settings.ipConfiguration.authorizedNetworks must be a list.');
  for (const entry of value) {
    const v = isObject(entry) ? String(entry['value'] ?? '') : '';
    const [addr, bits, ...rest] = v.split('/');
    const family = isIP(addr ?? '');
    const maxBits = family === 6 ? 128 : 32;
    const okBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= maxBits);
    if (family === 0 || !okBits || rest.length > 0) {
      throw invalid(`Invalid authorized network value '${v}': must be an IP address or a CIDR range.`);
    }
  }
}

function checkFlags(value: unknown, engine: string): void {
  if (value === undefined || value === null) return;
  if (!Array.isArray(value)) throw invalid('settings.databaseFlags must be a list.');
  const seen = new Set<string>();
  for (const flag of value) {
    const name = isObject(flag) && typeof flag['name'] === 'string' ? flag['name'] : '';
    if (name === '') throw invalid('a database flag has no name.');
    if (seen.has(name)) throw invalid(`Duplicate database flag: ${name}.`);
    seen.add(name);
    const owner = Object.keys(ENGINE_FLAGS).find((e) => ENGINE_FLAGS[e]?.includes(name));
    if (owner && owner !== engine) {
      throw invalid(`Invalid flag for instance role: flag name ${name} is not supported by this database.`);
    }
    const flagValue = String((flag as JsonObject)['value'] ?? '')
      .trim()
      .toLowerCase();
    // Deprecated in Cloud SQL for SQL Server: it can be turned off but no longer on.
    if (name === 'cross db ownership chaining' && ['on', '1', 'true'].includes(flagValue)) {
      throw invalid(`The flag "cross db ownership chaining" is deprecated and can no longer be set to on.`);
    }
  }
}

function checkLabels(value: unknown): void {
  if (value === undefined || value === null) return;
  if (!isObject(value)) throw invalid('settings.userLabels must be a map.');
  for (const [k, v] of Object.entries(value)) {
    if (!LABEL_KEY.test(k)) throw invalid(`Invalid label key '${k}'.`);
    if (v !== null && (typeof v !== 'string' || !LABEL_VALUE.test(v))) {
      throw invalid(`Invalid value '${String(v)}' for label '${k}'.`);
    }
  }
}

/**
 * The rules Cloud SQL checks on the settings as they would be after the patch (400 when broken), for the
 * parts the patch touches.
 */
function checkMergedSettings(data: JsonObject, settings: JsonObject, patch: JsonObject): void {
  const engine = engineOf(data);
  const ip = isObject(settings['ipConfiguration']) ? settings['ipConfiguration'] : {};
  const ipPatch = isObject(patch['ipConfiguration']) ? patch['ipConfiguration'] : {};
  const sslMode = ip['sslMode'];
  const requireSsl = ip['requireSsl'];
  const sslTouched = ipPatch['sslMode'] !== undefined || ipPatch['requireSsl'] !== undefined;
  if (sslTouched && typeof sslMode === 'string' && typeof requireSsl === 'boolean') {
    // The value pairs the IpConfiguration.ssl_mode reference allows, per engine.
    const valid: Record<string, boolean> =
      engine === 'sqlserver'
        ? { ALLOW_UNENCRYPTED_AND_ENCRYPTED: false, ENCRYPTED_ONLY: true }
        : {
            ALLOW_UNENCRYPTED_AND_ENCRYPTED: false,
            ENCRYPTED_ONLY: false,
            TRUSTED_CLIENT_CERTIFICATE_REQUIRED: true,
          };
    if (!(sslMode in valid)) {
      throw invalid(`sslMode ${sslMode} is not supported for a ${engine || 'this'} instance.`);
    }
    if (valid[sslMode] !== requireSsl) {
      throw invalid(
        `For a ${engine} instance, sslMode value ${sslMode} and requireSsl value ${String(requireSsl)} are conflicting. It's recommended that you only set sslMode.`,
      );
    }
  }
  if (!isObject(patch['backupConfiguration'])) return;
  const backup = isObject(settings['backupConfiguration']) ? settings['backupConfiguration'] : {};
  const start = backup['startTime'];
  if (start !== undefined && !(typeof start === 'string' && /^([01]\d|2[0-3]):[0-5]\d$/.test(start))) {
    throw invalid(`Invalid backup start time '${String(start)}': expected HH:MM (UTC).`);
  }
  if (backup['binaryLogEnabled'] === true && engine !== 'mysql') {
    throw invalid('Binary logging is only supported for MySQL instances.');
  }
  if (backup['binaryLogEnabled'] === true && backup['enabled'] !== true) {
    throw invalid('Binary log must be disabled when backups are disabled.');
  }
  const replica =
    data['instanceType'] === 'READ_REPLICA_INSTANCE' || String(data['masterInstanceName'] ?? '') !== '';
  if (replica && backup['enabled'] === true) {
    throw invalid('Automated backups are not supported for read replica instances.');
  }
}

interface SqlOperation {
  op: JsonObject;
  reads: number;
  fail: boolean;
  instance: string;
  complete: () => Promise<void>;
}

export function sqlApi(inv: Inventory, opts: SurfaceOptions): ApiSurface {
  const operations = new Map<string, SqlOperation>();
  let seq = 0;
  // Cloud SQL always has a settingsVersion; an asset fixture without one starts at 1.
  for (const asset of inv.all()) {
    const settings = asset.assetType === SQL_INSTANCE_TYPE ? asset.resource?.data['settings'] : undefined;
    if (isObject(settings)) settings['settingsVersion'] ??= '1';
  }

  const instanceAsset = (project: string, instance: string): Asset => {
    const asset = inv.get(sqlInstanceAssetName(project, instance));
    if (!asset || asset.assetType !== SQL_INSTANCE_TYPE) {
      throw new TwinHttpError(404, 'The Cloud SQL instance does not exist.', {
        reason: 'instanceDoesNotExist',
      });
    }
    return asset;
  };
  const dataOf = (asset: Asset): JsonObject => (asset.resource?.data ?? {}) as JsonObject;

  /** A new instance etag (hex sha256, as Cloud SQL's look). */
  const nextEtag = (salt: string): string => {
    seq += 1;
    return createHash('sha256').update(`${salt}/${seq}`).digest('hex');
  };

  const render = (data: JsonObject): JsonObject => {
    const out: JsonObject = { kind: 'sql#instance', ...structuredClone(data) };
    const settings = isObject(out['settings']) ? out['settings'] : undefined;
    for (const f of INT64_SETTINGS) {
      if (settings && typeof settings[f] === 'number') settings[f] = String(settings[f]);
    }
    return out;
  };

  /** The settings after a merge patch; settingsVersion is the server's, one more than before. */
  const nextSettings = (current: JsonObject, patch: JsonObject): JsonObject => {
    const merged = mergePatch(current, patch) as JsonObject;
    const version = Number(current['settingsVersion'] ?? 0) + 1;
    // Kept in the type CAI held it in (CAI exports int64 as strings).
    merged['settingsVersion'] = typeof current['settingsVersion'] === 'number' ? version : String(version);
    return merged;
  };

  const changeSettings = (asset: Asset, patch: JsonObject): Promise<Asset> =>
    inv.change(asset.name, ['RESOURCE'], (a) => {
      const data = structuredClone(dataOf(a));
      const settings = isObject(data['settings']) ? data['settings'] : {};
      data['settings'] = nextSettings(settings, patch);
      data['etag'] = nextEtag(a.name);
      a.resource = { ...(a.resource ?? {}), data };
    });

  const running = (instance: string): boolean =>
    [...operations.values()].some((o) => o.instance === instance && o.op['status'] !== 'DONE');

  const startOperation = async (
    project: string,
    instance: string,
    fail: boolean,
    complete: () => Promise<void>,
  ): Promise<JsonObject> => {
    seq += 1;
    const hex = createHash('sha256').update(`op/${project}/${instance}/${seq}`).digest('hex');
    const name = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
    const op: JsonObject = {
      kind: 'sql#operation',
      targetLink: `${API_BASE}/projects/${project}/instances/${instance}`,
      status: 'PENDING',
      user: 'warden@gcp-twin.invalid',
      insertTime: inv.now(),
      operationType: 'UPDATE',
      name,
      targetId: instance,
      selfLink: `${API_BASE}/projects/${project}/operations/${name}`,
      targetProject: project,
    };
    const state: SqlOperation = { op, reads: 0, fail, instance: `${project}/${instance}`, complete };
    operations.set(`${project}/${name}`, state);
    if (opts.operationPolls <= 0) await finish(state);
    return structuredClone(op);
  };

  const finish = async (state: SqlOperation): Promise<void> => {
    state.op['status'] = 'DONE';
    state.op['startTime'] ??= inv.now();
    state.op['endTime'] = inv.now();
    if (state.fail) {
      state.op['error'] = {
        kind: 'sql#operationErrors',
        errors: [
          {
            kind: 'sql#operationError',
            code: 'INTERNAL_ERROR',
            message: 'An internal error has occurred (fault injected by the GCP twin).',
          },
        ],
      };
      return;
    }
    await state.complete();
  };

  const instanceRoutes: Route[] = [
    {
      method: 'GET',
      pattern: INSTANCE,
      async handle(req) {
        const [project, instance] = req.params as [string, string];
        return { status: 200, body: render(dataOf(instanceAsset(project, instance))) };
      },
    },
    {
      method: 'PATCH',
      pattern: INSTANCE,
      async handle(req) {
        const [project, instance] = req.params as [string, string];
        const asset = instanceAsset(project, instance);
        const data = dataOf(asset);
        if (!isObject(req.body)) throw invalid('the request body must be a DatabaseInstance.');
        const body = req.body;
        const current = isObject(data['settings']) ? data['settings'] : {};
        const expected: JsonObject = { ...data, name: instance, project };
        for (const key of UNCHANGED) {
          if (body[key] !== undefined && JSON.stringify(body[key]) !== JSON.stringify(expected[key])) {
            throw invalid(
              `${key} cannot be changed by the GCP twin's instances.patch (sent ${JSON.stringify(body[key])}).`,
            );
          }
        }
        // Field names and types were checked against the published DatabaseInstance (api-shapes.ts); besides
        // settings, a patch here carries only output-only fields, which Cloud SQL ignores.
        for (const key of Object.keys(body)) {
          if (!['settings', 'tags', ...UNCHANGED, ...OUTPUT_ONLY].includes(key)) {
            throw invalid(`the GCP twin does not patch ${key}: only settings.`);
          }
        }
        if (isObject(body['tags']) && Object.keys(body['tags']).length > 0) {
          throw invalid('tags are immutable and can only be set when the instance is created.');
        }
        const sent = isObject(body['settings']) ? body['settings'] : {};
        // settingsVersion is Cloud SQL's optimistic lock: the error names the If-Match it becomes internally.
        const version = sent['settingsVersion'];
        if (
          version !== undefined &&
          version !== null &&
          String(version) !== String(current['settingsVersion'])
        ) {
          throw new TwinHttpError(412, 'Condition does not match.', { reason: 'staleData' });
        }
        if (running(`${project}/${instance}`)) {
          throw new TwinHttpError(
            409,
            'Operation failed because another operation was already in progress.',
            {
              reason: 'operationInProgress',
            },
          );
        }
        const patch = namedEnums('settings', sent);
        delete patch['settingsVersion'];
        delete patch['kind'];
        checkAuthorizedNetworks(getIn(patch, ['ipConfiguration', 'authorizedNetworks']));
        checkFlags(patch['databaseFlags'], engineOf(data));
        checkLabels(patch['userLabels']);
        if (
          patch['deletionProtectionEnabled'] !== undefined &&
          typeof patch['deletionProtectionEnabled'] !== 'boolean'
        ) {
          throw invalid('settings.deletionProtectionEnabled must be a boolean.');
        }
        checkMergedSettings(data, mergePatch(current, patch) as JsonObject, patch); // 400 now, as the API answers
        const op = await startOperation(project, instance, req.failOperation, async () => {
          await changeSettings(asset, patch);
        });
        return { status: 200, body: op };
      },
    },
    {
      method: 'GET',
      pattern: OPERATION,
      async handle(req) {
        const [project, operation] = req.params as [string, string];
        const state = operations.get(`${project}/${operation}`);
        if (!state) {
          throw new TwinHttpError(404, `The Cloud SQL operation ${operation} does not exist.`, {
            reason: 'operationDoesNotExist',
          });
        }
        if (state.op['status'] !== 'DONE') {
          state.reads += 1;
          if (state.reads >= opts.operationPolls) await finish(state);
          else {
            state.op['status'] = 'RUNNING';
            state.op['startTime'] ??= inv.now();
          }
        }
        return { status: 200, body: structuredClone(state.op) };
      },
    },
  ];

  const concurrentChanges: ConcurrentChange[] = [
    {
      // Someone else changes the maintenance window: settingsVersion moves on, nothing Warden fixes changes.
      pattern: INSTANCE,
      async apply(params) {
        const [project, instance] = params as [string, string];
        const asset = instanceAsset(project, instance);
        const settings = isObject(dataOf(asset)['settings']) ? (dataOf(asset)['settings'] as JsonObject) : {};
        const window = isObject(settings['maintenanceWindow']) ? settings['maintenanceWindow'] : {};
        const hour = (Number(window['hour'] ?? 0) + 1) % 24;
        await changeSettings(asset, {
          maintenanceWindow: { kind: 'sql#maintenanceWindow', day: window['day'] ?? 7, hour },
        });
      },
    },
  ];

  return { routes: instanceRoutes, concurrentChanges };
}
