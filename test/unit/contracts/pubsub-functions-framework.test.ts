import { describe, it, expect, jest } from '@jest/globals';
import { cloudEvent, type CloudEvent } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import request from 'supertest';
import { decodePubSubEvent, type PubSubDecode } from '../../../shared/contracts/pubsub-cloudevent.js';

/*
 * The shapes functions-framework 5 really hands a CloudEvent function, produced by the framework itself
 * rather than written by hand: whatever it does to a push body, the decoder must still recover the message.
 */

const FUNCTION = 'contractsPubSubProbe';
let received: unknown[] = [];
cloudEvent(FUNCTION, (event: CloudEvent<unknown>) => {
  received.push(event);
});

async function deliver(path: string, body: object): Promise<PubSubDecode> {
  received = [];
  await request(getTestServer(FUNCTION))
    .post(path)
    .set('Content-Type', 'application/json')
    .send(body)
    .expect(204);
  expect(received).toHaveLength(1);
  return decodePubSubEvent(received[0]);
}

const pushBody = (message: Record<string, unknown>) => ({
  subscription: 'projects/p1/subscriptions/warden-findings-push',
  message: { messageId: '501', publishTime: '2024-03-01T00:00:03.25Z', ...message },
});

describe('decodePubSubEvent on what functions-framework delivers', () => {
  it('decodes a converted push body, with the topic when the push URL names it', async () => {
    const data = Buffer.from('{"kind":"action","actionId":"a1"}');
    const decoded = await deliver(
      '/projects/p1/topics/warden-findings',
      pushBody({ data: data.toString('base64'), attributes: { k: 'v' } }),
    );
    expect(decoded).toEqual({
      ok: true,
      message: {
        messageId: '501',
        publishTime: '2024-03-01T00:00:03.25Z',
        attributes: { k: 'v' },
        data,
        topic: 'projects/p1/topics/warden-findings',
      },
    });
  });

  it('decodes a converted push body posted to a path without a topic', async () => {
    // The framework warns that it found no topic in the path: expected here, and kept out of the test output.
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const decoded = await deliver('/', pushBody({ data: Buffer.from('x').toString('base64') }));
    expect(warn).toHaveBeenCalled();
    warn.mockRestore();
    expect(decoded).toMatchObject({ ok: true, message: { messageId: '501', data: Buffer.from('x') } });
    if (decoded.ok) expect(decoded.message.topic).toBeUndefined();
  });

  it('decodes the raw body the framework passes on for a message with attributes and no data', async () => {
    const decoded = await deliver(
      '/projects/p1/topics/warden-findings',
      pushBody({ attributes: { k: 'v' } }),
    );
    expect(decoded).toEqual({
      ok: true,
      message: {
        messageId: '501',
        publishTime: '2024-03-01T00:00:03.25Z',
        attributes: { k: 'v' },
        data: Buffer.alloc(0),
        subscription: 'projects/p1/subscriptions/warden-findings-push',
      },
    });
  });

  it('decodes a binary-mode CloudEvent as Eventarc posts it', async () => {
    received = [];
    await request(getTestServer(FUNCTION))
      .post('/')
      .set('Content-Type', 'application/json')
      .set('ce-specversion', '1.0')
      .set('ce-type', 'google.cloud.pubsub.topic.v1.messagePublished')
      .set('ce-source', '//pubsub.googleapis.com/projects/p1/topics/warden-actions')
      .set('ce-id', '601')
      .set('ce-time', '2024-03-01T00:00:04Z')
      .send({
        message: {
          data: Buffer.from('y').toString('base64'),
          messageId: '601',
          publishTime: '2024-03-01T00:00:04Z',
        },
        subscription: 'projects/p1/subscriptions/eventarc-us-sub',
      })
      .expect(204);
    expect(decodePubSubEvent(received[0])).toEqual({
      ok: true,
      message: {
        messageId: '601',
        publishTime: '2024-03-01T00:00:04Z',
        attributes: {},
        data: Buffer.from('y'),
        topic: 'projects/p1/topics/warden-actions',
        subscription: 'projects/p1/subscriptions/eventarc-us-sub',
      },
    });
  });
});
