/**
 * Something went wrong (not an expected outcome, which is a value). `retryable` tells the caller whether
 * trying again can help: the bus uses it to redeliver or to dead-letter.
 */
export class WardenError extends Error {
  readonly retryable: boolean;
  readonly code: string;
  constructor(message: string, opts: { retryable: boolean; code: string; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'WardenError';
    this.retryable = opts.retryable;
    this.code = opts.code;
  }
}

export function isRetryable(err: unknown): boolean {
  if (err instanceof WardenError) return err.retryable;
  return true; // an unknown failure may be transient: let the bus retry, the dead-letter topic bounds it
}
