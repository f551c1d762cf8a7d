import type { Deps, HandlerResult } from '../engine/deps.js';
import { rejectMessage } from '../engine/reject.js';
import { isRetryable } from '../model/errors.js';
import type { Topic } from '../model/topics.js';
import type { BusMessage } from '../ports/bus.js';

export type MessageHandler = (msg: BusMessage, deps: Deps) => Promise<HandlerResult>;

/**
 * The one place where a handler's outcome meets the transport: expected outcomes are acknowledged;
 * a failure a retry can help is rethrown (Pub/Sub redelivers, the dead-letter topic bounds it); any other
 * failure is dead-lettered and acknowledged so it never becomes a retry storm.
 */
export async function runHandler(
  topic: Topic,
  handler: MessageHandler,
  msg: BusMessage,
  deps: Deps,
): Promise<HandlerResult> {
  const log = deps.logger.child({ topic, messageId: msg.messageId });
  try {
    const result = await handler(msg, deps);
    log.debug('handled', { ...result });
    return result;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (isRetryable(err)) {
      log.warn('transient failure; message will be redelivered', { error: message });
      throw err;
    }
    log.error('permanent failure', { error: message });
    return rejectMessage(deps, topic, msg, `permanent failure: ${message}`);
  }
}
