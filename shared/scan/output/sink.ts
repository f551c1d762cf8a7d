import { once } from 'node:events';
import type { Writable } from 'node:stream';

/** Output is gathered into chunks of this size: one stream write per finding would dominate a big scan. */
const CHUNK = 64 * 1024;

/**
 * Where a report goes (stdout or a file), written as the scan runs: the report is never held whole.
 * `pressure()` says when the scan should wait for the stream to drain.
 */
export class Sink {
  private buffer = '';
  private draining = false;

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
    if (!this.stream.write(this.buffer)) this.draining = true;
    this.buffer = '';
  }

  /** A promise to await before producing more, when the stream's buffer is full; else undefined. */
  pressure(): Promise<void> | undefined {
    if (!this.draining) return undefined;
    this.draining = false;
    return once(this.stream, 'drain').then(() => undefined);
  }

  async end(): Promise<void> {
    this.flush();
    if (this.owned) {
      this.stream.end();
      await once(this.stream, 'finish');
    } else if (this.draining) {
      this.draining = false;
      await once(this.stream, 'drain');
    }
  }
}
