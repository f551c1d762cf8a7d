import { AsyncResource } from 'node:async_hooks';
import { seededRng } from '../util/seeded-random.js';
import type { Topic } from '../model/topics.js';
import { isRetryable } from '../model/errors.js';
import { encodeData, type BusMessage, type EventBus, type Subscriber } from '../ports/bus.js';
import { systemClock, type Clock } from '../ports/clock.js';
import { randomIds, type IdSource } from '../ports/ids.js';
import type { Logger } from '../ports/logger.js';
import {
  DEFAULT_MAX_DELIVERY_ATTEMPTS,
  checkMaxAttempts,
  checkOutgoing,
  deadLetter,
  type DeadLetterHandler,
} from './bus-delivery.js';

export interface InProcessBusOptions {
  logger: Logger;
  /** Deliveries of one message to one subscriber before it is dead-lettered (default 5). */
  maxDeliveryAttempts?: number;
  onDeadLetter?: DeadLetterHandler;
  ids?: IdSource;
  clock?: Clock;
  /** Deliveries running at once, like Pub/Sub flow control (default 64). */
  maxConcurrent?: number;
  /** Test hook: deliver every message this many times to each subscriber (at-least-once, made visible). */
  duplicate?: number;
  /** Test hook: start queued deliveries in a seeded random order instead of publish order. */
  shuffle?: { seed: number };
}

interface Delivery {
  topic: Topic;
  msg: BusMessage;
  subscriber: Subscriber;
  attempt: number;
}

/**
 * The embedded mode's bus, with Pub/Sub's contract: delivery is asynchronous (never inside publish), at
 * least once, each subscriber gets every message published after it subscribed, a throw redelivers, and
 * after maxDeliveryAttempts the message is dead-lettered. Redelivery is queued at once, never on a timer,
 * so tests run at full speed.
 */
export function createInProcessBus(opts: InProcessBusOptions): EventBus {
  const logger = opts.logger;
  const maxAttempts = checkMaxAttempts(opts.maxDeliveryAttempts ?? DEFAULT_MAX_DELIVERY_ATTEMPTS);
  const ids = opts.ids ?? randomIds;
  const clock = opts.clock ?? systemClock;
  const maxConcurrent = opts.maxConcurrent ?? 64;
  const copies = opts.duplicate ?? 1;
  if (!Number.isInteger(copies) || copies < 1) throw new Error('duplicate must be a positive integer');
  const random = opts.shuffle ? seededRng(opts.shuffle.seed) : undefined;

  const subscribers = new Map<Topic, Subscriber[]>();
  let queue: Delivery[] = [];
  let head = 0;
  let inFlight = 0;
  let scheduled = false;
  let closed = false;
  let idleWaiters: Array<() => void> = [];
  // Deliveries run in the bus's own async context, not the publisher's: a subscriber must not inherit,
  // say, the transaction a publisher happened to be in.
  const scope = new AsyncResource('warden-inprocess-bus');

  const queued = (): number => queue.length - head;

  const take = (): Delivery => {
    if (random) {
      const i = head + Math.floor(random() * queued());
      const picked = queue[i]!;
      queue[i] = queue[head]!;
      head += 1;
      return picked;
    }
    const next = queue[head]!;
    head += 1;
    return next;
  };

  const settleIfIdle = (): void => {
    if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    if (queued() === 0 && inFlight === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  };

  const schedule = (): void => {
    if (scheduled || closed) return;
    scheduled = true;
    setImmediate(() => scope.runInAsyncScope(pump));
  };

  const pump = (): void => {
    scheduled = false;
    while (!closed && queued() > 0 && inFlight < maxConcurrent) {
      inFlight += 1;
      void deliver(take());
    }
  };

  const deliver = async (d: Delivery): Promise<void> => {
    // Each delivery gets its own copy: one subscriber cannot change what another receives.
    const msg: BusMessage = {
      ...d.msg,
      attributes: { ...d.msg.attributes },
      data: Buffer.from(d.msg.data),
      deliveryAttempt: d.attempt,
    };
    try {
      await d.subscriber(msg);
    } catch (err) {
      if (closed) {
        logger.warn('bus.closed_before_redelivery', { topic: d.topic, messageId: msg.messageId });
      } else if (isRetryable(err) && d.attempt < maxAttempts) {
        logger.warn('bus.redeliver', {
          topic: d.topic,
          messageId: msg.messageId,
          attempt: d.attempt,
          error: err instanceof Error ? err.message : String(err),
        });
        queue.push({ ...d, attempt: d.attempt + 1 });
      } else {
        await deadLetter(logger, opts.onDeadLetter, d.topic, msg, err, d.attempt);
      }
    } finally {
      inFlight -= 1;
      schedule();
      settleIfIdle();
    }
  };

  return {
    async publish(topic, message) {
      if (closed) throw new Error('the bus is closed');
      const data = encodeData(message.data);
      const attributes = { ...(message.attributes ?? {}) };
      checkOutgoing(data, attributes);
      const msg: BusMessage = {
        messageId: ids.next('msg-'),
        publishTime: clock.now().toISOString(),
        attributes,
        data: Buffer.from(data),
      };
      const subs = subscribers.get(topic) ?? [];
      // Like a Pub/Sub topic without subscriptions, a message nobody subscribed to is dropped.
      if (subs.length === 0) logger.debug('bus.no_subscriber', { topic, messageId: msg.messageId });
      for (const subscriber of subs) {
        for (let i = 0; i < copies; i++) queue.push({ topic, msg, subscriber, attempt: 1 });
      }
      schedule();
      return msg.messageId;
    },

    async subscribe(topic, subscriber) {
      if (closed) throw new Error('the bus is closed');
      subscribers.set(topic, [...(subscribers.get(topic) ?? []), subscriber]);
    },

    drain() {
      if (queued() === 0 && inFlight === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },

    async close() {
      if (closed) return;
      // Let what is running finish; what is still queued is dropped, as a stopped subscriber would.
      const running = inFlight > 0 ? new Promise<void>((resolve) => idleWaiters.push(resolve)) : undefined;
      closed = true;
      const dropped = queued();
      queue = [];
      head = 0;
      if (dropped > 0) logger.warn('bus.closed_with_undelivered', { dropped });
      subscribers.clear();
      await running;
      settleIfIdle();
    },
  };
}
