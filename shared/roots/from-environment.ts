import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { createFirestoreDocumentStore } from '../adapters/document-store-firestore.js';
import { createPubSubBus } from '../adapters/bus-pubsub.js';
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
