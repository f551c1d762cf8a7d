import { pino, type DestinationStream, type Logger as Pino } from 'pino';
import type { Logger } from '../ports/logger.js';

// Cloud Logging reads `severity` (not pino's numeric `level`) and `message`; labels and trace have fixed keys.
const SEVERITY: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

class PinoLogger implements Logger {
  constructor(private readonly p: Pino) {}
  debug(msg: string, fields: Record<string, unknown> = {}): void {
    this.p.debug(fields, msg);
  }
  info(msg: string, fields: Record<string, unknown> = {}): void {
    this.p.info(fields, msg);
  }
  warn(msg: string, fields: Record<string, unknown> = {}): void {
    this.p.warn(fields, msg);
  }
  error(msg: string, fields: Record<string, unknown> = {}): void {
    this.p.error(fields, msg);
  }
  child(fields: Record<string, unknown>): Logger {
    return new PinoLogger(this.p.child(fields));
  }
}

/** One JSON line per event, in the shape Cloud Logging indexes (severity, message, logging.googleapis.com/labels). */
export function createJsonLogger(
  opts: { level?: string; destination?: DestinationStream; component?: string } = {},
): Logger {
  const p = pino(
    {
      level: opts.level ?? process.env['LOG_LEVEL'] ?? 'info',
      messageKey: 'message',
      base: opts.component ? { 'logging.googleapis.com/labels': { component: opts.component } } : {},
      formatters: { level: (label) => ({ severity: SEVERITY[label] ?? 'DEFAULT' }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination ?? pino.destination({ dest: 1, sync: false }),
  );
  return new PinoLogger(p);
}
