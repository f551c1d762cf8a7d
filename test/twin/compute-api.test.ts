import { afterEach, describe, expect, it } from '@jest/globals';
import type { protos } from '@google-cloud/compute';
import { AssetSchema } from '../../shared/model/asset.js';
import { firewallAsset, PROJECT_ID, startHarness, type TwinHarness } from './twin-fixtures.js';

type IOperation = protos.google.cloud.compute.v1.IOperation;

const FW = 'allow-ssh';
const FW_NAME = `//compute.googleapis.com/projects/${PROJECT_ID}/global/firewalls/${FW}`;

function operationOf(lro: unknown): IOperation {
  return (lro as { latestResponse: IOperation }).latestResponse;
}

describe('twin: Compute Engine v1 firewalls and global operations through @google-cloud/compute', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  it('gets a firewall rule as REST JSON; the client sends a plain path with no enum-encoding flag', async () => {
    h = await startHarness([firewallAsset(FW)]);
    const client = await h.cloud.firewalls();
    const [fw] = await client.get({ project: PROJECT_ID, firewall: FW });
    expect(fw.kind).toBe('compute#firewall');
    expect(fw.direction).toBe('INGRESS');
    expect(fw.sourceRanges).toEqual(['0.0.0.0/0']);
    expect(fw.allowed?.[0]?.IPProtocol).toBe('tcp');
    expect(fw.id).toBe('5091400122046020629');
    expect(h.twin.requests).toEqual([
      {
        method: 'GET',
        path: `/compute/v1/projects/${PROJECT_ID}/global/firewalls/${FW}`,
        query: {},
        body: undefined,
        authorization: 'Bearer warden-twin-token',
        status: 200,
      },
    ]);
  });

  it('lists firewall rules page by page', async () => {
    h = await startHarness([firewallAsset('a'), firewallAsset('b'), firewallAsset('c')]);
    const client = await h.cloud.firewalls();
    const names: string[] = [];
    for await (const fw of client.listAsync({ project: PROJECT_ID, maxResults: 2 }, { autoPaginate: false }))
      names.push(fw.name ?? '');
    expect(names).toEqual(['a', 'b', 'c']);
    const lists = h.twin.requests.filter((r) => r.path.endsWith('/global/firewalls'));
    expect(lists).toHaveLength(2);
    expect(lists[1]?.query['pageToken']).toEqual(expect.any(String));
  });

  it('applies a patch only when its operation completes, after PENDING → RUNNING → DONE, and then publishes it', async () => {
    h = await startHarness([firewallAsset(FW)]);
    const client = await h.cloud.firewalls();
    const ops = await h.cloud.globalOperations();
    const [lro] = await client.patch({
      project: PROJECT_ID,
      firewall: FW,
      firewallResource: { sourceRanges: ['35.235.240.0/20'] },
    });
    const started = operationOf(lro);
    expect(started).toMatchObject({
      kind: 'compute#operation',
      operationType: 'patch',
      status: 'PENDING',
      progress: 0,
      targetLink: `https://www.googleapis.com/compute/v1/projects/${PROJECT_ID}/global/firewalls/${FW}`,
    });
    expect(h.twin.requests.at(-1)).toMatchObject({
      method: 'PATCH',
      query: {},
      body: { sourceRanges: ['35.235.240.0/20'] },
    });
    expect(h.twin.getAsset(FW_NAME)?.resource?.data['sourceRanges']).toEqual(['0.0.0.0/0']);

    // The LRO wrapper names the operation by its numeric id; compute accepts either in the path.
    expect((lro as { name?: string }).name).toBe(started.id);
    const [running] = await ops.get({ project: PROJECT_ID, operation: String(started.id) });
    expect(running.status).toBe('RUNNING');
    expect(h.feed).toHaveLength(0);

    h.clock.advance(5000);
    const [done] = await ops.wait({ project: PROJECT_ID, operation: started.name ?? '' });
    expect(h.twin.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: `/compute/v1/projects/${PROJECT_ID}/global/operations/${started.name}/wait`,
    });
    expect(done.status).toBe('DONE');
    expect(done.progress).toBe(100);
    expect(done.error).toBeFalsy();
    const [after] = await client.get({ project: PROJECT_ID, firewall: FW });
    expect(after.sourceRanges).toEqual(['35.235.240.0/20']);
    expect(after.allowed).toHaveLength(2); // merge patch: the rest of the rule stays

    expect(h.feed).toHaveLength(1);
    const msg = h.feed[0] as Record<string, unknown>;
    expect(msg['window']).toEqual({ startTime: '2026-03-01T09:00:05.000Z' });
    expect(AssetSchema.parse(msg['asset']).resource?.data['sourceRanges']).toEqual(['35.235.240.0/20']);
    expect(AssetSchema.parse(msg['priorAsset']).resource?.data['sourceRanges']).toEqual(['0.0.0.0/0']);
  });

  it('ends a failOperation patch DONE with errors and leaves the rule unchanged', async () => {
    h = await startHarness([firewallAsset(FW)], {
      operationPolls: 1,
      faults: [{ match: { method: 'PATCH', pathPattern: /firewalls/ }, failOperation: true }],
    });
    const client = await h.cloud.firewalls();
    const ops = await h.cloud.globalOperations();
    const [lro] = await client.patch({
      project: PROJECT_ID,
      firewall: FW,
      firewallResource: { sourceRanges: ['10.0.0.0/8'] },
    });
    const [done] = await ops.wait({ project: PROJECT_ID, operation: operationOf(lro).name ?? '' });
    expect(done.status).toBe('DONE');
    expect(done.error?.errors?.[0]?.code).toBe('INTERNAL_ERROR');
    expect(done.httpErrorStatusCode).toBe(500);
    expect(h.twin.getAsset(FW_NAME)?.resource?.data['sourceRanges']).toEqual(['0.0.0.0/0']);
    expect(h.feed).toHaveLength(0);
  });

  it('rejects a patch with an invalid source range with 400, and unknown rules with 404', async () => {
    h = await startHarness([firewallAsset(FW)]);
    const client = await h.cloud.firewalls();
    const bad = await client
      .patch({ project: PROJECT_ID, firewall: FW, firewallResource: { sourceRanges: ['10.0.0.0/33'] } })
      .then(
        () => undefined,
        (e: unknown) => e as { code?: number; message?: string },
      );
    expect(bad?.code).toBe(400);
    expect(bad?.message).toContain('resource.sourceRanges.0');
    const missing = await client.get({ project: PROJECT_ID, firewall: 'nope' }).then(
      () => undefined,
      (e: unknown) => e as { code?: number },
    );
    expect(missing?.code).toBe(404);
  });
});
