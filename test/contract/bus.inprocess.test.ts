import { describe, expect, it } from '@jest/globals';
import { createInProcessBus } from '../../shared/adapters/bus-inprocess.js';
import type { BusMessage } from '../../shared/ports/bus.js';
import { ManualClock } from '../../shared/ports/clock.js';
import { SequentialIds } from '../../shared/ports/ids.js';
import { MemoryLogger } from '../../shared/ports/logger.js';
import { busContract } from './bus.contract.js';

busContract('in-process', async (opts) => {
  const bus = createInProcessBus(opts);
  return { bus, cleanup: () => bus.close() };
});

describe('in-process bus specifics', () => {
  const payloads = (received: BusMessage[]): number[] =>
    received.map((m) => (JSON.parse(m.data.toString('utf8')) as { n: number }).n);

  it('never delivers inside the publish call, and takes ids and times from its sources', async () => {
    const clock = new ManualClock('2026-03-01T10:00:00.000Z');
    const bus = createInProcessBus({ logger: new MemoryLogger(), ids: new SequentialIds(), clock });
    const received: BusMessage[] = [];
    await bus.subscribe('findings', async (m) => void received.push(m));
    const id = await bus.publish('findings', { data: { n: 1 } });
    expect(received).toHaveLength(0);
    await bus.drain();
    expect(received).toHaveLength(1);
    expect(id).toBe('msg-000001');
    expect(received[0]).toMatchObject({
      messageId: 'msg-000001',
      publishTime: '2026-03-01T10:00:00.000Z',
      deliveryAttempt: 1,
    });
    await bus.close();
  });

  it('gives each subscriber its own copy of the data', async () => {
    const bus = createInProcessBus({ logger: new MemoryLogger() });
    const seen: string[] = [];
    await bus.subscribe('findings', async (m) => {
      seen.push(m.data.toString('utf8'));
      m.data.fill(0x21);
    });
    await bus.subscribe('findings', async (m) => void seen.push(m.data.toString('utf8')));
    await bus.publish('findings', { data: 'original' });
    await bus.drain();
    expect(seen).toEqual(['original', 'original']);
    await bus.close();
  });

  it('delivers every message N times with the duplicate option, same id each time', async () => {
    const bus = createInProcessBus({ logger: new MemoryLogger(), duplicate: 3 });
    const received: BusMessage[] = [];
    await bus.subscribe('actions', async (m) => void received.push(m));
    const a = await bus.publish('actions', { data: { n: 1 } });
    const b = await bus.publish('actions', { data: { n: 2 } });
    await bus.drain();
    expect(received.map((m) => m.messageId).sort()).toEqual([a, a, a, b, b, b].sort());
    await bus.close();
  });

  it('reorders delivery with the shuffle option, the same way for the same seed', async () => {
    const order = async (seed: number): Promise<number[]> => {
      const bus = createInProcessBus({ logger: new MemoryLogger(), shuffle: { seed } });
      const received: BusMessage[] = [];
      await bus.subscribe('asset-changes', async (m) => void received.push(m));
      for (let n = 0; n < 20; n++) await bus.publish('asset-changes', { data: { n } });
      await bus.drain();
      await bus.close();
      return payloads(received);
    };
    const inOrder = Array.from({ length: 20 }, (_, n) => n);
    const first = await order(42);
    expect([...first].sort((x, y) => x - y)).toEqual(inOrder);
    expect(first).not.toEqual(inOrder);
    expect(await order(42)).toEqual(first);
    expect(await order(7)).not.toEqual(first);
  });

  it('delivers in publish order without shuffle', async () => {
    const bus = createInProcessBus({ logger: new MemoryLogger(), maxConcurrent: 1 });
    const received: BusMessage[] = [];
    await bus.subscribe('asset-changes', async (m) => void received.push(m));
    for (let n = 0; n < 5; n++) await bus.publish('asset-changes', { data: { n } });
    await bus.drain();
    expect(payloads(received)).toEqual([0, 1, 2, 3, 4]);
    await bus.close();
  });

  it('keeps a failing dead-letter handler from looping, and logs it', async () => {
    const logger = new MemoryLogger();
    const bus = createInProcessBus({
      logger,
      maxDeliveryAttempts: 1,
      onDeadLetter: () => {
        throw new Error('store down');
      },
    });
    await bus.subscribe('findings', async () => {
      throw new Error('nope');
    });
    await bus.publish('findings', { data: { n: 1 } });
    await bus.drain();
    expect(logger.records.map((r) => r.msg)).toEqual(['bus.dead_letter', 'bus.dead_letter_handler_failed']);
    await bus.close();
  });

  it('drops a message published to a topic nobody subscribes to, and refuses to publish once closed', async () => {
    const bus = createInProcessBus({ logger: new MemoryLogger() });
    await bus.publish('sweeps', { data: { n: 1 } });
    await bus.drain();
    await bus.close();
    await expect(bus.publish('sweeps', { data: { n: 2 } })).rejects.toThrow(/closed/);
  });

  it('bounds the deliveries running at once', async () => {
    const bus = createInProcessBus({ logger: new MemoryLogger(), maxConcurrent: 2 });
    let running = 0;
    let peak = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await bus.subscribe('findings', async () => {
      running += 1;
      peak = Math.max(peak, running);
      await gate;
      running -= 1;
    });
    for (let n = 0; n < 6; n++) await bus.publish('findings', { data: { n } });
    await new Promise((resolve) => setImmediate(resolve));
    expect(running).toBe(2);
    release();
    await bus.drain();
    expect(peak).toBe(2);
    await bus.close();
  });
});
