import type { z } from 'zod';
import { WardenError } from '../model/errors.js';

/**
 * Before- and after-states come back from storage, possibly written by an older version of an action: one
 * that does not fit the action's schema must stop the apply or undo rather than be acted on half-understood.
 */
export function parseRecordedState<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new WardenError(`the recorded ${what} is not one this action wrote: ${r.error.message}`, {
    retryable: false,
    code: 'invalid_state',
  });
}
