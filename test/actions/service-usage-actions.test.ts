import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { getAction } from '../../shared/actions/registry.js';
import { serviceEnable } from '../../shared/actions/serviceusage-service-enable.js';
import { DEFAULT_ACTION_SETTINGS } from '../../shared/actions/types.js';
import type { Asset } from '../../shared/model/asset.js';
import { WardenError } from '../../shared/model/errors.js';
import { loadPolicies, type PolicySet } from '../../shared/policy/policy-set.js';
import { projectRoot } from '../../shared/util/project-root.js';
import { ANCESTORS, PROJECT_NUMBER, startHarness, type TwinHarness } from '../twin/twin-fixtures.js';
import { actionContext, rejection } from './action-context.js';

const NOW = '2026-03-01T09:00:00.000Z';
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

let policies: PolicySet;
beforeAll(async () => {
  policies = await loadPolicies(path.join(projectRoot(), 'policies'));
});

function verdict(asset: Asset): string {
  const r = policies
    .evaluate(asset, { now: NOW })
    .find((x) => x.policy.def.id === 'monitoring-cloud-asset-inventory-disabled');
  if (!r) throw new Error('policy monitoring-cloud-asset-inventory-disabled did not run');
  return r.verdict.kind;
}

const enables = (h: TwinHarness) =>
  h.twin.requests.filter((r) => r.method === 'POST' && r.path === `${PATH}:enable`);
const disables = (h: TwinHarness) =>
  h.twin.requests.filter((r) => r.method === 'POST' && r.path === `${PATH}:disable`);

describe('serviceusage.service.enable is registered', () => {
  it('is registered, low risk and reversible, for the policy that names it', () => {
    expect(getAction('serviceusage.service.enable')).toMatchObject({
      risk: 'low',
      reversible: true,
      assetTypes: ['serviceusage.googleapis.com/Service'],
    });
    const named = policies.policies.filter(
      (p) =>
        p.def.remediation !== undefined &&
        'action' in p.def.remediation &&
        p.def.remediation.action === 'serviceusage.service.enable',
    );
    expect(named.map((p) => p.def.id)).toEqual(['monitoring-cloud-asset-inventory-disabled']);
  });
});

describe('serviceusage.service.enable', () => {
  let h: TwinHarness;
  let asset: Asset;
  afterEach(async () => {
    await h.close();
  });
  const start = async (opts: Parameters<typeof startHarness>[1] = {}, a = serviceAsset('DISABLED')) => {
    asset = a;
    h = await startHarness([asset], opts);
  };

  it('plans the exact requests against serviceusage.googleapis.com', async () => {
    await start();
    const plan = serviceEnable.plan(asset, DEFAULT_ACTION_SETTINGS);
    expect(plan.requests).toEqual([
      { method: 'GET', url: `https://serviceusage.googleapis.com${PATH}` },
      { method: 'POST', url: `https://serviceusage.googleapis.com${PATH}:enable`, body: {} },
      { method: 'GET', url: 'https://serviceusage.googleapis.com/v1/operations/{operation}' },
    ]);
    expect(plan.description).toMatch(/last 30 days/);
  });

  it('enables, so that the policy passes; twice is a no-op; undo disables it again with Google’s checks on', async () => {
    await start();
    const ctx = actionContext(h);
    expect(verdict(asset)).toBe('violation');
    const before = await serviceEnable.captureBefore(asset, ctx);
    expect(before).toEqual({ name: NAME, data: asset.resource?.data });
    const applied = await serviceEnable.apply(asset, before!, ctx);
    expect(applied.status).toBe('applied');
    expect(enables(h)).toHaveLength(1);
    expect(enables(h)[0]?.body).toEqual({});
    expect(h.twin.requests.some((r) => r.path.startsWith('/v1/operations/acf.'))).toBe(true);
    const live = await serviceEnable.readLive(asset, ctx);
    expect(live?.resource?.data).toEqual({ ...asset.resource?.data, state: 'ENABLED' });
    expect(verdict(live!)).toBe('pass');
    expect(h.feed).toHaveLength(1);

    expect((await serviceEnable.apply(asset, before!, ctx)).status).toBe('already_applied');
    expect(enables(h)).toHaveLength(1);

    expect(
      await serviceEnable.undo(asset, before!, applied.status === 'applied' ? applied.after : null, ctx),
    ).toEqual({
      status: 'restored',
    });
    expect(disables(h)).toHaveLength(1);
    // enum-encoding=int: CHECK travels as its number.
    expect(disables(h)[0]?.body).toEqual({ disableDependentServices: false, checkIfServiceHasUsage: 2 });
    expect(h.twin.getAsset(asset.name)?.resource?.data).toEqual(asset.resource?.data);
    expect(verdict((await serviceEnable.readLive(asset, ctx))!)).toBe('violation');
  });

  it('a concurrent change to the service can only enable it: nothing is sent and nothing is clobbered', async () => {
    await start();
    const ctx = actionContext(h);
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

  it('refuses to undo once someone changed the service, and sends nothing', async () => {
    await start();
    const ctx = actionContext(h);
    const before = await serviceEnable.captureBefore(asset, ctx);
    const applied = await serviceEnable.apply(asset, before!, ctx);
    h.twin.setFaults([
      { match: { method: 'GET', pathPattern: PATH }, concurrentModification: true, times: 1 },
    ]);
    const undo = await serviceEnable.undo(
      asset,
      before!,
      applied.status === 'applied' ? applied.after : null,
      ctx,
    );
    expect(undo.status).toBe('refused');
    expect(disables(h)).toHaveLength(0);
  });

  it('undo is refused when Service Usage finds the service in use (400 FAILED_PRECONDITION), the service staying on', async () => {
    await start({ operationPolls: 0 });
    const ctx = actionContext(h);
    const before = await serviceEnable.captureBefore(asset, ctx);
    const applied = await serviceEnable.apply(asset, before!, ctx);
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
      const undo = await serviceEnable.undo(
        asset,
        before!,
        applied.status === 'applied' ? applied.after : null,
        ctx,
      );
      expect(undo).toMatchObject({
        status: 'refused',
        reason: expect.stringMatching(/usage in the last 30 days/),
      });
    } finally {
      client.disableService = original;
    }
    expect(h.twin.getAsset(asset.name)?.resource?.data['state']).toBe('ENABLED');
  });

  it('surfaces an injected 503 and 429 as retryable WardenErrors', async () => {
    await start({
      faults: [{ match: { method: 'POST', pathPattern: `${PATH}:enable` }, errorStatus: 503, times: 1 }],
    });
    const ctx = actionContext(h);
    const before = await serviceEnable.captureBefore(asset, ctx);
    const err = await rejection(serviceEnable.apply(asset, before!, ctx));
    expect(err).toBeInstanceOf(WardenError);
    expect((err as WardenError).retryable).toBe(true);
    expect((err as WardenError).code).toBe('UNAVAILABLE');
    h.twin.setFaults([
      { match: { method: 'GET', pathPattern: '/v1/operations/' }, errorStatus: 429, times: 1 },
    ]);
    const throttled = await rejection(serviceEnable.apply(asset, before!, ctx));
    expect((throttled as WardenError).retryable).toBe(true);
    expect((throttled as WardenError).code).toBe('RESOURCE_EXHAUSTED');
  });

  it('surfaces an operation that ends in error as a non-retryable WardenError, the service unchanged', async () => {
    await start({ faults: [{ match: { method: 'POST', pathPattern: ':enable' }, failOperation: true }] });
    const ctx = actionContext(h);
    const before = await serviceEnable.captureBefore(asset, ctx);
    const err = await rejection(serviceEnable.apply(asset, before!, ctx));
    expect(err).toBeInstanceOf(WardenError);
    expect((err as WardenError).retryable).toBe(false);
    expect((err as WardenError).code).toBe('operation_failed');
    expect((err as WardenError).message).toMatch(
      /Service Usage operation operations\/acf\.\S+ \(enabling service cloudasset\.googleapis\.com of project 123456789012\) failed: The operation failed/,
    );
    expect(h.twin.getAsset(asset.name)?.resource?.data).toEqual(asset.resource?.data);
  });

  it('returns null and gone for a service the twin does not know (a deleted project)', async () => {
    await start();
    const state = await serviceEnable.captureBefore(asset, actionContext(h));
    await h.close();
    h = await startHarness([]);
    const ctx = actionContext(h);
    expect(await serviceEnable.captureBefore(asset, ctx)).toBeNull();
    expect(await serviceEnable.readLive(asset, ctx)).toBeNull();
    expect(await serviceEnable.apply(asset, state!, ctx)).toEqual({ status: 'gone' });
    expect(await serviceEnable.undo(asset, state!, state!, ctx)).toEqual({ status: 'gone' });
  });

  it('is not applicable to a folder’s or organization’s services', async () => {
    await start();
    const folder = {
      ...serviceAsset('DISABLED'),
      name: `//serviceusage.googleapis.com/folders/1/services/${SERVICE}`,
    };
    expect(() => serviceEnable.plan(folder, DEFAULT_ACTION_SETTINGS)).toThrow(/projects only/);
  });
});
