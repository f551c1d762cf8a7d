import { WardenError } from '../model/errors.js';

/**
 * Polls a long-running operation that has no server-side wait (GKE, Service Usage and Cloud DNS operations
 * only have get): short delays first, as most of these finish in seconds, then every few seconds. The
 * total is bounded well inside the executor's lease (5 minutes): past it the action fails retryably and is
 * resumed from its recorded step, where apply re-reads the resource before sending anything again.
 */
const DELAYS_MS = [50, 100, 200, 400, 800, 1600, 3200];
const STEADY_DELAY_MS = 5000;
export const MAX_OPERATION_WAIT_MS = 4 * 60_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `read` until `done(op)`; returns the last operation. `what` names the operation in the error
 * raised when the wait budget runs out.
 */
export async function pollUntilDone<Op>(
  started: Op,
  done: (op: Op) => boolean,
  read: () => Promise<Op>,
  what: string,
  maxWaitMs = MAX_OPERATION_WAIT_MS,
): Promise<Op> {
  let op = started;
  let waited = 0;
  for (let i = 0; !done(op); i += 1) {
    const delay = DELAYS_MS[i] ?? STEADY_DELAY_MS;
    if (waited + delay > maxWaitMs) {
      throw new WardenError(`${what} still running after ${Math.round(waited / 1000)} s`, {
        retryable: true,
        code: 'DEADLINE_EXCEEDED',
      });
    }
    await sleep(delay);
    waited += delay;
    op = await read();
  }
  return op;
}
