import type { Command } from 'commander';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { compliance, summarize, type Compliance, type Summary } from '../engine/summary.js';
import { createJsonLogger } from '../logging/json-logger.js';
import { formatSourceError } from '../policy/yaml-source.js';
import { sendDailyDigest } from '../approvals/notifications.js';
import { startEmbedded, type Embedded } from '../roots/embedded.js';
import { createStatusServer } from '../server/status-server.js';
import { chooseInventory, organizationScope, saveTwinState } from './inventory-choice.js';
import { progressLine } from './progress.js';
import { formatSummary } from './summary-text.js';

interface StartOptions {
  once?: boolean;
  json?: boolean;
  stateDir: string;
  port: string;
  twinPort: string;
  assets?: string[];
  reset?: boolean;
  dryRun?: boolean;
  verbose?: boolean;
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description(
      'run the embedded engine: the GCP twin, a full sweep, the fixes automation allows, a summary, a status page',
    )
    .option('--once', 'exit after the summary')
    .option('--json', 'print the summary as one JSON object')
    .option('--state-dir <dir>', 'where state (SQLite) and logs are kept', '.warden')
    .option('--port <port>', 'status page and JSON API port on 127.0.0.1', '8080')
    .option('--twin-port <port>', 'GCP twin port on 127.0.0.1 (0: any free port)', '8081')
    .option(
      '--assets <paths...>',
      'a Cloud Asset Inventory export to rehearse against instead of the example landing zone',
    )
    .option('--reset', 'forget previous state and start from the inventory again')
    .option('--dry-run', 'decide and plan everything, change nothing')
    .option('--verbose', 'write the structured log to stderr instead of <state-dir>/warden.log')
    .action(async (opts: StartOptions) => {
      process.exitCode = await runStart(opts);
    });
}

async function runStart(opts: StartOptions): Promise<number> {
  const stateDir = path.resolve(opts.stateDir);
  if (opts.reset) {
    for (const f of ['warden.db', 'warden.db-wal', 'warden.db-shm', 'twin-inventory.json'])
      await rm(path.join(stateDir, f), { force: true });
  }
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const logger = createJsonLogger({
    component: 'warden-embedded',
    destination: opts.verbose
      ? pino.destination({ dest: 2, sync: true })
      : pino.destination({ dest: path.join(stateDir, 'warden.log'), mkdir: true, sync: false }),
  });

  const inventory = await chooseInventory(stateDir, opts.assets);
  for (const e of inventory.errors) say(`warning: skipped bad inventory record ${e}`);
  const scope = organizationScope(inventory.assets);
  say(
    `Warden (embedded) · inventory ${inventory.source} · ${inventory.assets.length} assets · state ${path.relative(process.cwd(), stateDir) || stateDir}`,
  );

  const slackToken = process.env['SLACK_BOT_TOKEN'];
  const signingSecret = process.env['SLACK_SIGNING_SECRET'];
  const slackApiUrl = process.env['WARDEN_SLACK_API_URL'];
  if (Boolean(slackToken) !== Boolean(signingSecret))
    say(
      'warning: Slack needs both SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET; approvals are not posted to Slack',
    );
  const engine = await startEmbedded({
    stateDir,
    assets: inventory.assets,
    scope,
    logger,
    twinPort: Number.parseInt(opts.twinPort, 10),
    ...(opts.dryRun ? { dryRun: true } : {}),
    ...(process.env['WARDEN_API_TOKEN'] ? { apiToken: process.env['WARDEN_API_TOKEN'] } : {}),
    ...(slackToken && signingSecret
      ? { slack: { botToken: slackToken, signingSecret, ...(slackApiUrl ? { apiUrl: slackApiUrl } : {}) } }
      : {}),
  });
  for (const w of engine.approvals.warnings) say(`approvals: ${w}`);
  const policies = engine.deps.policies;
  for (const e of policies.errors) say(`policy not loaded: ${formatSourceError(e)}`);
  for (const x of policies.exemptions.expired(new Date().toISOString())) {
    say(
      `expired exception no longer applies: ${policies.exemptions.file}:${x.line} ${x.resource} (owner ${x.owner}, expired ${x.expires})`,
    );
  }
  let before: Compliance | null = null;
  let after: Compliance | null = null;
  try {
    const t0 = Date.now();
    const progress = progressLine(process.stderr);
    const first = await engine.sweep((done, total) => progress(`sweep: evaluating ${done}/${total} assets`));
    progress.done(
      `sweep: ${first.assets} assets, ${first.evaluations} checks, ${first.violations} violations (${Date.now() - t0} ms)`,
    );
    before = compliance(first.evaluations, first.violations);
    // The first sweep's findings went through assess-risk and execute while the bus drained; a second
    // sweep re-reads the twin, so "after" is measured on what the cloud really looks like now.
    const second = await engine.sweep();
    after = compliance(second.evaluations, second.violations);
    const summary: Summary = await summarize(engine.deps.repo, before, after);
    process.stdout.write(
      opts.json
        ? `${JSON.stringify({ ...summary, stateDir, twin: engine.twin.url, sweep: first })}\n`
        : formatSummary(summary, first),
    );
    // Decisions taken while nothing ran (warden approve / reject) are announced, due requests expire.
    await approvalTick(engine, say);
    await engine.deps.bus.drain();
    await saveTwinState(stateDir, engine.twin.listAssets());
  } catch (err) {
    await engine.close();
    throw err;
  }

  if (opts.once) {
    await engine.close();
    return 0;
  }
  const server = createStatusServer(
    {
      repo: engine.deps.repo,
      compliance: () => ({ before, after }),
      twinUrl: engine.twin.url,
      api: engine.api,
      slack: engine.approvals.slack,
      runVote: (task) => engine.approvals.runVote(task),
    },
    logger,
  );
  const port = Number.parseInt(opts.port, 10);
  await new Promise<void>((resolve, reject) =>
    server.once('error', reject).listen(port, '127.0.0.1', resolve),
  );
  say(`\nStatus page and JSON API: http://127.0.0.1:${port}/   (Ctrl-C to stop)`);
  say(
    `GCP twin (Storage, Compute, Asset APIs): ${engine.twin.url}   changes made there are detected and fixed live`,
  );
  say(
    `Automation API: http://127.0.0.1:${port}/api/v1/automation/…  (OpenAPI: /api/v1/openapi.json)  bearer token: ${engine.apiToken}${process.env['WARDEN_API_TOKEN'] ? ' (WARDEN_API_TOKEN)' : '  (generated; set WARDEN_API_TOKEN to choose one)'}`,
  );
  say(
    engine.approvals.slack
      ? `Slack: approvals posted; interactivity endpoint http://127.0.0.1:${port}/slack/interactions (expose it with a tunnel)`
      : 'Slack: not configured (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET); decide approvals on the status page or with `warden approve ID`',
  );
  // Expiry, announcements of decisions taken elsewhere (the CLI), Slack updates and the batched report.
  const ticker = setInterval(() => void approvalTick(engine, say), TICK_MS);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  say('stopping…');
  clearInterval(ticker);
  server.close();
  await saveTwinState(stateDir, engine.twin.listAssets());
  await engine.close();
  return 0;
}

const TICK_MS = 30_000;

async function approvalTick(engine: Embedded, say: (line: string) => void): Promise<void> {
  try {
    const r = await engine.approvals.tick();
    if (r.expired) say(`approvals: ${r.expired} request(s) expired without a decision (nothing was changed)`);
    if (r.dispatched) say(`approvals: ${r.dispatched} approved action(s) handed to the executor`);
    await sendDailyDigest(engine.approvals.deps, engine.deps.clock.now());
  } catch (err) {
    say(`approvals: tick failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
