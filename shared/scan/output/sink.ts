import { once } from 'node:events';
import type { Writable } from 'node:stream';

/** Output is gathered into chunks of this size: one stream write per finding would dominate a big scan. */
const CHUNK = 64 * 1024;
/**
 * The scan waits for the stream only when this much is queued in it: waiting at the stream's own (small)
 * high-water mark would stop the scan for every chunk while the write is done, instead of overlapping the
 * two. Memory stays bounded by this plus one chunk. Kept small all the same: with 4 MiB queued, the
 * buffers waiting to be written outlived young-generation collections and a big scan's memory grew with
 * its output until a full collection.
 */
const QUEUED_LIMIT = 512 * 1024;

/**
 * Where a report goes (stdout or a file), written as the scan runs: the report is never held whole.
 * `pressure()` says when the scan should wait for the stream to drain.
 */
export class Sink {
  private buffer = '';

  constructor(
    private readonly stream: Writable,
    /** Close the stream at the end (a file), or leave it open (stdout). */
    private readonly owned: boolean,
  ) {}

  write(text: string): void {
    this.buffer += text;
    if (this.buffer.length >= CHUNK) this.flush();
  }

  private flush(): void {
    if (this.buffer === '') return;
    this.stream.write(this.buffer);
    this.buffer = '';
  }

  /** A promise to await before producing more, when the stream's buffer is full; else undefined. */
  pressure(): Promise<void> | undefined {
    // 'drain' comes only after a write was refused (writableNeedDrain), once the queue is empty.
    if (!this.stream.writableNeedDrain || this.stream.writableLength < QUEUED_LIMIT) return undefined;
    return once(this.stream, 'drain').then(() => undefined);
  }

  async end(): Promise<void> {
    this.flush();
    if (this.owned) {
      this.stream.end();
      await once(this.stream, 'finish');
    } else if (this.stream.writableNeedDrain) {
      await once(this.stream, 'drain');
    }
  }
}
