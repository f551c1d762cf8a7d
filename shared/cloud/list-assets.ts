import type { Asset, ContentType } from '../model/asset.js';
import { WardenError } from '../model/errors.js';
import { parseExportRecord } from '../contracts/cai.js';
import { timestampToJson } from '../contracts/protobuf-shapes.js';
import type { CloudClients } from './clients.js';
import { toWardenError } from './errors.js';

export interface ListAssetsRequest {
  /** organizations/N, folders/N or projects/ID-or-NUMBER */
  scope: string;
  contentType: ContentType;
  /** Exact types or RE2 patterns; all types when empty. */
  assetTypes?: readonly string[];
  /** 1..1000; CAI's default is 100. */
  pageSize?: number;
}

export type ListedAsset =
  | {
      asset: Asset;
      /** The snapshot time of the page the asset came from (CAI lists as of readTime). */
      readTime: string;
    }
  /** One asset the contract rejects: reported, and the listing goes on. */
  | { asset: null; name: string; reason: string };

/**
 * Every asset under the scope (assets.list), page by page so memory stays flat on large organizations.
 * Pages are fetched one at a time with the page token, because the page's readTime is only on the raw
 * response and is what orders a listed state against feed messages.
 */
export async function* listAssets(cloud: CloudClients, req: ListAssetsRequest): AsyncGenerator<ListedAsset> {
  const client = await cloud.assets();
  let pageToken: string | undefined;
  do {
    const request = {
      parent: req.scope,
      contentType: req.contentType,
      assetTypes: [...(req.assetTypes ?? [])],
      ...(req.pageSize ? { pageSize: req.pageSize } : {}),
      ...(pageToken ? { pageToken } : {}),
    };
    let page;
    try {
      page = await client.listAssets(request, { autoPaginate: false });
    } catch (err) {
      throw toWardenError(err, `listing ${req.contentType} assets under ${req.scope}`);
    }
    const [assets, , raw] = page;
    const readTime = timestampToJson(raw?.readTime);
    if (typeof readTime !== 'string') {
      // CAI always stamps a listing; without it nothing orders these states against feed messages.
      throw new WardenError(`assets.list under ${req.scope} returned no readTime`, {
        retryable: false,
        code: 'invalid_response',
      });
    }
    for (const a of assets) {
      // The client hands back protobuf message objects; the CAI contract reads those as it reads exports.
      const parsed = parseExportRecord(a);
      yield parsed.ok
        ? { asset: parsed.asset, readTime }
        : { asset: null, name: String(a.name ?? '?'), reason: parsed.reason };
    }
    pageToken = raw?.nextPageToken || undefined;
  } while (pageToken);
}
