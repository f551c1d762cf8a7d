import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { PubSub } from '@google-cloud/pubsub';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { register as registerApi } from '../../functions/api/index.js';
import type { SlackFunctionDeps } from '../../functions/api/slack-handler.js';
import { register as registerAssessRisk } from '../../functions/assess-risk/index.js';
import { register as registerDetect, registerChangeLog } from '../../functions/detect/index.js';
import { register as registerExecute } from '../../functions/execute/index.js';
import { register as registerReport } from '../../functions/report/index.js';
import { register as registerRequestApproval } from '../../functions/request-approval/index.js';
import { apiTokenAuthenticator } from '../../shared/api/auth.js';
import type { ApiDeps } from '../../shared/api/router.js';
import type { ApprovalDeps } from '../../shared/approvals/deps.js';
import type { Deps } from '../../shared/engine/deps.js';
import { changeAuthorsSince } from '../../shared/engine/change-authors.js';
import { findingId } from '../../shared/engine/repository.js';
import type { Asset } from '../../shared/model/asset.js';
import { topicName, type Topic } from '../../shared/model/topics.js';
import { systemClock } from '../../shared/ports/clock.js';
import {
  buildApprovalDepsFromEnvironment,
  buildFromEnvironment,
  buildSlackDepsFromEnvironment,
} from '../../shared/roots/from-environment.js';
import { slackSignature } from '../../shared/slack/signature.js';
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
import { startSlackStandIn, type SlackStandIn } from '../support/slack-stand-in.js';

// The deployed topology on the emulators: request-approval, the slack and api HTTP functions and the
// pipeline around them under functions-framework, Pub/Sub push between them, Firestore as the store,
// the Slack Web API stand-in, the GCP twin.
const BUCKET = 'acme-dev-shared-drop';
const NAME = `//storage.googleapis.com/${BUCKET}`;
const ANCESTORS = ['projects/558120439716', 'folders/519306284417', 'organizations/123456789012'];
const SECRET = 'e2e-signing-secret';
const TOKEN = 'xoxb-e2e';
const API_TOKEN = 'e2e-api-token-0123456789';

const bucket: Asset = {
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
      metageneration: '2',
      location: 'US-CENTRAL1',
      storageClass: 'STANDARD',
      etag: 'CAI=',
      labels: { env: 'dev', team: 'web', 'cost-center': 'cc-1001', owner: 'web' },
      iamConfiguration: {
        uniformBucketLevelAccess: { enabled: false },
        bucketPolicyOnly: { enabled: false },
        publicAccessPrevention: 'enforced',
      },
      versioning: { enabled: true },
      logging: { logBucket: 'acme-logs' },
      softDeletePolicy: { retentionDurationSeconds: '604800' },
    },
  },
  iamPolicy: {
    version: 1,
    etag: 'CAE=',
    bindings: [{ role: 'roles/storage.legacyBucketOwner', members: ['projectOwner:acme-dev-web'] }],
  },
  updateTime: '2026-11-01T00:00:00Z',
};

const SUBSCRIBED: Array<{ fn: string; topic: Topic }> = [
  { fn: 'detect', topic: 'asset-changes' },
  { fn: 'detect-authors', topic: 'change-log' },
  { fn: 'assess-risk', topic: 'findings' },
  { fn: 'request-approval', topic: 'approval-requests' },
  { fn: 'execute', topic: 'actions' },
  { fn: 'report', topic: 'outcomes' },
];

let firestore: RunningEmulator | undefined;
let pubsubEmulator: RunningEmulator | undefined;
let twin: Twin | undefined;
let slack: SlackStandIn | undefined;
let pubsub: PubSub | undefined;
let core: Deps | undefined;
let approvals: ApprovalDeps | undefined;
let dir = '';
const servers: Server[] = [];
const prefix = `ap${Date.now().toString(36)}-`;
let slackUrl = '';
let apiUrl = '';

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100)); // polling other processes (emulators), not waiting for time
  }
}

async function serve(fn: string): Promise<string> {
  const server = getTestServer(fn);
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${port}`;
}

const describeE2e = describeWithEmulator(emulatorAvailability().pubsub === true ? 'firestore' : 'pubsub');

describeE2e(
  'approvals in the distributed topology (functions-framework + Pub/Sub and Firestore emulators)',
  () => {
    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'warden-approval-e2e-'));
      await writeFile(
        path.join(dir, 'approvals.yaml'),
        `people:
  bob: { slack: U0BOB, google: bob@example.com }
  carol: { google: carol@example.com }
groups:
  web: { members: [bob], teams: [web], risks: [medium] }
teams:
  web: { scope: [projects/558120439716], channel: "#web-approvals" }
channels: { default: "#web-approvals" }
local_approver: bob
`,
      );
      [firestore, pubsubEmulator] = await Promise.all([startFirestoreEmulator(), startPubSubEmulator()]);
      process.env['FIRESTORE_EMULATOR_HOST'] = firestore.host;
      process.env['PUBSUB_EMULATOR_HOST'] = pubsubEmulator.host;
      pubsub = new PubSub({ projectId: EMULATOR_PROJECT });
      slack = await startSlackStandIn({ token: TOKEN, channels: { 'web-approvals': 'C0WEB' } });
      twin = await startTwin({
        assets: [bucket],
        clock: systemClock,
        onFeed: async (message) => {
          await pubsub!.topic(topicName(prefix, 'asset-changes')).publishMessage({ json: message });
        },
      });
      core = await buildFromEnvironment({
        GOOGLE_CLOUD_PROJECT: EMULATOR_PROJECT,
        WARDEN_PREFIX: prefix,
        WARDEN_TWIN_URL: twin.url,
      });
      approvals = await buildApprovalDepsFromEnvironment(
        {
          SLACK_BOT_TOKEN: TOKEN,
          WARDEN_SLACK_API_URL: slack.apiUrl,
          WARDEN_APPROVALS_FILE: path.join(dir, 'approvals.yaml'),
        },
        core,
      );
      const slackDeps: SlackFunctionDeps = buildSlackDepsFromEnvironment(
        { SLACK_SIGNING_SECRET: SECRET },
        approvals,
      );
      const apiDeps: ApiDeps = {
        approvals,
        authenticate: apiTokenAuthenticator(API_TOKEN),
        mode: 'production',
      };
      const getCore = async () => core!;
      registerDetect(getCore);
      registerChangeLog(getCore);
      registerAssessRisk(getCore);
      registerExecute(getCore);
      registerReport(getCore);
      registerRequestApproval(async () => approvals!);
      registerApi(
        async () => apiDeps,
        async () => slackDeps,
      );

      for (const t of [
        'asset-changes',
        'change-log',
        'findings',
        'actions',
        'outcomes',
        'approval-requests',
        'rollbacks',
        'sweeps',
      ] as Topic[])
        await pubsub.createTopic(topicName(prefix, t));
      for (const { fn, topic } of SUBSCRIBED) {
        const url = await serve(fn);
        const full = topicName(prefix, topic);
        await pubsub.topic(full).createSubscription(`${full}-push`, {
          pushConfig: { pushEndpoint: `${url}/projects/${EMULATOR_PROJECT}/topics/${full}` },
          ackDeadlineSeconds: 30,
        });
      }
      slackUrl = await serve('slack');
      apiUrl = await serve('api');
    }, 120_000);

    afterAll(async () => {
      for (const s of servers) await new Promise((r) => s.close(r));
      await core?.repo.store.close().catch(() => undefined);
      await core?.bus.close().catch(() => undefined);
      await pubsub?.close().catch(() => undefined);
      await twin?.close();
      await slack?.close();
      await Promise.all([firestore?.stop(), pubsubEmulator?.stop()]);
      await rm(dir, { recursive: true, force: true });
    }, 60_000);

    it('a feed change needing approval is posted to Slack; a signed click approves it through Pub/Sub; it is executed and the message says so', async () => {
      const feed = {
        asset: {
          name: NAME,
          assetType: bucket.assetType,
          ancestors: ANCESTORS,
          resource: bucket.resource,
          updateTime: '2026-11-02T10:00:00Z',
        },
        priorAssetState: 'PRESENT',
        window: { startTime: '2026-11-02T10:00:00Z' },
      };
      // Carol's change, as the organization's audit log sink delivers it, arrives before the feed message.
      const entry = {
        logName: 'organizations/123456789012/logs/cloudaudit.googleapis.com%2Factivity',
        insertId: 'carol-1',
        timestamp: new Date(Date.now() - 60_000).toISOString(),
        protoPayload: {
          '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
          serviceName: 'storage.googleapis.com',
          methodName: 'storage.buckets.update',
          resourceName: `projects/_/buckets/${BUCKET}`,
          authenticationInfo: { principalEmail: 'carol@example.com' },
        },
      };
      await pubsub!.topic(topicName(prefix, 'change-log')).publishMessage({ json: entry });
      await until('the change author to be recorded', async () =>
        (await changeAuthorsSince(core!.repo.store, [NAME], '2000-01-01T00:00:00Z')).length > 0
          ? true
          : undefined,
      );
      await pubsub!.topic(topicName(prefix, 'asset-changes')).publishMessage({ json: feed });
      const fid = findingId('storage-bucket-uniform-access-disabled', NAME);
      const request = await until('the approval message', async () => {
        const [action] = await core!.repo.listActions({ where: [['findingId', '==', fid]] });
        const r = action ? await approvals!.approvals.get(action.id) : null;
        return r?.message ? r : undefined;
      });
      expect(request).toMatchObject({
        status: 'pending',
        teams: ['web'],
        requester: ['google:carol@example.com'],
        message: { channel: 'C0WEB' },
      });
      expect(JSON.stringify(slack!.message('C0WEB', request.message!.ts)?.blocks)).toContain(
        'carol (whose change triggered it)',
      );
      expect(slack!.calls.filter((c) => c.method === 'chat.postMessage')).toHaveLength(1);

      // Slack's click, signed; the endpoint answers at once and hands the vote on through Pub/Sub.
      const payload = {
        type: 'block_actions',
        user: { id: 'U0BOB' },
        trigger_id: '1.2.3',
        channel: { id: 'C0WEB' },
        container: { channel_id: 'C0WEB', message_ts: request.message!.ts },
        actions: [{ action_id: 'warden_approve', value: request.id, block_id: 'b', type: 'button' }],
      };
      const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
      const ts = String(Math.floor(Date.now() / 1000));
      const headers = {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': ts,
        'x-slack-signature': slackSignature(SECRET, ts, body),
      };
      const forged = await fetch(`${slackUrl}/slack/interactions`, {
        method: 'POST',
        body,
        headers: { ...headers, 'x-slack-signature': slackSignature('wrong', ts, body) },
      });
      expect(forged.status).toBe(401);
      const ack = await fetch(`${slackUrl}/slack/interactions`, { method: 'POST', body, headers });
      expect(ack.status).toBe(200);
      const replay = await fetch(`${slackUrl}/slack/interactions`, { method: 'POST', body, headers });
      expect(replay.status).toBe(401);

      const action = await until('the approved action to be verified', async () => {
        const a = await core!.repo.getAction(request.actionId);
        return a?.state === 'verified' ? a : undefined;
      });
      expect(action.actionType).toBe('storage.bucket.enable-uniform-access');
      expect(twin!.getAsset(NAME)?.resource?.data['iamConfiguration']).toMatchObject({
        uniformBucketLevelAccess: { enabled: true },
      });
      const updated = await until('the message to show the approval', async () => {
        const m = slack!.message('C0WEB', request.message!.ts);
        return JSON.stringify(m?.blocks).includes('*Approved* by <@U0BOB>') ? m : undefined;
      });
      expect(JSON.stringify(updated.blocks)).not.toContain('warden_approve');

      // The API function reads the same Firestore state.
      const r = await fetch(`${apiUrl}/api/v1/automation/approvals?status=approved`, {
        headers: { authorization: `Bearer ${API_TOKEN}` },
      });
      expect(r.status).toBe(200);
      expect(((await r.json()) as { approvals: Array<{ id: string }> }).approvals.map((a) => a.id)).toEqual([
        request.id,
      ]);
      expect((await fetch(`${apiUrl}/api/v1/automation/status`)).status).toBe(401);
      expect(await core!.repo.verifyAudit()).toMatchObject({ ok: true });
    }, 120_000);
  },
);
