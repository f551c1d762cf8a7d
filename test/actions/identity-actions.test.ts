import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { parse as parseYaml } from 'yaml';
import {
  isHumanMember,
  PROJECT_LEVEL_SA_ROLES,
  removeProjectLevelServiceAccountUserRoles,
} from '../../shared/actions/iam-project-remove-project-level-service-account-user-roles.js';
import {
  isAdminRole,
  isUserManagedServiceAccount,
  removeServiceAccountAdminRoles,
} from '../../shared/actions/resourcemanager-iam-remove-service-account-admin-roles.js';
import { projectAddRequiredLabels } from '../../shared/actions/resourcemanager-project-add-required-labels.js';
import { enableDataAccessAuditLogs } from '../../shared/actions/resourcemanager-project-enable-data-access-audit-logs.js';
import { DEFAULT_ACTION_SETTINGS, type RemediationAction } from '../../shared/actions/types.js';
import { AssetSchema, type Asset, type IamPolicy } from '../../shared/model/asset.js';
import { projectRoot } from '../../shared/util/project-root.js';
import {
  FOLDER,
  folderAsset,
  ORG,
  organizationAsset,
  PROJECT_ID,
  PROJECT_NUMBER,
  projectAsset,
  projectPolicy,
} from '../twin/identity-fixtures.js';
import { startHarness, type TwinHarness } from '../twin/twin-fixtures.js';
import { actionContext, applyFix, rejection } from './action-context.js';
import {
  basicsOf,
  describeActionContract,
  iamEtagConflict,
  request,
  sameData,
  type ActionContract,
  type CaseBasics,
} from './action-contract.js';
import { expectRegistered, verdict } from './policies.js';

const RM = 'https://cloudresourcemanager.googleapis.com';
const PROJECT = `projects/${PROJECT_NUMBER}`;
const LOG_TYPE_NAMES = ['LOG_TYPE_UNSPECIFIED', 'ADMIN_READ', 'DATA_WRITE', 'DATA_READ'];
const CI_DEPLOYER = `serviceAccount:ci-deployer@${PROJECT_ID}.iam.gserviceaccount.com`;
const TOKEN_CREATOR_CONDITION = {
  title: 'temp',
  expression: 'request.time < timestamp("2027-01-01T00:00:00Z")',
};

type Data = Record<string, unknown>;

interface Case extends CaseBasics {
  /** The read the action guards with (a concurrent change is played on it). */
  read: { method: string; path: string };
  write: { method: string; path: string };
  /** The part of the asset the fix changes. */
  field: (a: Asset | undefined) => unknown;
  fixed: unknown;
  /** 'etag': the write carries the IAM etag (409 ABORTED on a concurrent change); 'reread': a guarded write. */
  guard: 'etag' | 'reread';
}

/** The grants `flag` matches, as "role member" strings. */
function grants(a: Asset | undefined, flag: (role: string, member: string) => boolean): string[] {
  return (a?.iamPolicy?.bindings ?? []).flatMap((b) =>
    b.members.filter((m) => flag(b.role, m)).map((m) => `${b.role} ${m}`),
  );
}
const saUserGrants = (a: Asset | undefined) =>
  grants(a, (role, m) => PROJECT_LEVEL_SA_ROLES.includes(role) && isHumanMember(m));
const adminGrants = (a: Asset | undefined) =>
  grants(a, (role, m) => isAdminRole(role) && isUserManagedServiceAccount(m));

function saUserPolicy(): IamPolicy {
  const base = projectPolicy();
  return {
    ...base,
    version: 3,
    bindings: [
      ...base.bindings,
      {
        role: 'roles/iam.serviceAccountUser',
        members: ['user:dev@example.com', `serviceAccount:deployer@${PROJECT_ID}.iam.gserviceaccount.com`],
      },
      {
        role: 'roles/iam.serviceAccountTokenCreator',
        members: ['group:team-web@example.com'],
        condition: TOKEN_CREATOR_CONDITION,
      },
    ],
  };
}

function auditPolicy(): IamPolicy {
  return projectPolicy({
    auditConfigs: [
      { service: 'allServices', auditLogConfigs: [{ logType: 'DATA_READ' }] },
      { service: 'storage.googleapis.com', auditLogConfigs: [{ logType: 'DATA_WRITE' }] },
    ],
  });
}

const iamRead = { method: 'POST', path: `/v3/${PROJECT}:getIamPolicy` };
const iamWrite = { method: 'POST', path: `/v3/${PROJECT}:setIamPolicy` };

const CASES: Case[] = [
  {
    title: 'no audit config at all (landing zone row 29)',
    action: enableDataAccessAuditLogs as RemediationAction,
    policyIds: ['project-data-access-audit-logs-disabled'],
    asset: () => projectAsset(),
    read: iamRead,
    write: iamWrite,
    field: (a) => a?.iamPolicy?.auditConfigs,
    fixed: [
      {
        service: 'allServices',
        auditLogConfigs: [{ logType: 'ADMIN_READ' }, { logType: 'DATA_READ' }, { logType: 'DATA_WRITE' }],
      },
    ],
    guard: 'etag',
  },
  {
    title: 'allServices logs DATA_READ only, storage has its own config',
    action: enableDataAccessAuditLogs as RemediationAction,
    policyIds: ['project-data-access-audit-logs-disabled'],
    asset: () => projectAsset({ iamPolicy: auditPolicy() }),
    read: iamRead,
    write: iamWrite,
    field: (a) => a?.iamPolicy?.auditConfigs,
    fixed: [
      {
        service: 'allServices',
        auditLogConfigs: [{ logType: 'DATA_READ' }, { logType: 'ADMIN_READ' }, { logType: 'DATA_WRITE' }],
      },
      { service: 'storage.googleapis.com', auditLogConfigs: [{ logType: 'DATA_WRITE' }] },
    ],
    guard: 'etag',
  },
  {
    title: 'a user and a group (conditional) hold SA User / Token Creator on the project',
    action: removeProjectLevelServiceAccountUserRoles as RemediationAction,
    policyIds: ['iam-project-sa-user-token-creator'],
    asset: () => projectAsset({ iamPolicy: saUserPolicy() }),
    read: iamRead,
    write: iamWrite,
    field: saUserGrants,
    fixed: [],
    guard: 'etag',
  },
  {
    title: 'a user-managed SA shares roles/editor with the Google APIs service agent (landing zone row 28)',
    action: removeServiceAccountAdminRoles as RemediationAction,
    policyIds: ['iam-service-account-admin-privileges'],
    asset: () => projectAsset(),
    read: iamRead,
    write: iamWrite,
    field: adminGrants,
    fixed: [],
    guard: 'etag',
  },
  {
    title: 'project lacks cost-center (landing zone row 25)',
    action: projectAddRequiredLabels as RemediationAction,
    policyIds: ['labels-project-required'],
    asset: () => projectAsset(),
    read: { method: 'GET', path: `/v3/${PROJECT}` },
    write: { method: 'PATCH', path: `/v3/${PROJECT}` },
    field: (a) => (a?.resource?.data['labels'] as Data | undefined)?.['cost-center'],
    fixed: 'unassigned',
    guard: 'reread',
  },
];

/** What gax put on the wire, with its integer enums (enum-encoding=int) as the names the plan shows. */
function sentBody(h: TwinHarness, w: { method: string; path: string }): Data {
  const body = structuredClone(
    h.twin.requests.find((r) => r.method === w.method && r.path === w.path)?.body,
  ) as Data;
  const policy = body['policy'] as Data | undefined;
  for (const c of (policy?.['auditConfigs'] as Data[] | undefined) ?? []) {
    for (const l of c['auditLogConfigs'] as Data[]) {
      if (typeof l['logType'] === 'number') l['logType'] = LOG_TYPE_NAMES[l['logType']];
    }
  }
  return body;
}

/** The IAM policy without what every write bumps (etag) or the write sets (version 3). */
function stablePolicy(a: Asset | undefined): unknown {
  const p = a?.iamPolicy;
  return { bindings: p?.bindings, auditConfigs: p?.auditConfigs };
}

describe('the identity actions are registered with the policies that use them', () => {
  it('registers every action with its risk, all reversible, each named by a policy', () => {
    for (const [id, risk] of [
      ['resourcemanager.project.enable-data-access-audit-logs', 'medium'],
      ['resourcemanager.project.add-required-labels', 'low'],
      ['iam.project.remove-project-level-service-account-user-roles', 'high'],
      ['resourcemanager.iam.remove-service-account-admin-roles', 'high'],
      ['iam.serviceaccountkey.disable', 'high'],
    ] as const) {
      const named = expectRegistered(id, { risk, reversible: true });
      expect(named.map((p) => ('risk' in p.def.remediation ? p.def.remediation.risk : null))).toEqual([risk]);
    }
  });
});

describeActionContract(
  CASES.map((c): ActionContract => {
    const write = { method: c.write.method, pathPattern: c.write.path };
    const read = { method: c.read.method, pathPattern: c.read.path };
    return {
      ...basicsOf(c),
      api: 'cloudresourcemanager.googleapis.com',
      // And apply sends exactly that.
      plan: async ({ h, ctx, asset }, plan) => {
        expect(plan.description.length).toBeGreaterThan(80);
        if (c.guard === 'etag') {
          expect(plan.requests[0]).toEqual({
            method: 'POST',
            url: `${RM}${c.read.path}`,
            body: { options: { requestedPolicyVersion: 3 } },
          });
          expect(plan.requests[1]).toMatchObject({ method: 'POST', url: `${RM}${c.write.path}` });
          const body = plan.requests[1]?.body as Data;
          expect(body['policy']).toMatchObject({ version: 3, etag: asset.iamPolicy?.etag });
        } else {
          expect(plan.requests).toEqual([
            { method: 'GET', url: `${RM}${c.read.path}` },
            {
              method: 'PATCH',
              url: `${RM}${c.write.path}?updateMask=labels`,
              body: { labels: { env: 'dev', team: 'web', 'cost-center': 'unassigned' } },
            },
            { method: 'GET', url: `${RM}/v3/operations/{operation}` },
          ]);
        }
        const before = await c.action.captureBefore(asset, ctx);
        expect((await c.action.apply(asset, before, ctx)).status).toBe('applied');
        expect(sentBody(h, c.write)).toEqual(plan.requests[1]?.body);
        if (c.guard === 'reread') {
          expect(h.twin.requests.find((r) => r.method === 'PATCH')?.query).toMatchObject({
            updateMask: 'labels',
          });
        }
      },
      field: c.field,
      fixed: c.fixed,
      isWrite: request(c.write.method, c.write.path),
      ...(c.guard === 'reread' ? { untouched: sameData } : {}),
      fix: {
        feed: 1,
        restored: ({ h, asset }) => {
          const restored = h.twin.getAsset(asset.name);
          if (c.guard === 'etag') expect(stablePolicy(restored)).toEqual(stablePolicy(asset));
          else expect(restored?.resource?.data).toEqual(asset.resource?.data);
        },
      },
      // setIamPolicy checks the etag; the project's labels PATCH has only the re-read.
      conflict:
        c.guard === 'etag'
          ? iamEtagConflict(write)
          : {
              beforeWrite: {
                change: { at: read },
                reason: /changed since/,
                stale: true,
                theirs: (now) =>
                  expect(now?.resource?.data['labels']).toMatchObject({ 'changed-by': 'someone-else-1' }),
              },
            },
      undoAfterChange: { change: { at: read } },
      retryable: { unavailable: { at: write }, throttled: { at: read, via: 'readLive' } },
      ...(c.guard === 'reread'
        ? {
            failedOperation: {
              at: { method: 'PATCH' },
              message: /operation operations\/cp\.\d+ setting the labels of projects\/558120439716 failed/,
            },
          }
        : {}),
      // Resource Manager answers 403 for a project it no longer has, as for one the caller may not see.
      gone: { rejects: { code: 'PERMISSION_DENIED', message: '(or it may not exist)' } },
    };
  }),
);

describe('resourcemanager.project.enable-data-access-audit-logs: exemptions and the mask', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  it('adds the missing log types, keeps exemptedMembers, and sends updateMask auditConfigs,etag (F5)', async () => {
    const exempt = ['serviceAccount:etl@acme-dev-web.iam.gserviceaccount.com'];
    const asset = projectAsset({
      iamPolicy: projectPolicy({
        auditConfigs: [
          { service: 'allServices', auditLogConfigs: [{ logType: 'DATA_READ', exemptedMembers: exempt }] },
        ],
      }),
    });
    h = await startHarness([asset]);
    const ctx = actionContext(h);
    const before = await enableDataAccessAuditLogs.captureBefore(asset, ctx);
    expect((await enableDataAccessAuditLogs.apply(asset, before!, ctx)).status).toBe('applied');
    const sent = h.twin.requests.find((r) => r.path.endsWith(':setIamPolicy'))?.body as Data;
    expect(sent['updateMask']).toBe('auditConfigs,etag');
    expect(h.twin.getAsset(asset.name)?.iamPolicy?.auditConfigs).toEqual([
      {
        service: 'allServices',
        auditLogConfigs: [
          { logType: 'DATA_READ', exemptedMembers: exempt },
          { logType: 'ADMIN_READ' },
          { logType: 'DATA_WRITE' },
        ],
      },
    ]);
    // Bindings were not in the mask and are as they were.
    expect(h.twin.getAsset(asset.name)?.iamPolicy?.bindings).toEqual(asset.iamPolicy?.bindings);
  });

  it('refuses, sending nothing, when every log type is on and only exemptions keep the finding open', async () => {
    const asset = projectAsset({
      iamPolicy: projectPolicy({
        auditConfigs: [
          {
            service: 'allServices',
            auditLogConfigs: [
              { logType: 'ADMIN_READ' },
              { logType: 'DATA_READ', exemptedMembers: ['user:a@example.com'] },
              { logType: 'DATA_WRITE' },
            ],
          },
        ],
      }),
    });
    h = await startHarness([asset]);
    const ctx = actionContext(h);
    expect(verdict('project-data-access-audit-logs-disabled', asset)).toBe('violation');
    const before = await enableDataAccessAuditLogs.captureBefore(asset, ctx);
    const outcome = await enableDataAccessAuditLogs.apply(asset, before!, ctx);
    expect(outcome.status).toBe('conflict');
    if (outcome.status === 'conflict')
      expect(outcome.reason).toMatch(/DATA_READ exempts user:a@example.com.*human decision/);
    expect(h.twin.requests.filter((r) => r.path.endsWith(':setIamPolicy'))).toHaveLength(0);
  });
});

describe('iam.project.remove-project-level-service-account-user-roles: what it keeps', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  it('keeps service accounts and the conditional binding, writes version 3, and lists the removals in the plan', async () => {
    const asset = projectAsset({ iamPolicy: saUserPolicy() });
    const plan = removeProjectLevelServiceAccountUserRoles.plan(asset, DEFAULT_ACTION_SETTINGS);
    expect(plan.description).toContain('user:dev@example.com from roles/iam.serviceAccountUser');
    expect(plan.description).toContain(
      'group:team-web@example.com from roles/iam.serviceAccountTokenCreator',
    );
    h = await startHarness([asset]);
    const ctx = actionContext(h);
    const before = await removeProjectLevelServiceAccountUserRoles.captureBefore(asset, ctx);
    expect(before?.removed).toHaveLength(2);
    const applied = await removeProjectLevelServiceAccountUserRoles.apply(asset, before!, ctx);
    expect(applied.status).toBe('applied');
    const policy = h.twin.getAsset(asset.name)?.iamPolicy;
    expect(policy?.version).toBe(3);
    expect(policy?.bindings.find((b) => b.role === 'roles/iam.serviceAccountUser')?.members).toEqual([
      `serviceAccount:deployer@${PROJECT_ID}.iam.gserviceaccount.com`,
    ]);
    // IAM drops the conditional binding left without members; undo puts it back with its condition.
    expect(policy?.bindings.some((b) => b.role === 'roles/iam.serviceAccountTokenCreator')).toBe(false);
    await removeProjectLevelServiceAccountUserRoles.undo(
      asset,
      before!,
      applied.status === 'applied' ? applied.after : null,
      ctx,
    );
    expect(h.twin.getAsset(asset.name)?.iamPolicy?.bindings.at(-1)).toEqual({
      role: 'roles/iam.serviceAccountTokenCreator',
      members: ['group:team-web@example.com'],
      condition: TOKEN_CREATOR_CONDITION,
    });
  });
});

describe('the member predicates mirror their policies', () => {
  it('iam-project-sa-user-token-creator: the removed members are exactly the ones its table flags', async () => {
    const file = path.join(projectRoot(), 'policies/identity/iam-project-sa-user-token-creator.test.yaml');
    const table = parseYaml(await readFile(file, 'utf8')) as {
      cases: Array<{ name: string; violated: boolean; asset: Data }>;
    };
    for (const c of table.cases) {
      const asset = AssetSchema.parse({ name: `//test/${c.name}`, ancestors: [], ...c.asset });
      const ts =
        asset.assetType === 'cloudresourcemanager.googleapis.com/Project' && saUserGrants(asset).length > 0;
      expect(`${c.name}: ${String(ts)}`).toBe(`${c.name}: ${String(c.violated)}`);
    }
    for (const m of [
      'USER:Dev@example.com',
      'Group:g@example.com',
      'domain:example.com',
      'allUsers',
      'allusers',
    ]) {
      const asset = AssetSchema.parse({
        name: '//cloudresourcemanager.googleapis.com/projects/1',
        assetType: 'cloudresourcemanager.googleapis.com/Project',
        iamPolicy: { bindings: [{ role: 'roles/iam.serviceAccountUser', members: [m] }] },
      });
      expect(`${m}: ${verdict('iam-project-sa-user-token-creator', asset)}`).toBe(
        `${m}: ${isHumanMember(m) ? 'violation' : 'pass'}`,
      );
    }
  });
});

describe('resourcemanager.iam.remove-service-account-admin-roles', () => {
  let h: TwinHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it("mirrors the policy's CEL condition: both agree on every case of its table", async () => {
    const file = path.join(projectRoot(), 'policies/identity/iam-service-account-admin-privileges.test.yaml');
    const table = parseYaml(await readFile(file, 'utf8')) as {
      cases: Array<{ name: string; violated: boolean; asset: Data }>;
    };
    expect(table.cases.length).toBeGreaterThanOrEqual(8);
    for (const c of table.cases) {
      const asset = AssetSchema.parse({ name: `//test/${c.name}`, ancestors: [], ...c.asset });
      const ts = adminGrants(asset).length > 0;
      expect(`${c.name}: ${String(ts)}`).toBe(`${c.name}: ${String(c.violated)}`);
      expect(`${c.name}: ${verdict('iam-service-account-admin-privileges', asset)}`).toBe(
        `${c.name}: ${c.violated ? 'violation' : 'pass'}`,
      );
    }
    // And on members the table does not spell out, one binding at a time.
    const members = [
      'serviceAccount:App@proj.iam.gserviceaccount.com',
      'serviceAccount:service-org-123@gcp-sa-scc-notification.iam.gserviceaccount.com',
      'serviceAccount:service-folder-9@gcp-sa-logging.iam.gserviceaccount.com',
      'serviceAccount:o123-456@gcp-sa-logging.iam.gserviceaccount.com',
      'serviceAccount:f1-2@x.iam.gserviceaccount.com',
      'serviceAccount:bq-123@bigquery-encryption.iam.gserviceaccount.com',
      'serviceAccount:proj@appspot.gserviceaccount.com',
      'serviceAccount:42-compute@developer.gserviceaccount.com',
      'serviceAccount:42@cloudservices.gserviceaccount.com',
      'deleted:serviceAccount:x@p.iam.gserviceaccount.com?uid=1',
      'user:admin@example.com',
      'serviceAccount:a@b@c.iam.gserviceaccount.com',
    ];
    for (const role of [
      'roles/owner',
      'roles/editor',
      'roles/storage.Admin',
      'roles/viewer',
      'roles/editorX',
    ]) {
      for (const m of members) {
        const asset = AssetSchema.parse({
          name: '//cloudresourcemanager.googleapis.com/projects/1',
          assetType: 'cloudresourcemanager.googleapis.com/Project',
          iamPolicy: { bindings: [{ role, members: [m] }] },
        });
        const ts = isAdminRole(role) && isUserManagedServiceAccount(m);
        expect(`${role} ${m}: ${verdict('iam-service-account-admin-privileges', asset)}`).toBe(
          `${role} ${m}: ${ts ? 'violation' : 'pass'}`,
        );
      }
    }
  });

  it('lists every grant it removes in the plan, and keeps the Google-managed service agents', async () => {
    const asset = projectAsset({
      iamPolicy: projectPolicy({
        bindings: [
          ...projectPolicy().bindings,
          {
            role: 'roles/storage.admin',
            members: [`serviceAccount:${PROJECT_NUMBER}-compute@developer.gserviceaccount.com`],
          },
        ],
      }),
    });
    const plan = removeServiceAccountAdminRoles.plan(asset, DEFAULT_ACTION_SETTINGS);
    expect(plan.description).toContain(`${CI_DEPLOYER} from roles/editor`);
    expect(plan.description).toContain(
      `serviceAccount:${PROJECT_NUMBER}-compute@developer.gserviceaccount.com from roles/storage.admin`,
    );
    const body = plan.requests[1]?.body as { policy: IamPolicy; updateMask: string };
    expect(body.updateMask).toBe('bindings,etag');
    expect(body.policy.bindings.find((b) => b.role === 'roles/editor')?.members).toEqual([
      `serviceAccount:${PROJECT_NUMBER}@cloudservices.gserviceaccount.com`,
    ]);
    expect(body.policy.bindings.some((b) => b.role === 'roles/storage.admin')).toBe(false);
    expect(body.policy.bindings.find((b) => b.role === 'roles/compute.serviceAgent')).toBeDefined();
  });

  it.each([
    [
      'folder',
      () =>
        folderAsset({
          version: 1,
          etag: 'BwZ8pKBcVns=',
          bindings: [
            {
              role: 'roles/editor',
              members: ['group:eng-all@example.com', 'serviceAccount:tf@seed.iam.gserviceaccount.com'],
            },
            {
              role: 'roles/container.admin',
              members: ['serviceAccount:service-123@gcp-sa-gkehub.iam.gserviceaccount.com'],
            },
          ],
        }),
      `/v3/folders/${FOLDER}:setIamPolicy`,
    ],
    [
      'organization',
      () =>
        organizationAsset({
          version: 1,
          etag: 'BwZzrKsoG9Y=',
          bindings: [
            {
              role: 'organizations/123456789012/roles/wardenAdmin',
              members: ['serviceAccount:tf@seed.iam.gserviceaccount.com'],
            },
            { role: 'roles/billing.admin', members: ['group:gcp-billing-admins@example.com'] },
          ],
        }),
      `/v3/organizations/${ORG}:setIamPolicy`,
    ],
  ])('fixes a %s IAM policy through its own client, and undoes it', async (_kind, make, writePath) => {
    const asset = make();
    h = await startHarness([asset]);
    const ctx = actionContext(h);
    expect(verdict('iam-service-account-admin-privileges', asset)).toBe('violation');
    const plan = removeServiceAccountAdminRoles.plan(asset, DEFAULT_ACTION_SETTINGS);
    expect(plan.requests[1]?.url).toBe(`${RM}${writePath}`);
    const { before, after } = await applyFix(removeServiceAccountAdminRoles, asset, ctx);
    expect(h.twin.requests.filter((r) => r.path === writePath)).toHaveLength(1);
    const live = await removeServiceAccountAdminRoles.readLive(asset, ctx);
    expect(verdict('iam-service-account-admin-privileges', live!)).toBe('pass');
    expect(adminGrants(live!)).toEqual([]);
    expect(await removeServiceAccountAdminRoles.undo(asset, before, after, ctx)).toEqual({
      status: 'restored',
    });
    expect(stablePolicy(h.twin.getAsset(asset.name))).toEqual(stablePolicy(asset));
  });
});

describe('resourcemanager.project.add-required-labels: refusals and deleted projects', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  it('surfaces a label Resource Manager refuses (400) as a non-retryable WardenError, nothing changed', async () => {
    const asset = projectAsset();
    h = await startHarness([asset]);
    const ctx = {
      ...actionContext(h),
      settings: { ...DEFAULT_ACTION_SETTINGS, labelDefaultValue: 'Not Set!' },
    };
    const before = await projectAddRequiredLabels.captureBefore(asset, ctx);
    const err = await rejection(projectAddRequiredLabels.apply(asset, before!, ctx));
    expect(err).toMatchObject({ retryable: false, code: 'INVALID_ARGUMENT' });
    expect((err as Error).message).toContain('Invalid value "Not Set!" for label "cost-center"');
    expect(h.twin.getAsset(asset.name)?.resource?.data).toEqual(asset.resource?.data);
  });

  it('never changes an existing label, adds only the missing keys, with their configured defaults', async () => {
    const asset = projectAsset({ data: { labels: { env: '' } } });
    h = await startHarness([asset], { operationPolls: 0 });
    const settings = { ...DEFAULT_ACTION_SETTINGS, labelDefaults: { team: 'platform' } };
    const ctx = { ...actionContext(h), settings };
    expect(projectAddRequiredLabels.plan(asset, settings).requests[1]?.body).toEqual({
      labels: { env: '', team: 'platform', 'cost-center': 'unassigned' },
    });
    await applyFix(projectAddRequiredLabels, asset, ctx);
    expect(h.twin.getAsset(asset.name)?.resource?.data['labels']).toEqual({
      env: '',
      team: 'platform',
      'cost-center': 'unassigned',
    });
  });

  it('treats a project pending deletion as gone: null, gone, nothing sent', async () => {
    const asset = projectAsset({ data: { lifecycleState: 'DELETE_REQUESTED' } });
    const live = projectAsset();
    h = await startHarness([live]);
    const state = await projectAddRequiredLabels.captureBefore(live, actionContext(h));
    await h.close();
    h = await startHarness([asset]);
    const ctx = actionContext(h);
    expect(await projectAddRequiredLabels.captureBefore(asset, ctx)).toBeNull();
    expect(await projectAddRequiredLabels.readLive(asset, ctx)).toBeNull();
    expect(await projectAddRequiredLabels.apply(asset, state!, ctx)).toEqual({ status: 'gone' });
    expect(await projectAddRequiredLabels.undo(asset, state!, state!, ctx)).toEqual({ status: 'gone' });
    expect(h.twin.requests.filter((r) => r.method !== 'GET')).toHaveLength(0);
  });
});
