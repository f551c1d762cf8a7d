import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { createInProcessBus } from '../adapters/bus-inprocess.js';
import { openSqliteDocumentStore } from '../adapters/document-store-sqlite.js';
import { castVote, type VoteResult } from '../approvals/cast-vote.js';
import { buildApprovalDeps, type ApprovalDeps } from '../approvals/deps.js';
import { approversOf } from '../approvals/request.js';
import { loadApprovalRules } from '../approvals/rules.js';
import { createCloudClients } from '../cloud/clients.js';
import { createJsonLogger } from '../logging/json-logger.js';
import { systemClock } from '../ports/clock.js';
import { randomIds } from '../ports/ids.js';
import { buildDeps, loadEngineConfig } from '../roots/build-deps.js';
import { projectRoot } from '../util/project-root.js';

interface LocalOptions {
  stateDir: string;
  policiesDir?: string;
  approvals?: string;
}

/**
 * The embedded state (.warden/) opened for approvals, acting as the local user of approvals.yaml. This
 * process has no executor behind its bus: an approval is recorded and the action marked approved here,
 * and a running (or the next) `warden start` hands it to the executor.
 */
export async function openLocalApprovals(
  opts: LocalOptions,
): Promise<{ deps: ApprovalDeps; close(): Promise<void> }> {
  const db = path.join(opts.stateDir, 'warden.db');
  if (!existsSync(db)) throw new UsageError(`no state at ${db}: run \`npm start -- --once\` first`);
  const policiesDir = opts.policiesDir ?? path.join(projectRoot(), 'policies');
  const logger = createJsonLogger({
    component: 'warden-cli',
    destination: pino.destination({ dest: path.join(opts.stateDir, 'warden.log'), sync: true }),
  });
  const { rules, warnings } = await loadApprovalRules(
    opts.approvals ?? path.join(policiesDir, 'approvals.yaml'),
  );
  for (const w of warnings) process.stderr.write(`approvals: ${w}\n`);
  const config = await loadEngineConfig(logger, { policiesDir });
  const store = openSqliteDocumentStore(db);
  const bus = createInProcessBus({ logger });
  const core = buildDeps({
    store,
    bus,
    // Deciding calls no cloud API.
    cloud: createCloudClients({
      target: { kind: 'twin', url: 'http://127.0.0.1:9', projectId: 'warden-embedded' },
    }),
    clock: systemClock,
    ids: randomIds,
    logger,
    config,
  });
  return {
    deps: buildApprovalDeps({ core, rules, chat: null, liveBus: false }),
    async close() {
      await bus.close();
      await store.close();
    },
  };
}

class UsageError extends Error {}

/** The approval an id or an unambiguous prefix of one (at least 6 characters) names. */
async function resolveId(deps: ApprovalDeps, id: string): Promise<string> {
  if (await deps.approvals.get(id)) return id;
  if (await deps.core.repo.getAction(id)) return id;
  if (id.length < 6) throw new UsageError(`no approval request ${id}`);
  const matches = (await deps.approvals.list()).filter((r) => r.id.startsWith(id));
  if (matches.length === 1) return matches[0]!.id;
  throw new UsageError(
    matches.length ? `${id} is ambiguous (${matches.length} requests)` : `no approval request ${id}`,
  );
}

export function describeVote(result: VoteResult): { line: string; exitCode: number } {
  const o = result.outcome;
  switch (o.kind) {
    case 'approved':
      return {
        line: `approved by ${o.approvers.join(', ')}: the running \`warden start\` (or the next one) applies it`,
        exitCode: 0,
      };
    case 'pending':
      return {
        line: `approval counted: ${o.approvals} of ${o.required}; waiting for more approvers`,
        exitCode: 0,
      };
    case 'rejected':
      return { line: `rejected by ${o.by}: ${o.reason}. Nothing will be changed.`, exitCode: 0 };
    case 'refused':
      return { line: `refused (${o.reason}): ${o.detail}. Nothing was changed.`, exitCode: 1 };
    case 'not_found':
      return { line: o.detail, exitCode: 2 };
  }
}

async function decide(
  id: string,
  vote: 'approve' | 'reject',
  opts: LocalOptions & { reason?: string },
): Promise<number> {
  let local;
  try {
    local = await openLocalApprovals(opts);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  try {
    const approvalId = await resolveId(local.deps, id);
    const result = await castVote(local.deps, {
      approvalId,
      voter: { kind: 'local' },
      vote,
      reason: opts.reason ?? null,
      via: 'cli',
    });
    const { line, exitCode } = describeVote(result);
    process.stdout.write(`${line}\n`);
    return exitCode;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  } finally {
    await local.close();
  }
}

export function registerApprovalCommands(program: Command): void {
  const common = (c: Command) =>
    c
      .option('--state-dir <dir>', 'embedded state folder', '.warden')
      .option('--policies-dir <dir>', 'policies folder (approvals.yaml, automation.yaml)')
      .option('--approvals <file>', 'approval rules (default: <policies-dir>/approvals.yaml)');

  common(
    program
      .command('approve <id>')
      .description('approve a pending request as the local approver of approvals.yaml (embedded state)')
      .option('--reason <text>', 'why (kept in the audit trail)'),
  ).action(async (id: string, opts: LocalOptions & { reason?: string }) => {
    process.exitCode = await decide(id, 'approve', opts);
  });

  common(
    program
      .command('reject <id>')
      .description('reject a pending request as the local approver (one rejection vetoes)')
      .requiredOption('--reason <text>', 'why (required; kept in the audit trail)'),
  ).action(async (id: string, opts: LocalOptions & { reason: string }) => {
    process.exitCode = await decide(id, 'reject', opts);
  });

  common(
    program
      .command('approvals')
      .description('the approval requests of the embedded state')
      .option('--json', 'as JSON'),
  ).action(async (opts: LocalOptions & { json?: boolean }) => {
    let local;
    try {
      local = await openLocalApprovals(opts);
    } catch (err) {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 2;
      return;
    }
    try {
      const all = (await local.deps.approvals.list()).sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(all)}\n`);
        return;
      }
      for (const r of all) {
        const action = await local.deps.core.repo.getAction(r.actionId);
        process.stdout.write(
          `${r.id}  ${r.status.padEnd(9)} ${r.risk.padEnd(6)} ${approversOf(r).length}/${r.requiredApprovals}  ${action?.actionType ?? ''} on ${action?.resourceName ?? ''}  (expires ${r.expiresAt})\n`,
        );
      }
      if (all.length === 0) process.stdout.write('no approval requests\n');
    } finally {
      await local.close();
    }
  });
}
