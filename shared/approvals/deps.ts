import type { Deps } from '../engine/deps.js';
import { auditLogMirror } from '../logging/audit-log-mirror.js';
import type { ChatPort } from '../ports/chat.js';
import { ApprovalStore } from './approval-store.js';
import type { ApprovalRules } from './rules.js';

/** What the approval handlers need beyond the engine's Deps; built by the composition roots. */
export interface ApprovalDeps {
  core: Deps;
  rules: ApprovalRules;
  approvals: ApprovalStore;
  /** Slack, or null where no bot token is configured (decisions still work through the API and locally). */
  chat: ChatPort | null;
  /**
   * Whether this process's bus reaches the executor and the report function. The CLI's does not: its
   * decisions are announced by the next tick of a running `warden start`.
   */
  liveBus: boolean;
}

export function buildApprovalDeps(parts: {
  core: Deps;
  rules: ApprovalRules;
  chat: ChatPort | null;
  liveBus?: boolean;
}): ApprovalDeps {
  return {
    core: parts.core,
    rules: parts.rules,
    approvals: approvalStoreFor(parts.core),
    chat: parts.chat,
    liveBus: parts.liveBus ?? true,
  };
}

export function approvalStoreFor(core: Pick<Deps, 'repo' | 'clock' | 'logger'>): ApprovalStore {
  return new ApprovalStore(core.repo.store, core.clock, auditLogMirror(core.logger));
}
