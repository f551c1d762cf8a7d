import { z } from 'zod';
import type { AuthorizedRequester } from './kms-iam.js';

/**
 * IAM Admin v1 service account keys over REST (https://cloud.google.com/iam/docs/reference/rest/v1/
 * projects.serviceAccounts.keys). No official Node client serves IAM Admin v1 (`@google-cloud/iam` is the
 * IAM v2 deny-policy API), so these are the three calls Google documents, sent as documented:
 * - keys.get     GET  v1/{name}            → ServiceAccountKey
 * - keys.disable POST v1/{name}:disable {}  → Empty
 * - keys.enable  POST v1/{name}:enable {}   → Empty
 * where name = projects/PROJECT_ID/serviceAccounts/EMAIL_OR_UNIQUE_ID/keys/KEY_ID.
 * None takes an etag or any other precondition.
 */
export interface IamAdminClient {
  /** keys.get without publicKeyType: TYPE_NONE, the public key is not returned. */
  getServiceAccountKey(name: string): Promise<ServiceAccountKey>;
  /** keys.disable with an empty body (the disable reason defaults to USER_INITIATED). */
  disableServiceAccountKey(name: string): Promise<void>;
  /** keys.enable (the request body must be empty). */
  enableServiceAccountKey(name: string): Promise<void>;
}

/** The ServiceAccountKey resource's documented fields; enums are REST names, timestamps RFC 3339. */
export const ServiceAccountKeySchema = z.looseObject({
  name: z.string(),
  privateKeyType: z.string().optional(),
  keyAlgorithm: z.string().optional(),
  publicKeyData: z.string().optional(),
  validAfterTime: z.string().optional(),
  validBeforeTime: z.string().optional(),
  keyOrigin: z.string().optional(),
  keyType: z.string().optional(),
  disabled: z.boolean().optional(),
  disableReason: z.string().optional(),
  extendedStatus: z
    .array(z.looseObject({ key: z.string().optional(), value: z.string().optional() }))
    .optional(),
});
export type ServiceAccountKey = z.infer<typeof ServiceAccountKeySchema>;

/** google.protobuf.Empty; an empty HTTP body reads as the same. */
const EmptySchema = z.looseObject({});

/**
 * Key names only, in the project-id form: a wrong name must never turn into a request to another path.
 * The `-` project wildcard is refused because with it a missing key answers 403, not 404 (Google's note).
 */
const KEY_NAME = /^projects\/[^/?#:\s-][^/?#:\s]*\/serviceAccounts\/[^/?#:\s]+\/keys\/[^/?#:\s]+$/;

export function isServiceAccountKeyName(name: string): boolean {
  return KEY_NAME.test(name);
}

export function iamAdminClient(auth: AuthorizedRequester, baseUrl: string): IamAdminClient {
  const url = (name: string, verb?: string): string => {
    if (!isServiceAccountKeyName(name)) throw new Error(`not a service account key name: ${name}`);
    return `${baseUrl}/v1/${name}${verb ? `:${verb}` : ''}`;
  };
  const post = async (name: string, verb: 'disable' | 'enable'): Promise<void> => {
    const res = await auth.request<unknown>({ url: url(name, verb), method: 'POST', data: {} });
    EmptySchema.parse(res.data === '' || res.data === undefined || res.data === null ? {} : res.data);
  };
  return {
    async getServiceAccountKey(name) {
      const res = await auth.request<unknown>({ url: url(name), method: 'GET' });
      return ServiceAccountKeySchema.parse(res.data);
    },
    disableServiceAccountKey: (name) => post(name, 'disable'),
    enableServiceAccountKey: (name) => post(name, 'enable'),
  };
}
