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
 * Cloud KMS v1, the calls Warden makes (https://cloud.google.com/kms/docs/reference/rest): keyRings.get,
 * cryptoKeys.get, cryptoKeys.patch, and getIamPolicy / setIamPolicy on key rings and crypto keys.
 *
 * cryptoKeys.patch is synchronous (it answers the CryptoKey, no operation) and needs `updateMask`; a path
 * in the mask whose field is absent from the body clears it. CryptoKey has no etag: nothing guards a patch.
 * The rules modelled from the CryptoKey reference: rotationPeriod "must be at least 24 hours and at most
 * 876,000 hours"; "if rotation_period is set, next_rotation_time must also be set"; only ENCRYPT_DECRYPT
 * keys "support automatic rotation. For other keys, this field must be omitted"; purpose and the other
 * immutable fields cannot be in the mask.
 *
 * KMS declares getIamPolicy as a GET (`…:getIamPolicy?options.requestedPolicyVersion=3`), unlike most
 * APIs. @google-cloud/kms's IAM mixin in REST mode sends a POST there, which Google's front end does not
 * route (HTML 404, googleapis/gax-nodejs#1462): the twin answers that POST 404 too.
 */

const KEY_RING_TYPE = 'cloudkms.googleapis.com/KeyRing';
const CRYPTO_KEY_TYPE = 'cloudkms.googleapis.com/CryptoKey';
const KMS = '//cloudkms.googleapis.com';

const RING_PATH = '(projects/[^/:]+/locations/[^/:]+/keyRings/[^/:]+)';
const KEY_PATH = `${RING_PATH.slice(0, -1)}/cryptoKeys/[^/:]+)`;
const KEY_RING = new RegExp(`^/v1/${RING_PATH}$`);
const CRYPTO_KEY = new RegExp(`^/v1/${KEY_PATH}$`);
const KEY_RING_IAM = new RegExp(`^/v1/${RING_PATH}:(getIamPolicy|setIamPolicy)$`);
const CRYPTO_KEY_IAM = new RegExp(`^/v1/${KEY_PATH}:(getIamPolicy|setIamPolicy)$`);

const MIN_ROTATION_S = 24 * 3600;
const MAX_ROTATION_S = 876_000 * 3600;

/** Mask paths of UpdateCryptoKeyRequest, JSON or proto spelling, to the field they name. */
const UPDATABLE: Record<string, string> = {
  labels: 'labels',
  rotationPeriod: 'rotationPeriod',
  rotation_period: 'rotationPeriod',
  nextRotationTime: 'nextRotationTime',
  next_rotation_time: 'nextRotationTime',
  'versionTemplate.algorithm': 'versionTemplate.algorithm',
  'version_template.algorithm': 'versionTemplate.algorithm',
};

const Duration = z.string().regex(/^\d+(\.\d{1,9})?s$/, 'a duration in seconds such as "7776000s"');
const Timestamp = z
  .string()
  .refine(
    (s) =>
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/.test(s) && !Number.isNaN(Date.parse(s)),
    {
      message: 'an RFC 3339 timestamp',
    },
  );
const CryptoKeyPatch = z.looseObject({
  name: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  rotationPeriod: Duration.optional(),
  nextRotationTime: Timestamp.optional(),
  versionTemplate: z.looseObject({ algorithm: z.union([z.string(), z.number()]).optional() }).optional(),
});

function notFound(kind: 'KeyRing' | 'CryptoKey', name: string): TwinHttpError {
  return new TwinHttpError(404, `${kind} ${name} not found.`, { reason: 'notFound' });
}

function dataOf(asset: Asset): JsonObject {
  return asset.resource?.data ?? {};
}

/** "ENCRYPT_DECRYPT" whatever the spelling CAI kept (older exports: lower case, or enum number 1). */
export function isSymmetric(data: JsonObject): boolean {
  const p = String(data['purpose'] ?? '').toLowerCase();
  return p === 'encrypt_decrypt' || p === '1';
}

/** Protobuf JSON of a Timestamp: UTC, with 0, 3, 6 or 9 fractional digits. */
function canonicalTimestamp(s: string): string {
  const d = new Date(Date.parse(s));
  const iso = d.toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

function canonicalDuration(s: string): string {
  const seconds = Number(s.slice(0, -1));
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(9).replace(/0+$/, '')}s`;
}

export function kmsApi(inv: Inventory, opts: SurfaceOptions): ApiSurface {
  const iamOptions = { nextIamEtag: opts.nextIamEtag, auditConfigs: false };
  let changeSeq = 0;

  const find = (kind: 'KeyRing' | 'CryptoKey', name: string): Asset => {
    const asset = inv.get(`${KMS}/${name}`);
    const type = kind === 'KeyRing' ? KEY_RING_TYPE : CRYPTO_KEY_TYPE;
    if (!asset || asset.assetType !== type) throw notFound(kind, name);
    return asset;
  };
  const render = (asset: Asset, name: string): JsonObject => ({ name, ...structuredClone(dataOf(asset)) });

  const iamRoutes = (pattern: RegExp, kind: 'KeyRing' | 'CryptoKey'): Route[] => [
    {
      method: 'GET',
      pattern,
      async handle(req) {
        const asset = find(kind, req.params[0] as string);
        if (req.params[1] !== 'getIamPolicy') {
          throw new TwinHttpError(404, `The GCP twin does not implement GET ${req.params[1]}.`, {
            reason: 'notFound',
          });
        }
        return {
          status: 200,
          body: renderIamPolicy(currentPolicy(asset), requestedVersion(undefined, req.query)),
        };
      },
    },
    {
      method: 'POST',
      pattern,
      async handle(req) {
        if (req.params[1] === 'getIamPolicy') {
          // KMS binds getIamPolicy to GET only; Google's front end has no route for this POST.
          throw new TwinHttpError(
            404,
            `POST ${req.params[0] as string}:getIamPolicy is not routed by Cloud KMS: getIamPolicy is a GET (googleapis/gax-nodejs#1462).`,
            { reason: 'notFound' },
          );
        }
        const asset = find(kind, req.params[0] as string);
        return { status: 200, body: await setIamPolicy(inv, asset, req.body, iamOptions) };
      },
    },
  ];

  return {
    routes: [
      {
        method: 'GET',
        pattern: KEY_RING,
        async handle(req) {
          const name = req.params[0] as string;
          return { status: 200, body: render(find('KeyRing', name), name) };
        },
      },
      {
        method: 'GET',
        pattern: CRYPTO_KEY,
        async handle(req) {
          const name = req.params[0] as string;
          return { status: 200, body: render(find('CryptoKey', name), name) };
        },
      },
      {
        method: 'PATCH',
        pattern: CRYPTO_KEY,
        async handle(req) {
          const name = req.params[0] as string;
          const asset = find('CryptoKey', name);
          const body = parseBody(CryptoKeyPatch, req.body, 'crypto_key');
          const rawMask = req.query.get('updateMask');
          if (rawMask === null || rawMask.trim() === '') {
            throw new TwinHttpError(400, 'update_mask is required.');
          }
          const fields = new Set<string>();
          for (const p of rawMask.split(',').map((s) => s.trim())) {
            const f = UPDATABLE[p];
            if (!f) {
              throw new TwinHttpError(400, `The update_mask path "${p}" is not a field that can be updated.`);
            }
            fields.add(f);
          }
          const next = structuredClone(dataOf(asset));
          if (fields.has('labels')) {
            if (body.labels && Object.keys(body.labels).length > 0) next['labels'] = { ...body.labels };
            else delete next['labels'];
          }
          if (fields.has('rotationPeriod')) {
            if (body.rotationPeriod === undefined) delete next['rotationPeriod'];
            else {
              const s = Number(body.rotationPeriod.slice(0, -1));
              if (s < MIN_ROTATION_S || s > MAX_ROTATION_S) {
                throw new TwinHttpError(
                  400,
                  `Invalid rotation_period ${body.rotationPeriod}: it must be at least 24 hours and at most 876,000 hours.`,
                );
              }
              next['rotationPeriod'] = canonicalDuration(body.rotationPeriod);
            }
          }
          if (fields.has('nextRotationTime')) {
            if (body.nextRotationTime === undefined) delete next['nextRotationTime'];
            else next['nextRotationTime'] = canonicalTimestamp(body.nextRotationTime);
          }
          if (fields.has('versionTemplate.algorithm')) {
            const t = isObject(next['versionTemplate']) ? next['versionTemplate'] : {};
            next['versionTemplate'] = { ...t, algorithm: body.versionTemplate?.algorithm };
          }
          const rotates = next['rotationPeriod'] !== undefined || next['nextRotationTime'] !== undefined;
          if (rotates && !isSymmetric(next)) {
            throw new TwinHttpError(
              400,
              `Automatic rotation is only supported for keys with purpose ENCRYPT_DECRYPT; ${name} has purpose ${String(next['purpose'])}.`,
            );
          }
          if (next['rotationPeriod'] !== undefined && next['nextRotationTime'] === undefined) {
            throw new TwinHttpError(400, 'next_rotation_time must be set when rotation_period is set.');
          }
          const changed = await inv.change(asset.name, ['RESOURCE'], (a) => {
            a.resource = { ...(a.resource ?? {}), data: next };
          });
          return { status: 200, body: render(changed, name) };
        },
      },
      ...iamRoutes(CRYPTO_KEY_IAM, 'CryptoKey'),
      ...iamRoutes(KEY_RING_IAM, 'KeyRing'),
    ],
    concurrentChanges: [
      {
        pattern: CRYPTO_KEY_IAM,
        apply: (params) =>
          concurrentIamChange(
            inv,
            find('CryptoKey', params[0] as string),
            'roles/cloudkms.viewer',
            opts.nextIamEtag,
          ),
      },
      {
        pattern: KEY_RING_IAM,
        apply: (params) =>
          concurrentIamChange(
            inv,
            find('KeyRing', params[0] as string),
            'roles/cloudkms.viewer',
            opts.nextIamEtag,
          ),
      },
      {
        // Someone else sets a one-year rotation (and a label) on the key.
        pattern: CRYPTO_KEY,
        async apply(params) {
          const asset = find('CryptoKey', params[0] as string);
          changeSeq += 1;
          const seq = changeSeq;
          await inv.change(asset.name, ['RESOURCE'], (a) => {
            const data = structuredClone(dataOf(a));
            const labels = isObject(data['labels']) ? data['labels'] : {};
            data['labels'] = { ...labels, 'changed-by': `someone-else-${seq}` };
            if (isSymmetric(data)) {
              data['rotationPeriod'] = `${31_536_000 + seq * 86_400}s`;
              data['nextRotationTime'] = canonicalTimestamp(
                new Date(inv.clock.now().getTime() + 365 * 86_400_000).toISOString(),
              );
            }
            a.resource = { ...(a.resource ?? {}), data };
          });
        },
      },
    ],
  };
}
