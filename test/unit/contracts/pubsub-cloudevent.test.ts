import { describe, it, expect } from '@jest/globals';
import { decodePubSubEvent, type PubSubDelivery } from '../../../shared/contracts/pubsub-cloudevent.js';

const PAYLOAD = '{"kind":"sweep","sweepId":"s1","scope":"organizations/1"}';
const DATA = Buffer.from(PAYLOAD).toString('base64');

function message(input: unknown): PubSubDelivery {
  const decoded = decodePubSubEvent(input);
  if (!decoded.ok) throw new Error(decoded.reason);
  return decoded.message;
}

/** What Eventarc delivers in production (both spellings of id and time, as Pub/Sub push sends them). */
const EVENTARC = {
  specversion: '1.0',
  type: 'google.cloud.pubsub.topic.v1.messagePublished',
  source: '//pubsub.googleapis.com/projects/p1/topics/warden-sweeps',
  id: '1234',
  time: '2024-03-01T00:00:00.5Z',
  datacontenttype: 'application/json',
  data: {
    message: {
      data: DATA,
      attributes: { origin: 'scheduler' },
      messageId: '1234',
      message_id: '1234',
      publishTime: '2024-03-01T00:00:00.5Z',
      publish_time: '2024-03-01T00:00:00.5Z',
    },
    subscription: 'projects/p1/subscriptions/eventarc-sub',
    deliveryAttempt: 3,
  },
};

/** functions-framework's conversion of a raw push body (server.js → pubsub_middleware + background→CloudEvent). */
function converted(topic: string | null): Record<string, unknown> {
  return {
    id: '77',
    time: '2024-03-01T00:00:01Z',
    specversion: '1.0',
    datacontenttype: 'application/json',
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    source: `//pubsub.googleapis.com/${topic}`,
    data: {
      message: {
        '@type': 'type.googleapis.com/google.pubsub.v1.PubsubMessage',
        data: DATA,
        attributes: {},
        publishTime: '2024-03-01T00:00:01Z',
        messageId: '77',
      },
    },
  };
}

describe('decodePubSubEvent', () => {
  it('decodes an Eventarc CloudEvent with subscription, topic and delivery attempt', () => {
    expect(message(EVENTARC)).toEqual({
      messageId: '1234',
      publishTime: '2024-03-01T00:00:00.5Z',
      attributes: { origin: 'scheduler' },
      data: Buffer.from(PAYLOAD),
      deliveryAttempt: 3,
      topic: 'projects/p1/topics/warden-sweeps',
      subscription: 'projects/p1/subscriptions/eventarc-sub',
    });
  });

  it('decodes the snake_case-only spelling of id and time', () => {
    const { messageId: _a, publishTime: _b, ...snakeOnly } = EVENTARC.data.message;
    const m = message({ ...EVENTARC, data: { message: snakeOnly } });
    expect([m.messageId, m.publishTime]).toEqual(['1234', '2024-03-01T00:00:00.5Z']);
  });

  it("decodes functions-framework's conversion of a push body, topic from the push URL path", () => {
    const m = message(converted('projects/p1/topics/warden-findings'));
    expect(m).toEqual({
      messageId: '77',
      publishTime: '2024-03-01T00:00:01Z',
      attributes: {},
      data: Buffer.from(PAYLOAD),
      topic: 'projects/p1/topics/warden-findings',
    });
  });

  it('decodes the conversion when the push URL named no topic', () => {
    const m = message(converted(null));
    expect(m.topic).toBeUndefined();
    expect(m.subscription).toBeUndefined();
    expect(m.data.toString()).toBe(PAYLOAD);
  });

  it('decodes the raw push body functions-framework passes through for attribute-only messages', () => {
    const raw = {
      subscription: 'projects/p1/subscriptions/warden-actions-push',
      message: { attributes: { actionId: 'a1' }, messageId: '88', publishTime: '2024-03-01T00:00:02Z' },
    };
    expect(message(raw)).toEqual({
      messageId: '88',
      publishTime: '2024-03-01T00:00:02Z',
      attributes: { actionId: 'a1' },
      data: Buffer.alloc(0),
      subscription: 'projects/p1/subscriptions/warden-actions-push',
    });
  });

  it('gives missing or empty data as an empty buffer, and missing attributes as none', () => {
    const empty = message({
      ...EVENTARC,
      data: { message: { data: '', messageId: '1', publishTime: '2024-03-01T00:00:00Z' } },
    });
    expect(empty.data.length).toBe(0);
    expect(empty.attributes).toEqual({});
    expect(
      message({ message: { messageId: '1', publishTime: '2024-03-01T00:00:00Z', attributes: null } })
        .attributes,
    ).toEqual({});
  });

  it('takes the HTTP body as text too', () => {
    expect(message(JSON.stringify(EVENTARC)).messageId).toBe('1234');
    expect(message(Buffer.from(JSON.stringify(EVENTARC))).messageId).toBe('1234');
  });

  it('rejects other events, broken messages and garbage with a reason', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ ...EVENTARC, type: 'google.cloud.storage.object.v1.finalized' }, /is not google\.cloud\.pubsub/],
      [
        { ...EVENTARC, data: { message: { ...EVENTARC.data.message, data: 'not base64!' } } },
        /^data\.message\.data: not base64/,
      ],
      [
        { ...EVENTARC, data: { message: { ...EVENTARC.data.message, attributes: { n: 1 } } } },
        /^data\.message\.attributes\.n: /,
      ],
      [{ ...EVENTARC, data: 'text' }, /^data: /],
      [{ message: { data: DATA } }, /messageId: missing/],
      [{ message: { data: DATA, messageId: '1' } }, /publishTime: missing/],
      [{ message: { data: DATA, messageId: '1', publishTime: 'noon' } }, /publishTime: not an RFC 3339 time/],
      [{ hello: 'world' }, /neither a CloudEvent/],
      ['garbage', /^not JSON/],
      [Buffer.from([0xff, 0x00]), /^not JSON/],
      [null, /expected a CloudEvent/],
      [42, /expected a CloudEvent/],
      [[EVENTARC], /expected a CloudEvent/],
    ];
    for (const [input, reason] of cases) {
      const decoded = decodePubSubEvent(input);
      expect(decoded).toEqual({ ok: false, reason: expect.stringMatching(reason) });
    }
  });
});
