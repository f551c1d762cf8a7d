import { createInProcessBus } from '../../shared/adapters/bus-inprocess.js';
import { openSqliteDocumentStore } from '../../shared/adapters/document-store-sqlite.js';
import { createCloudClients } from '../../shared/cloud/clients.js';
import type { Deps } from '../../shared/engine/deps.js';
import type { Topic } from '../../shared/model/topics.js';
import type { ManualClock } from '../../shared/ports/clock.js';
import { SequentialIds } from '../../shared/ports/ids.js';
import { MemoryLogger } from '../../shared/ports/logger.js';
import { buildDeps, type EngineConfig } from '../../shared/roots/build-deps.js';

export type Published = Array<{ topic: Topic; data: Record<string, unknown> }>;

/**
 * The engine's dependencies over an in-memory store and bus, with no cloud behind them (nothing here
 * calls one), recording what is published to `topics` instead of handling it.
 */
export async function recordingCore(
  config: EngineConfig,
  clock: ManualClock,
  topics: readonly Topic[],
): Promise<{ core: Deps; published: Published; close(): Promise<void> }> {
  const logger = new MemoryLogger();
  const store = openSqliteDocumentStore(':memory:');
  const bus = createInProcessBus({ logger, clock });
  const published: Published = [];
  for (const topic of topics)
    await bus.subscribe(
      topic,
      async (m) => void published.push({ topic, data: JSON.parse(m.data.toString()) }),
    );
  const core = buildDeps({
    store,
    bus,
    cloud: createCloudClients({ target: { kind: 'twin', url: 'http://127.0.0.1:9', projectId: 'p' } }),
    clock,
    ids: new SequentialIds(),
    logger,
    config,
  });
  return {
    core,
    published,
    async close() {
      await bus.close();
      await store.close();
    },
  };
}
