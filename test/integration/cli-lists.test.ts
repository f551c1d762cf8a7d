import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../shared/util/project-root.js';

const run = promisify(execFile);
const ROOT = projectRoot();
const warden = (...args: string[]) =>
  run(process.execPath, [path.join(ROOT, 'bin/warden.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, METADATA_SERVER_DETECTION: 'none' },
  });

describe('the listing commands', () => {
  it('warden policy list --format json lists every policy with what a platform team needs to judge it', async () => {
    const { stdout } = await warden('policy', 'list', '--format', 'json');
    const policies = JSON.parse(stdout) as Array<Record<string, unknown>>;
    expect(policies.length).toBeGreaterThanOrEqual(80);
    for (const p of policies) {
      expect(Object.keys(p).sort()).toEqual([
        'assetTypes',
        'category',
        'id',
        'layer',
        'references',
        'remediation',
        'severity',
        'title',
      ]);
      const r = p['remediation'] as Record<string, unknown>;
      expect(
        r['kind'] === 'action'
          ? typeof r['action'] === 'string' && typeof r['risk'] === 'string'
          : typeof r['text'] === 'string',
      ).toBe(true);
    }
    const layers = new Set(policies.map((p) => p['layer']));
    expect([...layers].sort()).toEqual(['data', 'identity', 'network', 'operations', 'organization']);
  }, 60_000);

  it('warden actions list --format json gives every action its risk, reversibility and the policies it fixes', async () => {
    const { stdout } = await warden('actions', 'list', '--format', 'json');
    const actions = JSON.parse(stdout) as Array<{
      id: string;
      risk: string;
      reversible: boolean;
      policies: string[];
    }>;
    expect(actions.length).toBeGreaterThanOrEqual(3);
    for (const a of actions) {
      expect(['low', 'medium', 'high']).toContain(a.risk);
      expect(typeof a.reversible).toBe('boolean');
      expect(a.policies.length).toBeGreaterThanOrEqual(1);
    }
    expect(actions.find((a) => a.id === 'storage.bucket.enforce-public-access-prevention')?.policies).toEqual(
      ['storage-bucket-public'],
    );
  }, 60_000);

  it('warden plan shows, for each open finding, the action, the decision with its reasons and the exact calls, calling nothing', async () => {
    const { stdout } = await warden(
      'plan',
      '--assets',
      path.join(ROOT, 'examples/landing-zone'),
      '--format',
      'json',
      '--now',
      '2026-11-29T00:00:00Z',
    );
    const fixes = JSON.parse(stdout) as Array<{
      policyId: string;
      resourceName: string;
      action: string | null;
      decision: { kind: string; risk: string; factors: Array<{ factor: string }> } | null;
      plan: { requests: Array<{ method: string; url: string; body?: unknown }> } | null;
      note: string | null;
    }>;
    const dev = fixes.find(
      (f) => f.policyId === 'storage-bucket-public' && f.resourceName.endsWith('/acme-dev-web-test-uploads'),
    )!;
    expect(dev.decision).toMatchObject({ kind: 'auto', risk: 'low' });
    expect(dev.plan!.requests.map((r) => `${r.method} ${r.url.split('?')[0]}`)).toContain(
      'PATCH https://storage.googleapis.com/storage/v1/b/acme-dev-web-test-uploads',
    );
    const prod = fixes.find(
      (f) =>
        f.policyId === 'storage-bucket-public' && f.resourceName.endsWith('/acme-prod-web-static-assets'),
    )!;
    expect(prod.decision!.risk).toBe('medium');
    expect(prod.decision!.factors.map((x) => x.factor).join(' ')).toMatch(/production environment/);
    const recommendOnly = fixes.find((f) => f.policyId === 'sql-instance-public-ip')!;
    expect(recommendOnly).toMatchObject({ action: null, decision: null, plan: null });
    expect(recommendOnly.note).toMatch(/^recommend only/);
  }, 60_000);
});
