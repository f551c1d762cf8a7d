import { afterEach, describe, expect, it } from '@jest/globals';
import type { Asset } from '../../shared/model/asset.js';
import { AssetSchema } from '../../shared/model/asset.js';
import { ANCESTORS, PROJECT_ID, PROJECT_NUMBER, startHarness, type TwinHarness } from './twin-fixtures.js';

const SERVICE = 'cloudasset.googleapis.com';
const NAME = `projects/${PROJECT_NUMBER}/services/${SERVICE}`;

function serviceAsset(state: string): Asset {
  return {
    name: `//serviceusage.googleapis.com/${NAME}`,
    assetType: 'serviceusage.googleapis.com/Service',
    ancestors: [...ANCESTORS],
    resource: {
      version: 'v1',
      discoveryName: 'Service',
      parent: `//cloudresourcemanager.googleapis.com/projects/${PROJECT_NUMBER}`,
      data: {
        config: { name: SERVICE, title: 'Cloud Asset API' },
        name: NAME,
        parent: `projects/${PROJECT_NUMBER}`,
        state,
      },
    },
  };
}

/** The project itself, which pairs its id with its number (the API takes either). */
const projectAsset: Asset = {
  name: `//cloudresourcemanager.googleapis.com/projects/${PROJECT_NUMBER}`,
  assetType: 'cloudresourcemanager.googleapis.com/Project',
  ancestors: [...ANCESTORS],
  resource: { data: { projectId: PROJECT_ID, projectNumber: PROJECT_NUMBER, lifecycleState: 'ACTIVE' } },
};

type Json = Record<string, unknown>;

describe('twin: Service Usage v1 services and their operations', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  const call = async (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${h.twin.url}${path}`, {
      method,
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Json };
  };

  it('gets a service by project number or id, and answers 404 for one it does not know', async () => {
    h = await startHarness([serviceAsset('DISABLED'), projectAsset]);
    const client = await h.cloud.serviceUsage('ServiceUsageClient');
    const [byNumber] = await client.getService({ name: NAME });
    expect(byNumber).toMatchObject({ name: NAME, state: 'DISABLED', parent: `projects/${PROJECT_NUMBER}` });
    const [byId] = await client.getService({ name: `projects/${PROJECT_ID}/services/${SERVICE}` });
    expect(byId.name).toBe(NAME);
    const missing = await call('GET', `/v1/projects/${PROJECT_NUMBER}/services/nope.googleapis.com`);
    expect(missing.status).toBe(404);
    expect(missing.body['error']).toMatchObject({ status: 'NOT_FOUND' });
  });

  it('enables through a long-running operation: done after the reads, its response the service, one feed message', async () => {
    h = await startHarness([serviceAsset('DISABLED')]);
    const client = await h.cloud.serviceUsage('ServiceUsageClient');
    const [lro] = await client.enableService({ name: NAME });
    expect(h.twin.requests.at(-1)).toMatchObject({ method: 'POST', path: `/v1/${NAME}:enable`, body: {} });
    expect(lro.name).toMatch(new RegExp(`^operations/acf\\.p2-${PROJECT_NUMBER}-`));
    expect(lro.done).toBeFalsy();
    const first = await client.checkEnableServiceProgress(lro.name ?? '');
    expect(first.done).toBeFalsy();
    expect(h.twin.requests.at(-1)).toMatchObject({ method: 'GET', path: `/v1/${lro.name}` });
    const done = await client.checkEnableServiceProgress(lro.name ?? '');
    expect(done.done).toBe(true);
    // The client decodes the response Any as a message: the enum comes back as its number (ENABLED = 2).
    expect(done.result).toMatchObject({ service: { name: NAME, state: 2 } });
    expect(h.feed).toHaveLength(1);
    expect(AssetSchema.parse((h.feed[0] as { asset: unknown }).asset).resource?.data['state']).toBe(
      'ENABLED',
    );
    const raw = (await call('GET', `/v1/${lro.name}`)).body;
    expect(raw).toMatchObject({
      done: true,
      metadata: { '@type': 'type.googleapis.com/google.api.serviceusage.v1.OperationMetadata' },
      response: { '@type': 'type.googleapis.com/google.api.serviceusage.v1.EnableServiceResponse' },
    });
    // Enabling an enabled service is a finished no-op.
    expect((await call('POST', `/v1/${NAME}:enable`, {})).body).toMatchObject({
      name: 'operations/noop.DONE_OPERATION',
      done: true,
    });
    expect((await call('GET', '/v1/operations/acf.nope')).status).toBe(404);
  });

  it('disables with its checks given as enum names or numbers, and refuses bodies the API does not know', async () => {
    h = await startHarness([serviceAsset('ENABLED')], { operationPolls: 0 });
    const client = await h.cloud.serviceUsage('ServiceUsageClient');
    const [lro] = await client.disableService({
      name: NAME,
      disableDependentServices: false,
      checkIfServiceHasUsage: 'CHECK',
    });
    expect(h.twin.requests.at(-1)?.body).toEqual({
      disableDependentServices: false,
      checkIfServiceHasUsage: 2,
    });
    expect(lro.done).toBe(true);
    expect(h.twin.getAsset(`//serviceusage.googleapis.com/${NAME}`)?.resource?.data['state']).toBe(
      'DISABLED',
    );
    expect((await call('POST', `/v1/${NAME}:enable`, {})).status).toBe(200);
    expect((await call('POST', `/v1/${NAME}:disable`, { checkIfServiceHasUsage: 'CHECK' })).status).toBe(200);
    expect((await call('POST', `/v1/${NAME}:disable`, { checkIfServiceHasUsage: 7 })).status).toBe(400);
    expect((await call('POST', `/v1/${NAME}:enable`, { force: true })).status).toBe(400);
  });

  it('failOperation: the operation ends done with an error and the service is unchanged', async () => {
    h = await startHarness([serviceAsset('DISABLED')], {
      operationPolls: 1,
      faults: [{ match: { method: 'POST', pathPattern: ':enable' }, failOperation: true }],
    });
    const op = (await call('POST', `/v1/${NAME}:enable`, {})).body;
    const done = (await call('GET', `/v1/${String(op['name'])}`)).body;
    expect(done).toMatchObject({ done: true, error: { code: 13 } });
    expect(done['response']).toBeUndefined();
    expect(h.feed).toHaveLength(0);
  });

  it('plays a concurrent modification as someone else enabling or disabling the service', async () => {
    h = await startHarness([serviceAsset('DISABLED')], {
      faults: [
        { match: { method: 'GET', pathPattern: `/v1/${NAME}` }, concurrentModification: true, times: 1 },
      ],
    });
    expect((await call('GET', `/v1/${NAME}`)).body['state']).toBe('ENABLED');
    expect(h.feed).toHaveLength(1);
  });
});
