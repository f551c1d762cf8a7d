import { afterEach, describe, expect, it } from '@jest/globals';
import type { DeadLetterHandler } from '../../shared/adapters/bus-delivery.js';
import { WardenError } from '../../shared/model/errors.js';
import type { BusMessage, EventBus } from '../../shared/ports/bus.js';
import { MemoryLogger } from '../../shared/ports/logger.js';

export interface BusOptionsUnderTest {
  logger: MemoryLogger;
  maxDeliveryAttempts?: number;
  onDeadLetter?: DeadLetterHandler;
}

export interface BusUnderTest {
  bus: EventBus;
  cleanup(): Promise<void>;
}

/**
 * What every EventBus adapter must do, run against each of them. Nothing here waits for time: drain() is
 * the only synchronisation, which is exactly what the embedded mode and --once rely on.
 */
export function busContract(
  name: string,
  makeBus: (opts: BusOptionsUnderTest) => Promise<BusUnderTest>,
): void {
  describe(`EventBus contract: ${name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    const fresh = async (
      opts: Partial<BusOptionsUnderTest> = {},
    ): Promise<{ bus: EventBus; logger: MemoryLogger }> => {
      const logger = opts.logger ?? new MemoryLogger();
      const made = await makeBus({ ...opts, logger });
      cleanups.push(made.cleanup);
      return { bus: made.bus, logger };
    };
    afterEach(async () => {
      for (const c of cleanups.splice(0)) await c();
    });

    it('delivers a published JSON message to every subscriber of its topic, with its metadata', async () => {
      const { bus } = await fresh();
      const first: BusMessage[] = [];
      const second: BusMessage[] = [];
      const elsewhere: BusMessage[] = [];
      await bus.subscribe('findings', async (m) => void first.push(m));
      await bus.subscribe('findings', async (m) => void second.push(m));
      await bus.subscribe('actions', async (m) => void elsewhere.push(m));

      const before = Date.now();
      const payload = { kind: 'finding', findingId: 'f-1', nested: { list: [1, 'two', null] } };
      const id = await bus.publish('findings', { data: payload, attributes: { source: 'contract' } });
      await bus.drain();
      const after = Date.now();

      expect(typeof id).toBe('string');
      expect(id.length).toBeGreaterThan(0);
      for (const received of [first, second]) {
        expect(received).toHaveLength(1);
        const m = received[0]!;
        expect(JSON.parse(m.data.toString('utf8'))).toEqual(payload);
        expect(m.attributes).toEqual({ source: 'contract' });
        expect(m.messageId).toBe(id);
        const t = Date.parse(m.publishTime);
        expect(t).toBeGreaterThanOrEqual(before - 1000);
        expect(t).toBeLessThanOrEqual(after + 1000);
      }
      expect(elsewhere).toHaveLength(0);
    });

    it('passes strings and buffers through unchanged, and gives each message its own id', async () => {
      const { bus } = await fresh();
      const received = new Map<string, BusMessage>();
      await bus.subscribe('outcomes', async (m) => void received.set(m.messageId, m));
      const text = await bus.publish('outcomes', { data: 'plain text ✓' });
      const bytes = await bus.publish('outcomes', {
        data: Buffer.from([0, 1, 2, 255]),
        attributes: { k: 'v' },
      });
      await bus.drain();
      expect(text).not.toBe(bytes);
      expect(received.get(text)?.data.toString('utf8')).toBe('plain text ✓');
      expect(received.get(text)?.attributes).toEqual({});
      expect([...(received.get(bytes)?.data ?? [])]).toEqual([0, 1, 2, 255]);
    });

    it('refuses a message with neither data nor attributes, as Pub/Sub does', async () => {
      const { bus } = await fresh();
      await expect(bus.publish('outcomes', { data: '' })).rejects.toThrow(/data or at least one attribute/);
    });

    it('redelivers to a subscriber that throws until it handles the message', async () => {
      const { bus, logger } = await fresh();
      const seen: string[] = [];
      let handled = 0;
      await bus.subscribe('actions', async (m) => {
        seen.push(m.messageId);
        if (seen.length < 3) throw new Error(`transient failure ${seen.length}`);
        handled += 1;
      });
      const id = await bus.publish('actions', { data: { kind: 'action', actionId: 'a-1' } });
      await bus.drain();
      expect(seen).toEqual([id, id, id]);
      expect(handled).toBe(1);
      expect(logger.records.filter((r) => r.msg === 'bus.redeliver')).toHaveLength(2);
      expect(logger.records.filter((r) => r.level === 'error')).toHaveLength(0);
    });

    it('drains chains: a message handled by a subscriber that publishes the next one', async () => {
      const { bus } = await fresh();
      const done: string[] = [];
      await bus.subscribe('findings', async (m) => {
        const { n } = JSON.parse(m.data.toString('utf8')) as { n: number };
        await bus.publish('actions', { data: { n } });
      });
      await bus.subscribe('actions', async (m) => {
        const { n } = JSON.parse(m.data.toString('utf8')) as { n: number };
        await bus.publish('outcomes', { data: { n } });
      });
      await bus.subscribe('outcomes', async (m) => {
        done.push(String((JSON.parse(m.data.toString('utf8')) as { n: number }).n));
      });
      await Promise.all([1, 2, 3].map((n) => bus.publish('findings', { data: { n } })));
      await bus.drain();
      expect(done.sort()).toEqual(['1', '2', '3']);
      // Nothing left: a second drain returns at once.
      await bus.drain();
    });

    it('dead-letters a message after maxDeliveryAttempts, once, and says so in the log', async () => {
      const dead: Array<{ topic: string; messageId: string; error: unknown }> = [];
      const { bus, logger } = await fresh({
        maxDeliveryAttempts: 3,
        onDeadLetter: (topic, msg, error) => void dead.push({ topic, messageId: msg.messageId, error }),
      });
      let attempts = 0;
      await bus.subscribe('rollbacks', async () => {
        attempts += 1;
        throw new Error('always fails');
      });
      const id = await bus.publish('rollbacks', { data: { kind: 'rollback' } });
      await bus.drain();
      expect(attempts).toBe(3);
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ topic: 'rollbacks', messageId: id });
      expect((dead[0]!.error as Error).message).toBe('always fails');
      const logged = logger.records.filter((r) => r.msg === 'bus.dead_letter');
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({ level: 'error', topic: 'rollbacks', messageId: id, attempts: 3 });
    });

    it('dead-letters at once a failure that retrying cannot help', async () => {
      const dead: string[] = [];
      const { bus } = await fresh({ onDeadLetter: (_topic, msg) => void dead.push(msg.messageId) });
      let attempts = 0;
      await bus.subscribe('sweeps', async () => {
        attempts += 1;
        throw new WardenError('malformed event', { retryable: false, code: 'bad-input' });
      });
      const id = await bus.publish('sweeps', { data: { kind: 'sweep' } });
      await bus.drain();
      expect(attempts).toBe(1);
      expect(dead).toEqual([id]);
    });
  });
}
