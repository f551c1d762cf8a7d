import { expect } from '@jest/globals';
import {
  DEFAULT_ACTION_SETTINGS,
  type ActionContext,
  type RemediationAction,
} from '../../shared/actions/types.js';
import type { Asset } from '../../shared/model/asset.js';
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

/** Captures and applies as the executor does, and expects the fix applied; `after` is what undo is given. */
export async function applyFix<B>(
  action: RemediationAction<B>,
  asset: Asset,
  ctx: ActionContext,
): Promise<{ before: B; after: unknown }> {
  const before = await action.captureBefore(asset, ctx);
  if (before === null) throw new Error(`expected ${asset.name} to exist`);
  const outcome = await action.apply(asset, before, ctx);
  expect(outcome.status).toBe('applied');
  return { before, after: outcome.status === 'applied' ? outcome.after : null };
}
