import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { PubSub } from '@google-cloud/pubsub';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { Server } from 'node:http';
import { register as registerAssessRisk } from '../../functions/assess-risk/index.js';
import { register as registerDetect } from '../../functions/detect/index.js';
import { register as registerExecute } from '../../functions/execute/index.js';
import { register as registerReport } from '../../functions/report/index.js';
import type { Deps } from '../../shared/engine/deps.js';
import { findingId } from '../../shared/engine/repository.js';
import type { Asset } from '../../shared/model/asset.js';
import { topicName, type Topic } from '../../shared/model/topics.js';
import { systemClock } from '../../shared/ports/clock.js';
import { buildFromEnvironment } from '../../shared/roots/from-environment.js';
import { startTwin, type Twin } from '../../shared/twin/server.js';
import { describeWithEmulator } from '../support/describe-with-emulator.js';
import {
  EMULATOR_PROJECT,
  emulatorAvailability,
  startFirestoreEmulator,
  startPubSubEmulator,
  type RunningEmulator,
} from '../support/emulators.js';
import { freePort } from '../support/free-port.js';

const BUCKET = 'acme-dev-public-reports';
const NAME = `//storage.googleapis.com/${BUCKET}`;
const ANCESTORS = ['projects/558120439716', 'folders/284715930999', 'organizations/123456789012'];

const bucketAsset: Asset = {
  name: NAME,
  assetType: 'storage.googleapis.com/Bucket',
  ancestors: ANCESTORS,
  resource: {
    version: 'v1',
    discoveryDocumentUri: 'https://www.googleapis.com/discovery/v1/apis/storage/v1/rest',
    discoveryName: 'Bucket',
    parent: '//cloudresourcemanager.googleapis.com/projects/558120439716',
    data: {
      kind: 'storage#bucket',
      id: BUCKET,
      name: BUCKET,
      projectNumber: '558120439716',
      metageneration: '3',
      location: 'US-CENTRAL1',
      storageClass: 'STANDARD',
      etag: 'CAM=',
      labels: { env: 'dev' },
      iamConfiguration: {
        uniformBucketLevelAccess: { enabled: true, lockedTime: '2026-12-01T00:00:00Z' },
        bucketPolicyOnly: { enabled: true, lockedTime: '2026-12-01T00:00:00Z' },
        publicAccessPrevention: 'inherited',
      },
    },
  },
  iamPolicy: {
    version: 1,
    etag: 'CAE=',
    bindings: [
      { role: 'roles/storage.legacyBucketOwner', members: ['projectOwner:acme-dev-web'] },
      { role: 'roles/storage.objectViewer', members: ['allUsers'] },
    ],
  },
  updateTime: '2026-11-01T00:00:00Z',
};

/** A CAI IAM_POLICY feed message as the real feed publishes it when allUsers was added. */
const feedMessage = {
  asset: {
    name: NAME,
    assetType: bucketAsset.assetType,
    ancestors: ANCESTORS,
    iamPolicy: bucketAsset.iamPolicy,
    updateTime: '2026-11-02T10:00:00.123456Z',
  },
  priorAssetState: 'PRESENT',
  window: { startTime: '2026-11-02T10:00:00.123456Z' },
};

const SUBSCRIBED: Array<{ fn: string; topic: Topic }> = [
  { fn: 'detect', topic: 'asset-changes' },
  { fn: 'assess-risk', topic: 'findings' },
  { fn: 'execute', topic: 'actions' },
  { fn: 'report', topic: 'outcomes' },
];

let firestore: RunningEmulator | undefined;
let pubsubEmulator: RunningEmulator | undefined;
let twin: Twin | undefined;
let pubsub: PubSub | undefined;
let deps: Deps | undefined;
const servers: Server[] = [];
const prefix = `e2e${Date.now().toString(36)}-`;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100)); // polling other processes (emulators), not waiting for time
  }
}

// Both emulators are needed: the banner names whichever is missing.
const describeE2e = describeWithEmulator(emulatorAvailability().pubsub === true ? 'firestore' : 'pubsub');

describeE2e('the distributed topology (functions-framework + Pub/Sub and Firestore emulators)', () => {
  beforeAll(async () => {
    [firestore, pubsubEmulator] = await Promise.all([startFirestoreEmulator(), startPubSubEmulator()]);
    process.env['FIRESTORE_EMULATOR_HOST'] = firestore.host;
    process.env['PUBSUB_EMULATOR_HOST'] = pubsubEmulator.host;
    pubsub = new PubSub({ projectId: EMULATOR_PROJECT });
    twin = await startTwin({
      assets: [bucketAsset],
      clock: systemClock,
      onFeed: async (message) => {
        await pubsub!.topic(topicName(prefix, 'asset-changes')).publishMessage({ json: message });
      },
    });
    deps = await buildFromEnvironment({
      GOOGLE_CLOUD_PROJECT: EMULATOR_PROJECT,
      WARDEN_PREFIX: prefix,
      WARDEN_TWIN_URL: twin.url,
    });
    const getDeps = async () => deps!;
    registerDetect(getDeps);
    registerAssessRisk(getDeps);
    registerExecute(getDeps);
    registerReport(getDeps);

    for (const t of [
      'asset-changes',
      'findings',
      'actions',
      'outcomes',
      'approval-requests',
      'rollbacks',
    ] as Topic[]) {
      await pubsub.createTopic(topicName(prefix, t));
    }
    for (const { fn, topic } of SUBSCRIBED) {
      const server = getTestServer(fn);
      const port = await freePort();
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      servers.push(server);
      const full = topicName(prefix, topic);
      // The push path names the topic so functions-framework can fill the CloudEvent source with it.
      await pubsub.topic(full).createSubscription(`${full}-push`, {
        pushConfig: { pushEndpoint: `http://127.0.0.1:${port}/projects/${EMULATOR_PROJECT}/topics/${full}` },
        ackDeadlineSeconds: 30,
      });
    }
  }, 120_000);

  afterAll(async () => {
    for (const s of servers) await new Promise((r) => s.close(r));
    await deps?.repo.store.close().catch(() => undefined);
    await deps?.bus.close().catch(() => undefined);
    await pubsub?.close().catch(() => undefined);
    await twin?.close();
    await Promise.all([firestore?.stop(), pubsubEmulator?.stop()]);
  }, 60_000);

  it('a public bucket in a CAI feed message is detected, fixed, verified, and its finding resolved in Firestore', async () => {
    const topic = pubsub!.topic(topicName(prefix, 'asset-changes'));
    // Delivered three times, as at-least-once delivery may: still one action, one change.
    for (let i = 0; i < 3; i++) await topic.publishMessage({ json: feedMessage });

    const fid = findingId('storage-bucket-public', NAME);
    const action = await until('the action to be verified', async () => {
      const actions = await deps!.repo.listActions({ where: [['findingId', '==', fid]] });
      return actions.find((a) => a.state === 'verified');
    });
    expect(action.actionType).toBe('storage.bucket.enforce-public-access-prevention');
    const finding = await until('the finding to be resolved', async () => {
      const f = await deps!.repo.getFinding(fid);
      return f?.status === 'resolved' ? f : undefined;
    });
    expect(finding.resolvedAt).not.toBeNull();
    expect(twin!.getAsset(NAME)?.resource?.data['iamConfiguration']).toMatchObject({
      publicAccessPrevention: 'enforced',
    });

    await until('the outcome to be reported', async () =>
      (await deps!.repo.countOutcomes('verified')) === 1 ? true : undefined,
    );
    expect(await deps!.repo.listActions({ where: [['findingId', '==', fid]] })).toHaveLength(1);
    expect(
      twin!.requests.filter((r) => r.method === 'PATCH' && r.path === `/storage/v1/b/${BUCKET}`),
    ).toHaveLength(1);
    expect(await deps!.repo.verifyAudit()).toMatchObject({ ok: true });
  }, 90_000);

  it('a message that is not JSON is acknowledged and dead-lettered, not retried forever', async () => {
    const topic = pubsub!.topic(topicName(prefix, 'asset-changes'));
    const [id] = await Promise.all([topic.publishMessage({ data: Buffer.from('this is not json {') })]);
    const dead = await until('the dead letter', async () =>
      (await deps!.repo.listDeadLetters()).find((d) => d.messageId === id),
    );
    expect(dead.reason).toMatch(/JSON|welcome|not/i);
  }, 60_000);
});
