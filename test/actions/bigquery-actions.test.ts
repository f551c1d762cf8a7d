import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { addDatasetRequiredLabels } from '../../shared/actions/bigquery-dataset-add-required-labels.js';
import { removeDatasetPublicAccess } from '../../shared/actions/bigquery-dataset-remove-public-access.js';
import { getAction } from '../../shared/actions/registry.js';
import { DEFAULT_ACTION_SETTINGS, type RemediationAction } from '../../shared/actions/types.js';
import type { Asset } from '../../shared/model/asset.js';
import { WardenError } from '../../shared/model/errors.js';
import { loadPolicies, type PolicySet } from '../../shared/policy/policy-set.js';
import { projectRoot } from '../../shared/util/project-root.js';
import { datasetAsset, PROJECT_ACCESS } from '../twin/bigquery-fixtures.js';
import { PROJECT_ID, startHarness, type TwinHarness } from '../twin/twin-fixtures.js';
import { actionContext, rejection } from './action-context.js';

const NOW = '2026-03-01T09:00:00.000Z';
const ETAG = 'Kp4U46dyTjFGJryJAFvhKQ==';

type Data = Record<string, unknown>;

const ANALYSTS = { groupByEmail: 'data-analysts@example.com', role: 'READER' };
const VIEW = { view: { projectId: PROJECT_ID, datasetId: 'shared', tableId: 'orders_v' } };
const CONDITIONAL = {
  role: 'READER',
  groupByEmail: 'contractors@example.com',
  condition: { title: 'until 2027', expression: 'request.time < timestamp("2027-01-01T00:00:00Z")' },
};

interface Case {
  title: string;
  action: RemediationAction;
  policyIds: string[];
  asset: () => Asset;
  /** The patch body the plan and the fix send (etag aside). */
  fixBody: Data;
  field: (data: Data) => unknown;
  fixed: unknown;
}

const CASES: Case[] = [
  {
    title: 'allAuthenticatedUsers and allUsers in the access list',
    action: removeDatasetPublicAccess,
    policyIds: ['bq-dataset-public'],
    asset: () => datasetAsset('orders_analytics'),
    fixBody: { access: [...PROJECT_ACCESS, ANALYSTS] },
    field: (d) => d['access'],
    fixed: [...PROJECT_ACCESS, ANALYSTS],
  },
  {
    title: 'a public entry beside an authorized view and a conditional grant (kept as they are)',
    action: removeDatasetPublicAccess,
    policyIds: ['bq-dataset-public'],
    asset: () =>
      datasetAsset('shared_views', {
        access: [
          ...PROJECT_ACCESS,
          { role: 'READER', iamMember: 'allAuthenticatedUsers' },
          VIEW,
          CONDITIONAL,
        ],
      }),
    fixBody: { access: [...PROJECT_ACCESS, VIEW, CONDITIONAL] },
    field: (d) => d['access'],
    fixed: [...PROJECT_ACCESS, VIEW, CONDITIONAL],
  },
  {
    title: 'required labels missing',
    action: addDatasetRequiredLabels,
    policyIds: ['labels-bigquery-dataset-required'],
    asset: () => datasetAsset('dev_sandbox', { access: PROJECT_ACCESS }),
    fixBody: { labels: { team: 'data', env: 'unassigned', 'cost-center': 'unassigned' } },
    field: (d) => d['labels'],
    fixed: { team: 'data', env: 'unassigned', 'cost-center': 'unassigned' },
  },
];

let policies: PolicySet;
beforeAll(async () => {
  policies = await loadPolicies(path.join(projectRoot(), 'policies'));
});

function verdict(policyId: string, asset: Asset): string {
  const r = policies.evaluate(asset, { now: NOW }).find((x) => x.policy.def.id === policyId);
  if (!r) throw new Error(`policy ${policyId} did not run on ${asset.assetType}`);
  if (r.verdict.kind === 'error') return `error: ${r.verdict.message}`;
  return r.verdict.kind;
}

/** The dataset without what every write bumps. */
function stable(data: Data | undefined): Data {
  const { etag: _e, lastModifiedTime: _t, ...rest } = data ?? {};
  return rest;
}

function datasetPath(asset: Asset): string {
  return `/bigquery/v2/projects/${PROJECT_ID}/datasets/${asset.name.split('/').at(-1) ?? ''}`;
}

function patches(h: TwinHarness, asset: Asset): number {
  return h.twin.requests.filter((r) => r.method === 'PATCH' && r.path === datasetPath(asset)).length;
}

/** The BigQuery client retries 429/5xx itself with multi-second backoff: off, to see one failure fast. */
async function withoutClientRetries(h: TwinHarness): Promise<void> {
  const bq = await h.cloud.bigquery();
  type Interceptor = (typeof bq.interceptors)[number];
  const noRetries = (reqOpts: object): object => ({ ...reqOpts, maxRetries: 0 });
  bq.interceptors.push({ request: noRetries as Interceptor['request'] });
}

describe('the BigQuery actions are registered with the policies that use them', () => {
  it('registers both, reversible, with the risk the policies give them', () => {
    for (const [id, risk, policy] of [
      ['bigquery.dataset.remove-public-access', 'medium', 'bq-dataset-public'],
      ['bigquery.dataset.add-required-labels', 'low', 'labels-bigquery-dataset-required'],
    ] as const) {
      expect(getAction(id)).toMatchObject({
        id,
        risk,
        reversible: true,
        assetTypes: ['bigquery.googleapis.com/Dataset'],
      });
      const p = policies.policies.find((x) => x.def.id === policy);
      expect(p?.def.remediation).toEqual({ action: id, risk });
    }
  });
});

describe.each(CASES)('$action.id on $title', (c) => {
  let h: TwinHarness;
  let asset: Asset;
  afterEach(async () => {
    await h.close();
  });
  const start = async (opts: Parameters<typeof startHarness>[1] = {}): Promise<void> => {
    asset = c.asset();
    h = await startHarness([asset], opts);
  };

  it('plans the exact requests against bigquery.googleapis.com', async () => {
    await start();
    const plan = c.action.plan(asset, DEFAULT_ACTION_SETTINGS);
    const url = `https://bigquery.googleapis.com${datasetPath(asset)}?accessPolicyVersion=3`;
    expect(plan.requests).toEqual([
      { method: 'GET', url },
      { method: 'PATCH', url, body: { ...c.fixBody, etag: ETAG } },
    ]);
    expect(plan.description).toMatch(/If-Match/);
  });

  it('fixes so that the policies pass on the live dataset; twice is a no-op; undo restores exactly the before-state', async () => {
    await start();
    const ctx = actionContext(h);
    for (const p of c.policyIds) expect(verdict(p, asset)).toBe('violation');
    const before = await c.action.captureBefore(asset, ctx);
    const applied = await c.action.apply(asset, before, ctx);
    expect(applied.status).toBe('applied');
    expect(patches(h, asset)).toBe(1);
    const sent = h.twin.requests.find((r) => r.method === 'PATCH');
    expect(sent?.body).toEqual(c.action.plan(asset, DEFAULT_ACTION_SETTINGS).requests[1]?.body);
    expect(sent?.query).toMatchObject({ accessPolicyVersion: '3' });

    const live = await c.action.readLive(asset, ctx);
    expect(live).toMatchObject({ name: asset.name, assetType: asset.assetType, ancestors: asset.ancestors });
    expect(c.field(live?.resource?.data ?? {})).toEqual(c.fixed);
    for (const p of c.policyIds) expect(verdict(p, live as Asset)).toBe('pass');
    // The IAM policy readLive builds is the one CAI now holds for the dataset.
    expect(live?.iamPolicy?.bindings).toEqual(h.twin.getAsset(asset.name)?.iamPolicy?.bindings);
    expect(h.feed.length).toBeGreaterThanOrEqual(1);

    expect((await c.action.apply(asset, before, ctx)).status).toBe('already_applied');
    expect(patches(h, asset)).toBe(1);

    const after = applied.status === 'applied' ? applied.after : null;
    expect(await c.action.undo(asset, before, after, ctx)).toEqual({ status: 'restored' });
    expect(patches(h, asset)).toBe(2);
    const restored = await c.action.readLive(asset, ctx);
    expect(stable(restored?.resource?.data)).toEqual(stable(asset.resource?.data));
    expect(restored?.iamPolicy?.bindings).toEqual(asset.iamPolicy?.bindings);
    for (const p of c.policyIds) expect(verdict(p, restored as Asset)).toBe('violation');
  });

  it('reports conflict on a concurrent change (412 on the etag) and overwrites nothing', async () => {
    await start();
    const ctx = actionContext(h);
    const before = await c.action.captureBefore(asset, ctx);
    h.twin.setFaults([
      { match: { method: 'PATCH', pathPattern: datasetPath(asset) }, concurrentModification: true, times: 1 },
    ]);
    const outcome = await c.action.apply(asset, before, ctx);
    expect(outcome.status).toBe('conflict');
    if (outcome.status === 'conflict') expect(outcome.reason).toContain('412');
    const data = h.twin.getAsset(asset.name)?.resource?.data ?? {};
    expect(data['description']).toMatch(/^changed by someone else/);
    expect(c.field(data)).toEqual(c.field(asset.resource?.data ?? {}));
  });

  it('refuses to undo after someone changed the dataset, and sends nothing', async () => {
    await start();
    const ctx = actionContext(h);
    const before = await c.action.captureBefore(asset, ctx);
    const applied = await c.action.apply(asset, before, ctx);
    h.twin.setFaults([
      { match: { method: 'GET', pathPattern: datasetPath(asset) }, concurrentModification: true, times: 1 },
    ]);
    const undo = await c.action.undo(asset, before, applied.status === 'applied' ? applied.after : null, ctx);
    expect(undo.status).toBe('refused');
    expect(patches(h, asset)).toBe(1);
    expect(c.field(h.twin.getAsset(asset.name)?.resource?.data ?? {})).toEqual(c.fixed);
  });

  it.each([503, 429] as const)('surfaces an injected %d as a retryable WardenError', async (status) => {
    await start({ faults: [{ match: { method: 'PATCH' }, errorStatus: status }] });
    await withoutClientRetries(h);
    const ctx = actionContext(h);
    const before = await c.action.captureBefore(asset, ctx);
    const err = await rejection(c.action.apply(asset, before, ctx));
    expect(err).toBeInstanceOf(WardenError);
    expect((err as WardenError).retryable).toBe(true);
    expect((err as WardenError).code).toBe(status === 503 ? 'UNAVAILABLE' : 'RESOURCE_EXHAUSTED');
    expect(h.twin.getAsset(asset.name)?.resource?.data).toEqual(asset.resource?.data);
  });

  it('returns null and gone for a dataset that no longer exists', async () => {
    await start();
    const state = await c.action.captureBefore(asset, actionContext(h));
    await h.close();
    h = await startHarness([]);
    const ctx = actionContext(h);
    expect(await c.action.captureBefore(asset, ctx)).toBeNull();
    expect(await c.action.readLive(asset, ctx)).toBeNull();
    expect(await c.action.apply(asset, state, ctx)).toEqual({ status: 'gone' });
    expect(await c.action.undo(asset, state, state, ctx)).toEqual({ status: 'gone' });
  });
});

describe('BigQuery actions: the client’s own retries, permanent failures, nothing to do', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  it('lets the BigQuery client retry a single 503 itself (its default backoff), then fixes', async () => {
    const asset = datasetAsset('flaky');
    h = await startHarness([asset], { faults: [{ match: { method: 'PATCH' }, errorStatus: 503, times: 1 }] });
    const ctx = actionContext(h);
    const before = await removeDatasetPublicAccess.captureBefore(asset, ctx);
    expect((await removeDatasetPublicAccess.apply(asset, before as never, ctx)).status).toBe('applied');
    expect(h.twin.requests.filter((r) => r.method === 'PATCH')).toHaveLength(2);
  }, 15_000);

  it('surfaces a 400 from BigQuery as a non-retryable WardenError and leaves the dataset as it was', async () => {
    const asset = datasetAsset('bad-default', { access: PROJECT_ACCESS });
    h = await startHarness([asset]);
    const ctx = {
      ...actionContext(h),
      settings: { ...DEFAULT_ACTION_SETTINGS, labelDefaultValue: 'Not Set!' },
    };
    const before = await addDatasetRequiredLabels.captureBefore(asset, ctx);
    const err = await rejection(addDatasetRequiredLabels.apply(asset, before as never, ctx));
    expect(err).toBeInstanceOf(WardenError);
    expect((err as WardenError).retryable).toBe(false);
    expect((err as WardenError).code).toBe('INVALID_ARGUMENT');
    expect((err as WardenError).message).toMatch(/patching dataset warden-demo:bad-default: .*Not Set!/);
    expect(h.twin.getAsset(asset.name)?.resource?.data).toEqual(asset.resource?.data);
  });

  it('goes ahead when only other fields changed since the capture (another fix), with the new etag as If-Match', async () => {
    const asset = datasetAsset('two-fixes', { labels: {} });
    h = await startHarness([asset]);
    const ctx = actionContext(h);
    const access = removeDatasetPublicAccess as RemediationAction;
    const labels = addDatasetRequiredLabels as RemediationAction;
    const accessBefore = await access.captureBefore(asset, ctx);
    const labelsBefore = await labels.captureBefore(asset, ctx);
    expect((await labels.apply(asset, labelsBefore, ctx)).status).toBe('applied');
    expect((await access.apply(asset, accessBefore, ctx)).status).toBe('applied');
    const etags = h.twin.requests.filter((r) => r.method === 'PATCH').map((r) => (r.body as Data)['etag']);
    expect(etags[0]).toBe(ETAG);
    expect(etags[1]).not.toBe(ETAG);
    const live = (await access.readLive(asset, ctx)) as Asset;
    expect(verdict('bq-dataset-public', live)).toBe('pass');
    expect(verdict('labels-bigquery-dataset-required', live)).toBe('pass');
  });

  it('reports conflict, sending nothing, when the access list changed since the capture', async () => {
    const asset = datasetAsset('moved');
    h = await startHarness([asset]);
    const ctx = actionContext(h);
    const before = await removeDatasetPublicAccess.captureBefore(asset, ctx);
    const bq = await h.cloud.bigquery();
    await bq
      .dataset('moved', { projectId: PROJECT_ID })
      .setMetadata({ access: [...PROJECT_ACCESS, { role: 'READER', iamMember: 'allUsers' }] });
    const outcome = await removeDatasetPublicAccess.apply(asset, before as never, ctx);
    expect(outcome.status).toBe('conflict');
    if (outcome.status === 'conflict') expect(outcome.reason).toMatch(/changed since it was captured/);
    expect(h.twin.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
  });

  it('counts a dataset whose access list is already private as applied, without sending anything', async () => {
    const asset = datasetAsset('private', { access: PROJECT_ACCESS });
    h = await startHarness([asset]);
    const ctx = actionContext(h);
    const before = await removeDatasetPublicAccess.captureBefore(asset, ctx);
    expect((await removeDatasetPublicAccess.apply(asset, before as never, ctx)).status).toBe(
      'already_applied',
    );
    expect(h.twin.requests.filter((r) => r.method !== 'GET')).toHaveLength(0);
  });
});
