import { readFileSync } from 'node:fs';
import path from 'node:path';
import { findingId } from '../../engine/repository.js';
import type { Severity } from '../../model/policy.js';
import { projectRoot } from '../../util/project-root.js';
import type { FindingContext, ScanFinding } from '../scan-finding.js';
import type { FindingWriter } from './writer.js';

/*
 * OCSF Detection Finding (class 2004, category 2 Findings, activity 1 Create, type_uid 200401), shaped as
 * Prowler's json-ocsf output is (py-ocsf-models DetectionFinding, catalog §4.1): finding_info, resources[],
 * cloud {account, org}, remediation, metadata.event_code = policy id, unmapped.compliance = framework → ids.
 * Absent values are omitted, as Prowler's exclude_none does. Deliberate differences from Prowler: `time` is
 * epoch milliseconds as the OCSF timestamp_t type says (Prowler writes seconds), and cloud.provider is "GCP".
 */

export const OCSF_SCHEMA_VERSION = '1.1.0';

/**
 * OCSF severity_id: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical. Warden has no informational
 * severity, so 1 is never produced; the mapping is OCSF's (and Prowler's) own, not a stretch to 1..4.
 */
export const OCSF_SEVERITY: Record<Severity, { id: number; name: string }> = {
  low: { id: 2, name: 'Low' },
  medium: { id: 3, name: 'Medium' },
  high: { id: 4, name: 'High' },
  critical: { id: 5, name: 'Critical' },
};

/** OCSF status_id: 1 New (open), 3 Suppressed (exempt), as Prowler maps muted findings. */
const STATUS = { open: { id: 1, name: 'New' }, suppressed: { id: 3, name: 'Suppressed' } } as const;

/** OCSF account type 5: GCP Account (Prowler's get_account_type_id_by_provider). */
const GCP_ACCOUNT = { type_id: 5, type: 'GCP Account' };

function productVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function remediationText(r: ScanFinding['remediation']): string {
  if (!r) return 'No remediation is defined for this policy.';
  if ('recommendation' in r) return r.recommendation;
  return `Warden remediates this with the action ${r.action} (risk ${r.risk}).`;
}

/** The service of a CAI asset type ("storage" of storage.googleapis.com/Bucket), as Prowler's group.name. */
function serviceOf(assetType: string): string {
  return assetType.split('.')[0] ?? assetType;
}

export function ocsfFinding(
  f: ScanFinding,
  ctx: FindingContext,
  now: string,
  version: string,
): Record<string, unknown> {
  const severity = OCSF_SEVERITY[f.severity as Severity] ?? { id: 0, name: 'Unknown' };
  const status = STATUS[f.status];
  const time = Date.parse(now);
  const labels = Object.entries(ctx.labels).map(([k, v]) => `${k}:${v}`);
  const region = ctx.location ?? undefined;
  return {
    message: `${f.title}: ${f.resourceName}`,
    activity_id: 1,
    activity_name: 'Create',
    category_uid: 2,
    category_name: 'Findings',
    class_uid: 2004,
    class_name: 'Detection Finding',
    type_uid: 200401,
    type_name: 'Detection Finding: Create',
    severity_id: severity.id,
    severity: severity.name,
    status_id: status.id,
    status: status.name,
    status_code: 'FAIL',
    status_detail: f.suppressedReason ?? f.title,
    time,
    time_dt: now,
    finding_info: {
      uid: findingId(f.policyId, f.resourceName),
      title: f.title,
      desc: ctx.description,
      types: [f.category, f.layer, ...ctx.tags],
      name: f.resourceName,
      created_time: time,
      created_time_dt: now,
    },
    resources: [
      {
        uid: f.resourceName,
        name: f.resourceName.split('/').pop() ?? f.resourceName,
        type: f.assetType,
        group: { name: serviceOf(f.assetType) },
        labels,
        ...(region ? { region } : {}),
        data: { details: f.evidence, metadata: { source: f.source } },
      },
    ],
    cloud: {
      provider: 'GCP',
      ...(f.project ? { account: { uid: f.project, ...GCP_ACCOUNT } } : {}),
      ...(ctx.organization ? { org: { uid: ctx.organization } } : {}),
      ...(region ? { region } : {}),
    },
    remediation: { desc: remediationText(f.remediation) },
    risk_details: ctx.description,
    metadata: {
      event_code: f.policyId,
      product: { uid: 'warden', name: 'Warden', vendor_name: 'Warden', version },
      profiles: ['cloud', 'datetime'],
      version: OCSF_SCHEMA_VERSION,
      ...(ctx.organization ? { tenant_uid: ctx.organization } : {}),
    },
    unmapped: {
      compliance: f.references,
      layer: f.layer,
      category: f.category,
      remediation: f.remediation,
      ...(f.suppressedReason ? { suppressed_reason: f.suppressedReason } : {}),
    },
  };
}

/** A JSON array of Detection Findings, streamed element by element as Prowler's .ocsf.json is one array. */
export function ocsfWriter(now: string): FindingWriter {
  const version = productVersion();
  let first = true;
  return {
    begin: (sink) => sink.write('['),
    finding(sink, finding, context) {
      sink.write(`${first ? '\n' : ',\n'}${JSON.stringify(ocsfFinding(finding, context, now, version))}`);
      first = false;
    },
    end: (sink) => sink.write(first ? ']\n' : '\n]\n'),
  };
}
