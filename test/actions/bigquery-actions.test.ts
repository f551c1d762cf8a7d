import { afterEach, describe, expect, it } from '@jest/globals';
import { addDatasetRequiredLabels } from '../../shared/actions/bigquery-dataset-add-required-labels.js';
import { removeDatasetPublicAccess } from '../../shared/actions/bigquery-dataset-remove-public-access.js';
import { DEFAULT_ACTION_SETTINGS, type RemediationAction } from '../../shared/actions/types.js';
import type { Asset } from '../../shared/model/asset.js';
import { WardenError } from '../../shared/model/errors.js';
import { datasetAsset, PROJECT_ACCESS } from '../twin/bigquery-fixtures.js';
import { PROJECT_ID, startHarness, type TwinHarness } from '../twin/twin-fixtures.js';
import { actionContext, rejection } from './action-context.js';
import {
  basicsOf,
  describeActionContract,
  describedBySomeoneElse,
  request,
  sameData,
  type ActionContract,
  type CaseBasics,
} from './action-contract.js';
import { expectRegistered, policySet, verdict } from './policies.js';

const ETAG = 'Kp4U46dyTjFGJryJAFvhKQ==';

type Data = Record<string, unknown>;

const ANALYSTS = { groupByEmail: 'data-analysts@example.com', role: 'READER' };
const VIEW = { view: { projectId: PROJECT_ID, datasetId: 'shared', tableId: 'orders_v' } };
const CONDITIONAL = {
  role: 'READER',
  groupByEmail: 'contractors@example.com',
  condition: { title: 'until 2027', expression: 'request.time < timestamp("2027-01-01T00:00:00Z")' },
};

interface Case extends CaseBasics {
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

/** The dataset without what every write bumps. */
function stable(data: Data | undefined): Data {
  const { etag: _e, lastModifiedTime: _t, ...rest } = data ?? {};
  return rest;
}

function datasetPath(asset: Asset): string {
  return `/bigquery/v2/projects/${PROJECT_ID}/datasets/${asset.name.split('/').at(-1) ?? ''}`;
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
      expectRegistered(id, { risk, reversible: true, assetTypes: ['bigquery.googleapis.com/Dataset'] });
      const p = policySet().policies.find((x) => x.def.id === policy);
      expect(p?.def.remediation).toEqual({ action: id, risk });
    }
  });
});

describeActionContract(
  CASES.map((c): ActionContract => {
    const at = { method: 'PATCH', pathPattern: datasetPath(c.asset()) };
    return {
      ...basicsOf(c),
      api: 'bigquery.googleapis.com',
      plan: ({ asset }, plan) => {
        const url = `https://bigquery.googleapis.com${datasetPath(asset)}?accessPolicyVersion=3`;
        expect(plan.requests).toEqual([
          { method: 'GET', url },
          { method: 'PATCH', url, body: { ...c.fixBody, etag: ETAG } },
        ]);
        expect(plan.description).toMatch(/If-Match/);
      },
      field: (a) => c.field(a?.resource?.data ?? {}),
      fixed: c.fixed,
      isWrite: request('PATCH', datasetPath(c.asset())),
      untouched: sameData,
      fix: {
        sent: ({ h, asset }) => {
          const sent = h.twin.requests.find((r) => r.method === 'PATCH');
          expect(sent?.body).toEqual(c.action.plan(asset, DEFAULT_ACTION_SETTINGS).requests[1]?.body);
          expect(sent?.query).toMatchObject({ accessPolicyVersion: '3' });
        },
        // The IAM policy readLive builds is the one CAI now holds for the dataset.
        live: (live, { h, asset }) =>
          expect(live.iamPolicy?.bindings).toEqual(h.twin.getAsset(asset.name)?.iamPolicy?.bindings),
        feed: 'some',
        restored: ({ restored, asset }) => {
          expect(stable(restored.resource?.data)).toEqual(stable(asset.resource?.data));
          expect(restored.iamPolicy?.bindings).toEqual(asset.iamPolicy?.bindings);
        },
      },
      conflict: {
        atWrite: {
          at,
          reason: '412',
          stale: true,
          theirs: describedBySomeoneElse,
        },
      },
      undoAfterChange: { change: { at: { method: 'GET', pathPattern: at.pathPattern } } },
      retryable: {
        unavailable: { at: { method: 'PATCH' } },
        throttled: { at: { method: 'PATCH' }, via: 'apply' },
        prepare: withoutClientRetries,
      },
    };
  }),
);

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
