import type { ScanFinding } from '../scan-finding.js';
import type { FindingWriter } from './writer.js';

/** The JSON format's fields, in this order; objects (remediation, references, evidence) are JSON text. */
export const CSV_COLUMNS = [
  'policyId',
  'title',
  'resourceName',
  'assetType',
  'project',
  'severity',
  'layer',
  'category',
  'status',
  'suppressedReason',
  'remediation',
  'references',
  'evidence',
  'source',
] as const satisfies ReadonlyArray<keyof ScanFinding>;

/** RFC 4180: quoted when it holds a comma, quote or line break; quotes doubled. */
export function csvField(value: unknown): string {
  const text =
    value === null || value === undefined
      ? ''
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvWriter(): FindingWriter {
  return {
    begin: (sink) => sink.write(`${CSV_COLUMNS.join(',')}\r\n`),
    finding(sink, finding) {
      sink.write(`${CSV_COLUMNS.map((c) => csvField(finding[c])).join(',')}\r\n`);
    },
    end: () => undefined,
  };
}
