import type { FindingWriter } from './writer.js';

/** A JSON array of ScanFinding objects, one per line, streamed element by element. */
export function jsonWriter(): FindingWriter {
  let first = true;
  return {
    begin: (sink) => sink.write('['),
    finding(sink, finding) {
      sink.write(`${first ? '\n' : ',\n'}${JSON.stringify(finding)}`);
      first = false;
    },
    end: (sink) => sink.write(first ? ']\n' : '\n]\n'),
  };
}
