import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Asset } from '../model/asset.js';
import { TwinHttpError } from './http.js';
import type { Inventory } from './inventory.js';
import type { JsonObject } from './merge-patch.js';
import { parseBody, type ApiSurface, type Route, type RouteRequest, type SurfaceOptions } from './routes.js';

/**
 * Service Usage v1 (serviceusage.googleapis.com), the calls Warden's service action makes:
 * - GET  /v1/projects/P/services/S              services.get
 * - POST /v1/projects/P/services/S:enable {}    services.enable  → a google.longrunning.Operation
 * - POST /v1/projects/P/services/S:disable {disableDependentServices, checkIfServiceHasUsage} → an Operation
 * - GET  /v1/operations/OP                      operations.get
 *
 * CAI names the asset //serviceusage.googleapis.com/projects/NUMBER/services/S; the API takes the project
 * number (or id). The state changes (ENABLED / DISABLED) when the operation is done (after `operationPolls`
 * reads), published as a RESOURCE feed message; enabling an enabled service (or disabling a disabled one)
 * is a no-op operation that is done at once. Under the failOperation fault the operation ends done with
 * `error` (google.rpc.Status) and nothing changes. "The enable and disable methods currently only support
 * projects": folders and organizations are not served. Enums may arrive as numbers
 * (`$alt=json;enum-encoding=int`); the twin answers with names.
 *
 * Not modelled: service dependencies (enabling a service also enables the ones it needs; disabling one
 * that enabled services depend on fails unless disableDependentServices) and usage (CHECK fails when the
 * service was used in the last 30 days): the twin has no data on either, so those checks always pass.
 */

const ID = '([^/:]+)';
const SERVICE = new RegExp(`^/v1/projects/${ID}/services/${ID}$`);
const ENABLE = new RegExp(`^/v1/projects/${ID}/services/${ID}:enable$`);
const DISABLE = new RegExp(`^/v1/projects/${ID}/services/${ID}:disable$`);
const SERVICE_ANY = new RegExp(`^/v1/projects/${ID}/services/${ID}(?::enable|:disable)?$`);
const OPERATION = /^\/v1\/operations\/([^/]+)$/;

export const SERVICE_TYPE = 'serviceusage.googleapis.com/Service';
const TYPE = 'type.googleapis.com/google.api.serviceusage.v1';

const EnableBody = z.strictObject({ name: z.string().optional() });
const DisableBody = z.strictObject({
  name: z.string().optional(),
  disableDependentServices: z.boolean().optional(),
  // An enum: its name, or its number under enum-encoding=int.
  checkIfServiceHasUsage: z
    .union([
      z.enum(['CHECK_IF_SERVICE_HAS_USAGE_UNSPECIFIED', 'SKIP', 'CHECK']),
      z.literal(0),
      z.literal(1),
      z.literal(2),
    ])
    .optional(),
});

interface OperationState {
  op: JsonObject;
  reads: number;
  fail: boolean;
  complete: () => Promise<JsonObject>;
  responseType: string;
}

export function serviceUsageApi(inv: Inventory, opts: SurfaceOptions): ApiSurface {
  const operations = new Map<string, OperationState>();

  const serviceAsset = (project: string, service: string): Asset => {
    const number = inv.projectNumber(project) ?? project;
    const asset = inv.get(`//serviceusage.googleapis.com/projects/${number}/services/${service}`);
    if (!asset || asset.assetType !== SERVICE_TYPE) {
      throw new TwinHttpError(404, `Service '${service}' of project '${project}' not found.`, {
        reason: 'notFound',
      });
    }
    return asset;
  };

  const render = (asset: Asset): JsonObject => {
    const data = structuredClone(asset.resource?.data ?? {}) as JsonObject;
    const m = /projects\/([^/]+)\/services\/([^/]+)$/.exec(asset.name);
    data['name'] ??= `projects/${m?.[1] ?? ''}/services/${m?.[2] ?? ''}`;
    data['parent'] ??= `projects/${m?.[1] ?? ''}`;
    data['state'] ??= 'STATE_UNSPECIFIED';
    return data;
  };

  const setState = (asset: Asset, state: 'ENABLED' | 'DISABLED'): Promise<Asset> =>
    inv.change(asset.name, ['RESOURCE'], (a) => {
      a.resource = { ...(a.resource ?? {}), data: { ...(a.resource?.data ?? {}), state } };
    });

  const finish = async (s: OperationState): Promise<void> => {
    s.op['done'] = true;
    if (s.fail) {
      s.op['error'] = { code: 13, message: 'The operation failed (fault injected by the GCP twin).' };
      return;
    }
    s.op['response'] = { '@type': `${TYPE}.${s.responseType}`, service: await s.complete() };
  };

  const start = async (req: RouteRequest, state: 'ENABLED' | 'DISABLED'): Promise<JsonObject> => {
    const [project, service] = req.params as [string, string];
    const asset = serviceAsset(project, service);
    const responseType = state === 'ENABLED' ? 'EnableServiceResponse' : 'DisableServiceResponse';
    const number = /projects\/([^/]+)\//.exec(asset.name)?.[1] ?? project;
    if (render(asset)['state'] === state && !req.failOperation) {
      // Nothing to do: Service Usage answers a finished no-op operation.
      return {
        name: 'operations/noop.DONE_OPERATION',
        done: true,
        response: { '@type': `${TYPE}.${responseType}`, service: render(asset) },
      };
    }
    const name = `operations/${state === 'ENABLED' ? 'acf' : 'acat'}.p2-${number}-${randomUUID()}`;
    const op: JsonObject = {
      name,
      metadata: {
        '@type': `${TYPE}.OperationMetadata`,
        resourceNames: [`services/${service}/projectSettings/${number}`],
      },
    };
    const s: OperationState = {
      op,
      reads: 0,
      fail: req.failOperation,
      responseType,
      complete: async () => render(await setState(asset, state)),
    };
    operations.set(name, s);
    if (opts.operationPolls <= 0) await finish(s);
    return structuredClone(op);
  };

  const routes: Route[] = [
    {
      method: 'GET',
      pattern: SERVICE,
      async handle(req) {
        return { status: 200, body: render(serviceAsset(req.params[0] as string, req.params[1] as string)) };
      },
    },
    {
      method: 'POST',
      pattern: ENABLE,
      async handle(req) {
        parseBody(EnableBody, req.body, 'request');
        return { status: 200, body: await start(req, 'ENABLED') };
      },
    },
    {
      method: 'POST',
      pattern: DISABLE,
      async handle(req) {
        parseBody(DisableBody, req.body, 'request');
        return { status: 200, body: await start(req, 'DISABLED') };
      },
    },
    {
      method: 'GET',
      pattern: OPERATION,
      async handle(req) {
        const name = `operations/${req.params[0] as string}`;
        const s = operations.get(name);
        if (!s) throw new TwinHttpError(404, `Operation ${name} not found.`, { reason: 'notFound' });
        if (s.op['done'] !== true) {
          s.reads += 1;
          if (s.reads >= opts.operationPolls) await finish(s);
        }
        return { status: 200, body: structuredClone(s.op) };
      },
    },
  ];

  return {
    routes,
    concurrentChanges: [
      {
        pattern: SERVICE_ANY,
        // Someone else enables or disables the service meanwhile: its only setting.
        async apply(params) {
          const asset = serviceAsset(params[0] as string, params[1] as string);
          await setState(asset, render(asset)['state'] === 'ENABLED' ? 'DISABLED' : 'ENABLED');
        },
      },
    ],
  };
}
