import { z } from 'zod';

/**
 * Cloud KMS key ring and crypto key IAM over REST. The KMS client's own getIamPolicy goes through gax's
 * generic IAM mixin, which in REST mode sends `POST …:getIamPolicy`; KMS publishes `GET` for it and answers
 * the POST with an HTML 404 (googleapis/gax-nodejs#1462). These are the calls KMS documents.
 */
export interface KmsIamClient {
  /** GET v1/{resource}:getIamPolicy?options.requestedPolicyVersion=3 */
  getIamPolicy(resource: string): Promise<IamPolicy>;
  /** POST v1/{resource}:setIamPolicy {policy, updateMask}; a stale policy.etag answers 409 ABORTED. */
  setIamPolicy(resource: string, policy: IamPolicy, updateMask: string): Promise<IamPolicy>;
}

const BindingSchema = z.looseObject({
  role: z.string(),
  members: z.array(z.string()).default([]),
  condition: z.looseObject({ expression: z.string() }).optional(),
});
export const IamPolicySchema = z.looseObject({
  version: z.number().int().optional(),
  etag: z.string().optional(),
  bindings: z.array(BindingSchema).optional(),
  auditConfigs: z.array(z.unknown()).optional(),
});
export type IamPolicy = z.infer<typeof IamPolicySchema>;

/** What both google-auth-library's GoogleAuth and an OAuth2Client offer: an authenticated gaxios request. */
export interface AuthorizedRequester {
  request<T>(opts: {
    url: string;
    method: 'GET' | 'POST';
    params?: Record<string, string>;
    data?: unknown;
  }): Promise<{ data: T }>;
}

/** KMS resource names only: a wrong name must never turn into a request to some other path. */
const KMS_RESOURCE = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+(\/cryptoKeys\/[^/]+)?$/;

export function kmsIamClient(auth: AuthorizedRequester, baseUrl: string): KmsIamClient {
  const url = (resource: string, verb: string): string => {
    if (!KMS_RESOURCE.test(resource)) throw new Error(`not a KMS key ring or crypto key: ${resource}`);
    return `${baseUrl}/v1/${resource}:${verb}`;
  };
  return {
    async getIamPolicy(resource) {
      const res = await auth.request<unknown>({
        url: url(resource, 'getIamPolicy'),
        method: 'GET',
        // Version 3 so conditional bindings come back whole instead of failing the read.
        params: { 'options.requestedPolicyVersion': '3' },
      });
      return IamPolicySchema.parse(res.data ?? {});
    },
    async setIamPolicy(resource, policy, updateMask) {
      const res = await auth.request<unknown>({
        url: url(resource, 'setIamPolicy'),
        method: 'POST',
        data: { policy, updateMask },
      });
      return IamPolicySchema.parse(res.data ?? {});
    },
  };
}
