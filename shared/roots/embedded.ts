import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { handleFinding } from '../../functions/assess-risk/handler.js';
import { handleAssetChange } from '../../functions/detect/handle-asset-change.js';
import { handleSweep, type SweepReport } from '../../functions/detect/handle-sweep.js';
import { handleAction } from '../../functions/execute/handler.js';
import { handleOutcome } from '../../functions/report/handler.js';
import { createInProcessBus } from '../adapters/bus-inprocess.js';
import { openSqliteDocumentStore } from '../adapters/document-store-sqlite.js';
import { createCloudClients } from '../cloud/clients.js';
import type { Deps } from '../engine/deps.js';
import type { Asset } from '../model/asset.js';
import type { SweepEvent } from '../model/events.js';
import { encodeData, type BusMessage } from '../ports/bus.js';
import { systemClock, type Clock } from '../ports/clock.js';
import { randomIds, type IdSource } from '../ports/ids.js';
import type { Logger } from '../ports/logger.js';
import { startTwin, type Twin } from '../twin/server.js';
import { buildDeps, loadEngineConfig } from './build-deps.js';
import { runHandler } from './run-handler.js';

export interface EmbeddedOptions {
  stateDir: string;
  /** The inventory the twin serves: the example landing zone or a real export. */
  assets: Asset[];
  /** The organization (or folder, project) the sweep lists. */
  scope: string;
  logger: Logger;
  clock?: Clock;
  ids?: IdSource;
  twinPort?: number;
  policiesDir?: string;
  dryRun?: boolean;
  /** Test hook: extra options for the in-process bus (duplicate or shuffled delivery). */
  busOptions?: Record<string, unknown>;
}

export interface Embedded {
  deps: Deps;
  twin: Twin;
  /** Runs one sweep of the scope directly (progress reported) and lets the bus finish everything it caused. */
  sweep(onProgress?: (done: number, total: number) => void): Promise<SweepReport>;
  close(): Promise<void>;
}

/**
 * The embedded default (design §2): in-process bus, SQLite in the state folder, and the GCP twin on
 * localhost reached through the official client libraries. The twin's feed drives detect like a real
 * Cloud Asset Inventory feed, so a change made against the twin is detected and fixed while it runs.
 */
export async function startEmbedded(opts: EmbeddedOptions): Promise<Embedded> {
  await mkdir(opts.stateDir, { recursive: true });
  const clock = opts.clock ?? systemClock;
  const ids = opts.ids ?? randomIds;
  const config = await loadEngineConfig(opts.logger, {
    ...(opts.policiesDir ? { policiesDir: opts.policiesDir } : {}),
    ...(opts.dryRun ? { dryRun: true } : {}),
  });
  const store = openSqliteDocumentStore(path.join(opts.stateDir, 'warden.db'));
  const bus = createInProcessBus({ logger: opts.logger, ids, clock, ...(opts.busOptions ?? {}) });
  const twin = await startTwin({
    assets: opts.assets,
    port: opts.twinPort ?? 0,
    clock,
    onFeed: async (message: object) => {
      await bus.publish('asset-changes', { data: message });
    },
  });
  const projectId = 'warden-embedded';
  const cloud = createCloudClients({ target: { kind: 'twin', url: twin.url, projectId } });
  const deps = buildDeps({ store, bus, cloud, clock, ids, logger: opts.logger, config });

  await bus.subscribe(
    'asset-changes',
    async (m) => void (await runHandler('asset-changes', handleAssetChange, m, deps)),
  );
  await bus.subscribe('sweeps', async (m) => void (await runHandler('sweeps', handleSweep, m, deps)));
  await bus.subscribe('findings', async (m) => void (await runHandler('findings', handleFinding, m, deps)));
  await bus.subscribe('actions', async (m) => void (await runHandler('actions', handleAction, m, deps)));
  await bus.subscribe('outcomes', async (m) => void (await runHandler('outcomes', handleOutcome, m, deps)));

  return {
    deps,
    twin,
    async sweep(onProgress) {
      const event: SweepEvent = {
        kind: 'sweep',
        sweepId: ids.next('sweep-'),
        scope: opts.scope,
        category: 'all',
      };
      const msg: BusMessage = {
        messageId: ids.next('msg-'),
        publishTime: clock.now().toISOString(),
        attributes: {},
        data: encodeData(event),
      };
      const result = await handleSweep(msg, deps, onProgress);
      if (!result.report)
        throw new Error(`sweep did not run: ${result.status === 'done' ? result.detail : result.reason}`);
      await bus.drain();
      return result.report;
    },
    async close() {
      await bus.drain().catch(() => undefined);
      await bus.close();
      await twin.close();
      await store.close();
    },
  };
}
