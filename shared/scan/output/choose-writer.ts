import { csvWriter } from './csv-format.js';
import { jsonWriter } from './json-format.js';
import { ocsfWriter } from './ocsf-format.js';
import { tableWriter } from './table-format.js';
import type { FindingWriter, Format } from './writer.js';

export function writerFor(format: Format, now: string): FindingWriter {
  switch (format) {
    case 'json':
      return jsonWriter();
    case 'csv':
      return csvWriter();
    case 'ocsf':
      return ocsfWriter(now);
    case 'table':
      return tableWriter();
  }
}

export { FORMATS, type Format, type FindingWriter } from './writer.js';
export { Sink } from './sink.js';
export { scanTotals } from './table-format.js';
