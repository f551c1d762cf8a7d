import { createHash } from 'node:crypto';
import { z } from 'zod';
import { rfc3339Nanos } from './rfc3339.js';
import { parseJson, zodReason } from './zod-reason.js';

/**
 * A Cloud Audit Logs entry (LogEntry with an AuditLog protoPayload) as a log sink publishes it to Pub/Sub.
 * Cloud Asset Inventory feeds do not say who made a change; these entries do, so the person whose change
 * triggered a fix can be named as its requester and kept from approving it.
 */
const AuditLogEntrySchema = z.looseObject({
  logName: z.string().optional(),
  insertId: z.string().optional(),
  timestamp: z.string().optional(),
  receiveTimestamp: z.string().optional(),
  protoPayload: z.looseObject({
    '@type': z.string().optional(),
    serviceName: z.string().min(1),
    methodName: z.string().min(1),
    resourceName: z.string().optional(),
    authenticationInfo: z.looseObject({ principalEmail: z.string().optional() }).optional(),
    status: z.looseObject({ code: z.number().int().optional(), message: z.string().optional() }).optional(),
  }),
});

const AUDIT_LOG_TYPE = 'type.googleapis.com/google.cloud.audit.AuditLog';
/** Methods that only read, by the last segment of methodName (Data Access logs carry these). */
const READ_METHOD = /^(get|list|search|query|lookup|batchget|read|testiampermissions|aggregated)/i;

export interface ChangeAuthorEvent {
  /** The entry's insertId: duplicates of one delivery share it. */
  insertId: string;
  /** Lower-cased, as identity keys compare it. */
  principal: string;
  /** RFC 3339, when the call was made; null when the entry carries no usable time. */
  at: string | null;
  method: string;
  /** The Cloud Asset Inventory names of the resource the call changed (two spellings for GKE locations). */
  resourceNames: string[];
}

export type DecodedAuditLog =
  | { kind: 'change'; event: ChangeAuthorEvent }
  /** A well-formed entry that records no change by anyone (a read, a failed call, no principal). */
  | { kind: 'ignored'; reason: string }
  | { kind: 'invalid'; reason: string };

export function decodeAuditLogEntry(text: string): DecodedAuditLog {
  const json = parseJson(text);
  if (!json.ok) return { kind: 'invalid', reason: json.reason };
  const parsed = AuditLogEntrySchema.safeParse(json.value);
  if (!parsed.success) return { kind: 'invalid', reason: zodReason(parsed.error) };
  const entry = parsed.data;
  const p = entry.protoPayload;
  if (p['@type'] !== undefined && p['@type'] !== AUDIT_LOG_TYPE)
    return { kind: 'invalid', reason: `protoPayload is ${p['@type']}, not an audit log entry` };
  // Null when neither is a time (test payloads carry "0000-00-00T…"): the receiver uses its arrival time.
  const at =
    [entry.timestamp, entry.receiveTimestamp].find((t) => t !== undefined && rfc3339Nanos(t)) ?? null;

  // A failed call changed nothing; google.rpc.Status code 0 (or none) is OK.
  if (p.status?.code) return { kind: 'ignored', reason: `the call failed (status ${p.status.code})` };
  const isActivity = /cloudaudit\.googleapis\.com(%2F|\/)activity$/.test(entry.logName ?? '');
  const verb = p.methodName.split('.').at(-1) ?? '';
  if (!isActivity && READ_METHOD.test(verb)) return { kind: 'ignored', reason: `${p.methodName} reads` };
  const principal = p.authenticationInfo?.principalEmail?.trim().toLowerCase();
  if (!principal) return { kind: 'ignored', reason: 'no principal (a change made by Google itself)' };
  const resourceNames = p.resourceName ? caiNamesOf(p.serviceName, p.resourceName) : [];
  if (resourceNames.length === 0)
    return {
      kind: 'ignored',
      reason: `${p.serviceName} ${p.resourceName ?? '(no resource)'} is not a resource Warden tracks`,
    };
  return {
    kind: 'change',
    event: {
      insertId: entry.insertId ?? createHash('sha256').update(text).digest('hex').slice(0, 32),
      principal,
      at,
      method: p.methodName,
      resourceNames,
    },
  };
}

/**
 * Audit logs name a resource relative to its service (and in a service's own spellings); CAI names are
 * `//service/relative-name`. Project ids and numbers are not reconciled here: names keep what the log says.
 */
export function caiNamesOf(serviceName: string, resourceName: string): string[] {
  const rn = resourceName.replace(/^\/+/, '');
  switch (serviceName) {
    case 'storage.googleapis.com': {
      // Bucket changes only: object names end in /objects/…, and objects are not inventoried.
      const m = /^projects\/[^/]+\/buckets\/([^/]+)$/.exec(rn);
      return m ? [`//storage.googleapis.com/${m[1]}`] : [];
    }
    case 'cloudsql.googleapis.com':
    case 'sqladmin.googleapis.com': {
      // "instances/PROJECT:INSTANCE" in older entries, "projects/P/instances/I" in newer ones.
      const m =
        /^instances\/([^:/]+):([^/]+)$/.exec(rn) ?? /^projects\/([^/]+)\/instances\/([^/]+)$/.exec(rn);
      return m ? [`//cloudsql.googleapis.com/projects/${m[1]}/instances/${m[2]}`] : [];
    }
    case 'container.googleapis.com': {
      // CAI names zonal clusters under zones/ and regional ones under locations/; the log may use either.
      const m =
        /^projects\/([^/]+)\/(?:zones|locations)\/([^/]+)\/clusters\/([^/]+)(\/nodePools\/[^/]+)?$/.exec(rn);
      if (!m) return [];
      const tail = `${m[2]}/clusters/${m[3]}${m[4] ?? ''}`;
      return ['zones', 'locations'].map((l) => `//container.googleapis.com/projects/${m[1]}/${l}/${tail}`);
    }
    default:
      return /^(projects|folders|organizations)\/[^/]+/.test(rn) &&
        /^[a-z0-9.-]+\.googleapis\.com$/.test(serviceName)
        ? [`//${serviceName}/${rn}`]
        : [];
  }
}
