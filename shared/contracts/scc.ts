import { z } from 'zod';
import { SeveritySchema } from '../model/policy.js';
import { isPlainObject, parseJson, zodReason } from './zod-reason.js';

/** A Security Command Center finding as Warden uses it, whatever notification shape carried it. */
export const SccFindingSchema = z.object({
  /** organizations/O/sources/S/findings/F */
  name: z.string(),
  /** organizations/O/sources/S */
  parent: z.string(),
  /** Full resource name of the affected resource, e.g. //storage.googleapis.com/bucket */
  resourceName: z.string(),
  category: z.string(),
  state: z.enum(['ACTIVE', 'INACTIVE', 'STATE_UNSPECIFIED']),
  severity: SeveritySchema.nullable(),
  /** THREAT, VULNERABILITY, MISCONFIGURATION, OBSERVATION, … (absent before 2021). */
  findingClass: z.string().nullable(),
  /** MUTED findings are ones a human chose to silence: not to be acted on. */
  mute: z.enum(['MUTED', 'UNMUTED', 'UNDEFINED', 'MUTE_UNSPECIFIED']).nullable(),
  eventTime: z.string(),
  createTime: z.string().nullable(),
  sourceProperties: z.record(z.string(), z.unknown()),
  /** The marks map only (securityMarks.marks). */
  securityMarks: z.record(z.string(), z.string()),
  /** SCC's resource type, e.g. google.compute.Firewall (not a CAI asset type). */
  resourceType: z.string().nullable(),
  /** projects/NUMBER */
  project: z.string().nullable(),
});
export type SccFinding = z.infer<typeof SccFindingSchema>;

/**
 * The notification's resource block. SCC puts it beside `finding` in camelCase; older tooling (the
 * security-response-automation fixtures) put it inside `finding` in snake_case. Both are read.
 */
const SccResourceSchema = z.looseObject({
  name: z.string().optional(),
  type: z.string().optional(),
  projectName: z.string().optional(),
  project_name: z.string().optional(),
});

const WireFindingSchema = z.looseObject({
  name: z.string().min(1),
  parent: z.string().min(1),
  resourceName: z.string().min(1).optional(),
  category: z.string().min(1),
  state: z.enum(['ACTIVE', 'INACTIVE', 'STATE_UNSPECIFIED']),
  severity: z.enum(['SEVERITY_UNSPECIFIED', 'CRITICAL', 'HIGH', 'MEDIUM', 'LOW']).optional(),
  findingClass: z.string().optional(),
  mute: z.enum(['MUTED', 'UNMUTED', 'UNDEFINED', 'MUTE_UNSPECIFIED']).optional(),
  eventTime: z.iso.datetime({ offset: true }),
  createTime: z.iso.datetime({ offset: true }).optional(),
  sourceProperties: z.record(z.string(), z.unknown()).optional(),
  securityMarks: z.looseObject({ marks: z.record(z.string(), z.string()).optional() }).optional(),
  resource: SccResourceSchema.optional(),
});

const NotificationSchema = z.looseObject({
  notificationConfigName: z.string().optional(),
  finding: WireFindingSchema,
  resource: SccResourceSchema.optional(),
});

export type SccDecode =
  | { kind: 'finding'; finding: SccFinding }
  | { kind: 'not_a_notification'; reason: string }
  | { kind: 'invalid'; reason: string };

const SEVERITY_BY_NAME: Record<string, SccFinding['severity']> = {
  critical: 'critical',
  high: 'high',
  medium: 'medium',
  low: 'low',
};

/** v1 `severity`; before it existed, Security Health Analytics put a "SeverityLevel" in sourceProperties. */
function severityOf(wire: z.infer<typeof WireFindingSchema>): SccFinding['severity'] {
  if (wire.severity !== undefined && wire.severity !== 'SEVERITY_UNSPECIFIED') {
    return SEVERITY_BY_NAME[wire.severity.toLowerCase()] ?? null;
  }
  const legacy = wire.sourceProperties?.['SeverityLevel'];
  return typeof legacy === 'string' ? (SEVERITY_BY_NAME[legacy.toLowerCase()] ?? null) : null;
}

const PROJECT_NAME = /^\/\/cloudresourcemanager\.googleapis\.com\/(projects\/[^/]+)$/;

function projectOf(resourceName: string, projectName: string | undefined): string | null {
  const fromBlock = projectName === undefined ? undefined : PROJECT_NAME.exec(projectName)?.[1];
  return fromBlock ?? PROJECT_NAME.exec(resourceName)?.[1] ?? null;
}

function describeNonNotification(value: Record<string, unknown>): string {
  if ('logName' in value || 'jsonPayload' in value || 'protoPayload' in value) {
    return `a Cloud Logging entry (${String(value['logName'] ?? 'no logName')}), not an SCC notification`;
  }
  const keys = Object.keys(value).slice(0, 5).join(', ');
  return `no "finding" in the message (keys: ${keys === '' ? 'none' : keys})`;
}

/** One message from an SCC notification config's Pub/Sub topic, already base64-decoded to text. */
export function decodeSccNotification(text: string): SccDecode {
  const json = parseJson(text);
  if (!json.ok) return { kind: 'invalid', reason: json.reason };
  if (!isPlainObject(json.value)) return { kind: 'invalid', reason: 'expected a JSON object' };
  if (!('finding' in json.value)) {
    return { kind: 'not_a_notification', reason: describeNonNotification(json.value) };
  }

  const parsed = NotificationSchema.safeParse(json.value);
  if (!parsed.success) return { kind: 'invalid', reason: zodReason(parsed.error) };
  const wire = parsed.data.finding;
  const block = parsed.data.resource ?? wire.resource;
  const resourceName = wire.resourceName ?? block?.name;
  if (resourceName === undefined) {
    return { kind: 'invalid', reason: 'finding.resourceName: neither it nor resource.name is set' };
  }
  return {
    kind: 'finding',
    finding: SccFindingSchema.parse({
      name: wire.name,
      parent: wire.parent,
      resourceName,
      category: wire.category,
      state: wire.state,
      severity: severityOf(wire),
      findingClass: wire.findingClass ?? null,
      mute: wire.mute ?? null,
      eventTime: wire.eventTime,
      createTime: wire.createTime ?? null,
      sourceProperties: wire.sourceProperties ?? {},
      securityMarks: wire.securityMarks?.marks ?? {},
      resourceType: block?.type ?? null,
      project: projectOf(resourceName, block?.projectName ?? block?.project_name),
    }),
  };
}
