import { beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { withoutNullFields } from '../../../shared/contracts/cai-canonical.js';
import { decodeFeedMessage } from '../../../shared/contracts/cai.js';
import type { Asset } from '../../../shared/model/asset.js';
import { loadPolicies, type PolicySet } from '../../../shared/policy/policy-set.js';
import { parseRecordText } from '../../../shared/scan/parse-record.js';
import { projectRoot } from '../../../shared/util/project-root.js';

describe('withoutNullFields', () => {
  it('drops null-valued keys at any depth, keeps null list elements, and copies only what changes', () => {
    const clean = { a: 1, b: { c: [1, { d: 'x' }] } };
    expect(withoutNullFields(clean)).toBe(clean);
    const dirty = { a: null, b: { c: [null, { d: null, e: 2 }], f: 'x' }, g: clean };
    const out = withoutNullFields(dirty) as typeof dirty;
    expect(out).toEqual({ b: { c: [null, { e: 2 }], f: 'x' }, g: clean });
    expect(out.g).toBe(clean);
    expect(dirty.a).toBeNull(); // the input is not changed
  });

  it('keeps a "__proto__" key as a key', () => {
    const out = withoutNullFields(JSON.parse('{"x": null, "__proto__": {"polluted": true}}')) as object;
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });
});

/*
 * An explicit null is an absent field (proto3 JSON; Google's APIs omit them). Hand-written or message-object
 * exports carry them; a policy must judge them as it judges the absent field, never fail on them.
 */
describe('explicit nulls in resource.data are judged as absent fields, on the scan and the feed paths', () => {
  let policies: PolicySet;
  beforeAll(async () => {
    policies = await loadPolicies(path.join(projectRoot(), 'policies'));
  });

  const firewall = (extra: Record<string, unknown>) => ({
    name: '//compute.googleapis.com/projects/p/global/firewalls/fw',
    asset_type: 'compute.googleapis.com/Firewall',
    ancestors: ['projects/1', 'organizations/1'],
    resource: {
      version: 'v1',
      data: {
        name: 'fw',
        direction: 'INGRESS',
        sourceRanges: ['10.0.0.0/8'],
        allowed: [{ IPProtocol: 'tcp', ports: ['443'] }],
        ...extra,
      },
    },
  });
  const sql = (ip: Record<string, unknown>) => ({
    name: '//cloudsql.googleapis.com/projects/p/instances/db',
    asset_type: 'sqladmin.googleapis.com/Instance',
    ancestors: ['projects/1', 'organizations/1'],
    resource: {
      version: 'v1beta4',
      data: { name: 'db', databaseVersion: 'POSTGRES_15', settings: { ipConfiguration: ip } },
    },
  });

  function verdicts(asset: Asset): Record<string, string> {
    return Object.fromEntries(
      policies.evaluate(asset, { now: '2026-11-29T00:00:00Z' }).map((r) => [r.policy.def.id, r.verdict.kind]),
    );
  }
  function viaScan(record: object): Record<string, string> {
    const parsed = parseRecordText(JSON.stringify(record));
    if (!parsed.ok) throw new Error(parsed.reason);
    return verdicts(parsed.asset);
  }
  function viaFeed(record: ReturnType<typeof firewall>): Record<string, string> {
    const { asset_type: assetType, ...rest } = record;
    const decoded = decodeFeedMessage(
      JSON.stringify({
        asset: { ...rest, assetType, updateTime: '2026-11-02T10:00:00Z' },
        priorAssetState: 'PRESENT',
      }),
    );
    if (decoded.kind !== 'change' || decoded.change.kind !== 'upsert')
      throw new Error(JSON.stringify(decoded));
    return verdicts(decoded.change.asset);
  }

  it('a firewall with logConfig, disabled and targetTags null', () => {
    const absent = viaScan(firewall({}));
    expect(absent['firewall-logging-disabled']).toBe('violation');
    const nulls = { logConfig: null, disabled: null, targetTags: null, description: null };
    expect(viaScan(firewall(nulls))).toEqual(absent);
    expect(viaFeed(firewall(nulls))).toEqual(absent);
    expect(Object.values(absent)).not.toContain('error');
  });

  it('a Cloud SQL instance with sslMode and requireSsl null', () => {
    const absent = viaScan(sql({ ipv4Enabled: true }));
    expect(absent['sql-ssl-not-enforced']).toBe('violation');
    expect(
      viaScan(sql({ ipv4Enabled: true, sslMode: null, requireSsl: null, authorizedNetworks: null })),
    ).toEqual(absent);
    expect(Object.values(absent)).not.toContain('error');
  });
});
