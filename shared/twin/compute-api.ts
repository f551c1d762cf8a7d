import { isIP } from 'node:net';
import { z } from 'zod';
import type { Asset } from '../model/asset.js';
import { computeOperations } from './compute-operations.js';
import { TwinHttpError } from './http.js';
import type { Inventory } from './inventory.js';
import { mergePatch, type JsonObject } from './merge-patch.js';
import { intParam, parseBody, type ApiSurface } from './routes.js';

/**
 * Compute Engine v1: firewalls.get/list/patch, and globalOperations.get/wait from the shared operation
 * store (compute-operations.ts), which also holds the global operations of compute-network-api.ts.
 *
 * What @google-cloud/compute (REST "fallback" transport) really sends: plain paths with an empty query —
 * unlike the asset client, no `$alt=json;enum-encoding=int` — so enums travel as names both ways. Some
 * fields are plain strings in compute's protos (Firewall.direction), others real enums whose numbers are
 * hashes (Operation.status DONE = 2104194): the twin must answer names ("DONE"), which the client keeps as
 * names. The patch body is the Firewall resource itself in JSON names (`IPProtocol`, `sourceRanges`);
 * unset and empty repeated fields are omitted, so a merge patch can never clear a list. `wait` is a POST
 * whose body is the JSON string `""`. The `name` of the client's LRO wrapper is the operation's numeric
 * id, which compute accepts in operation paths as well as the name.
 *
 * Firewall rules carry no fingerprint (unlike metadata, subnetworks or backend services, catalog F10) and
 * firewalls.patch has no precondition parameter: a patch always applies to whatever the rule is by then.
 * Callers can only narrow the race by re-reading and comparing right before they patch.
 */

const FIREWALLS = /^\/compute\/v1\/projects\/([^/]+)\/global\/firewalls$/;
const FIREWALL = /^\/compute\/v1\/projects\/([^/]+)\/global\/firewalls\/([^/]+)$/;

const API_BASE = 'https://www.googleapis.com/compute/v1';

function isCidr(s: string): boolean {
  const [addr, prefix, ...rest] = s.split('/');
  if (addr === undefined || rest.length > 0) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (prefix === undefined) return true; // a bare address is accepted as a /32 or /128
  if (!/^\d+$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

const Cidr = z.string().refine(isCidr, 'Must be a valid IPV4 or IPV6 CIDR range.');
const ProtocolRule = z.looseObject({
  IPProtocol: z.string().min(1),
  ports: z.array(z.string().regex(/^\d+(-\d+)?$/, 'Must be a port or a port range')).optional(),
});
const FirewallPatch = z.looseObject({
  name: z.string().optional(),
  network: z.string().optional(),
  description: z.string().optional(),
  direction: z.enum(['INGRESS', 'EGRESS']).optional(),
  priority: z.number().int().min(0).max(65535).optional(),
  disabled: z.boolean().optional(),
  sourceRanges: z.array(Cidr).optional(),
  destinationRanges: z.array(Cidr).optional(),
  sourceTags: z.array(z.string()).optional(),
  targetTags: z.array(z.string()).optional(),
  sourceServiceAccounts: z.array(z.string()).optional(),
  targetServiceAccounts: z.array(z.string()).optional(),
  allowed: z.array(ProtocolRule).optional(),
  denied: z.array(ProtocolRule).optional(),
});

const READ_ONLY = ['id', 'kind', 'selfLink', 'creationTimestamp'];

export function firewallAssetName(project: string, firewall: string): string {
  return `//compute.googleapis.com/projects/${project}/global/firewalls/${firewall}`;
}

/** FirewallLogConfig.metadata "can only be specified ... if logging is enabled": off is `{enable: false}`. */
function withLogDetailsOnlyWhenOn(data: JsonObject): JsonObject {
  const log = data['logConfig'];
  if (typeof log === 'object' && log !== null && (log as JsonObject)['enable'] === false) {
    return { ...data, logConfig: { enable: false } };
  }
  return data;
}

export function computeApi(inv: Inventory, operationPolls: number): ApiSurface {
  const operations = computeOperations(inv, operationPolls);
  let seq = 0;

  const firewallAsset = (project: string, firewall: string): Asset => {
    const asset = inv.get(firewallAssetName(project, firewall));
    if (!asset || asset.assetType !== 'compute.googleapis.com/Firewall') {
      throw new TwinHttpError(
        404,
        `The resource 'projects/${project}/global/firewalls/${firewall}' was not found`,
        {
          reason: 'notFound',
        },
      );
    }
    return asset;
  };
  const render = (data: JsonObject): JsonObject => ({ kind: 'compute#firewall', ...structuredClone(data) });

  return {
    routes: [
      {
        method: 'GET',
        pattern: FIREWALL,
        async handle(req) {
          const [project, firewall] = req.params as [string, string];
          return { status: 200, body: render(firewallAsset(project, firewall).resource?.data ?? {}) };
        },
      },
      {
        method: 'GET',
        pattern: FIREWALLS,
        async handle(req) {
          const project = req.params[0] as string;
          const filter = req.query.get('filter');
          if (filter !== null && filter !== '') {
            throw new TwinHttpError(400, 'The GCP twin does not implement list filters.', {
              reason: 'invalid',
            });
          }
          const maxResults = intParam(req.query, 'maxResults') ?? 500;
          if (maxResults < 0 || maxResults > 500) {
            throw new TwinHttpError(
              400,
              `Invalid value for field 'maxResults': '${maxResults}'. Must be in [0, 500].`,
            );
          }
          const prefix = `//compute.googleapis.com/projects/${project}/global/firewalls/`;
          const all = inv
            .all()
            .filter((a) => a.assetType === 'compute.googleapis.com/Firewall' && a.name.startsWith(prefix));
          const token = req.query.get('pageToken');
          const offset = token ? Number(Buffer.from(token, 'base64url').toString('utf8')) : 0;
          if (!Number.isInteger(offset) || offset < 0) throw new TwinHttpError(400, 'Invalid page token.');
          const size = maxResults === 0 ? 500 : maxResults;
          const page = all.slice(offset, offset + size);
          const body: JsonObject = {
            kind: 'compute#firewallList',
            id: `projects/${project}/global/firewalls`,
            items: page.map((a) => render(a.resource?.data ?? {})),
            selfLink: `${API_BASE}/projects/${project}/global/firewalls`,
          };
          if (offset + size < all.length) {
            body['nextPageToken'] = Buffer.from(String(offset + size), 'utf8').toString('base64url');
          }
          return { status: 200, body };
        },
      },
      {
        method: 'PATCH',
        pattern: FIREWALL,
        async handle(req) {
          const [project, firewall] = req.params as [string, string];
          const asset = firewallAsset(project, firewall);
          const body = parseBody(FirewallPatch, req.body, 'resource');
          const data = asset.resource?.data ?? {};
          if (body.name !== undefined && body.name !== firewall) {
            throw new TwinHttpError(
              400,
              `Invalid value for field 'resource.name': '${body.name}'. Cannot be changed.`,
            );
          }
          if (body.network !== undefined && body.network !== data['network']) {
            throw new TwinHttpError(
              400,
              `Invalid value for field 'resource.network': '${body.network}'. Cannot be changed.`,
            );
          }
          const patch: JsonObject = structuredClone(body);
          for (const f of READ_ONLY) delete patch[f];
          const preview = mergePatch(data, patch) as JsonObject;
          const hasAny = (k: string): boolean =>
            Array.isArray(preview[k]) && (preview[k] as unknown[]).length > 0;
          if (hasAny('allowed') && hasAny('denied')) {
            throw new TwinHttpError(
              400,
              "Invalid value for field 'resource': a rule cannot have both allowed and denied.",
            );
          }

          const op = await operations.start({
            project,
            scope: { kind: 'global' },
            operationType: 'patch',
            targetLink: `${API_BASE}/projects/${project}/global/firewalls/${firewall}`,
            targetId: String(data['id'] ?? ''),
            fail: req.failOperation,
            // The patch lands when the operation completes, onto the rule as it is then.
            complete: async () => {
              await inv.change(asset.name, ['RESOURCE'], (a) => {
                a.resource = {
                  ...(a.resource ?? {}),
                  data: withLogDetailsOnlyWhenOn(mergePatch(a.resource?.data ?? {}, patch) as JsonObject),
                };
              });
            },
          });
          return { status: 200, body: op };
        },
      },
      ...operations.routes('global'),
    ],
    concurrentChanges: [
      {
        pattern: FIREWALL,
        async apply(params) {
          const asset = firewallAsset(params[0] as string, params[1] as string);
          await inv.change(asset.name, ['RESOURCE'], (a) => {
            const data = structuredClone(a.resource?.data ?? {});
            seq += 1;
            data['description'] = `changed by someone else (${seq})`;
            a.resource = { ...(a.resource ?? {}), data };
          });
        },
      },
    ],
  };
}
