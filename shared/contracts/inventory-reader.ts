import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Asset } from '../model/asset.js';
import { mergeAssetParts, parseExportRecord } from './cai.js';
import { JsonArraySplitter } from './json-array-splitter.js';
import { parseJson } from './zod-reason.js';

export interface InventorySource {
  file: string;
  /** 1-based line where the record starts; 0 when the problem is the file itself. */
  line: number;
}

export type InventoryItem =
  | { kind: 'asset'; asset: Asset; source: InventorySource }
  | { kind: 'error'; source: InventorySource; reason: string };

const INVENTORY_FILE = /\.(json|ndjson|jsonl)(\.gz)?$/i;

function textStream(file: string): Readable {
  const raw = createReadStream(file);
  if (!file.toLowerCase().endsWith('.gz')) return raw.setEncoding('utf8');
  const gunzip = createGunzip();
  // A read error on the file must surface on the stream we consume, not vanish on the inner one.
  raw.on('error', (err) => gunzip.destroy(err));
  return raw.pipe(gunzip).setEncoding('utf8');
}

/** The first non-blank character decides the format; only the first chunk or so is read for it. */
async function firstSignificantChar(file: string): Promise<string | undefined> {
  const stream = textStream(file);
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      const m = /[^\s\uFEFF]/.exec(chunk);
      if (m) return m[0];
    }
    return undefined;
  } finally {
    stream.destroy();
  }
}

function recordItem(file: string, line: number, text: string): InventoryItem {
  const json = parseJson(text);
  if (!json.ok) return { kind: 'error', source: { file, line }, reason: json.reason };
  const parsed = parseExportRecord(json.value);
  return parsed.ok
    ? { kind: 'asset', asset: parsed.asset, source: { file, line } }
    : { kind: 'error', source: { file, line }, reason: parsed.reason };
}

async function* readNdjson(file: string): AsyncGenerator<InventoryItem> {
  const stream = textStream(file);
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of lines) {
      line++;
      const record = line === 1 ? text.replace(/^\uFEFF/, '') : text;
      if (record.trim() === '') continue;
      yield recordItem(file, line, record);
    }
  } finally {
    lines.close();
    stream.destroy();
  }
}

async function* readJsonArray(file: string): AsyncGenerator<InventoryItem> {
  const splitter = new JsonArraySplitter();
  const stream = textStream(file);
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      for (const event of splitter.push(chunk)) {
        yield event.kind === 'element'
          ? recordItem(file, event.line, event.text)
          : { kind: 'error', source: { file, line: event.line }, reason: event.reason };
      }
    }
  } finally {
    stream.destroy();
  }
  for (const event of splitter.end()) {
    if (event.kind === 'error') {
      yield { kind: 'error', source: { file, line: event.line }, reason: event.reason };
    }
  }
}

async function* readFile(file: string): AsyncGenerator<InventoryItem> {
  const first = await firstSignificantChar(file);
  if (first === '[') yield* readJsonArray(file);
  else if (first === '{') yield* readNdjson(file);
  else if (first !== undefined) {
    yield {
      kind: 'error',
      source: { file, line: 0 },
      reason: `neither NDJSON nor a JSON array: starts with '${first}'`,
    };
  }
}

async function* readPath(path: string, explicit: boolean): AsyncGenerator<InventoryItem> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    yield { kind: 'error', source: { file: path, line: 0 }, reason: (err as Error).message };
    return;
  }
  if (info.isDirectory()) {
    const entries = (await readdir(path)).sort();
    for (const entry of entries) yield* readPath(join(path, entry), false);
    return;
  }
  // A file named on the command line is read whatever its name; inside directories only inventory files are.
  if (!explicit && !INVENTORY_FILE.test(path)) return;
  try {
    yield* readFile(path);
  } catch (err) {
    // Unreadable or corrupt (truncated gzip): the rest of this file is lost, the other files are still read.
    yield { kind: 'error', source: { file: path, line: 0 }, reason: (err as Error).message };
  }
}

/**
 * Streams assets from CAI export files (NDJSON or JSON arrays, optionally gzipped) and directories of them.
 * Memory stays flat however large the inventory; a bad record is one error item and reading goes on.
 * Parts of one asset (RESOURCE and IAM_POLICY lines) arrive as separate items.
 */
export async function* readInventory(paths: string[]): AsyncGenerator<InventoryItem> {
  for (const path of paths) yield* readPath(path, true);
}

export interface LoadedInventory {
  assets: Asset[];
  errors: Array<{ source: InventorySource; reason: string }>;
}

/** Whole inventory in memory with parts merged by name: for small inventories (the twin, `npm start`). */
export async function loadInventory(paths: string[]): Promise<LoadedInventory> {
  const parts = new Map<string, Asset[]>();
  const errors: LoadedInventory['errors'] = [];
  for await (const item of readInventory(paths)) {
    if (item.kind === 'error') {
      errors.push({ source: item.source, reason: item.reason });
      continue;
    }
    const list = parts.get(item.asset.name);
    if (list) list.push(item.asset);
    else parts.set(item.asset.name, [item.asset]);
  }
  return { assets: [...parts.values()].map(mergeAssetParts), errors };
}
