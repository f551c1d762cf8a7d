import { z } from 'zod';
import type { BusMessage } from '../ports/bus.js';
import { rfc3339Nanos } from './rfc3339.js';
import { isPlainObject, parseJson, zodReason } from './zod-reason.js';

export const MESSAGE_PUBLISHED = 'google.cloud.pubsub.topic.v1.messagePublished';

export type PubSubDelivery = BusMessage & {
  /** projects/P/topics/T, when the event says which topic. */
  topic?: string;
  /** projects/P/subscriptions/S, when the event says which subscription. */
  subscription?: string;
};

export type PubSubDecode = { ok: true; message: PubSubDelivery } | { ok: false; reason: string };

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * PubsubMessage as push bodies and CloudEvents carry it. Pub/Sub push sends both spellings of the id and
 * time; the functions-framework conversion sends camelCase only (plus an `@type`).
 */
const WireMessageSchema = z.looseObject({
  data: z
    .string()
    .refine((s) => BASE64.test(s.replace(/\s/g, '')), 'not base64')
    .nullish(),
  attributes: z.record(z.string(), z.string()).nullish(),
  messageId: z.string().min(1).optional(),
  message_id: z.string().min(1).optional(),
  publishTime: z.string().min(1).optional(),
  publish_time: z.string().min(1).optional(),
});

/** The push body: also what a CloudEvent's `data` holds, minus whatever the conversion dropped. */
const PushBodySchema = z.looseObject({
  message: WireMessageSchema,
  subscription: z.string().optional(),
  deliveryAttempt: z.number().int().positive().optional(),
});

const CloudEventSchema = z.looseObject({
  specversion: z.string(),
  type: z.string(),
  source: z.string().optional(),
  id: z.string().optional(),
  time: z.string().optional(),
  data: PushBodySchema,
});

const TOPIC_IN_SOURCE = /(?:^|\/)(projects\/[^/]+\/topics\/[^/]+)$/;

function build(
  body: z.infer<typeof PushBodySchema>,
  fallback: { id?: string; time?: string; source?: string },
): PubSubDecode {
  const m = body.message;
  const messageId = m.messageId ?? m.message_id ?? fallback.id;
  if (messageId === undefined) return { ok: false, reason: 'message.messageId: missing' };
  const publishTime = m.publishTime ?? m.publish_time ?? fallback.time;
  if (publishTime === undefined) return { ok: false, reason: 'message.publishTime: missing' };
  if (rfc3339Nanos(publishTime) === undefined) {
    return { ok: false, reason: `message.publishTime: not an RFC 3339 time: ${JSON.stringify(publishTime)}` };
  }
  const topic = fallback.source === undefined ? undefined : TOPIC_IN_SOURCE.exec(fallback.source)?.[1];
  return {
    ok: true,
    message: {
      messageId,
      publishTime,
      attributes: m.attributes ?? {},
      data: Buffer.from(m.data ?? '', 'base64'),
      ...(body.deliveryAttempt === undefined ? {} : { deliveryAttempt: body.deliveryAttempt }),
      ...(topic === undefined ? {} : { topic }),
      ...(body.subscription === undefined ? {} : { subscription: body.subscription }),
    },
  };
}

/**
 * What a Pub/Sub-triggered function receives, in each shape functions-framework 5 hands it over: an Eventarc
 * CloudEvent (production), the framework's own conversion of a push body (no subscription; the topic only if
 * the push URL named it), or the raw push body it leaves unconverted when a message has no data.
 * A string or Buffer is taken as the HTTP body text.
 */
export function decodePubSubEvent(input: unknown): PubSubDecode {
  let value = input;
  if (typeof input === 'string' || Buffer.isBuffer(input)) {
    const json = parseJson(input.toString());
    if (!json.ok) return { ok: false, reason: json.reason };
    value = json.value;
  }
  if (!isPlainObject(value)) {
    return { ok: false, reason: 'expected a CloudEvent or a Pub/Sub push body object' };
  }

  if ('specversion' in value) {
    const ce = CloudEventSchema.safeParse(value);
    if (!ce.success) return { ok: false, reason: zodReason(ce.error) };
    if (ce.data.type !== MESSAGE_PUBLISHED) {
      return { ok: false, reason: `CloudEvent type ${ce.data.type} is not ${MESSAGE_PUBLISHED}` };
    }
    return build(ce.data.data, { id: ce.data.id, time: ce.data.time, source: ce.data.source });
  }
  if ('message' in value) {
    const push = PushBodySchema.safeParse(value);
    if (!push.success) return { ok: false, reason: zodReason(push.error) };
    return build(push.data, {});
  }
  return { ok: false, reason: 'neither a CloudEvent (no specversion) nor a Pub/Sub push body (no message)' };
}
