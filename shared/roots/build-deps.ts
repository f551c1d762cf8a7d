import path from 'node:path';
import { ACTIONS } from '../actions/registry.js';
import { actionSettingsFromParams, type ActionSettings, type RemediationAction } from '../actions/types.js';
import type { CloudClients } from '../cloud/clients.js';
import { loadAutomationConfig, type AutomationConfig } from '../config/automation-config.js';
import type { Deps } from '../engine/deps.js';
import { Repository } from '../engine/repository.js';
import { auditLogMirror } from '../logging/audit-log-mirror.js';
import type { EventBus } from '../ports/bus.js';
import type { Clock } from '../ports/clock.js';
import type { DocumentStore } from '../ports/document-store.js';
import type { IdSource } from '../ports/ids.js';
import type { Logger } from '../ports/logger.js';
import { formatSourceError } from '../policy/yaml-source.js';
import { loadPolicies, type PolicySet } from '../policy/policy-set.js';
import { projectRoot } from '../util/project-root.js';

export interface EngineConfig {
  policies: PolicySet;
  automation: AutomationConfig;
  actionSettings: ActionSettings;
}

/** Policies and automation settings, validated; a bad policy is reported and the others still load. */
export async function loadEngineConfig(
  logger: Logger,
  opts: { policiesDir?: string; automationFile?: string; dryRun?: boolean } = {},
): Promise<EngineConfig> {
  const policiesDir = opts.policiesDir ?? path.join(projectRoot(), 'policies');
  const policies = await loadPolicies(policiesDir);
  // A policy naming an action this version does not ship still detects; its findings stay recommend-only until it does.
  const known = new Set(ACTIONS.map((a) => a.id));
  for (const p of policies.policies) {
    if (p.remediation.kind === 'action' && !known.has(p.remediation.action))
      logger.warn(
        'remediation action not available in this version: findings of this policy are not fixed automatically',
        {
          policyId: p.def.id,
          action: p.remediation.action,
        },
      );
  }
  for (const e of policies.errors) logger.error('policy not loaded', { error: formatSourceError(e) });
  const automation = await loadAutomationConfig(
    opts.automationFile ?? path.join(policiesDir, 'automation.yaml'),
  );
  if (opts.dryRun) automation.dry_run = true;
  const actionSettings = actionSettingsFromParams(policies.params);
  return { policies, automation, actionSettings };
}

export function buildDeps(parts: {
  store: DocumentStore;
  bus: EventBus;
  cloud: CloudClients;
  clock: Clock;
  ids: IdSource;
  logger: Logger;
  config: EngineConfig;
  leaseMs?: number;
  maxAttempts?: number;
}): Deps {
  const actions = new Map<string, RemediationAction>(ACTIONS.map((a) => [a.id, a as RemediationAction]));
  return {
    repo: new Repository(
      parts.store,
      parts.clock,
      auditLogMirror(
        parts.logger,
        parts.cloud.target.kind === 'google' ? parts.cloud.target.projectId : undefined,
      ),
      parts.config.automation.guardrails,
    ),
    bus: parts.bus,
    clock: parts.clock,
    ids: parts.ids,
    logger: parts.logger,
    policies: parts.config.policies,
    actions,
    cloud: parts.cloud,
    automation: parts.config.automation,
    actionSettings: parts.config.actionSettings,
    leaseMs: parts.leaseMs ?? 5 * 60_000,
    maxAttempts: parts.maxAttempts ?? 5,
  };
}
