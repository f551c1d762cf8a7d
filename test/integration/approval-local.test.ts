import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadInventory } from '../../shared/contracts/inventory-reader.js';
import type { Asset } from '../../shared/model/asset.js';
import { MemoryLogger } from '../../shared/ports/logger.js';
import { startEmbedded, type Embedded } from '../../shared/roots/embedded.js';
import { createStatusServer } from '../../shared/server/status-server.js';
import { projectRoot } from '../../shared/util/project-root.js';

// Deciding without Slack: the embedded status page's forms and `warden approve` / `warden reject` on the
// embedded state, as the local approver of approvals.yaml, under the same rules.
const RULES = `
people:
  alice: { slack: U0ALICE }
  bob: { slack: U0BOB }
groups:
  web: { members: [alice, bob], teams: [web], risks: [low, medium] }
teams:
  web: { scope: [projects/301846275019, projects/558120439716] }
channels: { default: "#warden-approvals" }
local_approver: alice
`;
const TOKEN = 'embedded-api-token-0123456789';
const ORG = 'organizations/123456789012';
const ROOT = projectRoot();
const run = promisify(execFile);

let dir: string;
let rulesFile: string;
let assets: Asset[];
let engine: Embedded;
let server: Server;
let base: string;

async function start(): Promise<void> {
  engine = await startEmbedded({
    stateDir: dir,
    assets: structuredClone(assets),
    scope: ORG,
    logger: new MemoryLogger(),
    approvalsFile: rulesFile,
    apiToken: TOKEN,
  });
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
}
async function stop(): Promise<void> {
  await new Promise((r) => server.close(r));
  await engine.close();
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'warden-approval-local-'));
  rulesFile = path.join(dir, 'approvals.yaml');
  await writeFile(rulesFile, RULES);
  assets = (await loadInventory([path.join(ROOT, 'examples', 'landing-zone')])).assets;
  await start();
  await engine.sweep();
  uploads = (
    await engine.deps.repo.listActions({
      where: [['resourceName', '==', '//storage.googleapis.com/acme-dev-web-test-uploads']],
    })
  ).find((a) => a.state === 'awaiting_approval')!.id;
}, 120_000);
afterAll(async () => {
  await stop().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

let uploads = '';
const webPending = async () =>
  (await engine.approvals.deps.approvals.pending()).filter((r) => r.teams.includes('web'));
async function form(pathname: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  const r = await fetch(`${base}${pathname}`, {
    method: 'POST',
    body: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    redirect: 'manual',
  });
  await engine.deps.bus.drain();
  return { status: r.status, location: r.headers.get('location') };
}
const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

describe('the status page', () => {
  it('lists pending approvals and decides them as the local user, behind a CSRF check', async () => {
    const pending = await webPending();
    const first = pending.find((r) => r.actionId === uploads) ?? pending[0];
    const second = pending.find((r) => r !== first);
    const home = await (await fetch(`${base}/`)).text();
    expect(home).toContain('Waiting for approval');
    expect(home).toContain(`/approvals/${first!.id}`);
    const page = await (await fetch(`${base}/approvals/${first!.id}`)).text();
    expect(page).toContain('You act as <b>alice</b>');
    const csrf = csrfOf(page);
    expect(csrf.length).toBeGreaterThan(20);

    // Another site's form, or a stale page: refused, nothing changes.
    expect(await form(`/approvals/${first!.id}/approve`, {})).toEqual({
      status: 303,
      location: `/approvals/${first!.id}?result=forbidden`,
    });
    expect(
      (await form(`/approvals/${first!.id}/approve`, { csrf }, { origin: 'https://evil.example' })).location,
    ).toContain('result=forbidden');
    expect((await engine.approvals.deps.approvals.get(first!.id))?.votes).toEqual([]);

    expect((await form(`/approvals/${first!.id}/approve`, { csrf })).location).toBe(
      `/approvals/${first!.id}?result=approved`,
    );
    const decided = await engine.approvals.deps.approvals.get(first!.id);
    expect(decided?.votes).toMatchObject([{ person: 'alice', identity: 'local', via: 'status-page' }]);
    expect((await engine.deps.repo.getAction(first!.id))?.state).toBe('verified');
    expect(await (await fetch(`${base}/approvals/${first!.id}?result=approved`)).text()).toContain(
      'Approved: Warden is applying',
    );

    expect((await form(`/approvals/${second!.id}/reject`, { csrf, reason: ' ' })).location).toContain(
      'result=invalid_body',
    );
    expect(
      (await form(`/approvals/${second!.id}/reject`, { csrf, reason: 'wait for the release' })).location,
    ).toContain('result=rejected');
    expect((await engine.deps.repo.getAction(second!.id))?.state).toBe('rejected');
    expect((await form(`/approvals/${second!.id}/approve`, { csrf })).location).toContain(
      'result=already_decided',
    );
  });

  it('serves the automation API on the same port, behind the bearer token', async () => {
    expect((await fetch(`${base}/api/v1/automation/approvals`)).status).toBe(401);
    const r = await fetch(`${base}/api/v1/automation/approvals?status=pending`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { approvals: Array<{ id: string }> };
    expect(body.approvals.map((a) => a.id).sort()).toEqual((await webPending()).map((a) => a.id).sort());
    expect((await fetch(`${base}/api/v1/openapi.json`)).status).toBe(200);
    expect((await fetch(`${base}/slack/interactions`, { method: 'POST' })).status).toBe(404);
  });
});

describe('warden approve / reject', () => {
  const warden = (...args: string[]) =>
    run(
      process.execPath,
      [path.join(ROOT, 'bin/warden.js'), ...args, '--state-dir', dir, '--approvals', rulesFile],
      {
        cwd: ROOT,
        env: { ...process.env, METADATA_SERVER_DETECTION: 'none' },
      },
    ).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        stdout: e.stdout,
        stderr: e.stderr,
      }),
    );

  it('decides on the embedded state under the same rules; the next start executes what was approved', async () => {
    const [target, other] = await webPending();
    await stop();
    const approved = await warden('approve', target!.id.slice(0, 10));
    expect(approved).toMatchObject({ code: 0, stdout: expect.stringContaining('approved by alice') });
    const again = await warden('approve', target!.id);
    expect(again).toMatchObject({ code: 1, stdout: expect.stringContaining('refused (already_decided)') });
    expect((await warden('reject', other!.id)).code).toBe(2);
    expect(await warden('reject', other!.id, '--reason', 'not before the audit')).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('rejected by alice: not before the audit'),
    });
    expect((await warden('approve', 'no-such-id')).code).toBe(2);

    await start();
    expect((await engine.deps.repo.getAction(target!.id))?.state).toBe('approved');
    const report = await engine.approvals.tick();
    expect(report.announced).toBeGreaterThanOrEqual(2);
    await engine.deps.bus.drain();
    // The executor took it: it left `approved` through its own steps.
    expect((await engine.deps.repo.getAction(target!.id))?.state).not.toBe('approved');
    const records = await engine.deps.repo.readAuditRecords();
    expect(records.some((r) => r['subject'] === target!.id && r['actor'] === 'execute')).toBe(true);
    expect((await engine.deps.repo.getAction(other!.id))?.state).toBe('rejected');
    expect(await engine.deps.repo.countOutcomes('rejected')).toBeGreaterThanOrEqual(2);
    expect(await engine.deps.repo.verifyAudit()).toMatchObject({ ok: true });
  }, 120_000);
});
