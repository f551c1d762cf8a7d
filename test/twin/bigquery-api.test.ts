import { afterEach, describe, expect, it } from '@jest/globals';
import { AssetSchema } from '../../shared/model/asset.js';
import { datasetAsset, PROJECT_ACCESS, PUBLIC_ACCESS } from './bigquery-fixtures.js';
import { PROJECT_ID, startHarness, type TwinHarness } from './twin-fixtures.js';

type Data = Record<string, unknown>;

const NAME = 'orders_analytics';
const ASSET_NAME = `//bigquery.googleapis.com/projects/${PROJECT_ID}/datasets/${NAME}`;
const PATH = `/bigquery/v2/projects/${PROJECT_ID}/datasets/${NAME}`;
const ETAG = 'Kp4U46dyTjFGJryJAFvhKQ==';
const CONDITIONAL = {
  role: 'READER',
  groupByEmail: 'contractors@example.com',
  condition: { title: 'until 2027', expression: 'request.time < timestamp("2027-01-01T00:00:00Z")' },
};

async function failure(p: Promise<unknown>): Promise<{ code?: number; message?: string; errors?: Data[] }> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as { code?: number; message?: string },
  );
}

async function rest(
  h: TwinHarness,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Data }> {
  // As @google-cloud/bigquery does: the etag read goes in the body and, as the precondition, in If-Match.
  const etag = (body as { etag?: unknown } | undefined)?.etag;
  const res = await fetch(`${h.twin.url}${path}`, {
    method,
    headers: {
      authorization: 'Bearer test',
      'content-type': 'application/json',
      ...(typeof etag === 'string' ? { 'if-match': etag } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Data };
}

function stored(h: TwinHarness): Data {
  return h.twin.getAsset(ASSET_NAME)?.resource?.data ?? {};
}

describe('twin: BigQuery v2 datasets', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  it('patches access with the etag: what the client sends, a new etag, the access list replaced, RESOURCE and IAM_POLICY published', async () => {
    h = await startHarness([datasetAsset(NAME)]);
    const bq = await h.cloud.bigquery();
    const dataset = bq.dataset(NAME, { projectId: PROJECT_ID });
    const [data] = (await dataset.getMetadata({ accessPolicyVersion: 3 })) as [Data, unknown];
    expect(data).toMatchObject({ kind: 'bigquery#dataset', etag: ETAG, access: PUBLIC_ACCESS });
    expect(h.twin.requests.at(-1)).toMatchObject({
      method: 'GET',
      path: PATH,
      query: { accessPolicyVersion: '3' },
    });

    const [after] = (await dataset.setMetadata(
      { access: PROJECT_ACCESS, etag: ETAG },
      { accessPolicyVersion: 3 },
    )) as unknown as [Data, unknown];
    // @google-cloud/bigquery sends the etag in the body (and as If-Match), the list whole.
    expect(h.twin.requests.at(-1)).toMatchObject({ method: 'PATCH', path: PATH });
    expect(h.twin.requests.at(-1)?.body).toEqual({ access: PROJECT_ACCESS, etag: ETAG });
    expect(after['access']).toEqual(PROJECT_ACCESS);
    expect(after['etag']).not.toBe(ETAG);
    expect(after['lastModifiedTime']).toBe(String(Date.parse('2026-03-01T09:00:00.000Z')));
    expect(after['labels']).toEqual({ team: 'data' }); // patch: what is not sent stays

    // One message per content type: the RESOURCE part, then the IAM_POLICY part the access list makes.
    const parts = h.feed.map((m) => AssetSchema.parse((m as { asset: unknown }).asset));
    expect(parts.map((a) => [a.resource !== undefined, a.iamPolicy !== undefined])).toEqual([
      [true, false],
      [false, true],
    ]);
    expect(h.feed).toHaveLength(2);
    const asset = AssetSchema.parse(h.twin.getAsset(ASSET_NAME));
    const members = asset.iamPolicy?.bindings.flatMap((b) => b.members) ?? [];
    expect(members).not.toContain('allUsers');
    expect(members).not.toContain('allAuthenticatedUsers');
    expect(asset.iamPolicy?.bindings).toContainEqual({
      role: 'roles/bigquery.dataOwner',
      members: [`projectOwner:${PROJECT_ID}`],
    });
  });

  it('merges labels key by key (null removes one) and publishes only the RESOURCE part', async () => {
    h = await startHarness([datasetAsset(NAME, { labels: { team: 'data', env: 'dev' } })]);
    const bq = await h.cloud.bigquery();
    await bq
      .dataset(NAME, { projectId: PROJECT_ID })
      .setMetadata({ labels: { env: null, owner: 'ana' }, etag: ETAG });
    expect(stored(h)['labels']).toEqual({ team: 'data', owner: 'ana' });
    expect(stored(h)['access']).toEqual(PUBLIC_ACCESS);
    expect(h.feed).toHaveLength(1);
  });

  it('answers 412 "Precondition check failed." for a stale etag and changes nothing', async () => {
    h = await startHarness([datasetAsset(NAME)]);
    const bq = await h.cloud.bigquery();
    const err = await failure(
      bq.dataset(NAME, { projectId: PROJECT_ID }).setMetadata({ access: PROJECT_ACCESS, etag: 'c3RhbGU=' }),
    );
    expect(err.code).toBe(412);
    expect(err.message).toBe('Precondition check failed.');
    expect(err.errors?.[0]).toMatchObject({ reason: 'conditionNotMet' });
    expect(stored(h)['access']).toEqual(PUBLIC_ACCESS);
    expect(h.feed).toHaveLength(0);
  });

  it('renames conditional entries below accessPolicyVersion 3 and refuses an access patch of such a dataset there', async () => {
    h = await startHarness([datasetAsset(NAME, { access: [...PROJECT_ACCESS, CONDITIONAL] })]);
    const v1 = await rest(h, 'GET', PATH);
    const renamed = (v1.json['access'] as Data[]).at(-1);
    expect(renamed?.['role']).toMatch(/^READERwithcond[0-9a-f]{8}$/);
    expect(renamed?.['condition']).toBeUndefined();
    const v3 = await rest(h, 'GET', `${PATH}?accessPolicyVersion=3`);
    expect((v3.json['access'] as Data[]).at(-1)).toEqual(CONDITIONAL);
    const refused = await rest(h, 'PATCH', PATH, { access: PROJECT_ACCESS, etag: ETAG });
    expect(refused.status).toBe(400);
    expect(String((refused.json['error'] as Data)['message'])).toMatch(/accessPolicyVersion=3/);
    const ok = await rest(h, 'PATCH', `${PATH}?accessPolicyVersion=3`, { access: [CONDITIONAL], etag: ETAG });
    expect(ok.status).toBe(200);
    expect(h.twin.getAsset(ASSET_NAME)?.iamPolicy).toMatchObject({
      version: 3,
      bindings: [
        {
          role: 'roles/bigquery.dataViewer',
          members: ['group:contractors@example.com'],
          condition: CONDITIONAL.condition,
        },
      ],
    });
  });

  it.each([
    [
      'an entry with two members',
      { access: [{ role: 'READER', userByEmail: 'a@example.com', groupByEmail: 'g@example.com' }] },
      /exactly one of/,
    ],
    ['an entry without a role', { access: [{ userByEmail: 'a@example.com' }] }, /a role is required/],
    ['an unknown special group', { access: [{ role: 'READER', specialGroup: 'everyone' }] }, /specialGroup/],
    [
      'an iamMember that is no IAM member',
      { access: [{ role: 'READER', iamMember: 'ana@example.com' }] },
      /iamMember/,
    ],
    ['an invalid label key', { labels: { 'Team Name': 'x' } }, /Invalid label key/],
    ['a new location', { location: 'EU' }, /location/],
    ['an unknown field', { colour: 'blue' }, /Unknown name "colour"/],
    ['an invalid accessPolicyVersion', { description: 'x' }, /accessPolicyVersion/, '?accessPolicyVersion=2'],
  ])('answers 400 for %s, changing nothing', async (_title, body, message, query = '') => {
    h = await startHarness([datasetAsset(NAME)]);
    const before = h.twin.getAsset(ASSET_NAME);
    const r = await rest(h, 'PATCH', `${PATH}${query}`, { ...body, etag: ETAG });
    expect(r.status).toBe(400);
    expect(r.json['error']).toMatchObject({
      code: 400,
      status: 'INVALID_ARGUMENT',
      errors: [{ reason: 'invalid' }],
    });
    expect(String((r.json['error'] as Data)['message'])).toMatch(message);
    expect(h.twin.getAsset(ASSET_NAME)).toEqual(before);
  });

  it('plays a concurrent modification as a description change by someone else (new etag)', async () => {
    h = await startHarness([datasetAsset(NAME)], {
      faults: [{ match: { method: 'PATCH', pathPattern: PATH }, concurrentModification: true, times: 1 }],
    });
    const r = await rest(h, 'PATCH', PATH, { access: PROJECT_ACCESS, etag: ETAG });
    expect(r.status).toBe(412);
    expect(stored(h)['description']).toMatch(/^changed by someone else/);
    expect(stored(h)['etag']).not.toBe(ETAG);
    expect(stored(h)['access']).toEqual(PUBLIC_ACCESS);
  });

  it('answers 404 notFound for an unknown dataset', async () => {
    h = await startHarness([datasetAsset(NAME)]);
    const bq = await h.cloud.bigquery();
    const err = await failure(bq.dataset('nope', { projectId: PROJECT_ID }).getMetadata());
    expect(err.code).toBe(404);
    expect(err.message).toBe(`Not found: Dataset ${PROJECT_ID}:nope`);
  });
});
