import { afterEach, describe, expect, it } from '@jest/globals';
import {
  restrictedSourceRanges,
  restrictFirewallInternetSource as action,
  type FirewallState,
} from '../../shared/actions/compute-firewall-restrict-internet-source.js';
import { DEFAULT_ACTION_SETTINGS } from '../../shared/actions/types.js';
import type { Asset } from '../../shared/model/asset.js';
import { WardenError } from '../../shared/model/errors.js';
import { firewallAsset, PROJECT_ID, startHarness, type TwinHarness } from '../twin/twin-fixtures.js';
import { actionContext, rejection } from './action-context.js';

const FW = 'allow-ssh-rdp';
const NAME = `//compute.googleapis.com/projects/${PROJECT_ID}/global/firewalls/${FW}`;
const IAP = '35.235.240.0/20';

function patches(h: TwinHarness): number {
  return h.twin.requests.filter((r) => r.method === 'PATCH').length;
}

describe('restrictedSourceRanges', () => {
  it('replaces 0.0.0.0/0 with the safe ranges, drops ::/0, keeps the rest', () => {
    expect(restrictedSourceRanges(['0.0.0.0/0'], [IAP])).toEqual([IAP]);
    expect(restrictedSourceRanges(['0.0.0.0/0', '10.0.0.0/8'], [IAP])).toEqual(['10.0.0.0/8', IAP]);
    expect(restrictedSourceRanges(['::/0', '10.0.0.0/8'], [IAP])).toEqual(['10.0.0.0/8']);
    expect(restrictedSourceRanges(['::/0'], [IAP])).toEqual([IAP]);
    expect(restrictedSourceRanges(['0.0.0.0/0', '::/0', IAP], [IAP])).toEqual([IAP]);
  });
});

describe('compute.firewall.restrict-internet-source', () => {
  let h: TwinHarness;
  let asset: Asset;
  afterEach(async () => {
    await h.close();
  });
  const start = async (ranges: string[], opts: Parameters<typeof startHarness>[1] = {}): Promise<void> => {
    asset = firewallAsset(FW, ranges);
    h = await startHarness([asset], opts);
  };

  it('plans the re-read, the patch and the operation wait against the real API host', async () => {
    await start(['0.0.0.0/0', '::/0', '192.168.0.0/16']);
    const url = `https://compute.googleapis.com/compute/v1/projects/${PROJECT_ID}/global/firewalls/${FW}`;
    expect(action.plan(asset, DEFAULT_ACTION_SETTINGS).requests).toEqual([
      { method: 'GET', url },
      { method: 'PATCH', url, body: { sourceRanges: ['192.168.0.0/16', IAP] } },
      {
        method: 'POST',
        url: `https://compute.googleapis.com/compute/v1/projects/${PROJECT_ID}/global/operations/{operation}/wait`,
      },
    ]);
  });

  it('patches, waits for the operation to be DONE, is a no-op twice, and undo restores exactly the before-state', async () => {
    await start(['0.0.0.0/0', '::/0']);
    const ctx = actionContext(h);
    const before = (await action.captureBefore(asset, ctx)) as FirewallState;
    expect(before.data['sourceRanges']).toEqual(['0.0.0.0/0', '::/0']);
    expect(Object.keys(before.data).some((k) => k.startsWith('_'))).toBe(false); // REST JSON, not proto markers

    const applied = await action.apply(asset, before, ctx);
    expect(applied.status).toBe('applied');
    const calls = h.twin.requests.map((r) => `${r.method} ${r.path.replace(/operation-[^/]+/, 'OP')}`);
    expect(calls).toEqual([
      `GET /compute/v1/projects/${PROJECT_ID}/global/firewalls/${FW}`, // captureBefore
      `GET /compute/v1/projects/${PROJECT_ID}/global/firewalls/${FW}`, // re-read guard
      `PATCH /compute/v1/projects/${PROJECT_ID}/global/firewalls/${FW}`,
      `POST /compute/v1/projects/${PROJECT_ID}/global/operations/OP/wait`, // RUNNING
      `POST /compute/v1/projects/${PROJECT_ID}/global/operations/OP/wait`, // DONE
      `GET /compute/v1/projects/${PROJECT_ID}/global/firewalls/${FW}`, // the after-state
    ]);
    expect(h.twin.requests[2]?.body).toEqual({ sourceRanges: [IAP] });

    const live = await action.readLive(asset, ctx);
    expect(live?.name).toBe(NAME);
    expect(live?.resource?.discoveryName).toBe('Firewall');
    expect(live?.resource?.data['sourceRanges']).toEqual([IAP]);
    expect(live?.resource?.data['allowed']).toEqual(before.data['allowed']);

    expect((await action.apply(asset, before, ctx)).status).toBe('already_applied');
    expect(patches(h)).toBe(1);

    const after = applied.status === 'applied' ? applied.after : null;
    expect(await action.undo(asset, before, after, ctx)).toEqual({ status: 'restored' });
    const restored = await action.captureBefore(asset, ctx);
    expect(restored?.data).toEqual(before.data);
    expect(h.twin.getAsset(NAME)?.resource?.data).toEqual(asset.resource?.data);
    expect(h.feed).toHaveLength(2);
  });

  it('reports conflict and sends no patch when the re-read shows a concurrent change', async () => {
    await start(['0.0.0.0/0']);
    const ctx = actionContext(h);
    const before = (await action.captureBefore(asset, ctx)) as FirewallState;
    h.twin.setFaults([
      { match: { method: 'GET', pathPattern: /firewalls/ }, concurrentModification: true, times: 1 },
    ]);
    const outcome = await action.apply(asset, before, ctx);
    expect(outcome.status).toBe('conflict');
    expect(patches(h)).toBe(0);
    const data = h.twin.getAsset(NAME)?.resource?.data ?? {};
    expect(data['sourceRanges']).toEqual(['0.0.0.0/0']);
    expect(data['description']).toBe('changed by someone else (1)');
  });

  it('refuses to undo after a human changed the rule, and sends nothing', async () => {
    await start(['0.0.0.0/0']);
    const ctx = actionContext(h);
    const before = (await action.captureBefore(asset, ctx)) as FirewallState;
    const applied = await action.apply(asset, before, ctx);
    const client = await h.cloud.firewalls();
    const ops = await h.cloud.globalOperations();
    const [lro] = await client.patch({
      project: PROJECT_ID,
      firewall: FW,
      firewallResource: { priority: 900 },
    });
    const opName = (lro as { latestResponse: { name: string } }).latestResponse.name;
    await ops.wait({ project: PROJECT_ID, operation: opName });
    await ops.wait({ project: PROJECT_ID, operation: opName });
    const sent = patches(h);
    const undo = await action.undo(asset, before, applied.status === 'applied' ? applied.after : null, ctx);
    expect(undo.status).toBe('refused');
    expect(patches(h)).toBe(sent);
    expect(h.twin.getAsset(NAME)?.resource?.data['sourceRanges']).toEqual([IAP]);
  });

  it('surfaces an injected 503 on the patch as a retryable WardenError', async () => {
    await start(['0.0.0.0/0'], { faults: [{ match: { method: 'PATCH' }, errorStatus: 503 }] });
    const ctx = actionContext(h);
    const before = (await action.captureBefore(asset, ctx)) as FirewallState;
    const err = await rejection(action.apply(asset, before, ctx));
    expect(err).toBeInstanceOf(WardenError);
    expect((err as WardenError).retryable).toBe(true);
    expect((err as WardenError).code).toBe('UNAVAILABLE');
  });

  it('surfaces a failed operation as a non-retryable WardenError and leaves the rule as it was', async () => {
    await start(['0.0.0.0/0'], { faults: [{ match: { method: 'PATCH' }, failOperation: true }] });
    const ctx = actionContext(h);
    const before = (await action.captureBefore(asset, ctx)) as FirewallState;
    const err = await rejection(action.apply(asset, before, ctx));
    expect(err).toBeInstanceOf(WardenError);
    expect((err as WardenError).retryable).toBe(false);
    expect((err as WardenError).code).toBe('operation_failed');
    expect((err as WardenError).message).toContain('INTERNAL_ERROR');
    expect(h.twin.getAsset(NAME)?.resource?.data['sourceRanges']).toEqual(['0.0.0.0/0']);
  });

  it('returns null and gone for a rule that no longer exists', async () => {
    await start(['0.0.0.0/0']);
    const ctx = actionContext(h);
    const deleted = firewallAsset('deleted-rule');
    expect(await action.captureBefore(deleted, ctx)).toBeNull();
    expect(await action.readLive(deleted, ctx)).toBeNull();
    const state: FirewallState = {
      project: PROJECT_ID,
      firewall: 'deleted-rule',
      data: { name: 'deleted-rule' },
    };
    expect(await action.apply(deleted, state, ctx)).toEqual({ status: 'gone' });
    expect(await action.undo(deleted, state, state, ctx)).toEqual({ status: 'gone' });
  });

  it('refuses to act on an EGRESS rule', async () => {
    asset = firewallAsset(FW, ['0.0.0.0/0']);
    (asset.resource as { data: Record<string, unknown> }).data['direction'] = 'EGRESS';
    h = await startHarness([asset]);
    const ctx = actionContext(h);
    const before = (await action.captureBefore(asset, ctx)) as FirewallState;
    const err = await rejection(action.apply(asset, before, ctx));
    expect((err as WardenError).code).toBe('not_applicable');
    expect(patches(h)).toBe(0);
  });
});
