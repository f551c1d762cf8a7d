import type { Topic } from '../model/topics.js';
import type { BusMessage } from '../ports/bus.js';
import type { Deps, HandlerResult } from './deps.js';

/**
 * Bad input is acknowledged (never retried forever), logged as one structured line saying why, and kept
 * as a dead-letter record with its payload so nothing is lost.
 */
export async function rejectMessage(
  deps: Pick<Deps, 'repo' | 'logger'>,
  topic: Topic,
  msg: BusMessage,
  reason: string,
): Promise<HandlerResult> {
  deps.logger.warn('message rejected', { topic, messageId: msg.messageId, reason });
  await deps.repo.recordDeadLetter({
    topic,
    messageId: msg.messageId,
    reason,
    data: msg.data.toString('utf8').slice(0, 100_000),
    attributes: msg.attributes,
  });
  return { status: 'rejected', reason };
}

/** Parses a JSON message body with a zod-like schema; a failure is a reason, not an exception. */
export function parseJsonMessage<T>(
  msg: BusMessage,
  schema: {
    safeParse(
      v: unknown,
    ):
      | { success: true; data: T }
      | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } };
  },
): { ok: true; value: T } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(msg.data.toString('utf8'));
  } catch {
    return { ok: false, reason: 'message data is not JSON' };
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: `schema: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`,
    };
  }
  return { ok: true, value: parsed.data };
}
