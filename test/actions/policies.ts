import path from 'node:path';
import { beforeAll, expect } from '@jest/globals';
import { getAction } from '../../shared/actions/registry.js';
import type { RemediationAction } from '../../shared/actions/types.js';
import type { Asset } from '../../shared/model/asset.js';
import type { CompiledPolicy } from '../../shared/policy/compiled-policy.js';
import { loadPolicies, type PolicySet } from '../../shared/policy/policy-set.js';
import { projectRoot } from '../../shared/util/project-root.js';

/** The twin's clock starts here, so time-based policies (key age, rotation) judge what the actions see. */
const NOW = '2026-03-01T09:00:00.000Z';

// Module state is per test file (jest gives each file its own registry): the contract and the file's own
// tests share one load.
let loading: Promise<PolicySet> | undefined;
let loaded: PolicySet | undefined;

/** Loads the repository's policies before the tests of the calling file run. */
export function usePolicies(): void {
  beforeAll(async () => {
    loading ??= loadPolicies(path.join(projectRoot(), 'policies'));
    loaded = await loading;
  });
}

export function policySet(): PolicySet {
  if (!loaded) throw new Error('usePolicies() must be called at the top of the test file');
  return loaded;
}

/** What the policy says of `asset`: violation, pass, or the evaluation error it ran into. */
export function verdict(policyId: string, asset: Asset): string {
  const r = policySet()
    .evaluate(asset, { now: NOW })
    .find((x) => x.policy.def.id === policyId);
  if (!r) throw new Error(`policy ${policyId} did not run on ${asset.assetType}`);
  if (r.verdict.kind === 'error') return `error: ${r.verdict.message}`;
  return r.verdict.kind;
}

/** The policies whose remediation is the action `id`. */
export function policiesNaming(id: string): CompiledPolicy[] {
  return policySet().policies.filter(
    (p) =>
      p.def.remediation !== undefined && 'action' in p.def.remediation && p.def.remediation.action === id,
  );
}

/** The action is registered as `expected` says; returns the policies that name it, of which there is one at least. */
export function expectRegistered(
  id: string,
  expected: Partial<Pick<RemediationAction, 'risk' | 'reversible' | 'assetTypes'>>,
): CompiledPolicy[] {
  expect(getAction(id)).toMatchObject({ id, ...expected });
  const naming = policiesNaming(id);
  expect(naming.length).toBeGreaterThan(0);
  return naming;
}
