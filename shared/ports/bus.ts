import type { Topic } from '../model/topics.js';

/** A message as a subscriber receives it, whatever transport carried it. */
export interface BusMessage {
  messageId: string;
  publishTime: string;
  attributes: Record<string, string>;
  data: Buffer;
  /** Pub/Sub delivery attempt where the transport reports it (the emulator does not). */
  deliveryAttempt?: number;
}

export interface OutgoingMessage {
  /** Objects are JSON-encoded; strings and buffers are sent as they are. */
  data: Buffer | string | object;
  attributes?: Record<string, string>;
}

/** Handler result: return to acknowledge; throw to have the message redelivered. */
export type Subscriber = (msg: BusMessage) => Promise<void>;

/**
 * At-least-once, unordered publish/subscribe between functions (design §1). Subscribing is how the
 * embedded mode and the contract tests consume; in production Pub/Sub push subscriptions call the functions.
 */
export interface EventBus {
  publish(topic: Topic, message: OutgoingMessage): Promise<string>;
  subscribe(topic: Topic, subscriber: Subscriber): Promise<void>;
  /** Resolves when every published message has been handled (or dead-lettered); for tests and --once. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export function encodeData(data: OutgoingMessage['data']): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  return Buffer.from(JSON.stringify(data), 'utf8');
}
