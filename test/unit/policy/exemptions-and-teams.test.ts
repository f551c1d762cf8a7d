import { describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Asset } from '../../../shared/model/asset.js';
import { loadPolicies } from '../../../shared/policy/policy-set.js';

const policy = (id: string) => `id: ${id}
title: Bucket has the word bad in its name
layer: data
category: compliance
severity: low
assetTypes: [storage.googleapis.com/Bucket]
condition: asset.name.contains("bad")
remediation: { recommendation: "rename the bucket by copying it" }
`;

async function policyDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'warden-exempt-'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  return dir;
}

const bucket = (
  name: string,
  labels: Record<string, string> = {},
  ancestors = ['projects/1', 'folders/10', 'organizations/9'],
): Asset => ({
  name: `//storage.googleapis.com/${name}`,
  assetType: 'storage.googleapis.com/Bucket',
  ancestors,
  resource: { data: { name, labels } },
});

const NOW = '2026-06-01T00:00:00Z';

describe('exemptions', () => {
  it('a warden-exempt label suppresses all policies or the ids it names, joined with __', async () => {
    const set = await loadPolicies(await policyDir({ 'a.yaml': policy('bad-a'), 'b.yaml': policy('bad-b') }));
    const all = set.evaluate(bucket('bad-1', { 'warden-exempt': 'all' }), { now: NOW });
    expect(all.map((r) => r.exemption?.source)).toEqual(['label', 'label']);
    const one = set.evaluate(bucket('bad-2', { 'warden-exempt': 'bad-b__other' }), { now: NOW });
    expect(one.map((r) => [r.policy.def.id, r.exemption?.source ?? null])).toEqual([
      ['bad-a', null],
      ['bad-b', 'label'],
    ]);
  });

  it('an exception applies by name pattern until its expiry day, then is reported as expired', async () => {
    const set = await loadPolicies(
      await policyDir({
        'a.yaml': policy('bad-a'),
        'exceptions.yaml': `exceptions:
  - resource: "//storage.googleapis.com/bad-legacy-*"
    policies: [bad-a]
    owner: data-team@example.com
    reason: migration to the new bucket layout in Q3
    expires: 2026-06-30
`,
      }),
    );
    expect(set.errors).toEqual([]);
    const [during] = set.evaluate(bucket('bad-legacy-7'), { now: NOW });
    expect(during?.exemption).toMatchObject({
      source: 'exception',
      owner: 'data-team@example.com',
      expires: '2026-06-30',
    });
    const [lastDay] = set.evaluate(bucket('bad-legacy-7'), { now: '2026-06-30T23:59:59Z' });
    expect(lastDay?.exemption).toBeDefined();
    const [after] = set.evaluate(bucket('bad-legacy-7'), { now: '2026-07-01T00:00:00Z' });
    expect(after?.exemption).toBeUndefined();
    expect(set.exemptions.expired('2026-07-01T00:00:00Z')).toEqual([
      {
        resource: '//storage.googleapis.com/bad-legacy-*',
        policies: ['bad-a'],
        owner: 'data-team@example.com',
        expires: '2026-06-30',
        line: 2,
      },
    ]);
    const [other] = set.evaluate(bucket('bad-other'), { now: NOW });
    expect(other?.exemption).toBeUndefined();
  });

  it('an exception without owner or reason is a load error with its line', async () => {
    const set = await loadPolicies(
      await policyDir({
        'a.yaml': policy('bad-a'),
        'exceptions.yaml':
          'exceptions:\n  - resource: "//x/*"\n    policies: [all]\n    expires: 2026-01-01\n',
      }),
    );
    expect(set.errors.map((e) => `${path.basename(e.file)}:${e.line}`)).toContain('exceptions.yaml:2');
  });
});

describe('team rules', () => {
  it('apply only under the folders or projects of the team', async () => {
    const set = await loadPolicies(
      await policyDir({
        'a.yaml': policy('bad-a'),
        'teams/payments/team.yaml': 'team: payments\nscope: [folders/10]\nowners: [payments@example.com]\n',
        'teams/payments/bad-payments.yaml': policy('bad-payments'),
      }),
    );
    expect(set.errors).toEqual([]);
    const inside = set.evaluate(bucket('bad-1'), { now: NOW }).map((r) => r.policy.def.id);
    const outside = set
      .evaluate(bucket('bad-1', {}, ['projects/2', 'folders/20', 'organizations/9']), { now: NOW })
      .map((r) => r.policy.def.id);
    expect(inside).toEqual(['bad-a', 'bad-payments']);
    expect(outside).toEqual(['bad-a']);
  });

  it('a team folder without team.yaml is reported and its rules are not loaded anywhere', async () => {
    const set = await loadPolicies(
      await policyDir({ 'teams/orphans/bad-orphan.yaml': policy('bad-orphan') }),
    );
    expect(set.policies).toHaveLength(0);
    expect(set.errors[0]?.message).toMatch(/no team.yaml/);
  });
});
