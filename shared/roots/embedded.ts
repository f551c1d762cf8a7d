import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { handleFinding } from '../../functions/assess-risk/handler.js';
import { handleAssetChange } from '../../functions/detect/handle-asset-change.js';
import { handleChangeLog } from '../../functions/detect/handle-change-log.js';
import { handleRollbackRequest } from '../../functions/rollback/handler.js';
import { handleSweep, type SweepReport } from '../../functions/detect/handle-sweep.js';
import { handleAction } from '../../functions/execute/handler.js';
import { handleOutcome } from '../../functions/report/handler.js';
import { handleApprovalMessage } from '../../functions/request-approval/handler.js';
import { createInProcessBus } from '../adapters/bus-inprocess.js';
import { createSlackChat } from '../adapters/chat-slack.js';
import { apiTokenAuthenticator, generateApiToken } from '../api/auth.js';
import type { ApiDeps } from '../api/router.js';
import { buildApprovalDeps, type ApprovalDeps } from '../approvals/deps.js';
import type { VoteTask } from '../approvals/messages.js';
import { loadApprovalRules, noApprovers, type ApprovalRules } from '../approvals/rules.js';
import { runApprovalTick, type TickReport } from '../approvals/tick.js';
import type { ChatPort } from '../ports/chat.js';
import type { SlackEndpointDeps } from '../slack/interaction-endpoint.js';
import { ReplayGuard } from '../slack/replay-guard.js';
import { runVoteTask } from '../slack/vote-task.js';
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
import { projectRoot } from '../util/project-root.js';
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
  /** policies/approvals.yaml unless given; without one nobody can approve and requests expire. */
  approvalsFile?: string;
  /** Slack: approvals are posted, and /slack/interactions is served, when both are set. */
  slack?: { botToken: string; signingSecret: string; apiUrl?: string };
  /** Test hook: a chat adapter other than Slack's. */
  chat?: ChatPort;
  /** The automation API's bearer token (WARDEN_API_TOKEN); one is generated when absent. */
  apiToken?: string;
}

export interface EmbeddedApprovals {
  deps: ApprovalDeps;
  /** Where the rules came from, and what is wrong with them. */
  rulesFile: string | null;
  warnings: string[];
  /** The Slack interactivity endpoint's dependencies, when Slack is configured. */
  slack: SlackEndpointDeps | null;
  /** Decides a verified Slack vote in this process (right after the endpoint has answered Slack). */
  runVote(task: VoteTask): void;
  /** Resolves when every vote handed to runVote has been decided. */
  idle(): Promise<void>;
  tick(): Promise<TickReport>;
}

export interface Embedded {
  deps: Deps;
  twin: Twin;
  approvals: EmbeddedApprovals;
  api: ApiDeps;
  apiToken: string;
  /** Runs one sweep of the scope directly (progress reported) and lets the bus finish everything it caused. */
  sweep(
    onProgress?: (done: number, total: number) => void,
    category?: SweepEvent['category'],
  ): Promise<SweepReport>;
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
  // Before anything starts: a bad approvals.yaml stops the start with its file:line errors.
  const loaded = await loadRules(
    opts.approvalsFile ??
      path.join(opts.policiesDir ?? path.join(projectRoot(), 'policies'), 'approvals.yaml'),
  );
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
  await bus.subscribe(
    'change-log',
    async (m) => void (await runHandler('change-log', handleChangeLog, m, deps)),
  );
  await bus.subscribe('findings', async (m) => void (await runHandler('findings', handleFinding, m, deps)));
  await bus.subscribe('actions', async (m) => void (await runHandler('actions', handleAction, m, deps)));
  await bus.subscribe(
    'rollbacks',
    async (m) => void (await runHandler('rollbacks', handleRollbackRequest, m, deps)),
  );
  await bus.subscribe('outcomes', async (m) => void (await runHandler('outcomes', handleOutcome, m, deps)));

  const chat =
    opts.chat ??
    (opts.slack
      ? createSlackChat({
          botToken: opts.slack.botToken,
          ...(opts.slack.apiUrl ? { slackApiUrl: opts.slack.apiUrl } : {}),
        })
      : null);
  const approvalDeps = buildApprovalDeps({ core: deps, rules: loaded.rules, chat });
  await bus.subscribe(
    'approval-requests',
    async (m) =>
      void (await runHandler(
        'approval-requests',
        (msg) => handleApprovalMessage(msg, approvalDeps),
        m,
        deps,
      )),
  );
  const replay = new ReplayGuard(store, clock);
  const votes = new Set<Promise<unknown>>();
  const approvals: EmbeddedApprovals = {
    deps: approvalDeps,
    rulesFile: loaded.file,
    warnings: loaded.warnings,
    slack:
      opts.slack && chat
        ? {
            signingSecret: opts.slack.signingSecret,
            replay,
            rules: loaded.rules,
            approvals: approvalDeps.approvals,
            repo: deps.repo,
            chat,
            clock,
            logger: opts.logger,
          }
        : null,
    runVote(task) {
      const p = runVoteTask(approvalDeps, task)
        .catch((err: unknown) =>
          opts.logger.error('slack vote failed', { error: err instanceof Error ? err.message : String(err) }),
        )
        .finally(() => votes.delete(p));
      votes.add(p);
    },
    async idle() {
      while (votes.size) await Promise.all([...votes]);
    },
    tick: () => runApprovalTick(approvalDeps, { replay }),
  };
  const apiToken = opts.apiToken ?? generateApiToken();
  const api: ApiDeps = {
    approvals: approvalDeps,
    authenticate: apiTokenAuthenticator(apiToken),
    mode: 'embedded',
  };

  return {
    deps,
    twin,
    approvals,
    api,
    apiToken,
    async sweep(onProgress, category = 'all') {
      const event: SweepEvent = {
        kind: 'sweep',
        sweepId: ids.next('sweep-'),
        scope: opts.scope,
        category,
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
      await approvals.idle();
      await bus.drain().catch(() => undefined);
      await bus.close();
      await twin.close();
      await store.close();
    },
  };
}

async function loadRules(
  file: string,
): Promise<{ rules: ApprovalRules; file: string | null; warnings: string[] }> {
  if (!existsSync(file))
    return {
      rules: noApprovers(),
      file: null,
      warnings: [`${file} not found: nobody can approve; requests expire`],
    };
  const loaded = await loadApprovalRules(file);
  return { rules: loaded.rules, file, warnings: loaded.warnings };
}
