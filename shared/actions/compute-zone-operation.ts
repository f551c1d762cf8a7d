import type { protos } from '@google-cloud/compute';
import { toWardenError } from '../cloud/errors.js';
import { WardenError } from '../model/errors.js';
import type { ActionContext } from './types.js';

type IOperation = protos.google.cloud.compute.v1.IOperation;

/** As for global operations (compute-operation.ts): `wait` may return before DONE, so it is called again. */
const MAX_WAITS = 20;

/** The Operation resource a compute LRO call started: gax keeps it in the wrapper's latestResponse. */
export function startedOperation(lro: unknown): IOperation {
  return (lro as { latestResponse: IOperation }).latestResponse;
}

/**
 * Waits for an operation through `waitOnce` until it is DONE. A DONE operation carrying errors throws a
 * non-retryable WardenError: the call was accepted and then failed, so the resource must be judged again
 * from a fresh read, not blindly re-sent.
 */
async function waitUntilDone(
  started: IOperation,
  waitOnce: (name: string) => Promise<IOperation>,
): Promise<IOperation> {
  const name = started.name;
  if (!name)
    throw new WardenError('compute returned an operation without a name', {
      retryable: false,
      code: 'invalid_response',
    });
  let op = started;
  for (let i = 0; op.status !== 'DONE'; i += 1) {
    if (i >= MAX_WAITS) {
      throw new WardenError(`operation ${name} still ${String(op.status)} after ${MAX_WAITS} waits`, {
        retryable: true,
        code: 'DEADLINE_EXCEEDED',
      });
    }
    try {
      op = await waitOnce(name);
    } catch (err) {
      throw toWardenError(err, `waiting for operation ${name}`);
    }
  }
  const errors = op.error?.errors ?? [];
  if (errors.length > 0) {
    const detail = errors.map((e) => `${e.code ?? 'ERROR'}: ${e.message ?? ''}`).join('; ');
    throw new WardenError(`operation ${name} on ${String(op.targetLink)} failed: ${detail}`, {
      retryable: false,
      code: 'operation_failed',
    });
  }
  return op;
}

/** zoneOperations.wait until DONE (instances and disks are zonal resources). */
export async function waitForZoneOperation(
  ctx: ActionContext,
  project: string,
  zone: string,
  started: IOperation,
): Promise<IOperation> {
  const ops = await ctx.cloud.compute('ZoneOperationsClient');
  return waitUntilDone(started, async (operation) => (await ops.wait({ project, zone, operation }))[0]);
}

/** globalOperations.wait until DONE (projects.setCommonInstanceMetadata). */
export async function waitForGlobalOp(
  ctx: ActionContext,
  project: string,
  started: IOperation,
): Promise<IOperation> {
  const ops = await ctx.cloud.globalOperations();
  return waitUntilDone(started, async (operation) => (await ops.wait({ project, operation }))[0]);
}
