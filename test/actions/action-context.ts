import { DEFAULT_ACTION_SETTINGS, type ActionContext } from '../../shared/actions/types.js';
import { MemoryLogger } from '../../shared/ports/logger.js';
import type { TwinHarness } from '../twin/twin-fixtures.js';

export function actionContext(h: TwinHarness): ActionContext {
  return { cloud: h.cloud, clock: h.clock, logger: new MemoryLogger(), settings: DEFAULT_ACTION_SETTINGS };
}

/** What a test can compare across a fix and its undo: the REST resource without the fields every write bumps. */
export function stable(data: Record<string, unknown> | undefined): Record<string, unknown> {
  const { metageneration: _m, etag: _e, updated: _u, ...rest } = data ?? {};
  return rest;
}

export async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}
