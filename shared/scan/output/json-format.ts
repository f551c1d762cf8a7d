import type { ScanFinding } from '../scan-finding.js';
import type { FindingWriter } from './writer.js';

/** The JSON of a policy's fixed fields, kept per policy (its references object) while they stay the same. */
interface PolicyText {
  policyId: string;
  title: string;
  severity: string;
  layer: string;
  category: string;
  references: ScanFinding['references'];
  remediation: ScanFinding['remediation'];
  /** `"policyId":…,"title":…,"resourceName":` */
  head: string;
  /** `,"severity":…,"layer":…,"category":…,"references":…,"remediation":…,"evidence":` */
  middle: string;
}

/**
 * JSON.stringify(s) for a string, without its cost for the common plain string (names, paths): one with no
 * quote, backslash, control character or surrogate is written as it is, between quotes.
 */
function jsonString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return `"${s}"`;
}

/**
 * One finding as JSON.stringify writes it, with the policy's fields (the bulk of the text: references and
 * remediation) stringified once per policy rather than per finding. The keys are ScanFinding's, in the order
 * scanFinding builds it; anything not of the expected shape goes to JSON.stringify.
 */
function findingJson(f: ScanFinding, cache: WeakMap<object, PolicyText>): string {
  const refs = f.references;
  if (typeof refs !== 'object' || refs === null) return JSON.stringify(f);
  let p = cache.get(refs);
  if (
    !p ||
    p.policyId !== f.policyId ||
    p.title !== f.title ||
    p.severity !== f.severity ||
    p.layer !== f.layer ||
    p.category !== f.category ||
    p.remediation !== f.remediation
  ) {
    if (
      typeof f.policyId !== 'string' ||
      typeof f.title !== 'string' ||
      typeof f.severity !== 'string' ||
      typeof f.layer !== 'string' ||
      typeof f.category !== 'string' ||
      f.remediation === undefined
    )
      return JSON.stringify(f);
    p = {
      policyId: f.policyId,
      title: f.title,
      severity: f.severity,
      layer: f.layer,
      category: f.category,
      references: refs,
      remediation: f.remediation,
      head: `"policyId":${JSON.stringify(f.policyId)},"title":${JSON.stringify(f.title)},"resourceName":`,
      middle:
        `,"severity":${JSON.stringify(f.severity)},"layer":${JSON.stringify(f.layer)},` +
        `"category":${JSON.stringify(f.category)},"references":${JSON.stringify(refs)},` +
        `"remediation":${JSON.stringify(f.remediation)},"evidence":`,
    };
    cache.set(refs, p);
  }
  if (
    typeof f.resourceName !== 'string' ||
    typeof f.assetType !== 'string' ||
    (f.project !== null && typeof f.project !== 'string') ||
    typeof f.evidence !== 'object' ||
    f.evidence === null ||
    typeof f.status !== 'string' ||
    (f.suppressedReason !== null && typeof f.suppressedReason !== 'string') ||
    typeof f.source !== 'string'
  )
    return JSON.stringify(f);
  return (
    `{${p.head}${jsonString(f.resourceName)},"assetType":${jsonString(f.assetType)},` +
    `"project":${f.project === null ? 'null' : jsonString(f.project)}${p.middle}` +
    `${JSON.stringify(f.evidence)},"status":${jsonString(f.status)},` +
    `"suppressedReason":${f.suppressedReason === null ? 'null' : jsonString(f.suppressedReason)},` +
    `"source":${jsonString(f.source)}}`
  );
}

/** A JSON array of ScanFinding objects, one per line, streamed element by element. */
export function jsonWriter(): FindingWriter {
  let first = true;
  const cache = new WeakMap<object, PolicyText>();
  return {
    begin: (sink) => sink.write('['),
    finding(sink, finding) {
      sink.write(first ? '\n' : ',\n');
      sink.write(findingJson(finding, cache));
      first = false;
    },
    end: (sink) => sink.write(first ? ']\n' : '\n]\n'),
  };
}
