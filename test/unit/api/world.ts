import { MemoryChat } from '../../../shared/adapters/chat-memory.js';
import { apiTokenAuthenticator, type Authenticator } from '../../../shared/api/auth.js';
import type { ApiDeps } from '../../../shared/api/router.js';
import { buildApprovalDeps } from '../../../shared/approvals/deps.js';
import { openRequest } from '../../../shared/approvals/open-request.js';
import { findingId } from '../../../shared/engine/repository.js';
import type { Action } from '../../../shared/model/action.js';
import type { Asset } from '../../../shared/model/asset.js';
import type { Risk } from '../../../shared/model/policy.js';
import { ManualClock } from '../../../shared/ports/clock.js';
import type { EngineConfig } from '../../../shared/roots/build-deps.js';
import { recordingCore, type Published } from '../../support/recording-core.js';
import { rules } from '../approvals/fixtures.js';

export const TOKEN = 'local-token-0123456789abcdef';
export const ORG = 'organizations/123456789012';
/** The example landing zone's hierarchy: prod and non-prod folders, web and data projects. */
export const PROJECTS = {
  devWeb: { name: 'projects/558120439716', folder: 'folders/519306284417' },
  devData: { name: 'projects/558120440032', folder: 'folders/519306284417' },
  prodWeb: { name: 'projects/301846275019', folder: 'folders/284715930162' },
  prodData: { name: 'projects/301846275287', folder: 'folders/284715930162' },
} as const;
const POLICY = 'storage-bucket-uniform-access-disabled';

export interface ApiWorld {
  api: ApiDeps;
  clock: ManualClock;
  published: Published;
  seed(opts: {
    bucket: string;
    project: keyof typeof PROJECTS;
    risk: Risk;
    state?: Action['state'];
    requester?: string[];
    extra?: Partial<Action>;
  }): Promise<Action>;
  close(): Promise<void>;
}

export async function apiWorld(config: EngineConfig, authenticate?: Authenticator): Promise<ApiWorld> {
  const clock = new ManualClock('2026-11-01T10:00:00.000Z');
  const { core, published, close } = await recordingCore(config, clock, [
    'sweeps',
    'actions',
    'outcomes',
    'rollbacks',
  ]);
  const approvals = buildApprovalDeps({
    core,
    rules: rules(),
    chat: new MemoryChat({ 'web-approvals': 'C0WEB' }),
  });
  const at = clock.now().toISOString();
  for (const p of Object.values(PROJECTS)) {
    const project: Asset = {
      name: `//cloudresourcemanager.googleapis.com/${p.name}`,
      assetType: 'cloudresourcemanager.googleapis.com/Project',
      ancestors: [p.name, p.folder, ORG],
      resource: { data: { projectNumber: p.name.slice(9) } },
    };
    await core.repo.applyAssetChange(
      { kind: 'upsert', asset: project, contentType: 'RESOURCE', changeTime: at },
      'test',
    );
  }
  let n = 0;
  return {
    api: { approvals, authenticate: authenticate ?? apiTokenAuthenticator(TOKEN), mode: 'embedded' },
    clock,
    published,
    async seed({ bucket, project, risk, state = 'awaiting_approval', requester, extra }) {
      n += 1;
      const p = PROJECTS[project];
      const asset: Asset = {
        name: `//storage.googleapis.com/${bucket}`,
        assetType: 'storage.googleapis.com/Bucket',
        ancestors: [p.name, p.folder, ORG],
        resource: { data: { name: bucket } },
      };
      const now = clock.now().toISOString();
      const applied = await core.repo.applyAssetChange(
        { kind: 'upsert', asset, contentType: 'RESOURCE', changeTime: now },
        'test',
      );
      if (applied.status !== 'applied') throw new Error('asset not stored');
      const policy = core.policies.get(POLICY);
      if (!policy) throw new Error(`${POLICY} is not loaded`);
      await core.repo.recordVerdicts({
        asset,
        version: applied.version,
        results: [{ policy, verdict: { kind: 'violation', evidence: {} } }],
        source: 'sweep',
        actor: 'test',
      });
      const action: Action = {
        id: `action-${n}-${bucket}`,
        findingId: findingId(POLICY, asset.name),
        policyId: POLICY,
        actionType: 'storage.bucket.enable-uniform-access',
        resourceName: asset.name,
        assetType: asset.assetType,
        project: p.name,
        assetVersion: applied.version,
        // Born in the state its decision names; later states are reached through legal transitions below.
        state: state === 'awaiting_approval' ? 'awaiting_approval' : 'planned',
        decision: {
          kind: state === 'awaiting_approval' ? 'approve' : 'auto',
          risk,
          factors: [{ factor: 'base risk', effect: risk }],
          dryRun: false,
        },
        plan: { description: 'Enable uniform bucket-level access', requests: [] },
        reversible: true,
        step: 'none',
        beforeState: null,
        afterState: null,
        error: null,
        attempts: 0,
        replans: 0,
        requestedBy: null,
        leaseUntil: null,
        createdAt: now,
        updatedAt: now,
        revision: 0,
      };
      const { step, beforeState, afterState, ...rest } = extra ?? {};
      await core.repo.createAction({ ...action, ...rest }, { actor: 'assess-risk', reason: 'test' });
      const path: Action['state'][] = state === 'verified' ? ['executing', 'succeeded', 'verified'] : [];
      for (const to of path)
        await core.repo.transitionAction(action.id, {
          from: ['planned', 'executing', 'succeeded'],
          patch: {
            state: to,
            ...(to === 'verified'
              ? { step: step ?? 'verified', beforeState: beforeState ?? null, afterState: afterState ?? null }
              : {}),
          },
          audit: { actor: 'test', reason: `seeded ${to}` },
        });
      if (state === 'awaiting_approval') await openRequest(approvals, action.id, requester);
      clock.advance(1000);
      return (await core.repo.getAction(action.id))!;
    },
    close,
  };
}
