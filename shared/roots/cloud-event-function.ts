import type { CloudEvent } from '@google-cloud/functions-framework';
import { decodePubSubEvent } from '../contracts/pubsub-cloudevent.js';
import type { Deps } from '../engine/deps.js';
import type { Topic } from '../model/topics.js';
import { runHandler, type MessageHandler } from './run-handler.js';

/**
 * Adapts a handler to a Pub/Sub-triggered CloudEvent function (Eventarc in production, the emulator's push
 * through functions-framework locally). An event that is not a Pub/Sub message at all is logged and
 * acknowledged: redelivering it could never help.
 */
export function cloudEventFunction(topic: Topic, handler: MessageHandler, getDeps: () => Promise<Deps>) {
  return async (event: CloudEvent<unknown>): Promise<void> => {
    const deps = await getDeps();
    const decoded = decodePubSubEvent(event);
    if (!decoded.ok) {
      const id = typeof event?.id === 'string' ? event.id : 'unknown';
      deps.logger.warn('not a Pub/Sub event', { topic, eventId: id, reason: decoded.reason });
      await deps.repo.recordDeadLetter({
        topic,
        messageId: `event:${id}`,
        reason: `not a Pub/Sub event: ${decoded.reason}`,
        data: JSON.stringify(event ?? null).slice(0, 100_000),
        attributes: {},
      });
      return;
    }
    await runHandler(topic, handler, decoded.message, deps);
  };
}
