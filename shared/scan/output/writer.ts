import type { FindingContext, ScanFinding } from '../scan-finding.js';
import type { ScanStats } from '../scan-inventory.js';
import type { Sink } from './sink.js';

/** One output format: it writes to the sink as findings arrive, never holding them. */
export interface FindingWriter {
  begin(sink: Sink): void;
  finding(sink: Sink, finding: ScanFinding, context: FindingContext): void;
  end(sink: Sink, stats: ScanStats): void;
}

export const FORMATS = ['table', 'json', 'csv', 'ocsf'] as const;
export type Format = (typeof FORMATS)[number];
