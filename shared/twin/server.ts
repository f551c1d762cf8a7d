import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Asset } from '../model/asset.js';
import type { Clock } from '../ports/clock.js';
import { assetApi } from './asset-api.js';
import { checkGaxRequest, isGaxPath } from './api-shapes.js';
import { sqlApi } from './sql-api.js';
import { bigqueryApi } from './bigquery-api.js';
import { resourceManagerApi } from './resource-manager-api.js';
import { kmsApi } from './kms-api.js';
import { secretManagerApi } from './secret-manager-api.js';
import { containerApi } from './container-api.js';
import { dnsApi } from './dns-api.js';
import { serviceUsageApi } from './service-usage-api.js';
import { iamAdminApi } from './iam-admin-api.js';
import { computeApi } from './compute-api.js';
import { computeInstanceApi } from './compute-instance-api.js';
import { computeNetworkApi } from './compute-network-api.js';
import { decideFaults, seededRng, type FaultRule } from './faults.js';
import {
  googleErrorBody,
  headerRecord,
  parseJsonBody,
  queryRecord,
  readBody,
  sendJson,
  TwinHttpError,
} from './http.js';
import { Inventory, type FeedSink } from './inventory.js';
import type { ConcurrentChange, Route, SurfaceOptions } from './routes.js';
import { protoCounterEtag, storageApi } from './storage-api.js';

export interface TwinOptions {
  assets: Asset[];
  /** 0 or absent: a free port. */
  port?: number;
  clock: Clock;
  /** Receives every change as a CAI feed message (TemporalAsset JSON), awaited in order. */
  onFeed?: FeedSink;
  faults?: FaultRule[];
  /** Reads (get or wait) a compute operation takes to reach DONE; default 2, 0 = done at once. */
  operationPolls?: number;
  /** Draws for errorRate; seeded by default so runs repeat. */
  rng?: () => number;
  /** Most recent requests kept in `requests`; default 10 000. */
  requestLogLimit?: number;
  /**
   * Checks every request to a gax-served API against the method and message shapes Google publishes in the
   * clients' protos (api-shapes.ts) and answers 400 INVALID_ARGUMENT to anything else, as Google would.
   */
  checkShapes?: boolean;
}

export interface TwinRequest {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  body: unknown;
  authorization?: string;
  /** The HTTP status answered (e.g. to count the writes that took effect, not those refused with 412). */
  status?: number;
}

export interface Twin {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** Every request received, oldest first (bodies parsed). */
  readonly requests: TwinRequest[];
  /** Errors thrown by onFeed: the API call that made the change still succeeded. */
  readonly feedErrors: unknown[];
  /** The asset as CAI would hold it now (a copy). */
  getAsset(name: string): Asset | undefined;
  /** Every asset as CAI would hold it now (copies), e.g. to save the inventory after a rehearsal. */
  listAssets(): Asset[];
  /** Replaces the fault rules (copied: `times` counts down on the copies). */
  setFaults(rules: FaultRule[]): void;
  close(): Promise<void>;
}

function copyRules(rules: FaultRule[]): FaultRule[] {
  return rules.map((r) => ({ ...r, match: { ...r.match } }));
}

/**
 * Starts the GCP twin (design §2): the REST surface of the Google APIs Warden calls, over an in-memory
 * CAI inventory, reached by the official clients through shared/cloud/clients.ts. Like Google's front
 * ends it requires a bearer token (any value) and answers errors in Google's JSON error format.
 */
export async function startTwin(opts: TwinOptions): Promise<Twin> {
  const inv = new Inventory(opts.assets, opts.clock, opts.onFeed);
  let iamSeq = 0;
  const nextIamEtag = (): string => protoCounterEtag(++iamSeq);
  const surfaceOptions: SurfaceOptions = { operationPolls: opts.operationPolls ?? 2, nextIamEtag };
  const surfaces = [
    storageApi(inv, nextIamEtag),
    computeInstanceApi(inv, surfaceOptions.operationPolls),
    computeApi(inv, surfaceOptions.operationPolls),
    computeNetworkApi(inv, surfaceOptions.operationPolls),
    assetApi(inv),
    sqlApi(inv, surfaceOptions),
    bigqueryApi(inv, surfaceOptions),
    resourceManagerApi(inv, surfaceOptions),
    kmsApi(inv, surfaceOptions),
    secretManagerApi(inv, surfaceOptions),
    containerApi(inv, surfaceOptions),
    dnsApi(inv, surfaceOptions),
    serviceUsageApi(inv, surfaceOptions),
    iamAdminApi(inv),
  ];
  const routes: Route[] = surfaces.flatMap((s) => s.routes);
  const changes: ConcurrentChange[] = surfaces.flatMap((s) => s.concurrentChanges);
  let faults = copyRules(opts.faults ?? []);
  const rng = opts.rng ?? seededRng(0x5eed);
  const requests: TwinRequest[] = [];
  const limit = opts.requestLogLimit ?? 10_000;
  const checkShapes = opts.checkShapes ?? true;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://twin.invalid');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;
    let entry: TwinRequest | undefined;
    const answer = (status: number, body: unknown): void => {
      if (entry) entry.status = status;
      sendJson(res, status, body);
    };
    try {
      const text = await readBody(req);
      const auth = req.headers.authorization;
      let logged: unknown = text || undefined;
      try {
        logged = parseJsonBody(text);
      } catch {
        // logged as received; the strict parse below answers 400 once the caller is authenticated
      }
      entry = { method, path, query: queryRecord(url.searchParams), body: logged };
      if (auth !== undefined) entry.authorization = auth;
      requests.push(entry);
      if (requests.length > limit) requests.splice(0, requests.length - limit);
      if (!auth || !/^Bearer \S+/.test(auth)) {
        throw new TwinHttpError(
          401,
          'Request is missing required authentication credential. Expected OAuth 2 access token.',
          { reason: 'required' },
        );
      }
      const body = parseJsonBody(text);
      if (checkShapes && isGaxPath(path)) {
        const verdict = checkGaxRequest({ method, path, query: url.searchParams, body });
        if (!verdict.ok && verdict.unknownMethod)
          throw new TwinHttpError(404, verdict.reason, { reason: 'notFound' });
        if (!verdict.ok)
          throw new TwinHttpError(400, `Invalid request: ${verdict.reason}`, { reason: 'badRequest' });
      }

      const effects = decideFaults(faults, method, path, rng);
      if (effects.latencyMs > 0) await new Promise((r) => setTimeout(r, effects.latencyMs));
      if (effects.concurrentModification) {
        for (const change of changes) {
          const m = change.pattern.exec(path);
          if (m) {
            await change.apply(m.slice(1).map(decodeURIComponent));
            break;
          }
        }
      }
      if (effects.errorStatus !== undefined) {
        const messages = { 429: 'Rate limit exceeded.', 500: 'Backend Error', 503: 'Service Unavailable.' };
        throw new TwinHttpError(
          effects.errorStatus,
          `${messages[effects.errorStatus]} (fault injected by the GCP twin)`,
        );
      }

      for (const route of routes) {
        if (route.method !== method) continue;
        const m = route.pattern.exec(path);
        if (!m) continue;
        const out = await route.handle({
          method,
          path,
          params: m.slice(1).map(decodeURIComponent),
          query: url.searchParams,
          body,
          headers: headerRecord(req.headers),
          failOperation: effects.failOperation,
        });
        answer(out.status, out.body);
        return;
      }
      throw new TwinHttpError(404, `The GCP twin does not implement ${method} ${path}.`, {
        reason: 'notFound',
      });
    } catch (err) {
      if (err instanceof TwinHttpError) {
        answer(err.httpStatus, googleErrorBody(err));
      } else {
        const e = new TwinHttpError(
          500,
          `GCP twin internal error: ${err instanceof Error ? err.message : String(err)}`,
        );
        answer(500, googleErrorBody(e));
      }
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    feedErrors: inv.feedErrors,
    getAsset: (name) => {
      const a = inv.get(name);
      return a ? structuredClone(a) : undefined;
    },
    listAssets: () => inv.all().map((a) => structuredClone(a)),
    setFaults: (rules) => {
      faults = copyRules(rules);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
