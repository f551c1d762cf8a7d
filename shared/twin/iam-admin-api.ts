import { z } from 'zod';
import type { Asset } from '../model/asset.js';
import { TwinHttpError } from './http.js';
import type { Inventory } from './inventory.js';
import { isObject, type JsonObject } from './merge-patch.js';
import { parseBody, type ApiSurface, type RouteRequest, type RouteResponse } from './routes.js';

/**
 * IAM Admin v1 service account keys (iam.googleapis.com), the calls Warden's key action makes
 * (https://cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts.keys):
 * - GET  /v1/projects/P/serviceAccounts/SA/keys/K[?publicKeyType=]   keys.get → ServiceAccountKey
 * - POST /v1/projects/P/serviceAccounts/SA/keys/K:disable {serviceAccountKeyDisableReason?}  → {}
 * - POST /v1/projects/P/serviceAccounts/SA/keys/K:enable {}                                  → {}
 *
 * SA is the account's email or unique id; anything else answers 400 ("Invalid form of account ID"). P is
 * the project id (or number), or `-`: then, as Google documents, a key that does not exist answers 403 instead
 * of 404. CAI names the asset //iam.googleapis.com/projects/P/serviceAccounts/SA/keys/K and keeps the REST
 * resource as its data, older exports with enums as numbers; the twin answers REST (enum names, `disabled`
 * only when true, publicKeyData only when publicKeyType asks for it, as keys.get's default is TYPE_NONE).
 *
 * Disabling a disabled key and enabling an enabled one succeed and change nothing (no feed message).
 * Disable records disableReason (USER_INITIATED unless the body says otherwise); enable clears both. Not
 * modelled from a reference but kept strict: disabling or enabling a SYSTEM_MANAGED key answers 400
 * FAILED_PRECONDITION. The "someone else" change is Google flagging the key as exposed (extendedStatus).
 */

const SEG = '([^/:]+)';
const KEY = new RegExp(`^/v1/projects/${SEG}/serviceAccounts/${SEG}/keys/${SEG}$`);
const KEY_VERB = new RegExp(`^/v1/projects/${SEG}/serviceAccounts/${SEG}/keys/${SEG}:(disable|enable)$`);
const KEY_ANY = new RegExp(
  `^/v1/projects/${SEG}/serviceAccounts/${SEG}/keys/${SEG}(?::(?:disable|enable))?$`,
);
/** Every IAM Admin path: a JSON API whose protos no installed client ships (api-shapes.ts skips them). */
export const IAM_ADMIN_PATH = /^\/v1\/projects\/[^/]+\/serviceAccounts(?:\/|:|$)/;

export const SERVICE_ACCOUNT_KEY_TYPE = 'iam.googleapis.com/ServiceAccountKey';

/** CAI's older exports keep these enums as numbers; REST answers their names. */
const ENUMS: Record<string, readonly string[]> = {
  keyType: ['KEY_TYPE_UNSPECIFIED', 'USER_MANAGED', 'SYSTEM_MANAGED'],
  keyOrigin: ['ORIGIN_UNSPECIFIED', 'USER_PROVIDED', 'GOOGLE_PROVIDED'],
  privateKeyType: ['TYPE_UNSPECIFIED', 'TYPE_PKCS12_FILE', 'TYPE_GOOGLE_CREDENTIALS_FILE'],
  keyAlgorithm: ['KEY_ALG_UNSPECIFIED', 'KEY_ALG_RSA_1024', 'KEY_ALG_RSA_2048'],
};
const PUBLIC_KEY_TYPES = ['TYPE_NONE', 'TYPE_X509_PEM_FILE', 'TYPE_RAW_PUBLIC_KEY'];
const DISABLE_REASONS = [
  'SERVICE_ACCOUNT_KEY_DISABLE_REASON_UNSPECIFIED',
  'SERVICE_ACCOUNT_KEY_DISABLE_REASON_USER_INITIATED',
  'SERVICE_ACCOUNT_KEY_DISABLE_REASON_EXPOSED',
  'SERVICE_ACCOUNT_KEY_DISABLE_REASON_COMPROMISE_DETECTED',
] as const;
/** Query parameters every Google REST API takes besides the method's own. */
const SYSTEM_PARAMS = new Set(['alt', '$alt', 'prettyPrint', 'fields', 'key', 'quotaUser', '$.xgafv']);

const DisableBody = z.strictObject({
  serviceAccountKeyDisableReason: z.enum(DISABLE_REASONS).optional(),
  extendedStatusMessage: z.string().optional(),
});
// EnableServiceAccountKeyRequest has no field besides the name in the path.
const EnableBody = z.strictObject({});

interface KeyRef {
  project: string;
  account: string;
  key: string;
}

/** The project, account and key id a CAI or REST key name carries. */
function refOf(name: string): KeyRef | undefined {
  const m = /(?:^|\/)projects\/([^/]+)\/serviceAccounts\/([^/]+)\/keys\/([^/]+)$/.exec(name);
  return m?.[1] && m[2] && m[3] ? { project: m[1], account: m[2], key: m[3] } : undefined;
}

function dataOf(asset: Asset): JsonObject {
  return asset.resource?.data ?? {};
}

const isDisabled = (data: JsonObject): boolean => String(data['disabled'] ?? false).toLowerCase() === 'true';
const enumName = (field: string, v: unknown): unknown =>
  typeof v === 'number' ? (ENUMS[field]?.[v] ?? v) : v;

/** A google.rpc.Status whose name does not follow the HTTP code (400 FAILED_PRECONDITION). */
function failedPrecondition(message: string): RouteResponse {
  return {
    status: 400,
    body: {
      error: {
        code: 400,
        message,
        status: 'FAILED_PRECONDITION',
        errors: [{ domain: 'global', reason: 'failedPrecondition', message }],
      },
    },
  };
}

export function iamAdminApi(inv: Inventory): ApiSurface {
  let changeSeq = 0;

  /** The key a request names, by either account form; `-` matches any project. */
  const find = (params: string[], permission: string): Asset => {
    const [project = '', account = '', key = ''] = params;
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(account) && !/^\d+$/.test(account)) {
      throw new TwinHttpError(
        400,
        `Invalid form of account ID ${account}. Should be [Gaia ID |Email |Unique ID |] of the account`,
        { reason: 'badRequest' },
      );
    }
    const number = project === '-' ? undefined : (inv.projectNumber(project) ?? project);
    for (const asset of inv.all()) {
      if (asset.assetType !== SERVICE_ACCOUNT_KEY_TYPE) continue;
      const refs = [refOf(asset.name), refOf(String(dataOf(asset)['name'] ?? ''))].filter(
        (r): r is KeyRef => r !== undefined,
      );
      if (!refs.some((r) => r.key === key)) continue;
      if (!refs.some((r) => r.account === account)) continue;
      const inProject =
        project === '-' || refs.some((r) => r.project === project || inv.projectNumber(r.project) === number);
      if (inProject) return asset;
    }
    const name = `projects/${project}/serviceAccounts/${account}/keys/${key}`;
    if (project === '-') {
      throw new TwinHttpError(403, `Permission '${permission}' denied on resource (or it may not exist).`, {
        reason: 'forbidden',
      });
    }
    throw new TwinHttpError(404, `Service account key ${name} does not exist.`, { reason: 'notFound' });
  };

  const render = (asset: Asset, publicKeyType: string): JsonObject => {
    const data = structuredClone(dataOf(asset));
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(data)) out[k] = enumName(k, v);
    const ref = refOf(asset.name);
    out['name'] ??= ref ? `projects/${ref.project}/serviceAccounts/${ref.account}/keys/${ref.key}` : '';
    // proto3 JSON leaves a false boolean out; older exports spell it as a string.
    if (isDisabled(data)) out['disabled'] = true;
    else delete out['disabled'];
    if (publicKeyType === 'TYPE_NONE') delete out['publicKeyData'];
    delete out['privateKeyData']; // returned once, by keys.create only
    return out;
  };

  const publicKeyTypeOf = (query: URLSearchParams): string => {
    for (const p of query.keys()) {
      if (p !== 'publicKeyType' && !SYSTEM_PARAMS.has(p)) {
        throw new TwinHttpError(
          400,
          `Invalid JSON payload received. Unknown name "${p}": Cannot bind query parameter.`,
          { reason: 'badRequest' },
        );
      }
    }
    const raw = query.get('publicKeyType') ?? 'TYPE_NONE';
    const t = /^\d+$/.test(raw) ? PUBLIC_KEY_TYPES[Number(raw)] : raw;
    if (!t || !PUBLIC_KEY_TYPES.includes(t)) {
      const type = 'type.googleapis.com/google.iam.admin.v1.ServiceAccountPublicKeyType';
      throw new TwinHttpError(400, `Invalid value at 'public_key_type' (${type}), "${raw}"`, {
        reason: 'badRequest',
      });
    }
    return t;
  };

  const setDisabled = async (req: RouteRequest): Promise<RouteResponse> => {
    const verb = req.params[3] as 'disable' | 'enable';
    const asset = find(req.params, `iam.serviceAccountKeys.${verb}`);
    const body =
      verb === 'disable'
        ? parseBody(DisableBody, req.body, 'request')
        : parseBody(EnableBody, req.body, 'request');
    const data = dataOf(asset);
    if (String(enumName('keyType', data['keyType'])) === 'SYSTEM_MANAGED') {
      return failedPrecondition(`A system-managed key cannot be ${verb}d.`);
    }
    const disable = verb === 'disable';
    if (isDisabled(data) === disable) return { status: 200, body: {} };
    // "If unspecified, the default value of SERVICE_ACCOUNT_KEY_DISABLE_REASON_USER_INITIATED will be used."
    const asked = 'serviceAccountKeyDisableReason' in body ? body.serviceAccountKeyDisableReason : undefined;
    const reason =
      asked && asked !== 'SERVICE_ACCOUNT_KEY_DISABLE_REASON_UNSPECIFIED'
        ? asked
        : 'SERVICE_ACCOUNT_KEY_DISABLE_REASON_USER_INITIATED';
    await inv.change(asset.name, ['RESOURCE'], (a) => {
      const next = structuredClone(dataOf(a));
      if (disable) {
        next['disabled'] = true;
        next['disableReason'] = reason;
      } else {
        delete next['disabled'];
        delete next['disableReason'];
      }
      a.resource = { ...(a.resource ?? {}), data: next };
    });
    return { status: 200, body: {} };
  };

  return {
    routes: [
      {
        method: 'GET',
        pattern: KEY,
        async handle(req) {
          const publicKeyType = publicKeyTypeOf(req.query);
          return { status: 200, body: render(find(req.params, 'iam.serviceAccountKeys.get'), publicKeyType) };
        },
      },
      { method: 'POST', pattern: KEY_VERB, handle: setDisabled },
    ],
    concurrentChanges: [
      {
        // Google's leak scanner flags the key as exposed (output only, kept for the key's lifetime).
        pattern: KEY_ANY,
        async apply(params) {
          const asset = find(params, 'iam.serviceAccountKeys.get');
          changeSeq += 1;
          const seq = changeSeq;
          await inv.change(asset.name, ['RESOURCE'], (a) => {
            const data = structuredClone(dataOf(a));
            const status = Array.isArray(data['extendedStatus'])
              ? data['extendedStatus'].filter(isObject)
              : [];
            data['extendedStatus'] = [
              ...status,
              { key: 'SERVICE_ACCOUNT_KEY_EXTENDED_STATUS_KEY_EXPOSED', value: `someone-else-${seq}` },
            ];
            a.resource = { ...(a.resource ?? {}), data };
          });
        },
      },
    ],
  };
}
