import type { protos } from '@google-cloud/sql';
import { toWardenError } from '../cloud/errors.js';
import { WardenError } from '../model/errors.js';
import { pollUntilDone } from './operation-poll.js';
import type { ActionContext } from './types.js';

type ISqlOperation = protos.google.cloud.sql.v1.IOperation;

function isDone(op: ISqlOperation): boolean {
  return String(op.status) === 'DONE' || Number(op.status) === 3;
}

/**
 * Waits for a Cloud SQL operation (sql#operation): Cloud SQL has no operations.wait, so operations.get is
 * polled until the status is DONE. A DONE operation with `error.errors[]` throws a non-retryable WardenError:
 * the patch was accepted and then failed, so the action is judged again from a fresh read, never blindly
 * re-sent.
 */
export async function waitForSqlOperation(
  ctx: ActionContext,
  project: string,
  started: ISqlOperation,
): Promise<ISqlOperation> {
  const name = started.name;
  if (!name) {
    throw new WardenError('Cloud SQL returned an operation without a name', {
      retryable: false,
      code: 'invalid_response',
    });
  }
  const ops = await ctx.cloud.sql('SqlOperationsServiceClient');
  const op = await pollUntilDone(
    started,
    isDone,
    async () => {
      try {
        const [next] = await ops.get({ project, operation: name });
        return next;
      } catch (err) {
        throw toWardenError(err, `reading Cloud SQL operation ${name}`);
      }
    },
    `Cloud SQL operation ${name}`,
  );
  const errors = op.error?.errors ?? [];
  if (errors.length > 0) {
    const detail = errors.map((e) => `${e.code ?? 'ERROR'}: ${e.message ?? ''}`).join('; ');
    throw new WardenError(
      `Cloud SQL operation ${name} (${String(op.operationType)}) on ${String(op.targetLink)} failed: ${detail}`,
      { retryable: false, code: 'operation_failed' },
    );
  }
  return op;
}
