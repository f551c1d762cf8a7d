import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { Sink, writerFor } from '../../shared/scan/output/choose-writer.js';
import type { FindingContext, ScanFinding } from '../../shared/scan/scan-finding.js';
import type { ScanStats } from '../../shared/scan/scan-inventory.js';

/*
 * The JSON format writes each finding's text itself (strings without anything to escape go out as they
 * are): it must be what JSON.stringify writes, byte for byte, whatever the strings hold.
 */

const ODD = [
  'plain',
  '',
  'quote " inside',
  'back\\slash',
  'tab\tnew\nline\rcr',
  'control \u0001 \u001f',
  'del \u007f and nbsp \u00a0',
  'line sep \u2028 para \u2029',
  'é ü 日本',
  'pair 🙂',
  'lone high \ud800 end',
  'lone low \udc00',
  '\ud83d',
];

function finding(s: string, i: number): ScanFinding {
  return {
    policyId: `p-${i % 3}`,
    title: 'A title',
    resourceName: `//storage.googleapis.com/${s}`,
    assetType: 'storage.googleapis.com/Bucket',
    project: i % 2 ? null : `projects/${s}`,
    severity: 'high',
    layer: 'data',
    category: 'security',
    references: { cis: ['1.1'] },
    remediation: { recommendation: 'fix it' },
    evidence: { 'resource.data.name': s },
    status: i % 2 ? 'open' : 'suppressed',
    suppressedReason: i % 2 ? null : `reason ${s}`,
    source: `/inv/${s}.ndjson:${i}`,
  };
}

async function written(findings: readonly ScanFinding[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  const sink = new Sink(stream, true);
  const writer = writerFor('json', '2026-01-01T00:00:00Z');
  writer.begin(sink);
  for (const f of findings) writer.finding(sink, f, {} as FindingContext);
  writer.end(sink, {} as ScanStats);
  await sink.end();
  return Buffer.concat(chunks);
}

describe('scan JSON output', () => {
  it('is JSON.stringify of every finding, whatever its strings hold', async () => {
    const findings = ODD.map(finding);
    const want = Buffer.from(`[\n${findings.map((f) => JSON.stringify(f)).join(',\n')}\n]\n`);
    expect((await written(findings)).equals(want)).toBe(true);
  });
});
