import { z } from 'zod';
import { isNotFound, toWardenError } from '../cloud/errors.js';
import type { Asset } from '../model/asset.js';
import { WardenError } from '../model/errors.js';
import { canonicalJson } from '../util/canonical-json.js';
import type { ActionContext } from './types.js';
import { parseRecordedState } from './recorded-state.js';

export const DNS_API = 'https://dns.googleapis.com/dns/v1';
export const MANAGED_ZONE_TYPE = 'dns.googleapis.com/ManagedZone';
export const DNS_POLICY_TYPE = 'dns.googleapis.com/Policy';

export type Json = Record<string, unknown>;
export type DnsCollection = 'managedZones' | 'policies';

export const DnsRefSchema = z.object({ project: z.string(), name: z.string() });
export type DnsRef = z.infer<typeof DnsRefSchema>;

/**
 * `//dns.googleapis.com/projects/P/managedZones/Z` or `/policies/NAME`. The API addresses a zone by name or
 * id and a policy by its name, so the name in the data (the friendly name) is preferred to the last segment.
 */
export function dnsRefOf(asset: Asset, collection: DnsCollection): DnsRef {
  const m = new RegExp(`^//dns\\.googleapis\\.com/projects/([^/]+)/${collection}/([^/]+)$`).exec(asset.name);
  if (!m?.[1] || !m[2]) {
    throw new WardenError(
      `${asset.name} is not a Cloud DNS ${collection === 'policies' ? 'policy' : 'managed zone'}`,
      {
        retryable: false,
        code: 'not_applicable',
      },
    );
  }
  const named = asset.resource?.data['name'];
  return { project: m[1], name: typeof named === 'string' && named !== '' ? named : m[2] };
}

export function dnsPath(ref: DnsRef, collection: DnsCollection): string {
  return `/${collection}/${encodeURIComponent(ref.name)}`;
}
export function dnsUrl(ref: DnsRef, collection: DnsCollection): string {
  return `${DNS_API}/projects/${encodeURIComponent(ref.project)}${dnsPath(ref, collection)}`;
}

/**
 * One Cloud DNS v1 call through @google-cloud/dns. Its classes cover zones' get but no patch and nothing
 * of policies or zone operations, so every call goes through the client's authenticated `request`, which
 * builds https://dns.googleapis.com/dns/v1/projects/{projectId}{uri}. The client's own retries are off
 * (maxRetries 0): like the gax clients, a failure surfaces at once as a WardenError and the executor's
 * retry decides, from a fresh read.
 */
export async function dnsRequest(
  ctx: ActionContext,
  method: 'GET' | 'PATCH',
  project: string,
  uri: string,
  json?: Json,
): Promise<Json> {
  const dns = await ctx.cloud.dns();
  return new Promise<Json>((resolve, reject) => {
    dns.request(
      { method, uri, projectId: project, maxRetries: 0, ...(json ? { json } : {}) },
      (err: Error | null, body: unknown) => {
        if (err) reject(err);
        else resolve(typeof body === 'object' && body !== null ? (body as Json) : {});
      },
    );
  });
}

/** A GET as JSON, or null when the resource does not exist. */
export async function dnsGet(
  ctx: ActionContext,
  project: string,
  uri: string,
  what: string,
): Promise<Json | null> {
  try {
    return await dnsRequest(ctx, 'GET', project, uri);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw toWardenError(err, `reading ${what}`);
  }
}

export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

export function liveDnsAsset(asset: Asset, data: Json): Asset {
  return {
    name: asset.name,
    assetType: asset.assetType,
    ancestors: [...asset.ancestors],
    // The data is what the v1 API returned (lower-case enums), whatever version CAI exported.
    resource: { ...(asset.resource ?? {}), version: 'v1', data },
  };
}

export const parseDnsState = parseRecordedState;
