import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import request from 'supertest';
import { register as registerDetect } from '../../functions/detect/index.js';
import { createInProcessBus } from '../../shared/adapters/bus-inprocess.js';
import { openSqliteDocumentStore } from '../../shared/adapters/document-store-sqlite.js';
import { createCloudClients } from '../../shared/cloud/clients.js';
import type { Deps } from '../../shared/engine/deps.js';
import { systemClock } from '../../shared/ports/clock.js';
import { SequentialIds } from '../../shared/ports/ids.js';
import { MemoryLogger } from '../../shared/ports/logger.js';
import { buildDeps, loadEngineConfig } from '../../shared/roots/build-deps.js';

let deps: Deps;
const logger = new MemoryLogger();

beforeAll(async () => {
  deps = buildDeps({
    store: openSqliteDocumentStore(':memory:'),
    bus: createInProcessBus({ logger }),
    // Nothing here reaches a cloud: the feed path reads only the message and the store.
    cloud: createCloudClients({ target: { kind: 'twin', url: 'http://127.0.0.1:9', projectId: 'p' } }),
    clock: systemClock,
    ids: new SequentialIds(),
    logger,
    config: await loadEngineConfig(logger),
  });
  registerDetect(async () => deps);
});

afterAll(async () => {
  await deps.bus.close();
  await deps.repo.store.close();
});

const push = (data: string, messageId: string) => ({
  subscription: 'projects/p/subscriptions/warden-asset-changes-push',
  message: {
    data: Buffer.from(data).toString('base64'),
    attributes: {},
    messageId,
    publishTime: '2026-11-29T10:00:00Z',
  },
});

describe('the detect function under functions-framework', () => {
  it('acknowledges (2xx) a push of bad input and keeps it as a dead letter, so Pub/Sub never retries it', async () => {
    await request(getTestServer('detect'))
      .post('/projects/p/topics/warden-asset-changes')
      .send(push('{"asset":', 'm-1'))
      .expect(204);
    await request(getTestServer('detect'))
      .post('/projects/p/topics/warden-asset-changes')
      .set('ce-id', 'e-1')
      .set('ce-type', 'com.example.not.pubsub')
      .set('ce-source', '//example')
      .set('ce-specversion', '1.0')
      .send({ hello: 'world' })
      .expect(204);
    const dead = await deps.repo.listDeadLetters();
    expect(dead.map((d) => d.messageId).sort()).toEqual(['event:e-1', 'm-1']);
  });

  it('acknowledges the feed welcome message without a dead letter', async () => {
    const before = (await deps.repo.listDeadLetters()).length;
    await request(getTestServer('detect'))
      .post('/projects/p/topics/warden-asset-changes')
      .send(push("You have successfully configured real time feed 'organizations/1/feeds/f'", 'm-2'))
      .expect(204);
    expect(await deps.repo.listDeadLetters()).toHaveLength(before);
  });

  it('answers 500 on a transient failure, so Pub/Sub redelivers', async () => {
    const store = deps.repo.store;
    const realTx = store.transaction.bind(store);
    store.transaction = async () => {
      throw Object.assign(new Error('UNAVAILABLE: store down'), { code: 14 });
    };
    try {
      const msg = {
        asset: {
          name: '//storage.googleapis.com/b',
          assetType: 'storage.googleapis.com/Bucket',
          ancestors: ['projects/1'],
          resource: { data: { name: 'b' } },
          updateTime: '2026-11-29T10:00:00Z',
        },
        window: { startTime: '2026-11-29T10:00:00Z' },
      };
      await request(getTestServer('detect'))
        .post('/projects/p/topics/warden-asset-changes')
        .send(push(JSON.stringify(msg), 'm-3'))
        .expect(500);
    } finally {
      store.transaction = realTx;
    }
  });
});
