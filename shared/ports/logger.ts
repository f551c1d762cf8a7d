/** Structured logging: one JSON line per event, in the shape Cloud Logging indexes. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** Keeps records in memory: tests assert on what was logged. */
export class MemoryLogger implements Logger {
  readonly records: Array<{ level: string; msg: string } & Record<string, unknown>> = [];
  constructor(
    private readonly base: Record<string, unknown> = {},
    sink?: MemoryLogger,
  ) {
    if (sink) this.records = sink.records;
  }
  private add(level: string, msg: string, fields?: Record<string, unknown>): void {
    this.records.push({ ...this.base, ...fields, level, msg });
  }
  debug(msg: string, f?: Record<string, unknown>): void {
    this.add('debug', msg, f);
  }
  info(msg: string, f?: Record<string, unknown>): void {
    this.add('info', msg, f);
  }
  warn(msg: string, f?: Record<string, unknown>): void {
    this.add('warn', msg, f);
  }
  error(msg: string, f?: Record<string, unknown>): void {
    this.add('error', msg, f);
  }
  child(fields: Record<string, unknown>): Logger {
    return new MemoryLogger({ ...this.base, ...fields }, this);
  }
}
