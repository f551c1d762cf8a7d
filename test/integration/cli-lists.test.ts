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
});
