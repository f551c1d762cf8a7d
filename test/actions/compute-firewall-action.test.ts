import { describe, expect, it } from '@jest/globals';
import {
  restrictedSourceRanges,
  restrictFirewallInternetSource as action,
  type FirewallState,
} from '../../shared/actions/compute-firewall-restrict-internet-source.js';
import { DEFAULT_ACTION_SETTINGS, type RemediationAction } from '../../shared/actions/types.js';
import type { WardenError } from '../../shared/model/errors.js';
import { firewallAsset, PROJECT_ID } from '../twin/twin-fixtures.js';
import { rejection } from './action-context.js';
import { describeActionContract, type Run } from './action-contract.js';

const FW = 'allow-ssh-rdp';
const IAP = '35.235.240.0/20';
const FIREWALL = `/compute/v1/projects/${PROJECT_ID}/global/firewalls/${FW}`;
const OPERATIONS = `/compute/v1/projects/${PROJECT_ID}/global/operations`;

describe('restrictedSourceRanges', () => {
  it('replaces 0.0.0.0/0 with the safe ranges, drops ::/0, keeps the rest', () => {
    expect(restrictedSourceRanges(['0.0.0.0/0'], [IAP])).toEqual([IAP]);
    expect(restrictedSourceRanges(['0.0.0.0/0', '10.0.0.0/8'], [IAP])).toEqual(['10.0.0.0/8', IAP]);
    expect(restrictedSourceRanges(['::/0', '10.0.0.0/8'], [IAP])).toEqual(['10.0.0.0/8']);
    expect(restrictedSourceRanges(['::/0'], [IAP])).toEqual([IAP]);
    expect(restrictedSourceRanges(['0.0.0.0/0', '::/0', IAP], [IAP])).toEqual([IAP]);
  });
});

/** A human raises the rule's priority through the API, and waits for the operation. */
async function humanPrioritises({ h }: Run): Promise<void> {
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
}

describeActionContract([
  {
    title: 'SSH and RDP open to 0.0.0.0/0 and ::/0',
    action: action as RemediationAction,
    asset: () => firewallAsset(FW, ['0.0.0.0/0', '::/0']),
    api: 'compute.googleapis.com',
    // The re-read, the patch and the operation wait; other ranges are kept.
    plan: (_run, plan) => {
      const url = `https://compute.googleapis.com${FIREWALL}`;
      const wait = { method: 'POST', url: `https://compute.googleapis.com${OPERATIONS}/{operation}/wait` };
      expect(plan.requests).toEqual([
        { method: 'GET', url },
        { method: 'PATCH', url, body: { sourceRanges: [IAP] } },
        wait,
      ]);
      const mixed = firewallAsset(FW, ['0.0.0.0/0', '::/0', '192.168.0.0/16']);
      expect(action.plan(mixed, DEFAULT_ACTION_SETTINGS).requests).toEqual([
        { method: 'GET', url },
        { method: 'PATCH', url, body: { sourceRanges: ['192.168.0.0/16', IAP] } },
        wait,
      ]);
    },
    policyIds: ['firewall-open-to-internet', 'firewall-ssh-rdp-open-to-internet'],
    field: (a) => a?.resource?.data['sourceRanges'],
    fixed: [IAP],
    isWrite: (r) => r.method === 'PATCH',
    fix: {
      captured: (before) => {
        const { data } = before as FirewallState;
        expect(data['sourceRanges']).toEqual(['0.0.0.0/0', '::/0']);
        expect(Object.keys(data).some((k) => k.startsWith('_'))).toBe(false); // REST JSON, not proto markers
      },
      // Patched after the re-read, then the operation waited for until DONE.
      sent: ({ h }) => {
        expect(h.twin.requests.map((r) => `${r.method} ${r.path.replace(/operation-[^/]+/, 'OP')}`)).toEqual([
          `GET ${FIREWALL}`, // captureBefore
          `GET ${FIREWALL}`, // re-read guard
          `PATCH ${FIREWALL}`,
          `POST ${OPERATIONS}/OP/wait`, // RUNNING
          `POST ${OPERATIONS}/OP/wait`, // DONE
          `GET ${FIREWALL}`, // the after-state
        ]);
        expect(h.twin.requests[2]?.body).toEqual({ sourceRanges: [IAP] });
      },
      live: (live, { before }) => {
        expect(live.resource?.discoveryName).toBe('Firewall');
        expect(live.resource?.data['allowed']).toEqual((before as FirewallState).data['allowed']);
      },
      feed: 1,
      restored: async ({ h, ctx, asset, before }) => {
        const restored = await action.captureBefore(asset, ctx);
        expect(restored?.data).toEqual((before as FirewallState).data);
        expect(h.twin.getAsset(asset.name)?.resource?.data).toEqual(asset.resource?.data);
      },
      undoTwice: 'refused',
      feedAfterUndo: 2,
    },
    conflict: {
      beforeWrite: {
        change: { at: { method: 'GET', pathPattern: /firewalls/ } },
        reason: /changed since/,
        stale: true,
        theirs: (now) => expect(now?.resource?.data['description']).toBe('changed by someone else (1)'),
      },
    },
    undoAfterChange: { change: { by: humanPrioritises } },
    retryable: { unavailable: { at: { method: 'PATCH' } } },
    failedOperation: { at: { method: 'PATCH' }, message: /INTERNAL_ERROR/ },
    more: ({ start, writes }) => {
      it('refuses to act on an EGRESS rule', async () => {
        const egress = firewallAsset(FW, ['0.0.0.0/0']);
        (egress.resource as { data: Record<string, unknown> }).data['direction'] = 'EGRESS';
        const { h, ctx, asset } = await start({}, egress);
        const before = (await action.captureBefore(asset, ctx)) as FirewallState;
        const err = await rejection(action.apply(asset, before, ctx));
        expect((err as WardenError).code).toBe('not_applicable');
        expect(writes(h)).toBe(0);
      });

      it('restricts an INGRESS rule that names no source at all (Compute gives it 0.0.0.0/0)', async () => {
        const sourceless = firewallAsset(FW, []);
        delete (sourceless.resource as { data: Record<string, unknown> }).data['sourceRanges'];
        const { h, ctx, asset } = await start({}, sourceless);
        const before = (await action.captureBefore(asset, ctx)) as FirewallState;
        expect(await action.apply(asset, before, ctx)).toMatchObject({ status: 'applied' });
        expect(writes(h)).toBe(1);
        expect(h.twin.getAsset(asset.name)?.resource?.data['sourceRanges']).toEqual([IAP]);
      });
    },
  },
]);
