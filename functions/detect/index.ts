import * as functions from '@google-cloud/functions-framework';
import type { Deps } from '../../shared/engine/deps.js';
import { cloudEventFunction } from '../../shared/roots/cloud-event-function.js';
import { depsFromEnvironment } from '../../shared/roots/from-environment.js';
import { handleAssetChange } from './handle-asset-change.js';
import { handleChangeLog } from './handle-change-log.js';
import { handleSweep } from './handle-sweep.js';

/** Registers the function; the composition root is chosen by the environment unless a test passes its own. */
export function register(getDeps: () => Promise<Deps> = depsFromEnvironment): void {
  functions.cloudEvent('detect', cloudEventFunction('asset-changes', handleAssetChange, getDeps));
}

/** The scheduled sweep arrives on its own topic and runs under its own entry point. */
export function registerSweep(getDeps: () => Promise<Deps> = depsFromEnvironment): void {
  functions.cloudEvent(
    'detect-sweep',
    cloudEventFunction('sweeps', (msg, deps) => handleSweep(msg, deps), getDeps),
  );
}

/** Who changed what, from the organization's audit log sink, under its own entry point. */
export function registerChangeLog(getDeps: () => Promise<Deps> = depsFromEnvironment): void {
  functions.cloudEvent('detect-authors', cloudEventFunction('change-log', handleChangeLog, getDeps));
}
