import { TwinHttpError } from './http.js';
import type { Inventory } from './inventory.js';
import type { JsonObject } from './merge-patch.js';
import type { Route } from './routes.js';

/**
 * Compute Engine v1 long-running operations, global, regional or zonal: the `Operation` a mutating call returns,
 * its get and wait. One store per twin inventory, shared by every compute surface that starts operations,
 * so that a global operation started by any of them is found by the one set of global operation routes.
 *
 * An operation's change lands when it reaches DONE (after `operationPolls` reads: PENDING → RUNNING → …
 * → DONE), onto the resource as it is by then. `wait` is one step per call: compute's wait "is not
 * guaranteed to wait" until DONE, so callers must loop.
 */
export type OperationScope =
  { kind: 'global' } | { kind: 'region'; region: string } | { kind: 'zone'; zone: string };

export interface StartOperation {
  project: string;
  scope: OperationScope;
  operationType: string;
  targetLink: string;
  targetId: string;
  /** A failOperation fault: the operation ends DONE with an error and `complete` never runs. */
  fail: boolean;
  complete: () => Promise<void>;
}

interface OperationState {
  op: JsonObject;
  reads: number;
  fail: boolean;
  complete: () => Promise<void>;
}

const API_BASE = 'https://www.googleapis.com/compute/v1';

const GLOBAL_OPERATION = /^\/compute\/v1\/projects\/([^/]+)\/global\/operations\/([^/]+)$/;
const GLOBAL_OPERATION_WAIT = /^\/compute\/v1\/projects\/([^/]+)\/global\/operations\/([^/]+)\/wait$/;
const REGION_OPERATION = /^\/compute\/v1\/projects\/([^/]+)\/regions\/([^/]+)\/operations\/([^/]+)$/;
const ZONE_OPERATION = /^\/compute\/v1\/projects\/([^/]+)\/zones\/([^/]+)\/operations\/([^/]+)$/;
const ZONE_OPERATION_WAIT = /^\/compute\/v1\/projects\/([^/]+)\/zones\/([^/]+)\/operations\/([^/]+)\/wait$/;
const REGION_OPERATION_WAIT =
  /^\/compute\/v1\/projects\/([^/]+)\/regions\/([^/]+)\/operations\/([^/]+)\/wait$/;

function scopePath(project: string, scope: OperationScope): string {
  if (scope.kind === 'region') return `projects/${project}/regions/${scope.region}`;
  if (scope.kind === 'zone') return `projects/${project}/zones/${scope.zone}`;
  return `projects/${project}/global`;
}

export class ComputeOperations {
  /** By "scope path/name" and "scope path/id": compute accepts an operation's name or numeric id. */
  private readonly operations = new Map<string, OperationState>();
  private seq = 0;

  constructor(
    private readonly inv: Inventory,
    private readonly operationPolls: number,
  ) {}

  /** Records a PENDING operation and returns it as the API does (DONE at once when operationPolls ≤ 0). */
  async start(s: StartOperation): Promise<JsonObject> {
    this.seq += 1;
    const now = this.inv.clock.now();
    const id = String(4_000_000_000_000_000_000n + BigInt(this.seq));
    const name = `operation-${now.getTime()}-${this.seq.toString(16).padStart(13, '0')}`;
    const where = scopePath(s.project, s.scope);
    const op: JsonObject = {
      kind: 'compute#operation',
      id,
      name,
      operationType: s.operationType,
      targetLink: s.targetLink,
      targetId: s.targetId,
      status: 'PENDING',
      user: 'warden@gcp-twin.invalid',
      progress: 0,
      insertTime: now.toISOString(),
      selfLink: `${API_BASE}/${where}/operations/${name}`,
    };
    if (s.scope.kind === 'region')
      op['region'] = `${API_BASE}/projects/${s.project}/regions/${s.scope.region}`;
    if (s.scope.kind === 'zone') op['zone'] = `${API_BASE}/projects/${s.project}/zones/${s.scope.zone}`;
    const state: OperationState = { op, reads: 0, fail: s.fail, complete: s.complete };
    this.operations.set(`${where}/${name}`, state);
    this.operations.set(`${where}/${id}`, state);
    if (this.operationPolls <= 0) await this.finish(state);
    return structuredClone(op);
  }

  private async finish(state: OperationState): Promise<void> {
    const now = this.inv.now();
    state.op['status'] = 'DONE';
    state.op['progress'] = 100;
    state.op['startTime'] ??= now;
    state.op['endTime'] = now;
    if (state.fail) {
      state.op['error'] = {
        errors: [
          { code: 'INTERNAL_ERROR', message: 'The operation failed (fault injected by the GCP twin).' },
        ],
      };
      state.op['httpErrorStatusCode'] = 500;
      state.op['httpErrorMessage'] = 'INTERNAL SERVER ERROR';
      return;
    }
    await state.complete();
  }

  /** One read moves the operation one step: PENDING → RUNNING → … → DONE after `operationPolls` reads. */
  private async advance(state: OperationState): Promise<void> {
    if (state.op['status'] === 'DONE') return;
    state.reads += 1;
    if (state.reads >= this.operationPolls) {
      await this.finish(state);
    } else {
      state.op['status'] = 'RUNNING';
      state.op['startTime'] ??= this.inv.now();
      state.op['progress'] = Math.floor((100 * state.reads) / this.operationPolls);
    }
  }

  private async read(project: string, scope: OperationScope, operation: string): Promise<JsonObject> {
    const where = scopePath(project, scope);
    const state = this.operations.get(`${where}/${operation}`);
    if (!state) {
      throw new TwinHttpError(404, `The resource '${where}/operations/${operation}' was not found`, {
        reason: 'notFound',
      });
    }
    await this.advance(state);
    return structuredClone(state.op);
  }

  /** globalOperations, regionOperations or zoneOperations get/wait (wait: a POST whose body is `""`). */
  routes(kind: OperationScope['kind']): Route[] {
    const scoped = (params: string[]): [string, OperationScope, string] => {
      const project = params[0] as string;
      if (kind === 'region')
        return [project, { kind: 'region', region: params[1] as string }, params[2] as string];
      if (kind === 'zone') return [project, { kind: 'zone', zone: params[1] as string }, params[2] as string];
      return [project, { kind: 'global' }, params[1] as string];
    };
    const patterns: Record<OperationScope['kind'], [RegExp, RegExp]> = {
      global: [GLOBAL_OPERATION, GLOBAL_OPERATION_WAIT],
      region: [REGION_OPERATION, REGION_OPERATION_WAIT],
      zone: [ZONE_OPERATION, ZONE_OPERATION_WAIT],
    };
    const [get, wait] = patterns[kind];
    return [
      {
        method: 'GET',
        pattern: get,
        handle: async (req) => ({ status: 200, body: await this.read(...scoped(req.params)) }),
      },
      {
        method: 'POST',
        pattern: wait,
        handle: async (req) => ({ status: 200, body: await this.read(...scoped(req.params)) }),
      },
    ];
  }
}

const stores = new WeakMap<Inventory, ComputeOperations>();

/** The one operation store of a twin (its inventory), created by whichever surface asks first. */
export function computeOperations(inv: Inventory, operationPolls: number): ComputeOperations {
  let store = stores.get(inv);
  if (!store) {
    store = new ComputeOperations(inv, operationPolls);
    stores.set(inv, store);
  }
  return store;
}
