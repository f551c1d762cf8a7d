import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { readInventory } from '../../../shared/contracts/inventory-reader.js';

const NDJSON_RECORDS = 100_000;
const ARRAY_RECORDS = 50_000;
/** Holding every parsed asset takes ~0.9 KB each (~90 MB for the NDJSON file, ~45 MB for the array). */
const MAX_HEAP_GROWTH = 16 * 1024 * 1024;
/**
 * A generous limit, not a speed check: on a loaded 2-core CI machine, writing and reading the files with a
 * forced collection every 25k records has taken 85 s while other suites ran beside it.
 */
const SLOW_MACHINE_TIMEOUT_MS = 240_000;

/** A real collection when the runtime allows one, so the measurement is of live objects, not garbage. */
function collector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** One export line; `#` stands for the record number (stringifying 200k objects would dominate the test). */
const TEMPLATE = JSON.stringify({
  name: '//compute.googleapis.com/projects/p1/global/firewalls/rule-#',
  asset_type: 'compute.googleapis.com/Firewall',
  ancestors: ['projects/1', 'folders/2', 'organizations/1'],
  resource: {
    version: 'v1',
    discovery_name: 'Firewall',
    data: {
      name: 'rule-#',
      direction: 'INGRESS',
      sourceRanges: ['0.0.0.0/0'],
      allowed: [{ IPProtocol: 'tcp', ports: ['22'] }],
    },
  },
  update_time: '2024-03-01T00:00:00.000001Z',
}).split('#');

function record(n: number): string {
  return TEMPLATE.join(String(n));
}

/** Writes records in batches, as NDJSON or as one JSON array spread over lines. */
async function writeInventory(file: string, records: number, format: 'ndjson' | 'array'): Promise<void> {
  const out = createWriteStream(file);
  const separator = format === 'ndjson' ? '\n' : ',\n';
  if (format === 'array') out.write('[\n');
  let batch: string[] = [];
  for (let n = 0; n < records; n++) {
    batch.push(record(n));
    if (batch.length === 5000 || n === records - 1) {
      const last = n === records - 1;
      if (!out.write(batch.join(separator) + (last ? '\n' : separator))) await once(out, 'drain');
      batch = [];
    }
  }
  out.end(format === 'array' ? ']\n' : '');
  await once(out, 'finish');
}

/** Reads the whole file, measuring live heap (after a collection) every 25k items. */
async function readMeasuring(file: string): Promise<{ assets: number; errors: number; peak: number }> {
  const gc = collector();
  gc();
  const baseline = process.memoryUsage().heapUsed;
  let peak = 0;
  let assets = 0;
  let errors = 0;
  for await (const item of readInventory([file])) {
    if (item.kind === 'asset') assets++;
    else errors++;
    if ((assets + errors) % 25_000 === 0) {
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
    }
  }
  return { assets, errors, peak };
}

describe('readInventory on a large export', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'warden-stream-'));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it(
    'keeps memory flat reading NDJSON',
    async () => {
      const file = join(root, 'big.ndjson');
      await writeInventory(file, NDJSON_RECORDS, 'ndjson');
      const { assets, errors, peak } = await readMeasuring(file);
      expect({ assets, errors }).toEqual({ assets: NDJSON_RECORDS, errors: 0 });
      expect(peak).toBeLessThan(MAX_HEAP_GROWTH);
    },
    SLOW_MACHINE_TIMEOUT_MS,
  );

  it(
    'keeps memory flat reading one large JSON array',
    async () => {
      const file = join(root, 'big.json');
      await writeInventory(file, ARRAY_RECORDS, 'array');
      const { assets, errors, peak } = await readMeasuring(file);
      expect({ assets, errors }).toEqual({ assets: ARRAY_RECORDS, errors: 0 });
      expect(peak).toBeLessThan(MAX_HEAP_GROWTH);
    },
    SLOW_MACHINE_TIMEOUT_MS,
  );
});
