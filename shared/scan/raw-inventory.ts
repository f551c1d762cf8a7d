import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { JsonArraySplitter } from '../contracts/json-array-splitter.js';

/*
 * The inventory as raw record text, in batches. The scan reads every file twice and decides per record
 * whether it needs parsing at all in a pass, so it cannot use readInventory (which parses every record); this
 * accepts the same inputs (NDJSON or JSON arrays, .gz, files or directories, the first significant character
 * decides the format) and reports the same file:line. Batches (one per chunk read) keep the per-record cost
 * of async iteration off the hot path.
 */

export type RawRecord =
  | { kind: 'text'; file: string; line: number; text: string }
  | { kind: 'error'; file: string; line: number; reason: string };

/**
 * With a filter: records whose text the filter does not match are only counted, `count` of them in a row
 * (in their place among the other records), never cut out of the file's text nor handed on.
 */
export type FilteredRecord = RawRecord | { kind: 'skipped'; file: string; count: number };

const INVENTORY_FILE = /\.(json|ndjson|jsonl)(\.gz)?$/i;

/**
 * Bytes read at a time. A chunk's text (and the lines cut from it) must stay a young-generation object
 * (V8 puts strings over 128 KiB in the large-object space, freed only by full collections): with larger
 * chunks a scan's memory grew with the inventory until the next full collection.
 */
const CHUNK = 64 * 1024;
/** Chunks whose records are handed on together. */
const CHUNKS_PER_BATCH = 4;

/**
 * A plain file's text in chunks, read synchronously: the scan has nothing to do while it waits for a read,
 * and an asynchronous read per chunk costs a trip through the thread pool and the event loop (idle time).
 */
function* plainFileChunks(file: string): Generator<string> {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    const decoder = new StringDecoder('utf8');
    for (;;) {
      const n = readSync(fd, buffer, 0, CHUNK, null);
      if (n === 0) break;
      const text = decoder.write(n === CHUNK ? buffer : buffer.subarray(0, n));
      if (text !== '') yield text;
    }
    const rest = decoder.end();
    if (rest !== '') yield rest;
  } finally {
    closeSync(fd);
  }
}

/** The file's text in chunks: synchronous reads for plain files, a stream through gunzip for .gz. */
function textChunks(file: string): Iterable<string> | AsyncIterable<string> {
  if (!file.toLowerCase().endsWith('.gz')) return plainFileChunks(file);
  return textStream(file);
}

function textStream(file: string): Readable {
  const raw = createReadStream(file, { highWaterMark: CHUNK });
  const gunzip = createGunzip({ chunkSize: CHUNK });
  raw.on('error', (err) => gunzip.destroy(err));
  return raw.pipe(gunzip).setEncoding('utf8');
}

/** Splits NDJSON chunks into lines, keeping only the unfinished last line between chunks. */
class LineSplitter {
  private rest = '';
  private line = 0;
  constructor(private readonly file: string) {}

  push(chunk: string, out: FilteredRecord[]): void {
    // The unfinished line is completed on its own: joining it to the whole chunk would copy the chunk.
    let start = 0;
    if (this.rest !== '') {
      const nl = chunk.indexOf('\n');
      if (nl === -1) {
        this.rest += chunk;
        return;
      }
      this.emit(this.rest + chunk.slice(0, nl), out);
      start = nl + 1;
    }
    for (let nl = chunk.indexOf('\n', start); nl !== -1; nl = chunk.indexOf('\n', start)) {
      this.emit(chunk.slice(start, nl), out);
      start = nl + 1;
    }
    this.rest = chunk.slice(start);
  }

  end(out: FilteredRecord[]): void {
    if (this.rest !== '') this.emit(this.rest, out);
    this.rest = '';
  }

  protected emit(raw: string, out: FilteredRecord[]): void {
    this.line++;
    let text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (this.line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    // A record starting with its brace is not blank (the common case, without trimming).
    if (text.charCodeAt(0) !== 0x7b && text.trim() === '') return;
    out.push({ kind: 'text', file: this.file, line: this.line, text });
  }

  /** A line not handed on: numbered and, unless blank, counted, as `emit` would. */
  protected count(text: string, start: number, end: number): boolean {
    this.line++;
    // The common case: a record starts with its brace.
    if (start < end && text.charCodeAt(start) === 0x7b) return true;
    let line = text.slice(start, end);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (this.line === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    return line.trim() !== '';
  }
}

/**
 * A LineSplitter that cuts out only the lines the filter matches (searched over the whole chunk at once)
 * and counts the others. The filter's patterns never span a line break.
 */
class FilteredLineSplitter extends LineSplitter {
  private restText = '';
  private readonly search: RegExp;

  constructor(
    private readonly name: string,
    filter: RegExp,
  ) {
    super(name);
    this.search = new RegExp(filter.source, filter.flags.includes('g') ? filter.flags : filter.flags + 'g');
  }

  override push(chunk: string, out: FilteredRecord[]): void {
    const text = chunk;
    const search = this.search;
    let skipped = 0;
    let start = 0;
    // The unfinished line is completed and tested on its own (the patterns never span a line break):
    // joining it to the whole chunk would copy the chunk.
    if (this.restText !== '') {
      const nl = chunk.indexOf('\n');
      if (nl === -1) {
        this.restText += chunk;
        return;
      }
      const first = this.restText + chunk.slice(0, nl);
      this.restText = '';
      search.lastIndex = 0;
      if (search.test(first)) this.emit(first, out);
      else if (this.count(first, 0, first.length)) skipped++;
      start = nl + 1;
    }
    let match = -1; // start of the next match at or after `start` (-2: none left)
    for (let nl = text.indexOf('\n', start); nl !== -1; nl = text.indexOf('\n', start)) {
      if (match !== -2 && match < start) {
        search.lastIndex = start;
        const m = search.exec(text);
        match = m ? m.index : -2;
      }
      if (match !== -2 && match < nl) {
        if (skipped > 0) {
          out.push({ kind: 'skipped', file: this.name, count: skipped });
          skipped = 0;
        }
        this.emit(text.slice(start, nl), out);
      } else if (this.count(text, start, nl)) {
        skipped++;
      }
      start = nl + 1;
    }
    if (skipped > 0) out.push({ kind: 'skipped', file: this.name, count: skipped });
    this.restText = text.slice(start);
  }

  override end(out: FilteredRecord[]): void {
    const rest = this.restText;
    this.restText = '';
    if (rest === '') return;
    this.search.lastIndex = 0;
    if (this.search.test(rest)) this.emit(rest, out);
    else if (this.count(rest, 0, rest.length)) out.push({ kind: 'skipped', file: this.name, count: 1 });
  }
}

async function* readFileBatches(file: string, filter?: RegExp): AsyncGenerator<FilteredRecord[]> {
  const chunks = textChunks(file);
  let mode: 'sniff' | 'ndjson' | 'array' = 'sniff';
  let lines: LineSplitter | undefined;
  let array: JsonArraySplitter | undefined;
  let pending = '';
  const feed = (chunk: string, out: FilteredRecord[]) => {
    if (lines) lines.push(chunk, out);
    else if (array)
      for (const e of array.push(chunk))
        out.push(
          e.kind === 'element'
            ? filter && !filter.test(e.text)
              ? { kind: 'skipped', file, count: 1 }
              : { kind: 'text', file, line: e.line, text: e.text }
            : { kind: 'error', file, line: e.line, reason: e.reason },
        );
  };
  // A batch gathers the records of a few chunks: each batch costs a round of promises through the nested
  // async generators, and small chunks (see CHUNK) would make that a cost of its own.
  let out: FilteredRecord[] = [];
  let chunksInBatch = 0;
  try {
    for await (const chunk of chunks) {
      if (mode === 'sniff') {
        pending += chunk;
        const m = /[^\s\uFEFF]/.exec(pending);
        if (!m) continue;
        if (m[0] === '[') {
          mode = 'array';
          array = new JsonArraySplitter();
        } else if (m[0] === '{') {
          mode = 'ndjson';
          lines = filter ? new FilteredLineSplitter(file, filter) : new LineSplitter(file);
        } else {
          yield [
            {
              kind: 'error',
              file,
              line: 0,
              reason: `neither NDJSON nor a JSON array: starts with '${m[0]}'`,
            },
          ];
          return;
        }
        feed(pending, out);
        pending = '';
      } else {
        feed(chunk, out);
      }
      if (++chunksInBatch >= CHUNKS_PER_BATCH && out.length > 0) {
        yield out;
        out = [];
        chunksInBatch = 0;
      }
    }
  } catch (err) {
    // A read error (a truncated gzip) loses the rest of the file, not the records already split.
    if (out.length > 0) yield out;
    throw err;
  } finally {
    if ('destroy' in chunks) (chunks as Readable).destroy();
    else (chunks as Generator<string>).return(undefined);
  }
  if (lines) lines.end(out);
  if (array)
    for (const e of array.end())
      if (e.kind === 'error') out.push({ kind: 'error', file, line: e.line, reason: e.reason });
  if (out.length > 0) yield out;
}

async function* readPath(
  path: string,
  explicit: boolean,
  visited: Set<string>,
  filter: RegExp | undefined,
): AsyncGenerator<FilteredRecord[]> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    yield [{ kind: 'error', file: path, line: 0, reason: (err as Error).message }];
    return;
  }
  if (info.isDirectory()) {
    for (const entry of (await readdir(path)).sort())
      yield* readPath(join(path, entry), false, visited, filter);
    return;
  }
  if (!explicit && !INVENTORY_FILE.test(path)) return;
  // A file named twice (itself and through its directory) would double every finding in it.
  const real = await realpath(path);
  if (visited.has(real)) return;
  visited.add(real);
  try {
    yield* readFileBatches(path, filter);
  } catch (err) {
    // Unreadable or corrupt (truncated gzip): the rest of this file is lost, the other files are still read.
    yield [{ kind: 'error', file: path, line: 0, reason: (err as Error).message }];
  }
}

/** Every record of the inventory as text with its file and line, in batches; bad files are error records. */
export function readRawInventory(paths: readonly string[]): AsyncGenerator<RawRecord[]>;
/** The same, with only the records whose text `filter` matches (not global) handed on; the others counted. */
export function readRawInventory(paths: readonly string[], filter: RegExp): AsyncGenerator<FilteredRecord[]>;
export async function* readRawInventory(
  paths: readonly string[],
  filter?: RegExp,
): AsyncGenerator<FilteredRecord[]> {
  const visited = new Set<string>();
  for (const path of paths) yield* readPath(path, true, visited, filter);
}
