import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import path from 'node:path';
import { createSlackChat } from '../adapters/chat-slack.js';
import { createFirestoreDocumentStore } from '../adapters/document-store-firestore.js';
import { createPubSubBus } from '../adapters/bus-pubsub.js';
import type { SlackFunctionDeps } from '../../functions/api/slack-handler.js';
import { googleIdTokenAuthenticator } from '../api/auth.js';
import type { ApiDeps } from '../api/router.js';
import { buildApprovalDeps, type ApprovalDeps } from '../approvals/deps.js';
import { loadApprovalRules, noApprovers } from '../approvals/rules.js';
import { ReplayGuard } from '../slack/replay-guard.js';
import { projectRoot } from '../util/project-root.js';
import { createCloudClients } from '../cloud/clients.js';
import type { Deps } from '../engine/deps.js';
import { createJsonLogger } from '../logging/json-logger.js';
import { systemClock } from '../ports/clock.js';
import { randomIds } from '../ports/ids.js';
import { buildDeps, loadEngineConfig } from './build-deps.js';

let cached: Promise<Deps> | undefined;

/**
 * The composition root of the deployed functions (production) and of the local distributed topology:
 * the same code, with FIRESTORE_EMULATOR_HOST / PUBSUB_EMULATOR_HOST / WARDEN_TWIN_URL pointing the
 * official clients at the emulators and the GCP twin. Built once per instance, on first use.
 */
export function depsFromEnvironment(): Promise<Deps> {
  cached ??= buildFromEnvironment(process.env);
  return cached;
}

/** Uncached, for tests that run the distributed topology with their own emulators and twin. */
export async function buildFromEnvironment(env: NodeJS.ProcessEnv): Promise<Deps> {
  const projectId = env['GOOGLE_CLOUD_PROJECT'] ?? env['GCLOUD_PROJECT'];
  const prefix = env['WARDEN_PREFIX'] ?? 'warden-';
  const logger = createJsonLogger({ component: env['K_SERVICE'] ?? env['FUNCTION_TARGET'] ?? 'warden' });
  const config = await loadEngineConfig(logger, {
    ...(env['WARDEN_POLICIES_DIR'] ? { policiesDir: env['WARDEN_POLICIES_DIR'] } : {}),
    dryRun: env['WARDEN_DRY_RUN'] === 'true',
  });
  const firestore = new Firestore(
    projectId ? { projectId, ignoreUndefinedProperties: true } : { ignoreUndefinedProperties: true },
  );
  const pubsub = new PubSub(projectId ? { projectId } : {});
  const twinUrl = env['WARDEN_TWIN_URL'];
  const cloud = createCloudClients({
    target: twinUrl
      ? { kind: 'twin', url: twinUrl, projectId: projectId ?? 'warden-local' }
      : { kind: 'google', ...(projectId ? { projectId } : {}) },
  });
  return buildDeps({
    store: createFirestoreDocumentStore({ firestore, prefix }),
    bus: createPubSubBus({ pubsub, prefix, logger }),
    cloud,
    clock: systemClock,
    ids: randomIds,
    logger,
    config,
  });
}

let approvalsCached: Promise<ApprovalDeps> | undefined;
let apiCached: Promise<ApiDeps> | undefined;
let slackCached: Promise<SlackFunctionDeps> | undefined;

/** request-approval's dependencies: the engine's, the approval rules and Slack (when a bot token is set). */
export function approvalDepsFromEnvironment(): Promise<ApprovalDeps> {
  approvalsCached ??= depsFromEnvironment().then((core) =>
    buildApprovalDepsFromEnvironment(process.env, core),
  );
  return approvalsCached;
}

/** The automation API function: Google-signed ID tokens for WARDEN_API_AUDIENCE (comma-separated). */
export function apiDepsFromEnvironment(): Promise<ApiDeps> {
  apiCached ??= approvalDepsFromEnvironment().then((approvals) =>
    buildApiDepsFromEnvironment(process.env, approvals),
  );
  return apiCached;
}

/** The Slack interactivity function: the signing secret, the replay guard, and the bus votes go on. */
export function slackDepsFromEnvironment(): Promise<SlackFunctionDeps> {
  slackCached ??= approvalDepsFromEnvironment().then((approvals) =>
    buildSlackDepsFromEnvironment(process.env, approvals),
  );
  return slackCached;
}

export async function buildApprovalDepsFromEnvironment(
  env: NodeJS.ProcessEnv,
  core: Deps,
): Promise<ApprovalDeps> {
  const file =
    env['WARDEN_APPROVALS_FILE'] ??
    path.join(env['WARDEN_POLICIES_DIR'] ?? path.join(projectRoot(), 'policies'), 'approvals.yaml');
  let rules = noApprovers();
  try {
    const loaded = await loadApprovalRules(file);
    rules = loaded.rules;
    for (const w of loaded.warnings) core.logger.warn('approval rules', { warning: w });
  } catch (err) {
    // Fails closed: nobody can approve, every request expires; said loudly.
    core.logger.error('approval rules not loaded: nobody can approve until they are', {
      file,
      error: err instanceof Error ? err.message : String(err),
    });
  }
  const token = env['SLACK_BOT_TOKEN'];
  const chat = token
    ? createSlackChat({
        botToken: token,
        ...(env['WARDEN_SLACK_API_URL'] ? { slackApiUrl: env['WARDEN_SLACK_API_URL'] } : {}),
      })
    : null;
  return buildApprovalDeps({ core, rules, chat });
}

export function buildApiDepsFromEnvironment(env: NodeJS.ProcessEnv, approvals: ApprovalDeps): ApiDeps {
  const audience = (env['WARDEN_API_AUDIENCE'] ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  const log = approvals.core.logger;
  if (audience.length === 0) log.error('WARDEN_API_AUDIENCE is not set: the API refuses every caller');
  return {
    approvals,
    mode: 'production',
    authenticate:
      audience.length === 0
        ? async () => null
        : googleIdTokenAuthenticator({
            audience,
            onFailure: (reason) => log.warn('API credential refused', { reason }),
          }),
  };
}

export function buildSlackDepsFromEnvironment(
  env: NodeJS.ProcessEnv,
  approvals: ApprovalDeps,
): SlackFunctionDeps {
  const core = approvals.core;
  const signingSecret = env['SLACK_SIGNING_SECRET'] ?? '';
  if (!signingSecret) core.logger.error('SLACK_SIGNING_SECRET is not set: every Slack request is refused');
  return {
    bus: core.bus,
    endpoint: {
      signingSecret,
      replay: new ReplayGuard(core.repo.store, core.clock),
      rules: approvals.rules,
      approvals: approvals.approvals,
      repo: core.repo,
      chat: approvals.chat,
      clock: core.clock,
      logger: core.logger,
    },
  };
}
