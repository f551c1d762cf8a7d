import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Asset } from '../model/asset.js';
import { TwinHttpError } from './http.js';
import {
  concurrentIamChange,
  currentPolicy,
  renderIamPolicy,
  requestedVersion,
  setIamPolicy,
} from './iam-policy.js';
import type { Inventory } from './inventory.js';
import { isObject, type JsonObject } from './merge-patch.js';
import { parseBody, type ApiSurface, type Route, type SurfaceOptions } from './routes.js';

/**
 * Cloud Resource Manager v3, the calls Warden makes (https://cloud.google.com/resource-manager/reference/rest/v3):
 * projects.get, projects.patch (labels; a long-running operation), operations.get, and getIamPolicy /
 * setIamPolicy on projects, folders and organizations (shared/twin/iam-policy.ts: update masks, etags, v3).
 *
 * Projects are found by number or id (v3 takes either); CAI names them by number. CAI may hold a project's
 * data in the v1 shape (lifecycleState, parent {type,id}, name = display name) or the v3 one (state,
 * parent "folders/N", name "projects/N"); the API renders v3 either way and a change keeps CAI's shape.
 * Project.etag is output only and computed from the project's content; UpdateProjectRequest carries no
 * precondition, so the twin, like Google, ignores an etag in the patch body.
 *
 * Resource Manager answers 403 PERMISSION_DENIED, not 404, for a project, folder or organization that
 * does not exist ("... denied on resource ... (or it may not exist)"), so existence is not disclosed.
 */

const PROJECT_TYPE = 'cloudresourcemanager.googleapis.com/Project';
const FOLDER_TYPE = 'cloudresourcemanager.googleapis.com/Folder';
const ORGANIZATION_TYPE = 'cloudresourcemanager.googleapis.com/Organization';
const RM = '//cloudresourcemanager.googleapis.com';

const ID = '([^/:]+)';
const PROJECT = new RegExp(`^/v3/projects/${ID}$`);
const PROJECT_IAM = new RegExp(`^/v3/projects/${ID}:(getIamPolicy|setIamPolicy)$`);
const FOLDER_IAM = new RegExp(`^/v3/folders/${ID}:(getIamPolicy|setIamPolicy)$`);
const ORGANIZATION_IAM = new RegExp(`^/v3/organizations/${ID}:(getIamPolicy|setIamPolicy)$`);
const OPERATION = /^\/v3\/(operations\/.+)$/;

const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;

/** The Project fields UpdateProject may change (the others are output only or need their own calls). */
const UPDATABLE: Record<string, 'labels' | 'displayName'> = {
  labels: 'labels',
  displayName: 'displayName',
  display_name: 'displayName',
};

const ProjectPatch = z.looseObject({
  labels: z.record(z.string(), z.string()).optional(),
  displayName: z.string().optional(),
});

const TYPE_URL = 'type.googleapis.com/google.cloud.resourcemanager.v3';

interface OperationState {
  op: JsonObject;
  reads: number;
  fail: boolean;
  complete: () => Promise<JsonObject>;
}

function denied(permission: string, resource: string): TwinHttpError {
  return new TwinHttpError(
    403,
    `Permission '${permission}' denied on resource '${RM}/${resource}' (or it may not exist).`,
    { reason: 'forbidden' },
  );
}

function dataOf(asset: Asset): JsonObject {
  return asset.resource?.data ?? {};
}

function numberOf(asset: Asset): string {
  return asset.name.slice(`${RM}/projects/`.length);
}

/** The v3 parent ("folders/N" / "organizations/N") of v1 (`{type, id}`) or v3 data. */
function parentOf(asset: Asset): string | undefined {
  const p = dataOf(asset)['parent'];
  if (typeof p === 'string') return p;
  if (isObject(p) && typeof p['type'] === 'string' && p['id'] !== undefined)
    return `${p['type']}s/${String(p['id'])}`;
  const rp = asset.resource?.parent;
  return rp?.startsWith(`${RM}/`) ? rp.slice(RM.length + 1) : undefined;
}

/** The project as v3 projects.get renders it. */
export function renderProject(asset: Asset): JsonObject {
  const d = dataOf(asset);
  const v1Name = typeof d['name'] === 'string' && !d['name'].startsWith('projects/') ? d['name'] : undefined;
  const out: JsonObject = { name: `projects/${numberOf(asset)}` };
  const parent = parentOf(asset);
  if (parent) out['parent'] = parent;
  out['projectId'] = d['projectId'];
  out['state'] = String(d['state'] ?? d['lifecycleState'] ?? 'ACTIVE');
  out['displayName'] = d['displayName'] ?? v1Name ?? d['projectId'];
  if (d['createTime'] !== undefined) out['createTime'] = d['createTime'];
  if (d['updateTime'] !== undefined) out['updateTime'] = d['updateTime'];
  if (d['deleteTime'] !== undefined) out['deleteTime'] = d['deleteTime'];
  const labels = isObject(d['labels']) ? d['labels'] : {};
  if (Object.keys(labels).length > 0) out['labels'] = structuredClone(labels);
  // A checksum of the project's current value: it changes whenever the project does.
  const digest = createHash('sha256').update(JSON.stringify(out)).digest('hex').slice(0, 16);
  out['etag'] = `W/"${digest}"`;
  return out;
}

function validLabels(labels: Record<string, string>): void {
  const keys = Object.keys(labels);
  if (keys.length > 64) throw new TwinHttpError(400, 'A project can have at most 64 labels.');
  for (const [k, v] of Object.entries(labels)) {
    if (!LABEL_KEY.test(k)) throw new TwinHttpError(400, `Invalid label key "${k}".`);
    if (!LABEL_VALUE.test(v)) throw new TwinHttpError(400, `Invalid value "${v}" for label "${k}".`);
  }
}

export function resourceManagerApi(inv: Inventory, opts: SurfaceOptions): ApiSurface {
  const operations = new Map<string, OperationState>();
  let opSeq = 0;
  let changeSeq = 0;
  const iamOptions = { nextIamEtag: opts.nextIamEtag, auditConfigs: true };

  const project = (idOrNumber: string, permission: string): Asset => {
    const number = /^\d+$/.test(idOrNumber)
      ? idOrNumber
      : inv
          .all()
          .find((a) => a.assetType === PROJECT_TYPE && dataOf(a)['projectId'] === idOrNumber)
          ?.name.slice(`${RM}/projects/`.length);
    const asset = number ? inv.get(`${RM}/projects/${number}`) : undefined;
    if (!asset || asset.assetType !== PROJECT_TYPE) throw denied(permission, `projects/${idOrNumber}`);
    return asset;
  };
  const container = (kind: 'folders' | 'organizations', id: string, permission: string): Asset => {
    const asset = inv.get(`${RM}/${kind}/${id}`);
    const type = kind === 'folders' ? FOLDER_TYPE : ORGANIZATION_TYPE;
    if (!asset || asset.assetType !== type) throw denied(permission, `${kind}/${id}`);
    return asset;
  };

  const finish = async (state: OperationState): Promise<void> => {
    state.op['done'] = true;
    if (state.fail) {
      state.op['error'] = { code: 13, message: 'The operation failed (fault injected by the GCP twin).' };
      return;
    }
    state.op['response'] = { '@type': `${TYPE_URL}.Project`, ...(await state.complete()) };
  };
  const startOperation = async (
    metadataType: string,
    fail: boolean,
    complete: () => Promise<JsonObject>,
  ): Promise<JsonObject> => {
    opSeq += 1;
    const name = `operations/cp.${(7_000_000_000_000_000_000n + BigInt(opSeq)).toString()}`;
    const state: OperationState = {
      op: { name, metadata: { '@type': `${TYPE_URL}.${metadataType}` }, done: false },
      reads: 0,
      fail,
      complete,
    };
    operations.set(name, state);
    if (opts.operationPolls <= 0) await finish(state);
    return structuredClone(state.op);
  };

  /** getIamPolicy / setIamPolicy of a project, folder or organization. */
  const iamRoute = (pattern: RegExp, kind: 'projects' | 'folders' | 'organizations'): Route => ({
    method: 'POST',
    pattern,
    async handle(req) {
      const id = req.params[0] as string;
      const verb = req.params[1] as 'getIamPolicy' | 'setIamPolicy';
      const singular = kind === 'projects' ? 'projects' : kind;
      const permission = `resourcemanager.${singular}.${verb}`;
      const asset = kind === 'projects' ? project(id, permission) : container(kind, id, permission);
      if (verb === 'getIamPolicy') {
        return { status: 200, body: renderIamPolicy(currentPolicy(asset), requestedVersion(req.body)) };
      }
      return { status: 200, body: await setIamPolicy(inv, asset, req.body, iamOptions) };
    },
  });

  const iamChange = (kind: 'projects' | 'folders' | 'organizations') => async (params: string[]) => {
    const id = params[0] as string;
    const asset =
      kind === 'projects'
        ? project(id, 'resourcemanager.projects.get')
        : container(kind, id, `resourcemanager.${kind}.get`);
    await concurrentIamChange(inv, asset, 'roles/viewer', opts.nextIamEtag);
  };

  return {
    routes: [
      {
        method: 'GET',
        pattern: PROJECT,
        async handle(req) {
          return {
            status: 200,
            body: renderProject(project(req.params[0] as string, 'resourcemanager.projects.get')),
          };
        },
      },
      {
        method: 'PATCH',
        pattern: PROJECT,
        async handle(req) {
          const asset = project(req.params[0] as string, 'resourcemanager.projects.update');
          const body = parseBody(ProjectPatch, req.body, 'project');
          const rawMask = req.query.get('updateMask');
          const fields = new Set<'labels' | 'displayName'>();
          for (const p of (rawMask ?? 'labels,displayName').split(',').map((s) => s.trim())) {
            if (p === '') continue;
            const f = UPDATABLE[p];
            if (!f)
              throw new TwinHttpError(400, `Invalid update_mask path "${p}": the field cannot be updated.`);
            fields.add(f);
          }
          const labels = fields.has('labels') ? (body.labels ?? {}) : undefined;
          if (labels) validLabels(labels);
          const displayName = fields.has('displayName') ? body.displayName : undefined;
          if (displayName !== undefined && !/^[A-Za-z0-9 '!-]{4,30}$/.test(displayName)) {
            throw new TwinHttpError(400, `Invalid display name "${displayName}".`);
          }
          const op = await startOperation('UpdateProjectMetadata', req.failOperation, async () => {
            const next = await inv.change(asset.name, ['RESOURCE'], (a) => {
              const data = structuredClone(dataOf(a));
              if (labels !== undefined) {
                if (Object.keys(labels).length > 0) data['labels'] = { ...labels };
                else delete data['labels'];
              }
              if (displayName !== undefined) data['displayName'] = displayName;
              if ('updateTime' in data) data['updateTime'] = inv.now();
              a.resource = { ...(a.resource ?? {}), data };
            });
            return renderProject(next);
          });
          return { status: 200, body: op };
        },
      },
      {
        method: 'GET',
        pattern: OPERATION,
        async handle(req) {
          const name = req.params[0] as string;
          const state = operations.get(name);
          if (!state) throw new TwinHttpError(404, `Operation "${name}" not found.`, { reason: 'notFound' });
          if (state.op['done'] !== true) {
            state.reads += 1;
            if (state.reads >= opts.operationPolls) await finish(state);
          }
          return { status: 200, body: structuredClone(state.op) };
        },
      },
      iamRoute(PROJECT_IAM, 'projects'),
      iamRoute(FOLDER_IAM, 'folders'),
      iamRoute(ORGANIZATION_IAM, 'organizations'),
    ],
    concurrentChanges: [
      { pattern: PROJECT_IAM, apply: iamChange('projects') },
      { pattern: FOLDER_IAM, apply: iamChange('folders') },
      { pattern: ORGANIZATION_IAM, apply: iamChange('organizations') },
      {
        pattern: PROJECT,
        async apply(params) {
          const asset = project(params[0] as string, 'resourcemanager.projects.get');
          await inv.change(asset.name, ['RESOURCE'], (a) => {
            const data = structuredClone(dataOf(a));
            const labels = isObject(data['labels']) ? data['labels'] : {};
            changeSeq += 1;
            data['labels'] = { ...labels, 'changed-by': `someone-else-${changeSeq}` };
            a.resource = { ...(a.resource ?? {}), data };
          });
        },
      },
    ],
  };
}
