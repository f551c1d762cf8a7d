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
import type { JsonObject } from './merge-patch.js';
import type { ApiSurface, SurfaceOptions } from './routes.js';

/**
 * Secret Manager v1, the calls Warden makes (https://cloud.google.com/secret-manager/docs/reference/rest):
 * secrets.get, secrets.getIamPolicy (a GET: `…:getIamPolicy?options.requestedPolicyVersion=3`) and
 * secrets.setIamPolicy (POST), for global secrets (`projects/P/secrets/S`). CAI names secrets by project
 * number; the API takes the project's id or number. A missing secret answers 404 NOT_FOUND.
 */

const SECRET_TYPE = 'secretmanager.googleapis.com/Secret';
const SM = '//secretmanager.googleapis.com';

const SECRET = /^\/v1\/projects\/([^/:]+)\/secrets\/([^/:]+)$/;
const SECRET_IAM = /^\/v1\/projects\/([^/:]+)\/secrets\/([^/:]+):(getIamPolicy|setIamPolicy)$/;

export function secretManagerApi(inv: Inventory, opts: SurfaceOptions): ApiSurface {
  const iamOptions = { nextIamEtag: opts.nextIamEtag, auditConfigs: false };

  const find = (project: string, secret: string): Asset => {
    const candidates = [project, inv.projectNumber(project)].filter((p): p is string => p !== undefined);
    for (const p of candidates) {
      const asset = inv.get(`${SM}/projects/${p}/secrets/${secret}`);
      if (asset?.assetType === SECRET_TYPE) return asset;
    }
    throw new TwinHttpError(
      404,
      `Secret [projects/${project}/secrets/${secret}] not found or has no versions.`,
      {
        reason: 'notFound',
      },
    );
  };

  return {
    routes: [
      {
        method: 'GET',
        pattern: SECRET,
        async handle(req) {
          const asset = find(req.params[0] as string, req.params[1] as string);
          const data: JsonObject = structuredClone(asset.resource?.data ?? {});
          data['name'] ??= asset.name.slice(SM.length + 1);
          return { status: 200, body: data };
        },
      },
      {
        method: 'GET',
        pattern: SECRET_IAM,
        async handle(req) {
          const asset = find(req.params[0] as string, req.params[1] as string);
          if (req.params[2] !== 'getIamPolicy') {
            throw new TwinHttpError(404, 'setIamPolicy is a POST.', { reason: 'notFound' });
          }
          return {
            status: 200,
            body: renderIamPolicy(currentPolicy(asset), requestedVersion(undefined, req.query)),
          };
        },
      },
      {
        method: 'POST',
        pattern: SECRET_IAM,
        async handle(req) {
          if (req.params[2] !== 'setIamPolicy') {
            throw new TwinHttpError(404, 'Secret Manager serves getIamPolicy as a GET.', {
              reason: 'notFound',
            });
          }
          const asset = find(req.params[0] as string, req.params[1] as string);
          return { status: 200, body: await setIamPolicy(inv, asset, req.body, iamOptions) };
        },
      },
    ],
    concurrentChanges: [
      {
        pattern: SECRET_IAM,
        apply: (params) =>
          concurrentIamChange(
            inv,
            find(params[0] as string, params[1] as string),
            'roles/secretmanager.viewer',
            opts.nextIamEtag,
          ),
      },
    ],
  };
}
