import type { Message, PubSub, Subscription, Topic as PsTopic } from '@google-cloud/pubsub';
import { isRetryable } from '../model/errors.js';
import type { Topic } from '../model/topics.js';
import { encodeData, type BusMessage, type EventBus, type Subscriber } from '../ports/bus.js';
import type { Logger } from '../ports/logger.js';
import {
  DEFAULT_MAX_DELIVERY_ATTEMPTS,
  checkMaxAttempts,
  checkOutgoing,
  deadLetter,
  type DeadLetterHandler,
} from './bus-delivery.js';

export interface PubSubBusOptions {
  /** The bus owns this client: close() closes it. */
  pubsub: PubSub;
  /** Prepended to topic and subscription names, e.g. 'warden-'. */
  prefix: string;
  logger: Logger;
  /** Subscriptions are named `${prefix}${topic}${suffix}` (default '-sub'); a second subscriber adds '-2'. */
  subscriptionSuffix?: string;
  /**
   * Deliveries before the bus gives a message up (default 5). Counted by the bus where the transport does
   * not report deliveryAttempt (subscriptions without a dead-letter policy, the emulator).
   */
  maxDeliveryAttempts?: number;
  onDeadLetter?: DeadLetterHandler;
  /** How long drain() and close() wait for outstanding messages before failing (default 30 s). */
  drainTimeoutMs?: number;
}

const ALREADY_EXISTS = 6;
const NOT_FOUND = 5;

function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Google Cloud Pub/Sub behind the EventBus port. Publishing needs only the publisher role: a topic is
 * created only when publishing finds it missing (the emulator, a fresh test prefix). Subscribing, used by
 * tests and local runs (production pushes to the functions), creates a pull subscription and consumes it
 * with streaming pull: acknowledged on success, nacked on a throw, dead-lettered by the bus after
 * maxDeliveryAttempts. drain() follows the messages this instance published until this instance's
 * subscribers have acknowledged them.
 */
export function createPubSubBus(opts: PubSubBusOptions): EventBus {
  const { pubsub, prefix, logger } = opts;
  const suffix = opts.subscriptionSuffix ?? '-sub';
  const maxAttempts = checkMaxAttempts(opts.maxDeliveryAttempts ?? DEFAULT_MAX_DELIVERY_ATTEMPTS);
  const timeoutMs = opts.drainTimeoutMs ?? 30_000;

  const topics = new Map<string, PsTopic>();
  const created = new Map<string, Promise<void>>();
  const subscriptions: Subscription[] = [];
  /** Subscription names of this instance, per topic: who must acknowledge a message published now. */
  const subscribedNames = new Map<Topic, string[]>();
  /** messageId → subscriptions of this instance that have not acknowledged it yet. */
  const outstanding = new Map<string, Set<string>>();
  /** Acknowledgements that overtook the publish call returning the message's id. */
  const earlyAcks = new Map<string, Set<string>>();
  /** Delivery counts where the transport does not report them, per subscription and message. */
  const attempts = new Map<string, number>();
  let publishing = 0;
  let handling = 0;
  let closed = false;
  let waiters: Array<() => void> = [];

  const topicHandle = (name: string): PsTopic => {
    let t = topics.get(name);
    if (!t) {
      // A short batching window: the engine publishes one event at a time and waits for it.
      t = pubsub.topic(name, { batching: { maxMilliseconds: 5 } });
      topics.set(name, t);
    }
    return t;
  };

  const ensureTopic = (name: string): Promise<void> => {
    let p = created.get(name);
    if (!p) {
      p = pubsub.createTopic(name).then(
        () => undefined,
        (err: unknown) => {
          if (grpcCode(err) !== ALREADY_EXISTS) throw err;
        },
      );
      p.catch(() => created.delete(name));
      created.set(name, p);
    }
    return p;
  };

  const idle = (): boolean => publishing === 0 && outstanding.size === 0;
  const settle = (): void => {
    if (publishing === 0) earlyAcks.clear();
    if (!idle()) return;
    const ws = waiters;
    waiters = [];
    for (const w of ws) w();
  };

  const acknowledged = (messageId: string, subscription: string): void => {
    const pending = outstanding.get(messageId);
    if (pending) {
      pending.delete(subscription);
      if (pending.size === 0) outstanding.delete(messageId);
    } else if (publishing > 0) {
      earlyAcks.set(messageId, (earlyAcks.get(messageId) ?? new Set()).add(subscription));
    }
    settle();
  };

  const waitIdle = (what: string): Promise<void> => {
    if (idle()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters = waiters.filter((w) => w !== done);
        reject(
          new Error(
            `${what} timed out after ${timeoutMs} ms: ${outstanding.size} message(s) not acknowledged, ${publishing} publish(es) unfinished`,
          ),
        );
      }, timeoutMs);
      waiters.push(done);
    });
  };

  let handlingWaiters: Array<() => void> = [];
  const settleHandling = (): void => {
    if (handling > 0) return;
    const ws = handlingWaiters;
    handlingWaiters = [];
    for (const w of ws) w();
  };

  const handle = async (
    topic: Topic,
    subscription: string,
    subscriber: Subscriber,
    m: Message,
  ): Promise<void> => {
    if (closed) {
      // Closing: hand the message back for the next subscriber instead of starting new work.
      m.nack();
      return;
    }
    const key = `${subscription}\u0000${m.id}`;
    const attempt = m.deliveryAttempt > 0 ? m.deliveryAttempt : (attempts.get(key) ?? 0) + 1;
    attempts.set(key, attempt);
    const msg: BusMessage = {
      messageId: m.id,
      publishTime: m.publishTime.toISOString(),
      attributes: { ...m.attributes },
      data: m.data,
      ...(m.deliveryAttempt > 0 ? { deliveryAttempt: m.deliveryAttempt } : {}),
    };
    handling += 1;
    try {
      try {
        await subscriber(msg);
      } catch (err) {
        if (isRetryable(err) && attempt < maxAttempts) {
          logger.warn('bus.redeliver', { topic, messageId: m.id, attempt, error: errorText(err) });
          m.nack();
          return;
        }
        await deadLetter(logger, opts.onDeadLetter, topic, msg, err, attempt);
      }
      m.ack();
      attempts.delete(key);
      acknowledged(m.id, subscription);
    } finally {
      handling -= 1;
      settleHandling();
    }
  };

  return {
    async publish(topic, message) {
      if (closed) throw new Error('the bus is closed');
      const data = encodeData(message.data);
      const attributes = { ...(message.attributes ?? {}) };
      checkOutgoing(data, attributes);
      const name = `${prefix}${topic}`;
      const expected = [...(subscribedNames.get(topic) ?? [])];
      publishing += 1;
      try {
        let id: string;
        try {
          id = await topicHandle(name).publishMessage({ data, attributes });
        } catch (err) {
          if (grpcCode(err) !== NOT_FOUND) throw err;
          await ensureTopic(name);
          id = await topicHandle(name).publishMessage({ data, attributes });
        }
        const early = earlyAcks.get(id);
        earlyAcks.delete(id);
        const pending = new Set(expected.filter((s) => !early?.has(s)));
        if (pending.size > 0) outstanding.set(id, pending);
        return id;
      } finally {
        publishing -= 1;
        settle();
      }
    },

    async subscribe(topic, subscriber) {
      if (closed) throw new Error('the bus is closed');
      const names = subscribedNames.get(topic) ?? [];
      const base = `${prefix}${topic}${suffix}`;
      const name = names.length === 0 ? base : `${base}-${names.length + 1}`;
      await ensureTopic(`${prefix}${topic}`);
      try {
        await topicHandle(`${prefix}${topic}`).createSubscription(name, { ackDeadlineSeconds: 60 });
      } catch (err) {
        if (grpcCode(err) !== ALREADY_EXISTS) throw err;
      }
      const sub = pubsub.subscription(name, {
        flowControl: { maxMessages: 100, allowExcessMessages: false },
      });
      sub.on('message', (m: Message) => void handle(topic, name, subscriber, m));
      sub.on('error', (err: unknown) =>
        logger.error('bus.subscription_error', { subscription: name, error: errorText(err) }),
      );
      subscriptions.push(sub);
      subscribedNames.set(topic, [...names, name]);
    },

    drain() {
      return waitIdle('drain');
    },

    async close() {
      if (closed) return;
      closed = true;
      // Handlers already running finish and acknowledge before the streams close (bounded by the timeout).
      if (handling > 0) {
        await Promise.race([
          new Promise<void>((resolve) => handlingWaiters.push(resolve)),
          new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref()),
        ]);
      }
      for (const sub of subscriptions) {
        sub.removeAllListeners('message');
        await sub.close();
      }
      await Promise.all([...topics.values()].map((t) => t.flush()));
      await pubsub.close();
    },
  };
}
