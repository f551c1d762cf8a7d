import { z } from 'zod';
import type { protos } from '@google-cloud/sql';
import type { Plan } from '../model/action.js';
import type { Asset } from '../model/asset.js';
import { WardenError } from '../model/errors.js';
import type { Risk } from '../model/policy.js';
import { canonicalJson } from '../util/canonical-json.js';
import { describeCloudError, isNotFound, isPreconditionFailed, toWardenError } from '../cloud/errors.js';
import { rec } from './compute-fingerprint-patch.js';
import { protoRestJson } from '../cloud/proto-rest-json.js';
import { liveAsset, parseState, type Json } from './compute-resource.js';
import { waitForSqlOperation } from './sql-operation.js';
import type { ActionContext, ActionSettings, ApplyOutcome, RemediationAction, UndoOutcome } from './types.js';

type IDatabaseInstance = protos.google.cloud.sql.v1.IDatabaseInstance;

export const SQL_INSTANCE_TYPE = 'sqladmin.googleapis.com/Instance';
export const SQLADMIN_API = 'https://sqladmin.googleapis.com/v1';

export const SqlInstanceRefSchema = z.object({ project: z.string(), instance: z.string() });
export type SqlInstanceRef = z.infer<typeof SqlInstanceRefSchema>;

const StateSchema = z.object({
  ref: SqlInstanceRefSchema,
  /** The instance as instances.get returned it, as REST JSON (settings.settingsVersion included). */
  data: z.record(z.string(), z.unknown()),
});
export type SqlInstanceState = z.infer<typeof StateSchema>;

/** Parses CAI's name for a Cloud SQL instance: `//cloudsql.googleapis.com/projects/P/instances/I`. */
export function sqlInstanceRefOf(asset: Asset): SqlInstanceRef {
  const m = /^\/\/cloudsql\.googleapis\.com\/projects\/([^/]+)\/instances\/([^/]+)$/.exec(asset.name);
  if (m?.[1] && m[2]) return { project: m[1], instance: m[2] };
  throw new WardenError(`${asset.name} is not a Cloud SQL instance`, {
    retryable: false,
    code: 'not_applicable',
  });
}

export function sqlInstanceUrl(ref: SqlInstanceRef): string {
  return `${SQLADMIN_API}/projects/${encodeURIComponent(ref.project)}/instances/${encodeURIComponent(ref.instance)}`;
}

export function sqlOperationUrl(ref: SqlInstanceRef): string {
  return `${SQLADMIN_API}/projects/${encodeURIComponent(ref.project)}/operations/{operation}`;
}

function describeRef(ref: SqlInstanceRef): string {
  return `Cloud SQL instance ${ref.project}:${ref.instance}`;
}

export function settingsOf(data: Json): Json {
  return rec(data['settings']) ?? {};
}

export function settingsVersionOf(data: Json): string | undefined {
  const v = settingsOf(data)['settingsVersion'];
  return v === undefined || v === null ? undefined : String(v);
}

/** mysql, postgres or sqlserver, from databaseVersion (MYSQL_8_0, POSTGRES_15, SQLSERVER_2019_STANDARD). */
export function engineOf(data: Json): string {
  return String(data['databaseVersion'] ?? '')
    .toLowerCase()
    .replace(/_.*$/, '');
}

/** A read replica, as the policies read it: instanceType READ_REPLICA_INSTANCE or a masterInstanceName. */
export function isReadReplica(data: Json): boolean {
  return data['instanceType'] === 'READ_REPLICA_INSTANCE' || String(data['masterInstanceName'] ?? '') !== '';
}

/**
 * instances.get decoded by gax (wrappers as `{value}`, Timestamps as objects, every unset field at its zero
 * value) back in its REST JSON shape, read through the DatabaseInstance descriptor the client ships: reads
 * then compare with each other and are evaluated by the policies as CAI's resource.data is.
 */
export function sqlRestJson(message: unknown): Json {
  return protoRestJson('@google-cloud/sql', 'google.cloud.sql.v1.DatabaseInstance', message);
}

/** The wrapper-typed fields (sent as `{value}` to the client) of the Settings messages Warden writes. */
const WRAPPED: Record<string, ReadonlySet<string>> = {
  settings: new Set([
    'settingsVersion',
    'storageAutoResizeLimit',
    'storageAutoResize',
    'databaseReplicationEnabled',
    'crashSafeReplicationEnabled',
    'dataDiskSizeGb',
    'deletionProtectionEnabled',
    'replicationLagMaxSeconds',
    'enableGoogleMlIntegration',
    'enableDataplexIntegration',
    'retainBackupsOnDelete',
    'acceleratedReplicaMode',
  ]),
  ipConfiguration: new Set(['ipv4Enabled', 'requireSsl', 'enablePrivatePathForGoogleCloudServices']),
  backupConfiguration: new Set([
    'enabled',
    'binaryLogEnabled',
    'replicationLogArchivingEnabled',
    'pointInTimeRecoveryEnabled',
    'transactionLogRetentionDays',
  ]),
  backupRetentionSettings: new Set(['retainedBackups']),
  maintenanceWindow: new Set(['hour', 'day']),
};
/** Output-only fields a read returns and a write must not carry back. */
const OUTPUT_ONLY: Record<string, ReadonlySet<string>> = {
  backupConfiguration: new Set(['transactionalLogStorageState', 'backupTier']),
};
/** Maps whose keys are data (label names), not fields. */
const MAPS = new Set(['userLabels']);

/** REST JSON of a Settings patch as the gax client takes it: wrappers as `{value}`, timestamps as objects. */
function toGax(message: string, json: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(json)) {
    if (OUTPUT_ONLY[message]?.has(k)) continue;
    if (WRAPPED[message]?.has(k)) out[k] = { value: v };
    else if (k === 'expirationTime' && typeof v === 'string') {
      const ms = Date.parse(v);
      out[k] = { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
    } else if (Array.isArray(v)) out[k] = v.map((e) => (rec(e) ? toGax(k, e as Json) : e));
    else if (rec(v) && !MAPS.has(k)) out[k] = toGax(k, v as Json);
    else out[k] = v;
  }
  return out;
}

/** instances.get as REST JSON, or null when the instance is gone. */
export async function getSqlInstance(ctx: ActionContext, ref: SqlInstanceRef): Promise<Json | null> {
  const sql = await ctx.cloud.sql('SqlInstancesServiceClient');
  try {
    const [data] = await sql.get({ project: ref.project, instance: ref.instance });
    return sqlRestJson(data);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw toWardenError(err, `reading ${describeRef(ref)}`);
  }
}

/**
 * instances.patch of `settings` (carrying settingsVersion), then the operation. 'stale' when Cloud SQL
 * answered 412 staleData (the settings changed since settingsVersion was read).
 */
async function patchSettings(
  ctx: ActionContext,
  ref: SqlInstanceRef,
  settings: Json,
): Promise<'done' | 'stale' | 'gone'> {
  const sql = await ctx.cloud.sql('SqlInstancesServiceClient');
  let started;
  try {
    [started] = await sql.patch({
      project: ref.project,
      instance: ref.instance,
      body: { settings: toGax('settings', settings) } as IDatabaseInstance,
    });
  } catch (err) {
    if (isPreconditionFailed(err)) return 'stale';
    if (isNotFound(err)) return 'gone';
    const info = describeCloudError(err);
    // Cloud SQL runs one operation per instance at a time: 409 operationInProgress clears by itself.
    if (info.httpStatus === 409) {
      throw new WardenError(
        `patching ${describeRef(ref)}: another operation is in progress: ${info.message}`,
        {
          retryable: true,
          code: 'ABORTED',
          cause: err,
        },
      );
    }
    throw toWardenError(err, `patching ${describeRef(ref)}`);
  }
  await waitForSqlOperation(ctx, ref.project, started);
  return 'done';
}

/** One fix of a Cloud SQL instance's settings by instances.patch, guarded by settingsVersion. */
export interface SqlSettingsPatchSpec {
  id: string;
  title: string;
  risk: Risk;
  /** false when undo can never be expressed (then undo always refuses, sending nothing). */
  reversible?: boolean;
  /** Why the fix must not or cannot be applied to this instance (reported as a conflict), if so. */
  refusal?(data: Json, settings: ActionSettings): string | undefined;
  /**
   * The part of the settings the action reads and writes (its captured state). apply goes ahead when only
   * other settings moved since the capture (another fix on the same instance), with the settingsVersion of
   * its re-read as the precondition; a change of this part is a conflict.
   */
  aspect(data: Json): unknown;
  /** Whether the live instance already passes the policies the action fixes. */
  isFixed(data: Json, settings: ActionSettings): boolean;
  /** The settings patch (without settingsVersion) that fixes `data`. */
  fixSettings(data: Json, settings: ActionSettings): Json;
  /**
   * The settings patch that restores `before` on `live`: null when nothing differs, a string (the reason)
   * when the client cannot express it.
   */
  undoSettings(before: Json, live: Json): Json | string | null;
  describe(ref: SqlInstanceRef, data: Json, settings: ActionSettings): string;
}

/** The settingsVersion precondition (Cloud SQL always returns one; without it the patch would be unguarded). */
function guard(version: string | undefined): Json {
  return version === undefined ? {} : { settingsVersion: version };
}

/**
 * Whether the settings moved on since `known` was read: settingsVersion says so; an instance without one
 * (never seen from Cloud SQL itself) is compared setting by setting, the guarded re-read the API then allows.
 */
function settingsChanged(known: Json, live: Json): boolean {
  const version = settingsVersionOf(known);
  if (version !== undefined || settingsVersionOf(live) !== undefined)
    return settingsVersionOf(live) !== version;
  return canonicalJson(settingsOf(known)) !== canonicalJson(settingsOf(live));
}

function refusalOf(spec: SqlSettingsPatchSpec, data: Json, settings: ActionSettings): string | undefined {
  if (data['instanceType'] === 'ON_PREMISES_INSTANCE') {
    return 'it is an external primary (ON_PREMISES_INSTANCE), not an instance Cloud SQL manages';
  }
  return spec.refusal?.(data, settings);
}

/**
 * A settings fix (catalog F11/F12): the instance is re-read, the part the fix changes must still be as
 * captured, and the fix is computed from the live settings and sent with the settingsVersion of that read,
 * so a change made by anyone since makes Cloud SQL answer 412 staleData and nothing is overwritten; then the
 * operation is polled until DONE and the instance re-read. Undo is stricter: any settings change since the
 * fix (a new settingsVersion) refuses it.
 */
export function sqlSettingsPatchAction(spec: SqlSettingsPatchSpec): RemediationAction<SqlInstanceState> {
  const label = describeRef;
  return {
    id: spec.id,
    title: spec.title,
    risk: spec.risk,
    reversible: spec.reversible ?? true,
    assetTypes: [SQL_INSTANCE_TYPE],

    plan(asset: Asset, settings: ActionSettings): Plan {
      const ref = sqlInstanceRefOf(asset);
      const data = asset.resource?.data ?? {};
      const url = sqlInstanceUrl(ref);
      const refused = refusalOf(spec, data, settings);
      const description = spec.describe(ref, data, settings);
      if (refused) {
        return {
          description: `${description} As captured this would be refused: ${refused}.`,
          requests: [{ method: 'GET', url }],
        };
      }
      const settingsVersion = settingsVersionOf(data) ?? '{settingsVersion}';
      return {
        description,
        requests: [
          { method: 'GET', url },
          {
            method: 'PATCH',
            url,
            body: { settings: { settingsVersion, ...spec.fixSettings(data, settings) } },
          },
          { method: 'GET', url: sqlOperationUrl(ref) },
        ],
      };
    },

    async captureBefore(asset, ctx) {
      const ref = sqlInstanceRefOf(asset);
      const data = await getSqlInstance(ctx, ref);
      return data ? { ref, data } : null;
    },

    async apply(_asset, rawBefore, ctx): Promise<ApplyOutcome> {
      const before = parseState(StateSchema, rawBefore, 'before-state');
      const { ref } = before;
      // A 412 (someone, often another fix on the same instance, changed settings between our read and our
      // patch) re-reads and re-plans once; a second one stops, as a conflict.
      for (let attempt = 1; ; attempt++) {
        const live = await getSqlInstance(ctx, ref);
        if (!live) return { status: 'gone' };
        if (spec.isFixed(live, ctx.settings))
          return { status: 'already_applied', after: { ref, data: live } };
        const refused = refusalOf(spec, live, ctx.settings);
        if (refused) return { status: 'conflict', reason: `${label(ref)}: ${refused}` };
        if (canonicalJson(spec.aspect(live)) !== canonicalJson(spec.aspect(before.data))) {
          return {
            status: 'conflict',
            reason: `the settings of ${label(ref)} this fix changes were changed since they were captured (settingsVersion ${String(settingsVersionOf(before.data))} → ${String(settingsVersionOf(live))})`,
            stale: true,
          };
        }
        // The fix is computed from this re-read and guarded by its settingsVersion: nothing changed since wins.
        const version = settingsVersionOf(live);
        const r = await patchSettings(ctx, ref, {
          ...guard(version),
          ...spec.fixSettings(live, ctx.settings),
        });
        if (r === 'gone') return { status: 'gone' };
        if (r === 'stale' && attempt < 2) continue;
        if (r === 'stale') {
          return {
            status: 'conflict',
            reason: `the settings of ${label(ref)} changed while the fix was being sent, twice (412 staleData on settingsVersion ${String(version)})`,
          };
        }
        const data = await getSqlInstance(ctx, ref);
        if (!data) return { status: 'gone' };
        ctx.logger.info('Cloud SQL instance patched', { action: spec.id, instance: label(ref) });
        return { status: 'applied', after: { ref, data } };
      }
    },

    async readLive(asset, ctx) {
      const data = await getSqlInstance(ctx, sqlInstanceRefOf(asset));
      return data ? liveAsset(asset, data) : null;
    },

    async undo(_asset, rawBefore, rawAfter, ctx): Promise<UndoOutcome> {
      const before = parseState(StateSchema, rawBefore, 'before-state');
      const after = parseState(StateSchema, rawAfter, 'after-state');
      const { ref } = before;
      const live = await getSqlInstance(ctx, ref);
      if (!live) return { status: 'gone' };
      const version = settingsVersionOf(after.data);
      if (settingsChanged(after.data, live)) {
        return {
          status: 'refused',
          reason: `the settings of ${label(ref)} changed after the fix (settingsVersion ${String(version)} → ${String(settingsVersionOf(live))}); restoring would overwrite that change`,
        };
      }
      const body = spec.undoSettings(before.data, live);
      if (body === null) return { status: 'restored' };
      if (typeof body === 'string') return { status: 'refused', reason: `${label(ref)}: ${body}` };
      const r = await patchSettings(ctx, ref, { ...guard(version), ...body });
      if (r === 'gone') return { status: 'gone' };
      if (r === 'stale') {
        return {
          status: 'refused',
          reason: `the settings of ${label(ref)} changed while the undo was being sent (412)`,
        };
      }
      ctx.logger.info('Cloud SQL instance restored', { action: spec.id, instance: label(ref) });
      return { status: 'restored' };
    },
  };
}
