import type { protos } from '@google-cloud/compute';
import { toWardenError } from '../cloud/errors.js';
import { WardenError } from '../model/errors.js';
import type { ActionContext } from './types.js';

type IOperation = protos.google.cloud.compute.v1.IOperation;

/**
 * globalOperations.wait returns when the operation is DONE "or the request approaches the 2 minute
 * deadline ... not guaranteed to wait", so one call is not enough: wait again until DONE. The bound keeps
 * a stuck operation from holding the executor past its lease; the action is then retried from its step.
 */
const MAX_WAITS = 20;

function isDone(op: IOperation): boolean {
  return op.status === 'DONE';
}

/**
 * Waits for a global operation to finish. A DONE operation carrying errors throws a non-retryable
 * WardenError: the patch was accepted and then failed, so the rule is in an unknown state and the action
 * must be judged again from a fresh read, not blindly re-sent.
 */
export async function waitForGlobalOperation(
  ctx: ActionContext,
  project: string,
  started: IOperation,
): Promise<IOperation> {
  return waitUntilDone(started, async (operation) => {
    const ops = await ctx.cloud.globalOperations();
    const [op] = await ops.wait({ project, operation });
    return op;
  });
}

/** The same for a zonal operation (instances, disks): zoneOperations.wait. */
export async function waitForZoneOperation(
  ctx: ActionContext,
  project: string,
  zone: string,
  started: IOperation,
): Promise<IOperation> {
  return waitUntilDone(started, async (operation) => {
    const ops = await ctx.cloud.compute('ZoneOperationsClient');
    const [op] = await ops.wait({ project, zone, operation });
    return op;
  });
}

/** The same for a regional operation (subnetworks, regional backend services, …): regionOperations.wait. */
export async function waitForRegionOperation(
  ctx: ActionContext,
  project: string,
  region: string,
  started: IOperation,
): Promise<IOperation> {
  return waitUntilDone(started, async (operation) => {
    const ops = await ctx.cloud.compute('RegionOperationsClient');
    const [op] = await ops.wait({ project, region, operation });
    return op;
  });
}

async function waitUntilDone(
  started: IOperation,
  waitOnce: (operation: string) => Promise<IOperation>,
): Promise<IOperation> {
  const name = started.name;
  if (!name)
    throw new WardenError('compute returned an operation without a name', {
      retryable: false,
      code: 'invalid_response',
    });
  let op = started;
  for (let i = 0; !isDone(op); i += 1) {
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
