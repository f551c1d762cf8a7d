import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { z } from 'zod';
import { createInProcessBus } from '../adapters/bus-inprocess.js';
import { openSqliteDocumentStore } from '../adapters/document-store-sqlite.js';
import { createCloudClients } from '../cloud/clients.js';
import { requestRollback, type RollbackResult } from '../engine/rollback-request.js';
import { createJsonLogger } from '../logging/json-logger.js';
import { AssetSchema } from '../model/asset.js';
import { systemClock } from '../ports/clock.js';
import { randomIds } from '../ports/ids.js';
import type { Logger } from '../ports/logger.js';
import { buildDeps, loadEngineConfig } from '../roots/build-deps.js';
import { startEmbedded } from '../roots/embedded.js';
import { organizationScope, saveTwinState } from './inventory-choice.js';

interface RollbackOptions {
  reason: string;
  json?: boolean;
  stateDir: string;
  twinUrl?: string;
}

const EXIT: Record<RollbackResult['status'], number> = {
  rolled_back: 0,
  refused: 1,
  not_rollbackable: 1,
  not_found: 2,
};

export function registerRollbackCommand(program: Command): void {
  program
    .command('rollback')
    .description("restore a fixed resource's recorded before-state (refused when it changed since)")
    .argument('<action-id>', 'the action to roll back (see the status page or `/api/v1/automation/actions`)')
    .option('--reason <text>', 'why, kept in the audit trail', 'rolled back on demand from the CLI')
    .option('--json', 'print the result as JSON')
    .option('--state-dir <dir>', 'embedded state folder', '.warden')
    .option(
      '--twin-url <url>',
      'the GCP twin of a running `warden start` (e.g. http://127.0.0.1:8081); default: the twin as the last run left it',
    )
    .action(async (actionId: string, opts: RollbackOptions) => {
      process.exitCode = await runRollback(actionId, opts);
    });
}

async function runRollback(actionId: string, opts: RollbackOptions): Promise<number> {
  const stateDir = path.resolve(opts.stateDir);
  const db = path.join(stateDir, 'warden.db');
  if (!existsSync(db)) {
    process.stderr.write(`no state at ${db}: run \`npm start -- --once\` first\n`);
    return 2;
  }
  const logger = createJsonLogger({
    component: 'warden-rollback',
    destination: pino.destination({ dest: path.join(stateDir, 'warden.log'), mkdir: true, sync: true }),
  });
  const actor = `cli:${os.userInfo().username}`;
  const result = opts.twinUrl
    ? await throughRunningTwin(opts.twinUrl, db, logger, actionId, actor, opts.reason)
    : await throughSavedTwin(stateDir, logger, actionId, actor, opts.reason);
  if (result === null) return 2;
  process.stdout.write(opts.json ? `${JSON.stringify(summary(result))}\n` : `${text(actionId, result)}\n`);
  return EXIT[result.status];
}

/** The twin as the last run saved it: the rollback's change is then detected, and the twin saved again. */
async function throughSavedTwin(
  stateDir: string,
  logger: Logger,
  actionId: string,
  actor: string,
  reason: string,
): Promise<RollbackResult | null> {
  const saved = path.join(stateDir, 'twin-inventory.json');
  if (!existsSync(saved)) {
    process.stderr.write(
      `no twin state at ${saved}: run \`npm start -- --once\` first, or pass --twin-url of a running engine\n`,
    );
    return null;
  }
  const assets = z.array(AssetSchema).parse(JSON.parse(await readFile(saved, 'utf8')));
  const engine = await startEmbedded({
    stateDir,
    assets,
    scope: organizationScope(assets),
    logger,
    twinPort: 0,
  });
  try {
    const result = await requestRollback(engine.deps, actionId, actor, reason);
    // The restore comes back through the twin's feed: detect reopens the finding, assess-risk decides again.
    await engine.deps.bus.drain();
    if (result.status === 'rolled_back') await saveTwinState(stateDir, engine.twin.listAssets());
    return result;
  } finally {
    await engine.close();
  }
}

/** A running engine's twin: its feed tells that engine; this process only changes the resource and the store. */
async function throughRunningTwin(
  url: string,
  db: string,
  logger: Logger,
  actionId: string,
  actor: string,
  reason: string,
): Promise<RollbackResult> {
  const config = await loadEngineConfig(logger);
  const store = openSqliteDocumentStore(db);
  const bus = createInProcessBus({ logger });
  const cloud = createCloudClients({ target: { kind: 'twin', url, projectId: 'warden-embedded' } });
  try {
    const deps = buildDeps({ store, bus, cloud, clock: systemClock, ids: randomIds, logger, config });
    return await requestRollback(deps, actionId, actor, reason);
  } finally {
    await bus.close();
    await cloud.close();
    await store.close();
  }
}

function summary(r: RollbackResult): Record<string, unknown> {
  const base: Record<string, unknown> = { status: r.status };
  if ('reason' in r) base['reason'] = r.reason;
  if ('action' in r)
    base['action'] = {
      id: r.action.id,
      state: r.action.state,
      actionType: r.action.actionType,
      resourceName: r.action.resourceName,
    };
  return base;
}

function text(id: string, r: RollbackResult): string {
  switch (r.status) {
    case 'rolled_back':
      return `rolled back ${id}: ${r.action.resourceName} is back to its recorded before-state (${r.action.actionType} undone)`;
    case 'refused':
      return `rollback of ${id} REFUSED: ${r.reason}`;
    case 'not_rollbackable':
      return `action ${id} cannot be rolled back: ${r.reason}`;
    case 'not_found':
      return `no action ${id} in this state`;
  }
}
