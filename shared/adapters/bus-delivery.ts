import type { Topic } from '../model/topics.js';
import type { BusMessage } from '../ports/bus.js';
import type { Logger } from '../ports/logger.js';

/*
 * What both EventBus adapters do alike around a delivery: the same message rules as Pub/Sub, and the same
 * end for a message that cannot be handled.
 */

/** Called once for a message given up on: after maxDeliveryAttempts, or at once for a non-retryable error. */
export type DeadLetterHandler = (topic: Topic, msg: BusMessage, error: unknown) => void | Promise<void>;

export const DEFAULT_MAX_DELIVERY_ATTEMPTS = 5;

/** Pub/Sub refuses a message without data and without attributes, and attribute values that are not strings. */
export function checkOutgoing(data: Buffer, attributes: Record<string, string>): void {
  for (const [k, v] of Object.entries(attributes)) {
    if (typeof v !== 'string') throw new Error(`attribute ${k} must be a string`);
  }
  if (data.length === 0 && Object.keys(attributes).length === 0) {
    throw new Error('a message needs data or at least one attribute');
  }
}

export function checkMaxAttempts(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error('maxDeliveryAttempts must be a positive integer');
  return n;
}

/** Logs the loss loudly (with the payload, so it can be replayed from the logs) and runs the handler. */
export async function deadLetter(
  logger: Logger,
  handler: DeadLetterHandler | undefined,
  topic: Topic,
  msg: BusMessage,
  error: unknown,
  attempts: number,
): Promise<void> {
  logger.error('bus.dead_letter', {
    topic,
    messageId: msg.messageId,
    attempts,
    error: error instanceof Error ? error.message : String(error),
    data: msg.data.toString('base64'),
    attributes: msg.attributes,
  });
  if (!handler) return;
  try {
    await handler(topic, msg, error);
  } catch (err) {
    // Not redelivered: a failing dead-letter handler would otherwise loop forever. The log above keeps it.
    logger.error('bus.dead_letter_handler_failed', {
      topic,
      messageId: msg.messageId,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}
