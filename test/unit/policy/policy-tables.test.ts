import { describe, expect, it } from '@jest/globals';
import { mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadPolicies } from '../../../shared/policy/policy-set.js';
import { runPolicyTables } from '../../../shared/policy/table-tests.js';
import { projectRoot } from '../../../shared/util/project-root.js';

const POLICIES = path.join(projectRoot(), 'policies');

describe('the shipped policies', () => {
  it('all load', async () => {
    const set = await loadPolicies(POLICIES);
    expect(set.errors).toEqual([]);
    expect(set.policies.length).toBeGreaterThanOrEqual(3);
  });

  it('pass every table test beside them, and every policy has one', async () => {
    const set = await loadPolicies(POLICIES);
    const results = await runPolicyTables(POLICIES, set);
    expect(results.filter((r) => !r.ok).map((r) => r.detail)).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(20);
  });
});

describe('a bad policy', () => {
  const good = `id: good-one
title: A good policy here
layer: data
category: security
severity: low
assetTypes: [storage.googleapis.com/Bucket]
condition: 'true'
remediation: { recommendation: "do the right thing by hand" }
`;

  async function dirWith(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'warden-policies-'));
    for (const [name, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await writeFile(path.join(dir, name), text);
    }
    return dir;
  }

  it('is reported with file and line, and the others still load', async () => {
    const dir = await dirWith({
      'good.yaml': good,
      'bad.yaml': good.replace('id: good-one', 'id: bad-one').replace('severity: low', 'severity: extreme'),
    });
    const set = await loadPolicies(dir);
    expect(set.policies.map((p) => p.def.id)).toEqual(['good-one']);
    expect(set.errors).toHaveLength(1);
    expect(set.errors[0]).toMatchObject({ line: 5 });
    expect(set.errors[0]!.file).toMatch(/bad\.yaml$/);
    expect(set.errors[0]!.message).toMatch(/severity/);
  });

  it('with a CEL syntax error points at the condition line', async () => {
    const dir = await dirWith({
      'cel.yaml': good.replace("condition: 'true'", 'condition: resource.data.x =='),
    });
    const set = await loadPolicies(dir);
    expect(set.policies).toHaveLength(0);
    expect(set.errors[0]).toMatchObject({ line: 7 });
    expect(set.errors[0]!.message).toMatch(/^condition:/);
  });

  it('with broken YAML is reported, not thrown', async () => {
    const dir = await dirWith({ 'yaml.yaml': 'id: [unclosed\n' });
    const set = await loadPolicies(dir);
    expect(set.errors).toHaveLength(1);
    expect(set.errors[0]!.line).toBeGreaterThanOrEqual(1);
  });

  it('with a duplicate id keeps the first', async () => {
    const dir = await dirWith({ 'a.yaml': good, 'b.yaml': good });
    const set = await loadPolicies(dir);
    expect(set.policies).toHaveLength(1);
    expect(set.errors[0]!.message).toMatch(/duplicate policy id good-one/);
  });

  it('a condition that fails on odd data is an error verdict, not a finding', async () => {
    const dir = await dirWith({
      'g.yaml': good.replace("condition: 'true'", 'condition: resource.data.missing.deep == 1'),
    });
    const set = await loadPolicies(dir);
    const [r] = set.evaluate(
      {
        name: '//storage.googleapis.com/b',
        assetType: 'storage.googleapis.com/Bucket',
        ancestors: [],
        resource: { data: {} },
      },
      { now: '2026-01-01T00:00:00Z' },
    );
    expect(r!.verdict.kind).toBe('error');
  });
});
