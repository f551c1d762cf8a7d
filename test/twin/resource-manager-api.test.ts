import { afterEach, describe, expect, it } from '@jest/globals';
import { AssetSchema } from '../../shared/model/asset.js';
import {
  FOLDER,
  folderAsset,
  ORG,
  organizationAsset,
  PROJECT_ID,
  PROJECT_NUMBER,
  projectAsset,
  projectPolicy,
} from './identity-fixtures.js';
import { startHarness, type TwinHarness } from './twin-fixtures.js';

const PROJECT = `projects/${PROJECT_NUMBER}`;
const PROJECT_NAME = `//cloudresourcemanager.googleapis.com/${PROJECT}`;
const CONDITIONAL = {
  role: 'roles/compute.instanceAdmin.v1',
  members: ['group:prod-oncall@example.com'],
  condition: { title: 'oncall-elevation', expression: 'request.time < timestamp("2026-11-15T00:00:00Z")' },
};

interface Failure {
  code?: number;
  status?: number;
  message?: string;
}

async function failure(p: Promise<unknown>): Promise<Failure> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as Failure,
  );
}

function etagOf(p: { etag?: unknown }): string {
  return Buffer.from(p.etag as Uint8Array).toString('base64');
}

describe('twin: Resource Manager v3 projects, folders, organizations and operations', () => {
  let h: TwinHarness;
  afterEach(async () => {
    await h.close();
  });

  it('renders a v1-shaped CAI project as v3 projects.get, by number or by id', async () => {
    h = await startHarness([projectAsset()]);
    const projects = await h.cloud.resourceManager('ProjectsClient');
    const [byNumber] = await projects.getProject({ name: PROJECT });
    expect(h.twin.requests.at(-1)).toMatchObject({ method: 'GET', path: `/v3/${PROJECT}` });
    expect(byNumber).toMatchObject({
      name: PROJECT,
      parent: `folders/${FOLDER}`,
      projectId: PROJECT_ID,
      state: 'ACTIVE',
      displayName: PROJECT_ID,
      labels: { env: 'dev', team: 'web' },
    });
    expect(byNumber.etag).toMatch(/^W\/"[0-9a-f]{16}"$/);
    const [byId] = await projects.getProject({ name: `projects/${PROJECT_ID}` });
    expect(byId.name).toBe(PROJECT);
  });

  it('answers 403 "(or it may not exist)" for an unknown project, folder or organization, as Google does', async () => {
    h = await startHarness([]);
    const projects = await h.cloud.resourceManager('ProjectsClient');
    const folders = await h.cloud.resourceManager('FoldersClient');
    const missing = await failure(projects.getProject({ name: 'projects/999' }));
    expect(missing.code ?? missing.status).toBe(403);
    expect(missing.message).toContain('PERMISSION_DENIED');
    expect(missing.message).toContain('(or it may not exist)');
    const iam = await failure(
      folders.getIamPolicy({ resource: 'folders/1', options: { requestedPolicyVersion: 3 } }),
    );
    expect(iam.message).toContain("Permission 'resourcemanager.folders.getIamPolicy' denied");
  });

  it('patches labels through a long-running operation: the change lands when it is done, once, on the feed', async () => {
    h = await startHarness([projectAsset()], { operationPolls: 2 });
    const projects = await h.cloud.resourceManager('ProjectsClient');
    const [before] = await projects.getProject({ name: PROJECT });
    const [started] = await projects.updateProject({
      project: { name: PROJECT, labels: { env: 'dev', team: 'web', 'cost-center': 'cc-1' } },
      updateMask: { paths: ['labels'] },
    });
    expect(h.twin.requests.at(-1)).toMatchObject({
      method: 'PATCH',
      path: `/v3/${PROJECT}`,
      query: { updateMask: 'labels' },
      body: { labels: { env: 'dev', team: 'web', 'cost-center': 'cc-1' } },
    });
    expect(started.done).toBe(false);
    expect(started.name).toMatch(/^operations\/cp\.\d+$/);
    expect(h.feed).toHaveLength(0);
    const first = await projects.checkUpdateProjectProgress(started.name ?? '');
    expect(h.twin.requests.at(-1)).toMatchObject({ method: 'GET', path: `/v3/${started.name}` });
    expect(first.done).toBe(false);
    const done = await projects.checkUpdateProjectProgress(started.name ?? '');
    expect(done.done).toBe(true);
    expect(done.error).toBeFalsy();
    expect(done.result).toMatchObject({ name: PROJECT, labels: { 'cost-center': 'cc-1' } });

    const [after] = await projects.getProject({ name: PROJECT });
    expect(after.labels).toEqual({ env: 'dev', team: 'web', 'cost-center': 'cc-1' });
    expect(after.etag).not.toBe(before.etag);
    expect(h.feed).toHaveLength(1);
    const msg = AssetSchema.parse((h.feed[0] as { asset: unknown }).asset);
    // CAI keeps its own (v1) shape: only the labels changed.
    expect(msg.resource?.data).toMatchObject({ lifecycleState: 'ACTIVE', labels: { 'cost-center': 'cc-1' } });
  });

  it('ends a failed operation done with an error and leaves the labels alone', async () => {
    h = await startHarness([projectAsset()], {
      operationPolls: 0,
      faults: [{ match: { method: 'PATCH' }, failOperation: true }],
    });
    const projects = await h.cloud.resourceManager('ProjectsClient');
    const [op] = await projects.updateProject({
      project: { name: PROJECT, labels: { env: 'prod' } },
      updateMask: { paths: ['labels'] },
    });
    const done = await projects.checkUpdateProjectProgress(op.name ?? '');
    expect(done.done).toBe(true);
    expect(done.error).toMatchObject({ code: 13 });
    expect(h.twin.getAsset(PROJECT_NAME)?.resource?.data['labels']).toEqual({ env: 'dev', team: 'web' });
    expect(h.feed).toHaveLength(0);
  });

  it('refuses invalid labels and fields patch cannot change with 400', async () => {
    h = await startHarness([projectAsset()]);
    const projects = await h.cloud.resourceManager('ProjectsClient');
    const bad = await failure(
      projects.updateProject({
        project: { name: PROJECT, labels: { Env: 'Dev!' } },
        updateMask: { paths: ['labels'] },
      }),
    );
    expect(bad.code ?? bad.status).toBe(400);
    expect(bad.message).toContain('Invalid label key');
    const parent = await failure(
      projects.updateProject({
        project: { name: PROJECT, parent: 'folders/1' },
        updateMask: { paths: ['parent'] },
      }),
    );
    expect(parent.code ?? parent.status).toBe(400);
  });

  it("reads an IAM policy as version 3, and as IAM's v1 view (_withcond_ roles) when version 1 is asked", async () => {
    const policy = projectPolicy({ version: 3, bindings: [...projectPolicy().bindings, CONDITIONAL] });
    h = await startHarness([projectAsset({ iamPolicy: policy })]);
    const projects = await h.cloud.resourceManager('ProjectsClient');
    const [v3] = await projects.getIamPolicy({ resource: PROJECT, options: { requestedPolicyVersion: 3 } });
    expect(h.twin.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: `/v3/${PROJECT}:getIamPolicy`,
      body: { options: { requestedPolicyVersion: 3 } },
    });
    expect(v3.version).toBe(3);
    expect(etagOf(v3)).toBe('BwbLyuW9/GY=');
    expect(v3.bindings?.at(-1)).toMatchObject({ role: CONDITIONAL.role, condition: CONDITIONAL.condition });
    const [v1] = await projects.getIamPolicy({ resource: PROJECT });
    expect(v1.version).toBe(1);
    expect(v1.bindings?.at(-1)?.role).toMatch(/^roles\/compute\.instanceAdmin\.v1_withcond_[0-9a-f]{20}$/);
    expect(v1.bindings?.at(-1)?.condition).toBeNull();
  });

  it('drops auditConfigs silently without an updateMask (catalog F5) and applies them with one', async () => {
    h = await startHarness([projectAsset()]);
    const projects = await h.cloud.resourceManager('ProjectsClient');
    const [policy] = await projects.getIamPolicy({
      resource: PROJECT,
      options: { requestedPolicyVersion: 3 },
    });
    const auditConfigs = [{ service: 'allServices', auditLogConfigs: [{ logType: 'DATA_READ' as const }] }];

    const [noMask] = await projects.setIamPolicy({ resource: PROJECT, policy: { ...policy, auditConfigs } });
    expect(h.twin.requests.at(-1)?.body).not.toHaveProperty('updateMask');
    expect(noMask.auditConfigs).toEqual([]);
    expect(h.twin.getAsset(PROJECT_NAME)?.iamPolicy?.auditConfigs).toBeUndefined();
    expect(etagOf(noMask)).not.toBe(etagOf(policy));

    const [masked] = await projects.setIamPolicy({
      resource: PROJECT,
      policy: { ...noMask, bindings: [], auditConfigs },
      updateMask: { paths: ['auditConfigs', 'etag'] },
    });
    // gax sends the enum as a number; Google (and the twin) take either spelling.
    expect(h.twin.requests.at(-1)?.body).toMatchObject({
      updateMask: 'auditConfigs,etag',
      policy: { auditConfigs: [{ service: 'allServices', auditLogConfigs: [{ logType: 3 }] }] },
    });
    expect(masked.auditConfigs).toMatchObject([
      { service: 'allServices', auditLogConfigs: [{ logType: 'DATA_READ' }] },
    ]);
    // Bindings are not in the mask: the empty list sent changed nothing.
    expect(masked.bindings).toHaveLength(projectPolicy().bindings.length);
    expect(h.twin.getAsset(PROJECT_NAME)?.iamPolicy?.auditConfigs).toEqual([
      { service: 'allServices', auditLogConfigs: [{ logType: 'DATA_READ' }] },
    ]);
    expect(
      h.feed.map((m) => (m as { asset: { iamPolicy?: unknown } }).asset.iamPolicy !== undefined),
    ).toEqual([true, true]);
  });

  it('answers 409 ABORTED to a stale etag and 400 to conditions below version 3, bad members and bad masks', async () => {
    h = await startHarness([projectAsset()]);
    const projects = await h.cloud.resourceManager('ProjectsClient');
    const [policy] = await projects.getIamPolicy({
      resource: PROJECT,
      options: { requestedPolicyVersion: 3 },
    });
    const stale = await failure(
      projects.setIamPolicy({
        resource: PROJECT,
        policy: { ...policy, etag: Buffer.from('BwX1', 'base64') },
      }),
    );
    expect(stale.code ?? stale.status).toBe(409);
    expect(stale.message).toContain('ABORTED');
    expect(stale.message).toContain('concurrent policy changes');

    const v1 = await failure(
      projects.setIamPolicy({
        resource: PROJECT,
        policy: { ...policy, version: 1, bindings: [CONDITIONAL] },
      }),
    );
    expect(v1.code ?? v1.status).toBe(400);
    const member = await failure(
      projects.setIamPolicy({
        resource: PROJECT,
        policy: { ...policy, bindings: [{ role: 'roles/viewer', members: ['someone@example.com'] }] },
      }),
    );
    expect(member.code ?? member.status).toBe(400);
    const mask = await failure(
      projects.setIamPolicy({ resource: PROJECT, policy, updateMask: { paths: ['owners'] } }),
    );
    expect(mask.code ?? mask.status).toBe(400);
    expect(h.feed).toHaveLength(0);
  });

  it('serves folder and organization IAM policies, and plays a concurrent change on them', async () => {
    const sa = 'serviceAccount:terraform@seed-project.iam.gserviceaccount.com';
    h = await startHarness([
      folderAsset({ version: 1, etag: 'BwZ8pKBcVns=', bindings: [{ role: 'roles/editor', members: [sa] }] }),
      organizationAsset({
        version: 1,
        etag: 'BwZzrKsoG9Y=',
        bindings: [{ role: 'roles/resourcemanager.organizationAdmin', members: [sa] }],
      }),
    ]);
    const folders = await h.cloud.resourceManager('FoldersClient');
    const organizations = await h.cloud.resourceManager('OrganizationsClient');
    const [folder] = await folders.getIamPolicy({
      resource: `folders/${FOLDER}`,
      options: { requestedPolicyVersion: 3 },
    });
    expect(folder.bindings?.[0]?.members).toEqual([sa]);
    const [org] = await organizations.getIamPolicy({ resource: `organizations/${ORG}` });
    expect(h.twin.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: `/v3/organizations/${ORG}:getIamPolicy`,
    });

    h.twin.setFaults([{ match: { pathPattern: ':setIamPolicy' }, concurrentModification: true, times: 1 }]);
    const conflict = await failure(
      organizations.setIamPolicy({ resource: `organizations/${ORG}`, policy: { ...org, bindings: [] } }),
    );
    expect(conflict.code ?? conflict.status).toBe(409);
    const [now] = await organizations.getIamPolicy({ resource: `organizations/${ORG}` });
    expect(now.bindings?.map((b) => b.role)).toEqual([
      'roles/resourcemanager.organizationAdmin',
      'roles/viewer',
    ]);
    const [set] = await folders.setIamPolicy({
      resource: `folders/${FOLDER}`,
      policy: { ...folder, bindings: [] },
      updateMask: { paths: ['bindings', 'etag'] },
    });
    expect(set.bindings).toEqual([]);
  });
});
