import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sendDailyDigest } from '../../shared/approvals/notifications.js';
import type { ApprovalRequest } from '../../shared/approvals/request.js';
import { loadInventory } from '../../shared/contracts/inventory-reader.js';
import type { Action } from '../../shared/model/action.js';
import { ManualClock } from '../../shared/ports/clock.js';
import { MemoryLogger } from '../../shared/ports/logger.js';
import { startEmbedded, type Embedded } from '../../shared/roots/embedded.js';
import { createStatusServer } from '../../shared/server/status-server.js';
import { slackSignature } from '../../shared/slack/signature.js';
import { projectRoot } from '../../shared/util/project-root.js';
import { startSlackStandIn, type SlackStandIn } from '../support/slack-stand-in.js';

// The embedded engine on the example landing zone, with Slack replaced by the local stand-in of its Web API
// and Slack's interactivity callbacks driven over HTTP, signed as Slack signs them.
const SECRET = 'integration-signing-secret';
const TOKEN = 'xoxb-integration';
const CHANNELS = { 'web-approvals': 'C0WEB', 'warden-approvals': 'C0DEFAULT', warden: 'C0WARDEN' };
const RULES = `
people:
  alice: { slack: U0ALICE, google: alice@example.com }
  bob: { slack: U0BOB, google: bob@example.com }
  dave: { slack: U0DAVE }
groups:
  web: { members: [alice, bob], teams: [web], risks: [low, medium] }
  leads: { members: [dave], teams: ["*"], risks: [low, medium, high] }
teams:
  web: { scope: [projects/301846275019, projects/558120439716], channel: "#web-approvals" }
quorum: { medium: 2 }
channels: { default: "#warden-approvals" }
notifications: { channel: "#warden", batch_minutes: 15 }
local_approver: alice
`;
const UPLOADS = '//storage.googleapis.com/acme-dev-web-test-uploads';

let dir: string;
let slack: SlackStandIn;
let engine: Embedded;
let server: Server;
let base: string;
const clock = new ManualClock('2026-11-01T12:00:00.000Z');

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'warden-approval-slack-'));
  await writeFile(path.join(dir, 'approvals.yaml'), RULES);
  slack = await startSlackStandIn({ token: TOKEN, channels: CHANNELS });
  const { assets } = await loadInventory([path.join(projectRoot(), 'examples', 'landing-zone')]);
  engine = await startEmbedded({
    stateDir: dir,
    assets,
    scope: 'organizations/123456789012',
    logger: new MemoryLogger(),
    clock,
    approvalsFile: path.join(dir, 'approvals.yaml'),
    slack: { botToken: TOKEN, signingSecret: SECRET, apiUrl: slack.apiUrl },
  });
  await engine.sweep();
  server = createStatusServer(
    {
      repo: engine.deps.repo,
      compliance: () => ({ before: null, after: null }),
      twinUrl: engine.twin.url,
      api: engine.api,
      slack: engine.approvals.slack,
      runVote: (task) => engine.approvals.runVote(task),
    },
    new MemoryLogger(),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await engine?.close();
  await slack?.close();
  await rm(dir, { recursive: true, force: true });
});

async function actionOn(resource: string, actionType?: string): Promise<Action> {
  const found = (await engine.deps.repo.listActions({ where: [['resourceName', '==', resource]] })).find(
    (a) => a.state === 'awaiting_approval' && (!actionType || a.actionType === actionType),
  );
  if (!found) throw new Error(`no action awaiting approval on ${resource}`);
  return found;
}
const request = async (id: string): Promise<ApprovalRequest> =>
  (await engine.approvals.deps.approvals.get(id))!;

interface Signed {
  body: string;
  headers: Record<string, string>;
}
function sign(payload: unknown, opts: { at?: number; secret?: string } = {}): Signed {
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const ts = String(opts.at ?? Math.floor(clock.now().getTime() / 1000));
  return {
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': ts,
      'x-slack-signature': slackSignature(opts.secret ?? SECRET, ts, body),
    },
  };
}
async function post(s: Signed, extra: Record<string, string> = {}) {
  const r = await fetch(`${base}/slack/interactions`, {
    method: 'POST',
    body: s.body,
    headers: { ...s.headers, ...extra },
  });
  const text = await r.text();
  await engine.approvals.idle();
  await engine.deps.bus.drain();
  return { status: r.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

let clicks = 0;
function click(
  user: string,
  actionId: 'warden_approve' | 'warden_reject',
  r: ApprovalRequest,
  trigger?: string,
) {
  clicks += 1;
  return {
    type: 'block_actions',
    user: { id: user, username: user.toLowerCase(), team_id: 'T0ACME' },
    api_app_id: 'A0WARDEN',
    token: 'legacy-verification-token-ignored',
    container: {
      type: 'message',
      message_ts: r.message!.ts,
      channel_id: r.message!.channel,
      is_ephemeral: false,
    },
    trigger_id: trigger ?? `${clicks}.0.none`,
    team: { id: 'T0ACME', domain: 'acme' },
    channel: { id: r.message!.channel, name: 'web-approvals' },
    message: { ts: r.message!.ts, blocks: [] },
    state: { values: {} },
    response_url: 'https://hooks.slack.com/actions/T0ACME/1/2',
    actions: [
      {
        action_id: actionId,
        block_id: `warden_approval:${r.id}:${r.revision}`,
        value: r.id,
        type: 'button',
        action_ts: '1',
      },
    ],
  };
}
function submission(user: string, approvalId: string, reason: string | null) {
  return {
    type: 'view_submission',
    user: { id: user },
    view: {
      id: 'V1',
      callback_id: 'warden_reject_reason',
      private_metadata: approvalId,
      state: { values: { reason: { reason: { type: 'plain_text_input', value: reason } } } },
    },
  };
}
const updatesOf = (r: ApprovalRequest) =>
  slack.calls.filter((c) => c.method === 'chat.update' && c.args['ts'] === r.message!.ts);
const lastText = (r: ApprovalRequest) =>
  JSON.stringify(slack.message(r.message!.channel, r.message!.ts)!.blocks);

describe('Slack approvals, end to end on the example landing zone', () => {
  it('posts one Block Kit request per action awaiting approval, in its team’s channel', async () => {
    const uploads = await actionOn(UPLOADS);
    const r = await request(uploads.id);
    expect(r).toMatchObject({
      status: 'pending',
      teams: ['web'],
      requiredApprovals: 2,
      message: { channel: 'C0WEB' },
    });
    const posts = slack.calls.filter((c) => c.method === 'chat.postMessage');
    // One message per request, however often the bus delivered it; every action still waiting has one.
    const posted = posts.map(
      (p) => /warden_approval:([0-9a-f]+):/.exec(JSON.stringify(p.args['blocks']))?.[1],
    );
    expect(new Set(posted).size).toBe(posts.length);
    const awaiting = await engine.deps.repo.listActions({ where: [['state', '==', 'awaiting_approval']] });
    expect(posted).toEqual(expect.arrayContaining(awaiting.map((a) => a.id)));
    expect(posts.every((p) => p.token === TOKEN)).toBe(true);
    const post = posts.find((p) => JSON.stringify(p.args['blocks']).includes(uploads.id))!;
    expect(post.args['channel']).toBe('#web-approvals');
    const text = JSON.stringify(post.args['blocks']);
    for (const expected of [
      'Approval needed',
      'https://console.cloud.google.com/storage/browser/acme-dev-web-test-uploads',
      uploads.plan.description,
      uploads.plan.requests[0]!.url,
      '*Risk*\\nmedium',
      'Warden (automatic detection)',
      `<!date^${Math.floor(Date.parse(r.expiresAt) / 1000)}^`,
      '"action_id":"warden_approve"',
      '"action_id":"warden_reject"',
      `"value":"${uploads.id}"`,
      ...uploads.decision.factors.map((f) => f.factor),
    ])
      expect(text).toContain(expected);
  });

  it('refuses forged, stale, unsigned and replayed requests with 401, changing nothing', async () => {
    const r = await request((await actionOn(UPLOADS)).id);
    const callsBefore = slack.calls.length;
    const payload = click('U0BOB', 'warden_approve', r);
    const now = Math.floor(clock.now().getTime() / 1000);
    expect((await post(sign(payload, { secret: 'not-the-secret' }))).status).toBe(401);
    expect((await post(sign(payload, { at: now - 301 }))).status).toBe(401);
    expect((await post(sign(payload, { at: now + 301 }))).status).toBe(401);
    const unsigned = sign(payload);
    expect(
      (await post({ body: unsigned.body, headers: { 'content-type': unsigned.headers['content-type']! } }))
        .status,
    ).toBe(401);
    const tampered = sign(payload);
    expect((await post({ ...tampered, body: tampered.body.replace('U0BOB', 'U0DAVE') })).status).toBe(401);
    const signed = sign(click('U0STRANGER', 'warden_approve', r));
    expect((await post(signed)).status).toBe(200);
    const replay = await post(signed);
    expect(replay).toEqual({
      status: 401,
      body: { error: { code: 'replayed', message: expect.any(String) } },
    });
    // A Slack retry of a request already answered is acknowledged and does nothing.
    expect((await post(sign(click('U0BOB', 'warden_approve', r)), { 'x-slack-retry-num': '1' })).status).toBe(
      200,
    );
    expect((await request(r.id)).votes).toEqual([]);
    // The stranger was told why, privately; nothing else was said.
    expect(slack.calls.slice(callsBefore).map((c) => c.method)).toEqual(['chat.postEphemeral']);
    expect(slack.ephemeral.at(-1)).toMatchObject({
      user: 'U0STRANGER',
      channel: 'C0WEB',
      text: expect.stringContaining('not an approver'),
    });
  });

  it('counts approvals up to the quorum, once per person, then executes, verifies and says who decided', async () => {
    const uploads = await actionOn(UPLOADS);
    let r = await request(uploads.id);
    expect((await post(sign(click('U0BOB', 'warden_approve', r)))).status).toBe(200);
    r = await request(uploads.id);
    expect(r.votes.map((v) => `${v.person}:${v.vote}:${v.via}`)).toEqual(['bob:approve:slack']);
    expect(lastText(r)).toContain('1 of 2 approvals: <@U0BOB>');
    expect(lastText(r)).toContain('warden_approve');
    // A double click: refused privately, counted once.
    await post(sign(click('U0BOB', 'warden_approve', r)));
    expect(slack.ephemeral.at(-1)).toMatchObject({
      user: 'U0BOB',
      text: expect.stringContaining('already voted'),
    });
    expect((await request(uploads.id)).votes).toHaveLength(1);

    await post(sign(click('U0ALICE', 'warden_approve', r)));
    r = await request(uploads.id);
    expect(r.status).toBe('approved');
    expect((await engine.deps.repo.getAction(uploads.id))?.state).toBe('verified');
    const storage = await engine.deps.cloud.storage();
    const [meta] = await storage.bucket('acme-dev-web-test-uploads').getMetadata();
    expect(meta.iamConfiguration?.uniformBucketLevelAccess?.enabled).toBe(true);
    expect(lastText(r)).toContain('*Approved* by <@U0BOB>, <@U0ALICE>');
    expect(lastText(r)).not.toContain('warden_approve');
    expect(updatesOf(r).length).toBeGreaterThanOrEqual(2);
    expect(await engine.deps.repo.verifyAudit()).toMatchObject({ ok: true });
  });

  it('opens a modal for a reason on Reject, refuses an empty one, and one rejection vetoes', async () => {
    const target = (
      await engine.deps.repo.listActions({ where: [['state', '==', 'awaiting_approval']] })
    ).find((a) => a.project === 'projects/558120439716')!;
    let r = await request(target.id);
    await post(sign(click('U0BOB', 'warden_approve', r)));
    const trigger = slack.issueTrigger();
    const clicked = await post(sign(click('U0ALICE', 'warden_reject', r, trigger)));
    expect(clicked).toEqual({ status: 200, body: null });
    expect(slack.views.at(-1)).toMatchObject({
      triggerId: trigger,
      view: { type: 'modal', callback_id: 'warden_reject_reason', private_metadata: r.id },
    });
    expect((await request(r.id)).votes).toHaveLength(1);

    const empty = await post(sign(submission('U0ALICE', r.id, '   ')));
    expect(empty).toEqual({
      status: 200,
      body: { response_action: 'errors', errors: { reason: expect.any(String) } },
    });
    expect((await request(r.id)).status).toBe('pending');

    expect((await post(sign(submission('U0ALICE', r.id, 'touches the CI pipeline')))).status).toBe(200);
    r = await request(r.id);
    expect(r).toMatchObject({
      status: 'rejected',
      outcomeReason: 'rejected by alice: touches the CI pipeline',
    });
    expect((await engine.deps.repo.getAction(target.id))?.state).toBe('rejected');
    expect(await engine.deps.repo.countOutcomes('rejected')).toBeGreaterThanOrEqual(1);
    expect(lastText(r)).toContain('*Rejected* by <@U0ALICE>');
    expect(lastText(r)).toContain('touches the CI pipeline');
    // A stranger's Reject opens no dialog; they are told why.
    const modals = slack.views.length;
    await post(sign(click('U0STRANGER', 'warden_reject', r, slack.issueTrigger())));
    expect(slack.views).toHaveLength(modals);
    expect(slack.ephemeral.at(-1)).toMatchObject({ user: 'U0STRANGER' });
  });

  it('reports actions taken automatically in one message per window', async () => {
    await engine.approvals.tick(); // starts the window
    const storage = await engine.deps.cloud.storage();
    for (const name of ['acme-dev-web-build-cache']) {
      const b = storage.bucket(name);
      const [policy] = await b.iam.getPolicy({ requestedPolicyVersion: 3 });
      policy.bindings.push({ role: 'roles/storage.objectViewer', members: ['allUsers'] });
      await b.iam.setPolicy(policy);
    }
    await engine.deps.bus.drain();
    clock.advance(10 * 60_000);
    expect((await engine.approvals.tick()).notified).toEqual({ status: 'skipped', reason: 'not due' });
    clock.advance(5 * 60_000);
    expect((await engine.approvals.tick()).notified).toMatchObject({ status: 'sent' });
    const batch = slack.calls.filter(
      (c) => c.method === 'chat.postMessage' && c.args['channel'] === '#warden',
    );
    expect(batch).toHaveLength(1);
    expect(JSON.stringify(batch[0]!.args['blocks'])).toContain('acme-dev-web-build-cache');
    clock.advance(15 * 60_000);
    expect((await engine.approvals.tick()).notified).toMatchObject({ status: 'skipped' });
  });

  it('sends the daily digest once a day', async () => {
    const now = clock.now();
    expect(await sendDailyDigest(engine.approvals.deps, now)).toMatchObject({ status: 'sent' });
    expect(await sendDailyDigest(engine.approvals.deps, now)).toMatchObject({ status: 'skipped' });
    const digest = slack.calls.filter((c) =>
      JSON.stringify(c.args['blocks'] ?? '').includes('Warden daily digest'),
    );
    expect(digest).toHaveLength(1);
    const text = JSON.stringify(digest[0]!.args['blocks']);
    expect(text).toContain('Findings opened');
    expect(text).toContain('Pending approvals');
    expect(text).toContain('Waiting for a decision');
  });

  it('expires what nobody decided: fails closed, says so in Slack, and refuses later clicks', async () => {
    const pending = await engine.approvals.deps.approvals.pending();
    expect(pending.length).toBeGreaterThan(0);
    clock.advance(24 * 3_600_000);
    const report = await engine.approvals.tick();
    await engine.deps.bus.drain();
    expect(report.expired).toBe(pending.length);
    for (const p of pending) {
      expect((await engine.deps.repo.getAction(p.id))?.state).toBe('expired');
      const r = await request(p.id);
      expect(r.status).toBe('expired');
      if (r.message) expect(lastText(r)).toContain('failed closed and nothing was changed');
    }
    const r = await request(pending.find((p) => p.message?.channel === 'C0WEB')!.id);
    await post(sign(click('U0BOB', 'warden_approve', r)));
    expect(slack.ephemeral.at(-1)).toMatchObject({
      user: 'U0BOB',
      text: expect.stringContaining('already been decided'),
    });
    expect(await engine.deps.repo.verifyAudit()).toMatchObject({ ok: true });
  });
});
