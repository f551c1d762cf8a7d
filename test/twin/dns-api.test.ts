import { afterEach, describe, expect, it } from '@jest/globals';
import { AssetSchema } from '../../shared/model/asset.js';
import { policyAsset, policyPath, zoneAsset, zonePath } from './dns-fixtures.js';
import { PROJECT_ID, PROJECT_NUMBER, startHarness, type TwinHarness } from './twin-fixtures.js';

type Json = Record<string, unknown>;

describe('twin: Cloud DNS v1 managed zones, their operations, and DNS server policies', () => {
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

  /** The official client's authenticated request, as the actions make it. */
  const viaClient = async (method: string, uri: string, json?: Json): Promise<Json> => {
    const dns = await h.cloud.dns();
    return new Promise((resolve, reject) => {
      dns.request(
        { method, uri, projectId: PROJECT_ID, maxRetries: 0, ...(json ? { json } : {}) },
        (err: Error | null, body: unknown) => (err ? reject(err) : resolve(body as Json)),
      );
    });
  };

  it('renders CAI’s v1alpha2 zone in v1: lower-case enums, kind, the id as a string; by name, id or project number', async () => {
    h = await startHarness([zoneAsset('shop', { id: 4567890123 })]);
    const zone = await viaClient('GET', '/managedZones/shop');
    expect(h.twin.requests.at(-1)).toMatchObject({ method: 'GET', path: zonePath('shop') });
    expect(zone).toMatchObject({
      kind: 'dns#managedZone',
      id: '4567890123',
      visibility: 'public',
      dnssecConfig: {
        state: 'off',
        nonExistence: 'nsec3',
        defaultKeySpecs: [
          { algorithm: 'rsasha256', keyLength: 2048, keyType: 'keySigning' },
          { algorithm: 'rsasha256', keyLength: 1024, keyType: 'zoneSigning' },
        ],
      },
    });
    expect(
      (await call('GET', `/dns/v1/projects/${PROJECT_NUMBER}/managedZones/4567890123`)).body['name'],
    ).toBe('shop');
    const missing = await call('GET', zonePath('nope'));
    expect(missing).toEqual({
      status: 404,
      body: {
        error: expect.objectContaining({
          code: 404,
          status: 'NOT_FOUND',
          message: "The 'parameters.managedZone' resource named 'nope' does not exist.",
        }),
      },
    });
  });

  it('turns DNSSEC on through an operation pending → done, stored back in CAI’s spelling, one feed message', async () => {
    h = await startHarness([zoneAsset('shop')], { operationPolls: 2 });
    const op = await viaClient('PATCH', '/managedZones/shop', { dnssecConfig: { state: 'on' } });
    expect(h.twin.requests.at(-1)).toMatchObject({
      method: 'PATCH',
      path: zonePath('shop'),
      body: { dnssecConfig: { state: 'on' } },
    });
    expect(op).toMatchObject({ kind: 'dns#operation', status: 'pending', type: 'update' });
    expect((op['zoneContext'] as Json)['newValue']).toMatchObject({ dnssecConfig: { state: 'on' } });
    const opPath = `${zonePath('shop')}/operations/${String(op['id'])}`;
    expect((await call('GET', opPath)).body['status']).toBe('pending');
    expect(h.feed).toHaveLength(0);
    expect((await call('GET', opPath)).body['status']).toBe('done');
    expect(h.feed).toHaveLength(1);
    const msg = AssetSchema.parse((h.feed[0] as { asset: unknown }).asset);
    expect(msg.resource?.data['dnssecConfig']).toEqual({
      defaultKeySpecs: [
        { algorithm: 'RSASHA256', keyLength: 2048, keyType: 'KEY_SIGNING' },
        { algorithm: 'RSASHA256', keyLength: 1024, keyType: 'ZONE_SIGNING' },
      ],
      nonExistence: 'NSEC3',
      state: 'ON',
    });
    expect((await call('GET', zonePath('shop'))).body['dnssecConfig']).toMatchObject({ state: 'on' });
    expect((await call('GET', `${zonePath('shop')}/operations/999`)).status).toBe(404);
  });

  it('refuses what Cloud DNS refuses: upper-case enums, unknown fields, DNSSEC on a private zone, signed key specs, visibility', async () => {
    h = await startHarness([zoneAsset('shop'), zoneAsset('corp', { visibility: 'PRIVATE' })], {
      operationPolls: 0,
    });
    const upper = await call('PATCH', zonePath('shop'), { dnssecConfig: { state: 'ON' } });
    expect(upper.status).toBe(400);
    expect((upper.body['error'] as Json)['message']).toBe(
      "Invalid value for 'entity.managedZone.dnssecConfig.state': 'ON'",
    );
    const unknown = await call('PATCH', zonePath('shop'), { dnssec: { state: 'on' } });
    expect(unknown.status).toBe(400);
    const priv = await call('PATCH', zonePath('corp'), { dnssecConfig: { state: 'on' } });
    expect(priv.status).toBe(412);
    expect(priv.body['error']).toMatchObject({
      status: 'FAILED_PRECONDITION',
      message: "Precondition not met for 'DNSSEC can only be enabled on public zones.'",
      errors: [expect.objectContaining({ reason: 'conditionNotMet' })],
    });
    expect((await call('PATCH', zonePath('shop'), { dnssecConfig: { state: 'on' } })).status).toBe(200);
    const specs = await call('PATCH', zonePath('shop'), {
      dnssecConfig: {
        defaultKeySpecs: [{ algorithm: 'ecdsap256sha256', keyLength: 256, keyType: 'keySigning' }],
      },
    });
    expect(specs.status).toBe(400);
    expect(specs.body['error']).toMatchObject({
      message: "The field 'entity.managedZone.dnssecConfig.defaultKeySpecs' cannot be modified.",
      errors: [expect.objectContaining({ reason: 'immutableField' })],
    });
    expect((await call('PATCH', zonePath('shop'), { visibility: 'private' })).status).toBe(400);
    expect(h.feed).toHaveLength(1);
  });

  it('failOperation: the operation ends done (DNS operations have no error) and the zone is unchanged', async () => {
    h = await startHarness([zoneAsset('shop')], {
      operationPolls: 1,
      faults: [{ match: { method: 'PATCH' }, failOperation: true, times: 1 }],
    });
    const op = (await call('PATCH', zonePath('shop'), { dnssecConfig: { state: 'on' } })).body;
    const done = (await call('GET', `${zonePath('shop')}/operations/${String(op['id'])}`)).body;
    expect(done['status']).toBe('done');
    const ctx = done['zoneContext'] as Json;
    expect(ctx['newValue']).toEqual(ctx['oldValue']);
    expect(h.feed).toHaveLength(0);
    expect((await call('GET', zonePath('shop'))).body['dnssecConfig']).toMatchObject({ state: 'off' });
  });

  it('patches a policy with merge semantics and answers {header, policy}; 404 for an unknown one', async () => {
    h = await startHarness([policyAsset('inbound-fwd')]);
    const got = await viaClient('GET', '/policies/inbound-fwd');
    expect(got).toMatchObject({ kind: 'dns#policy', name: 'inbound-fwd', enableLogging: false });
    const res = await viaClient('PATCH', '/policies/inbound-fwd', { enableLogging: true });
    expect(h.twin.requests.at(-1)).toMatchObject({ method: 'PATCH', path: policyPath('inbound-fwd') });
    expect(res['header']).toEqual({ operationId: expect.any(String) });
    expect(res['policy']).toMatchObject({
      kind: 'dns#policy',
      enableLogging: true,
      enableInboundForwarding: true,
      networks: [expect.objectContaining({ networkUrl: expect.stringContaining('/networks/dev-vpc') })],
    });
    expect(h.feed).toHaveLength(1);
    expect((await call('GET', policyPath('nope'))).body['error']).toMatchObject({
      code: 404,
      message: "The 'parameters.policy' resource named 'nope' does not exist.",
    });
    expect((await call('PATCH', policyPath('inbound-fwd'), { enableLogging: 'yes' })).status).toBe(400);
  });

  it('plays a concurrent modification on zones and policies (a new description)', async () => {
    h = await startHarness([zoneAsset('shop'), policyAsset('inbound-fwd')], {
      faults: [{ match: { method: 'GET' }, concurrentModification: true, times: 2 }],
    });
    expect((await call('GET', zonePath('shop'))).body['description']).toMatch(/^changed by someone else/);
    expect((await call('GET', policyPath('inbound-fwd'))).body['description']).toMatch(
      /^changed by someone else/,
    );
    expect(h.feed).toHaveLength(2);
  });
});
