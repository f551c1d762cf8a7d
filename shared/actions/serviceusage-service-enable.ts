import { z } from 'zod';
import { describeCloudError, isNotFound, toWardenError } from '../cloud/errors.js';
import type { Plan } from '../model/action.js';
import type { Asset } from '../model/asset.js';
import { WardenError } from '../model/errors.js';
import { protoRestJson } from '../cloud/proto-rest-json.js';
import { pollUntilDone } from './operation-poll.js';
import type { ActionContext, ActionSettings, ApplyOutcome, RemediationAction, UndoOutcome } from './types.js';
import { parseRecordedState } from './recorded-state.js';
import { withLiveData } from './live-asset.js';
import { rereadBeforeApply, rereadBeforeUndo } from './guarded-write.js';

export const SERVICE_TYPE = 'serviceusage.googleapis.com/Service';
const API = 'https://serviceusage.googleapis.com/v1';
const ID = 'serviceusage.service.enable';

type Json = Record<string, unknown>;

const StateSchema = z.object({
  /** projects/NUMBER/services/SERVICE */
  name: z.string(),
  /** The Service as services.get returned it (REST JSON). */
  data: z.record(z.string(), z.unknown()),
});
export type ServiceState = z.infer<typeof StateSchema>;

/** `//serviceusage.googleapis.com/projects/N/services/S` → projects/N/services/S (enable/disable take projects only). */
function serviceNameOf(asset: Asset): string {
  const m = /^\/\/serviceusage\.googleapis\.com\/(projects\/[^/]+\/services\/[^/]+)$/.exec(asset.name);
  if (!m?.[1]) {
    throw new WardenError(
      `${asset.name} is not a service of a project (Service Usage enables services on projects only)`,
      {
        retryable: false,
        code: 'not_applicable',
      },
    );
  }
  return m[1];
}

function describe(name: string): string {
  const [, project, , service] = name.split('/');
  return `service ${String(service)} of project ${String(project)}`;
}

const stateOf = (data: Json): string => String(data['state'] ?? 'STATE_UNSPECIFIED').toUpperCase();

function parse(value: unknown, what: string): ServiceState {
  return parseRecordedState(StateSchema, value, what);
}

async function getService(ctx: ActionContext, name: string): Promise<Json | null> {
  const client = await ctx.cloud.serviceUsage('ServiceUsageClient');
  try {
    const [service] = await client.getService({ name });
    return protoRestJson('@google-cloud/service-usage', 'google.api.serviceusage.v1.Service', service);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw toWardenError(err, `reading ${describe(name)}`);
  }
}

/** A gax long-running operation as the client hands it over (google.longrunning.Operation fields). */
interface Lro {
  name?: string | null;
  done?: boolean | null;
  error?: { code?: number | null; message?: string | null } | null;
}

/** Polls services.enable/disable's operation (operations.get, via the client's check helper) until done. */
async function waitDone(
  name: string,
  started: Lro,
  check: (op: string) => Promise<Lro>,
  doing: string,
): Promise<void> {
  const opName = started.name ?? '';
  if (!opName) {
    throw new WardenError('Service Usage returned an operation without a name', {
      retryable: false,
      code: 'invalid_response',
    });
  }
  const done = await pollUntilDone(
    started,
    (op) => op.done === true,
    async () => {
      try {
        return await check(opName);
      } catch (err) {
        throw toWardenError(err, `waiting for Service Usage operation ${opName}`);
      }
    },
    `Service Usage operation ${opName} (${doing} ${describe(name)})`,
  );
  const error = done.error;
  if (error && (Number(error.code ?? 0) !== 0 || (error.message ?? '') !== '')) {
    throw new WardenError(
      `Service Usage operation ${opName} (${doing} ${describe(name)}) failed: ${error.message ?? ''}`,
      {
        retryable: false,
        code: 'operation_failed',
      },
    );
  }
}

async function enable(ctx: ActionContext, name: string): Promise<'done' | 'gone'> {
  const client = await ctx.cloud.serviceUsage('ServiceUsageClient');
  let started: Lro;
  try {
    const [lro] = await client.enableService({ name });
    started = lro;
  } catch (err) {
    if (isNotFound(err)) return 'gone';
    throw toWardenError(err, `enabling ${describe(name)}`);
  }
  await waitDone(name, started, (op) => client.checkEnableServiceProgress(op), 'enabling');
  return 'done';
}

/**
 * services.disable with Google's own safety checks on: checkIfServiceHasUsage CHECK ("If a service, or its
 * dependents, has usage in the last 30 days, the request returns a FAILED_PRECONDITION error") and
 * disableDependentServices false (it fails when enabled services depend on this one). 'unsafe' carries
 * Google's refusal.
 */
async function disable(ctx: ActionContext, name: string): Promise<'done' | 'gone' | { unsafe: string }> {
  const client = await ctx.cloud.serviceUsage('ServiceUsageClient');
  let started: Lro;
  try {
    const [lro] = await client.disableService({
      name,
      disableDependentServices: false,
      checkIfServiceHasUsage: 'CHECK',
    });
    started = lro;
  } catch (err) {
    if (isNotFound(err)) return 'gone';
    const info = describeCloudError(err);
    if (info.status === 'FAILED_PRECONDITION') return { unsafe: info.message };
    throw toWardenError(err, `disabling ${describe(name)}`);
  }
  await waitDone(name, started, (op) => client.checkDisableServiceProgress(op), 'disabling');
  return 'done';
}

function notTaken(name: string, state: string): WardenError {
  return new WardenError(`the operation on ${describe(name)} ended done, but the service is not ${state}`, {
    retryable: false,
    code: 'operation_failed',
  });
}

/**
 * Enables a service on a project (CIS 2.14 for cloudasset.googleapis.com, policy
 * monitoring-cloud-asset-inventory-disabled): services.enable, a long-running operation polled with
 * operations.get until done. Purely additive; Service Usage also enables the services it depends on.
 *
 * A service has no etag: its only setting is its state, which apply re-reads right before the call.
 * Reversible with a guard: undo calls services.disable only while the service is still enabled as the fix
 * left it, and with Google's own checks on (no dependent services disabled, refused if the service was used
 * in the last 30 days), so a service something has started to rely on is never switched off. Services the
 * enable switched on as dependencies stay on.
 */
export const serviceEnable: RemediationAction<ServiceState> = {
  id: ID,
  title: 'Enable a Google Cloud API on a project',
  risk: 'low',
  reversible: true,
  assetTypes: [SERVICE_TYPE],

  plan(asset: Asset, _settings: ActionSettings): Plan {
    const name = serviceNameOf(asset);
    const url = `${API}/${name}`;
    return {
      description:
        `Enable ${describe(name)} with services.enable after re-reading its state, then wait for the ` +
        'operation (operations.get until done). Additive: Service Usage also enables the services it depends ' +
        'on. Reversible: undo disables it again only while it is still enabled as the fix left it, and with ' +
        'Service Usage’s own checks on (refused if anything used it in the last 30 days or depends on it).',
      requests: [
        { method: 'GET', url },
        { method: 'POST', url: `${url}:enable`, body: {} },
        { method: 'GET', url: `${API}/operations/{operation}` },
      ],
    };
  },

  async captureBefore(asset, ctx) {
    const name = serviceNameOf(asset);
    const data = await getService(ctx, name);
    return data ? { name, data } : null;
  },

  async apply(_asset, rawBefore, ctx): Promise<ApplyOutcome> {
    const before = parse(rawBefore, 'before-state');
    const { name } = before;
    const guarded = await rereadBeforeApply(() => getService(ctx, name), {
      alreadyApplied: (live) => (stateOf(live) === 'ENABLED' ? { name, data: live } : undefined),
      asCaptured: (live) => stateOf(live) === stateOf(before.data),
      changedReason: () => `${describe(name)} changed state since it was captured`,
    });
    if ('outcome' in guarded) return guarded.outcome;
    if ((await enable(ctx, name)) === 'gone') return { status: 'gone' };
    const data = await getService(ctx, name);
    if (!data) return { status: 'gone' };
    if (stateOf(data) !== 'ENABLED') throw notTaken(name, 'enabled');
    ctx.logger.info('service enabled', { action: ID, service: name });
    return { status: 'applied', after: { name, data } };
  },

  async readLive(asset, ctx) {
    const data = await getService(ctx, serviceNameOf(asset));
    return data ? withLiveData(asset, data) : null;
  },

  async undo(_asset, rawBefore, rawAfter, ctx): Promise<UndoOutcome> {
    const before = parse(rawBefore, 'before-state');
    const after = parse(rawAfter, 'after-state');
    const { name } = before;
    const guarded = await rereadBeforeUndo(() => getService(ctx, name), {
      asFixLeftIt: (live) => stateOf(live) === stateOf(after.data),
      changedReason: () => `${describe(name)} changed state after the fix; leaving it as it is`,
      restored: (live) => stateOf(live) === stateOf(before.data),
    });
    if ('outcome' in guarded) return guarded.outcome;
    if (stateOf(before.data) !== 'DISABLED') {
      return {
        status: 'refused',
        reason: `${describe(name)} was ${stateOf(before.data)} before, which undo cannot set`,
      };
    }
    const r = await disable(ctx, name);
    if (r === 'gone') return { status: 'gone' };
    if (r !== 'done') {
      return {
        status: 'refused',
        reason: `Service Usage refused to disable ${describe(name)} safely: ${r.unsafe}`,
      };
    }
    const data = await getService(ctx, name);
    if (!data) return { status: 'gone' };
    if (stateOf(data) !== 'DISABLED') throw notTaken(name, 'disabled');
    ctx.logger.info('service disabled again', { action: ID, service: name });
    return { status: 'restored' };
  },
};
