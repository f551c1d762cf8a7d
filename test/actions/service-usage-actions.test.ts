import { describe, expect, it } from '@jest/globals';
import { serviceEnable } from '../../shared/actions/serviceusage-service-enable.js';
import { DEFAULT_ACTION_SETTINGS, type RemediationAction } from '../../shared/actions/types.js';
import type { Asset } from '../../shared/model/asset.js';
import { ANCESTORS, PROJECT_NUMBER, type TwinHarness } from '../twin/twin-fixtures.js';
import { applyFix } from './action-context.js';
import { describeActionContract, sameData } from './action-contract.js';
import { expectRegistered } from './policies.js';

const POLICY = 'monitoring-cloud-asset-inventory-disabled';
const SERVICE = 'cloudasset.googleapis.com';
const NAME = `projects/${PROJECT_NUMBER}/services/${SERVICE}`;
const PATH = `/v1/${NAME}`;

/** The Cloud Asset API of the project as CAI exports it (serviceusage.googleapis.com/Service). */
function serviceAsset(state: string, service = SERVICE): Asset {
  return {
    name: `//serviceusage.googleapis.com/projects/${PROJECT_NUMBER}/services/${service}`,
    assetType: 'serviceusage.googleapis.com/Service',
    ancestors: [...ANCESTORS],
    resource: {
      version: 'v1',
      discoveryDocumentUri: 'https://serviceusage.googleapis.com/$discovery/rest',
      discoveryName: 'Service',
      parent: `//cloudresourcemanager.googleapis.com/projects/${PROJECT_NUMBER}`,
      data: {
        config: { name: service, title: 'Cloud Asset API' },
        name: `projects/${PROJECT_NUMBER}/services/${service}`,
        parent: `projects/${PROJECT_NUMBER}`,
        state,
      },
    },
    updateTime: '2026-02-01T08:00:00.000000Z',
  };
}

const enables = (h: TwinHarness) =>
  h.twin.requests.filter((r) => r.method === 'POST' && r.path === `${PATH}:enable`);
const disables = (h: TwinHarness) =>
  h.twin.requests.filter((r) => r.method === 'POST' && r.path === `${PATH}:disable`);

describe('serviceusage.service.enable is registered', () => {
  it('is registered, low risk and reversible, for the policy that names it', () => {
    const named = expectRegistered('serviceusage.service.enable', {
      risk: 'low',
      reversible: true,
      assetTypes: ['serviceusage.googleapis.com/Service'],
    });
    expect(named.map((p) => p.def.id)).toEqual([POLICY]);
  });
});

describeActionContract([
  {
    title: 'the Cloud Asset API, disabled',
    action: serviceEnable as RemediationAction,
    asset: () => serviceAsset('DISABLED'),
    api: 'serviceusage.googleapis.com',
    plan: (_run, plan) => {
      expect(plan.requests).toEqual([
        { method: 'GET', url: `https://serviceusage.googleapis.com${PATH}` },
        { method: 'POST', url: `https://serviceusage.googleapis.com${PATH}:enable`, body: {} },
        { method: 'GET', url: 'https://serviceusage.googleapis.com/v1/operations/{operation}' },
      ]);
      expect(plan.description).toMatch(/last 30 days/);
    },
    policyIds: [POLICY],
    field: (a) => a?.resource?.data['state'],
    fixed: 'ENABLED',
    // Enabling, and disabling again on undo.
    isWrite: (r) => r.method === 'POST' && (r.path === `${PATH}:enable` || r.path === `${PATH}:disable`),
    untouched: sameData,
    fix: {
      captured: (before, { asset }) => expect(before).toEqual({ name: NAME, data: asset.resource?.data }),
      sent: ({ h }) => {
        expect(enables(h)).toHaveLength(1);
        expect(enables(h)[0]?.body).toEqual({});
        expect(h.twin.requests.some((r) => r.path.startsWith('/v1/operations/acf.'))).toBe(true);
      },
      live: (live, { asset }) =>
        expect(live.resource?.data).toEqual({ ...asset.resource?.data, state: 'ENABLED' }),
      feed: 1,
      // Undo disables it again with Google's checks on.
      restored: ({ h, asset }) => {
        expect(disables(h)).toHaveLength(1);
        // enum-encoding=int: CHECK travels as its number.
        expect(disables(h)[0]?.body).toEqual({ disableDependentServices: false, checkIfServiceHasUsage: 2 });
        expect(h.twin.getAsset(asset.name)?.resource?.data).toEqual(asset.resource?.data);
      },
    },
    // A concurrent change can only enable the service before the fix (see below): no conflict to report.
    conflict: {},
    // Someone else disabling the service after the fix is the one change undo must not repeat.
    undoAfterChange: {
      change: { at: { method: 'GET', pathPattern: PATH }, toField: true },
      theirs: (now) => expect(now?.resource?.data['state']).toBe('DISABLED'),
    },
    retryable: {
      unavailable: { at: { method: 'POST', pathPattern: `${PATH}:enable` }, times: 1 },
      throttled: { at: { method: 'GET', pathPattern: '/v1/operations/' }, via: 'apply' },
    },
    failedOperation: {
      at: { method: 'POST', pathPattern: ':enable' },
      message:
        /Service Usage operation operations\/acf\.\S+ \(enabling service cloudasset\.googleapis\.com of project 123456789012\) failed: The operation failed/,
    },
    more: ({ start }) => {
      it('a concurrent change to the service can only enable it: nothing is sent and nothing is clobbered', async () => {
        const { h, ctx, asset } = await start();
        const before = await serviceEnable.captureBefore(asset, ctx);
        h.twin.setFaults([
          { match: { method: 'GET', pathPattern: PATH }, concurrentModification: true, times: 1 },
        ]);
        const outcome = await serviceEnable.apply(asset, before!, ctx);
        // Someone else enabled it in between: the fix is there, and the service has no other setting to overwrite.
        expect(outcome.status).toBe('already_applied');
        expect(enables(h)).toHaveLength(0);
        expect(h.twin.getAsset(asset.name)?.resource?.data['state']).toBe('ENABLED');
      });

      it('undo is refused when Service Usage finds the service in use (400 FAILED_PRECONDITION), the service staying on', async () => {
        const { h, ctx, asset } = await start({ operationPolls: 0 });
        const { before, after } = await applyFix(serviceEnable, asset, ctx);
        // What Service Usage answers when CHECK finds usage in the last 30 days.
        const client = await h.cloud.serviceUsage('ServiceUsageClient');
        const original = client.disableService.bind(client);
        client.disableService = (async () => {
          throw Object.assign(
            new Error(
              JSON.stringify({
                error: {
                  code: 400,
                  status: 'FAILED_PRECONDITION',
                  message: `The service ${SERVICE} has usage in the last 30 days.`,
                },
              }),
            ),
            { status: 400 },
          );
        }) as unknown as typeof client.disableService;
        try {
          expect(await serviceEnable.undo(asset, before, after, ctx)).toMatchObject({
            status: 'refused',
            reason: expect.stringMatching(/usage in the last 30 days/),
          });
        } finally {
          client.disableService = original;
        }
        expect(h.twin.getAsset(asset.name)?.resource?.data['state']).toBe('ENABLED');
      });

      it('is not applicable to a folder’s or organization’s services', async () => {
        await start();
        const folder = {
          ...serviceAsset('DISABLED'),
          name: `//serviceusage.googleapis.com/folders/1/services/${SERVICE}`,
        };
        expect(() => serviceEnable.plan(folder, DEFAULT_ACTION_SETTINGS)).toThrow(/projects only/);
      });
    },
  },
]);
