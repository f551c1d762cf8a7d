import type { ActionSettings, RemediationAction } from '../actions/types.js';
import type { CloudClients } from '../cloud/clients.js';
import type { AutomationConfig } from '../config/automation-config.js';
import type { EventBus } from '../ports/bus.js';
import type { Clock } from '../ports/clock.js';
import type { IdSource } from '../ports/ids.js';
import type { Logger } from '../ports/logger.js';
import type { PolicySet } from '../policy/policy-set.js';
import type { Repository } from './repository.js';

/** Everything a handler may touch, built by one composition root per run mode (shared/roots/). */
export interface Deps {
  repo: Repository;
  bus: EventBus;
  clock: Clock;
  ids: IdSource;
  logger: Logger;
  policies: PolicySet;
  actions: ReadonlyMap<string, RemediationAction>;
  cloud: CloudClients;
  automation: AutomationConfig;
  actionSettings: ActionSettings;
  /** How long an executor owns an action before the sweep may resume it elsewhere. */
  leaseMs: number;
  /** Deliveries of one action message before a transient failure becomes a failed action. */
  maxAttempts: number;
}

/** Expected outcomes of handling one message. Failures that a retry may fix are thrown instead. */
export type HandlerResult =
  | { status: 'done'; detail: string }
  | { status: 'ignored'; reason: string }
  /** Bad input: logged, dead-lettered, acknowledged. */
  | { status: 'rejected'; reason: string };
