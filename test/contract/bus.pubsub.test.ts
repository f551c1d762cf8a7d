import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { PubSub } from '@google-cloud/pubsub';
import { createPubSubBus } from '../../shared/adapters/bus-pubsub.js';
import type { BusMessage } from '../../shared/ports/bus.js';
import { MemoryLogger } from '../../shared/ports/logger.js';
import { describeWithEmulator } from '../support/describe-with-emulator.js';
import { EMULATOR_PROJECT, startPubSubEmulator, type RunningEmulator } from '../support/emulators.js';
import { busContract } from './bus.contract.js';

const describeIf = describeWithEmulator('pubsub');

describeIf('Pub/Sub bus (emulator)', () => {
  let emulator: RunningEmulator | undefined;
  // Topics and subscriptions get a prefix per run and per bus, so tests never see each other's messages.
  const run = randomBytes(4).toString('hex');
  let n = 0;
  const client = (): PubSub => {
    if (!emulator) throw new Error('the Pub/Sub emulator did not start');
    return new PubSub({ projectId: EMULATOR_PROJECT, apiEndpoint: emulator.host });
  };

  beforeAll(async () => {
    emulator = await startPubSubEmulator();
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  busContract('pubsub', async (opts) => {
    n += 1;
    const bus = createPubSubBus({
      ...opts,
      pubsub: client(),
      prefix: `t${run}-${n}-`,
      drainTimeoutMs: 15_000,
    });
    return { bus, cleanup: () => bus.close() };
  });

  it('names topics and subscriptions with the prefix and suffix', async () => {
    const prefix = `t${run}-names-`;
    const pubsub = client();
    const bus = createPubSubBus({
      pubsub: client(),
      prefix,
      logger: new MemoryLogger(),
      subscriptionSuffix: '-local',
    });
    try {
      const received: BusMessage[] = [];
      await bus.subscribe('findings', async (m) => void received.push(m));
      await bus.subscribe('findings', async (m) => void received.push(m));
      await bus.publish('findings', { data: { n: 1 } });
      await bus.drain();
      expect(received).toHaveLength(2);
      const [topics] = await pubsub.getTopics();
      expect(topics.map((t) => t.name)).toContain(`projects/${EMULATOR_PROJECT}/topics/${prefix}findings`);
      const [subs] = await pubsub.getSubscriptions();
      const names = subs.map((s) => s.name).filter((s) => s.includes(prefix));
      expect(names.sort()).toEqual([
        `projects/${EMULATOR_PROJECT}/subscriptions/${prefix}findings-local`,
        `projects/${EMULATOR_PROJECT}/subscriptions/${prefix}findings-local-2`,
      ]);
    } finally {
      await bus.close();
      await pubsub.close();
    }
  });

  it('creates a missing topic when publishing to it, and drains at once when nobody here subscribes', async () => {
    const prefix = `t${run}-fresh-`;
    const pubsub = client();
    const bus = createPubSubBus({ pubsub: client(), prefix, logger: new MemoryLogger() });
    try {
      const id = await bus.publish('sweeps', { data: { n: 1 } });
      expect(id.length).toBeGreaterThan(0);
      await bus.drain();
      const [exists] = await pubsub.topic(`${prefix}sweeps`).exists();
      expect(exists).toBe(true);
      // The topic handle keeps working after the failed first attempt.
      await bus.publish('sweeps', { data: { n: 2 } });
    } finally {
      await bus.close();
      await pubsub.close();
    }
  });

  it('fails drain() after its timeout when a message is never acknowledged', async () => {
    const bus = createPubSubBus({
      pubsub: client(),
      prefix: `t${run}-stuck-`,
      logger: new MemoryLogger(),
      drainTimeoutMs: 300,
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    try {
      await bus.subscribe('actions', () => gate);
      await bus.publish('actions', { data: { n: 1 } });
      await expect(bus.drain()).rejects.toThrow(/timed out after 300 ms: 1 message/);
      release();
      await bus.drain();
    } finally {
      release();
      await bus.close();
    }
  });
});
