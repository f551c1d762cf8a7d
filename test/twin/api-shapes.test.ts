// The twin checks every request to a gax-served API against the methods and messages Google publishes in
// the official clients' protos (shared/twin/api-shapes.ts), so a twin route cannot accept what GCP rejects.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { checkGaxRequest, templateRegex, type ShapeRequest } from '../../shared/twin/api-shapes.js';
import { startHarness, type TwinHarness } from './twin-fixtures.js';

function req(method: string, path: string, body?: unknown, query = ''): ShapeRequest {
  return { method, path, query: new URLSearchParams(query), body };
}

describe('path templates', () => {
  it('binds variables, patterns and custom verbs', () => {
    const t = templateRegex('/v1/{resource=projects/*/locations/*/keyRings/*}:getIamPolicy');
    expect(t.fields).toEqual(['resource']);
    expect(t.regex.test('/v1/projects/p/locations/global/keyRings/r:getIamPolicy')).toBe(true);
    expect(t.regex.test('/v1/projects/p/locations/global/keyRings/r/cryptoKeys/k:getIamPolicy')).toBe(false);
    const op = templateRegex('/v3/{name=operations/**}');
    expect(op.regex.test('/v3/operations/a/b')).toBe(true);
    const c = templateRegex('/compute/v1/projects/{project}/zones/{zone}/instances/{instance}/setMetadata');
    expect(c.fields).toEqual(['project', 'zone', 'instance']);
  });
});

describe('requests as Google publishes them', () => {
  it.each([
    [
      'compute setMetadata',
      req('POST', '/compute/v1/projects/p/zones/z/instances/i/setMetadata', {
        fingerprint: 'x',
        items: [{ key: 'k', value: 'v' }],
      }),
    ],
    [
      'compute firewall patch',
      req('PATCH', '/compute/v1/projects/p/global/firewalls/fw', { logConfig: { enable: true } }),
    ],
    [
      'Cloud SQL patch with enums as numbers',
      req(
        'PATCH',
        '/v1/projects/p/instances/i',
        { settings: { settingsVersion: '3', ipConfiguration: { sslMode: 3, requireSsl: false } } },
        '$alt=json;enum-encoding=int',
      ),
    ],
    [
      'Resource Manager setIamPolicy with a mask',
      req('POST', '/v3/projects/p:setIamPolicy', {
        policy: {
          version: 3,
          etag: 'BwX=',
          auditConfigs: [{ service: 'allServices', auditLogConfigs: [{ logType: 'DATA_READ' }] }],
        },
        updateMask: 'auditConfigs',
      }),
    ],
    ['Resource Manager operation', req('GET', '/v3/operations/cf.123')],
    [
      'KMS getIamPolicy as KMS publishes it',
      req(
        'GET',
        '/v1/projects/p/locations/global/keyRings/r/cryptoKeys/k:getIamPolicy',
        undefined,
        'options.requestedPolicyVersion=3',
      ),
    ],
    [
      'KMS rotation patch',
      req(
        'PATCH',
        '/v1/projects/p/locations/global/keyRings/r/cryptoKeys/k',
        { rotationPeriod: '7776000s', nextRotationTime: '2026-12-01T00:00:00Z' },
        'updateMask=rotationPeriod,nextRotationTime',
      ),
    ],
    [
      'Secret Manager getIamPolicy',
      req('GET', '/v1/projects/p/secrets/s:getIamPolicy', undefined, 'options.requestedPolicyVersion=3'),
    ],
    [
      'GKE setLegacyAbac',
      req('POST', '/v1/projects/p/locations/l/clusters/c:setLegacyAbac', { enabled: false }),
    ],
    ['Service Usage enable', req('POST', '/v1/projects/123/services/cloudasset.googleapis.com:enable', {})],
    [
      'Asset listAssets',
      req(
        'GET',
        '/v1/organizations/1/assets',
        undefined,
        'assetTypes=storage.googleapis.com%2FBucket&contentType=RESOURCE&pageSize=100',
      ),
    ],
  ])('accepts %s', (_title, r) => {
    expect(checkGaxRequest(r)).toMatchObject({ ok: true });
  });
});

describe('requests GCP rejects', () => {
  it.each([
    [
      'an unknown field',
      req('PATCH', '/compute/v1/projects/p/global/firewalls/fw', { logConfig: { enabled: true } }),
      /unknown field "enabled" in google\.cloud\.compute\.v1\.FirewallLogConfig/,
    ],
    [
      'a field of the wrong type',
      req('PATCH', '/compute/v1/projects/p/global/firewalls/fw', { priority: 'high' }),
      /body\.priority: expected an integer/,
    ],
    [
      'an enum value that does not exist',
      req('PATCH', '/v1/projects/p/instances/i', { settings: { ipConfiguration: { sslMode: 'ENCRYPTED' } } }),
      /not a value of enum google\.cloud\.sql\.v1\.IpConfiguration\.SslMode/,
    ],
    [
      'a misspelt list field',
      req('POST', '/v3/projects/p:setIamPolicy', { policy: { bindings: [{ role: 'r', member: 'user:a' }] } }),
      /unknown field "member" in google\.iam\.v1\.Binding/,
    ],
    [
      'an unknown query parameter',
      req(
        'POST',
        '/compute/v1/projects/p/zones/z/instances/i/setMetadata',
        { fingerprint: 'x' },
        'update_mask=items',
      ),
      /unknown query parameter "update_mask"/,
    ],
    [
      'a body on a method without one',
      req('GET', '/v1/projects/p/secrets/s:getIamPolicy', { options: {} }),
      /takes no request body/,
    ],
    [
      'a malformed duration',
      req(
        'PATCH',
        '/v1/projects/p/locations/global/keyRings/r/cryptoKeys/k',
        { rotationPeriod: '90d' },
        'updateMask=rotationPeriod',
      ),
      /expected a duration/,
    ],
  ])('refuses %s', (_title, r, message) => {
    const v = checkGaxRequest(r);
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.unknownMethod).toBe(false);
      expect(v.reason).toMatch(message);
    }
  });

  it.each([
    // What the KMS client sends for getIamPolicy in REST mode (gax's generic IAM mixin): KMS publishes GET.
    [
      'KMS getIamPolicy as POST',
      req('POST', '/v1/projects/p/locations/global/keyRings/r/cryptoKeys/k:getIamPolicy', { resource: 'x' }),
    ],
    ['a path no API has', req('GET', '/v1/projects/p/widgets/w')],
    [
      'a verb the path does not take',
      req('DELETE', '/compute/v1/projects/p/zones/z/instances/i/setMetadata'),
    ],
  ])('does not know %s', (_title, r) => {
    expect(checkGaxRequest(r)).toMatchObject({ ok: false, unknownMethod: true });
  });
});

describe('the twin applies the check at its front door', () => {
  let h: TwinHarness;
  beforeAll(async () => {
    h = await startHarness([]);
  });
  afterAll(async () => {
    await h.close();
  });

  async function call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${h.twin.url}${path}`, {
      method,
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: await res.json() };
  }

  it("answers a malformed request 400 INVALID_ARGUMENT in Google's error shape, before any route runs", async () => {
    const r = await call('PATCH', '/compute/v1/projects/p/global/firewalls/fw', {
      logConfig: { enabled: true },
    });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
  });

  it('answers an unpublished method 404, as Google does', async () => {
    const r = await call('POST', '/v1/projects/p/locations/global/keyRings/r/cryptoKeys/k:getIamPolicy', {});
    expect(r.status).toBe(404);
  });

  it('lets the KMS IAM client through: it sends the GET KMS publishes', async () => {
    const kms = await h.cloud.kmsIam();
    await expect(kms.getIamPolicy('projects/p/locations/global/keyRings/r/cryptoKeys/k')).rejects.toThrow();
    const sent = h.twin.requests.at(-1);
    expect(sent).toMatchObject({
      method: 'GET',
      path: '/v1/projects/p/locations/global/keyRings/r/cryptoKeys/k:getIamPolicy',
      query: { 'options.requestedPolicyVersion': '3' },
    });
    expect(
      checkGaxRequest(req('GET', sent?.path ?? '', undefined, 'options.requestedPolicyVersion=3')),
    ).toMatchObject({
      ok: true,
    });
  });
});
