import type { Asset } from '../model/asset.js';
import { TwinHttpError } from './http.js';
import type { Inventory } from './inventory.js';
import type { JsonObject } from './merge-patch.js';
import { intParam, type ApiSurface } from './routes.js';

/**
 * Cloud Asset Inventory v1 assets.list (https://cloud.google.com/asset-inventory/docs/reference/rest/v1/assets/list).
 *
 * @google-cloud/asset sends `GET /v1/{parent}/assets?assetTypes=…&contentType=1&pageSize=…&pageToken=…
 * &$alt=json;enum-encoding=int`: enums arrive as integers, and with that flag the response must carry
 * its enums as integers too. The client decodes `resource.data` into a protobuf Struct and `updateTime`
 * into a Timestamp (see shared/cloud/asset-proto.ts to turn them back into the Asset model).
 */

const ASSETS = /^\/v1\/((?:organizations|folders|projects)\/[^/]+)\/assets$/;

const CONTENT_TYPES: Record<string, string> = {
  '0': 'CONTENT_TYPE_UNSPECIFIED',
  '1': 'RESOURCE',
  '2': 'IAM_POLICY',
  '4': 'ORG_POLICY',
  '5': 'ACCESS_POLICY',
  '6': 'OS_INVENTORY',
  '7': 'RELATIONSHIP',
};
const IMPLEMENTED = new Set([
  'CONTENT_TYPE_UNSPECIFIED',
  'RESOURCE',
  'IAM_POLICY',
  'ORG_POLICY',
  'ACCESS_POLICY',
]);

/** google.iam.v1.AuditLogConfig.LogType */
const LOG_TYPE_NUMBERS: Record<string, number> = {
  LOG_TYPE_UNSPECIFIED: 0,
  ADMIN_READ: 1,
  DATA_WRITE: 2,
  DATA_READ: 3,
};

function contentTypeOf(raw: string | null): string {
  if (raw === null || raw === '') return 'CONTENT_TYPE_UNSPECIFIED';
  const name = CONTENT_TYPES[raw] ?? raw;
  if (!Object.values(CONTENT_TYPES).includes(name)) {
    throw new TwinHttpError(
      400,
      `Invalid value at 'content_type' (type.googleapis.com/google.cloud.asset.v1.ContentType), "${raw}"`,
    );
  }
  if (!IMPLEMENTED.has(name))
    throw new TwinHttpError(501, `The GCP twin does not implement contentType ${name}.`);
  return name;
}

/** CAI takes RE2 patterns in assetTypes ("compute.googleapis.com.*", ".*Instance"), matched in full. */
function typeMatcher(types: string[]): (t: string) => boolean {
  if (types.length === 0) return () => true;
  const res = types.map((t) => {
    try {
      return new RegExp(`^(?:${t})$`);
    } catch {
      throw new TwinHttpError(400, `Invalid asset type pattern: ${t}`);
    }
  });
  return (t) => res.some((re) => re.test(t));
}

function render(asset: Asset, contentType: string, enumsAsInt: boolean): JsonObject | undefined {
  const out: JsonObject = { name: asset.name, assetType: asset.assetType, ancestors: [...asset.ancestors] };
  if (asset.updateTime !== undefined) out['updateTime'] = asset.updateTime;
  switch (contentType) {
    case 'RESOURCE':
      if (!asset.resource) return undefined;
      out['resource'] = structuredClone(asset.resource);
      break;
    case 'IAM_POLICY': {
      if (!asset.iamPolicy) return undefined;
      const policy = structuredClone(asset.iamPolicy);
      if (enumsAsInt) {
        for (const ac of policy.auditConfigs ?? []) {
          for (const lc of ac.auditLogConfigs) {
            (lc as { logType: unknown }).logType = LOG_TYPE_NUMBERS[lc.logType] ?? 0;
          }
        }
      }
      out['iamPolicy'] = policy;
      break;
    }
    case 'ORG_POLICY':
      if (!asset.orgPolicy) return undefined;
      out['orgPolicy'] = structuredClone(asset.orgPolicy);
      break;
    case 'ACCESS_POLICY':
      if (!asset.accessPolicy) return undefined;
      out['accessPolicy'] = structuredClone(asset.accessPolicy);
      break;
  }
  return out;
}

interface PageToken {
  offset: number;
  readTime: string;
  /** The request the token was issued for: a token is only valid for the same listing. */
  key: string;
}

export function assetApi(inv: Inventory): ApiSurface {
  return {
    routes: [
      {
        method: 'GET',
        pattern: ASSETS,
        async handle(req) {
          const parent = req.params[0] as string;
          const contentType = contentTypeOf(req.query.get('contentType'));
          const assetTypes = req.query.getAll('assetTypes');
          if (req.query.get('readTime')) {
            throw new TwinHttpError(
              501,
              'The GCP twin keeps no history, so it cannot answer for a past readTime.',
            );
          }
          if (req.query.getAll('relationshipTypes').length > 0) {
            throw new TwinHttpError(501, 'The GCP twin does not implement relationshipTypes.');
          }
          const pageSize = intParam(req.query, 'pageSize') ?? 0;
          if (pageSize < 0 || pageSize > 1000) {
            throw new TwinHttpError(400, 'page_size must be between 1 and 1000 (0 means the default, 100).');
          }
          const size = pageSize === 0 ? 100 : pageSize;
          const enumsAsInt = (req.query.get('$alt') ?? '').includes('enum-encoding=int');

          let ancestor = parent;
          if (parent.startsWith('projects/')) {
            const num = inv.projectNumber(parent.slice('projects/'.length));
            if (num === undefined) {
              throw new TwinHttpError(
                403,
                `The caller does not have permission on ${parent}, or it does not exist.`,
              );
            }
            ancestor = `projects/${num}`;
          }
          const key = JSON.stringify([ancestor, contentType, assetTypes, size]);
          let offset = 0;
          let readTime = inv.now();
          const rawToken = req.query.get('pageToken');
          if (rawToken) {
            let token: PageToken | undefined;
            try {
              token = JSON.parse(Buffer.from(rawToken, 'base64url').toString('utf8')) as PageToken;
            } catch {
              token = undefined;
            }
            if (!token || token.key !== key || !Number.isInteger(token.offset)) {
              throw new TwinHttpError(400, 'Invalid page token.');
            }
            offset = token.offset;
            readTime = token.readTime;
          }

          const matchesType = typeMatcher(assetTypes);
          const rendered = inv
            .all()
            .filter((a) => a.ancestors.includes(ancestor) && matchesType(a.assetType))
            .map((a) => render(a, contentType, enumsAsInt))
            .filter((a): a is JsonObject => a !== undefined);
          const body: JsonObject = { readTime, assets: rendered.slice(offset, offset + size) };
          if (offset + size < rendered.length) {
            const next: PageToken = { offset: offset + size, readTime, key };
            body['nextPageToken'] = Buffer.from(JSON.stringify(next), 'utf8').toString('base64url');
          }
          return { status: 200, body };
        },
      },
    ],
    concurrentChanges: [],
  };
}
