import * as functions from '@google-cloud/functions-framework';
import type { Deps } from '../../shared/engine/deps.js';
import { cloudEventFunction } from '../../shared/roots/cloud-event-function.js';
import { depsFromEnvironment } from '../../shared/roots/from-environment.js';
import { handleRollbackRequest } from './handler.js';

/** Registers the function; the composition root is chosen by the environment unless a test passes its own. */
export function register(getDeps: () => Promise<Deps> = depsFromEnvironment): void {
  functions.cloudEvent('rollback', cloudEventFunction('rollbacks', handleRollbackRequest, getDeps));
}
