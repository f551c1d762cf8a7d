// The action lifecycle under duplicates, crashes, faults and storms: the scenarios, shared by the failure
// tests (test/integration/lifecycle-failures.test.ts, test/e2e/lifecycle-firestore.test.ts, which assert
// the properties) and this benchmark (`tsx bench/lifecycle-failures.ts`, which prints the figures, on the
// embedded stack and, when the emulator is installed, on Firestore).
//
// A "world" is what outlives a process: the store, the GCP twin, the clock. A "process" is one engine
// instance on it (in-process bus, handlers, deps). A killed process loses its bus, its store connection and
// its place in every action at once, as a real crash would; recovery is a new process, the lease expiring,
// and the sweep.
import { mkdtemp, rm, writeFile, copyFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { handleFinding } from '../functions/assess-risk/handler.js';
import { handleAssetChange } from '../functions/detect/handle-asset-change.js';
import { handleSweep, type SweepReport } from '../functions/detect/handle-sweep.js';
import { handleAction } from '../functions/execute/handler.js';
import { handleOutcome } from '../functions/report/handler.js';
import type { RemediationAction } from '../shared/actions/types.js';
import { createInProcessBus, type InProcessBusOptions } from '../shared/adapters/bus-inprocess.js';
import { openSqliteDocumentStore } from '../shared/adapters/document-store-sqlite.js';
import { createCloudClients, type CloudClients } from '../shared/cloud/clients.js';
import type { Deps } from '../shared/engine/deps.js';
import { announce, evaluateAsset } from '../shared/engine/evaluate-asset.js';
import { Repository, type FindingChange } from '../shared/engine/repository.js';
import { openRunCaps } from '../shared/engine/run-cap.js';
import { TERMINAL_STATES, type Action } from '../shared/model/action.js';
import type { Asset } from '../shared/model/asset.js';
import type { FindingEvent, SweepEvent } from '../shared/model/events.js';
import type { Topic } from '../shared/model/topics.js';
import { encodeData, type BusMessage, type EventBus } from '../shared/ports/bus.js';
import { ManualClock } from '../shared/ports/clock.js';
import type { DocumentStore, Transaction } from '../shared/ports/document-store.js';
import { randomIds } from '../shared/ports/ids.js';
import { MemoryLogger } from '../shared/ports/logger.js';
import { buildDeps, loadEngineConfig, type EngineConfig } from '../shared/roots/build-deps.js';
import { runHandler, type MessageHandler } from '../shared/roots/run-handler.js';
import type { FaultRule } from '../shared/twin/faults.js';
import { startTwin, type Twin } from '../shared/twin/server.js';
import { projectRoot } from '../shared/util/project-root.js';

export const ORG = 'organizations/1';
const FOLDER = 'folders/7';

// ---------------------------------------------------------------------------------------------- inventory

export interface ProjectRef {
  number: string;
  id: string;
}

export function project(n: number, prefix = 'p'): ProjectRef {
  return { number: String(1000 + n), id: `${prefix}${String(n).padStart(3, '0')}` };
}

const ancestors = (p: ProjectRef) => [`projects/${p.number}`, FOLDER, ORG];

export function projectAsset(p: ProjectRef, labels: Record<string, string> = { env: 'dev' }): Asset {
  return {
    name: `//cloudresourcemanager.googleapis.com/projects/${p.number}`,
    assetType: 'cloudresourcemanager.googleapis.com/Project',
    ancestors: ancestors(p),
    resource: { data: { projectNumber: p.number, projectId: p.id, lifecycleState: 'ACTIVE', labels } },
    updateTime: '2026-11-01T00:00:00Z',
  };
}

/** A bucket readable by allUsers (violates lifecycle-bucket-public) unless `open` is false. */
export function bucketAsset(p: ProjectRef, name: string, open = true): Asset {
  return {
    name: `//storage.googleapis.com/${name}`,
    assetType: 'storage.googleapis.com/Bucket',
    ancestors: ancestors(p),
    resource: {
      data: {
        kind: 'storage#bucket',
        id: name,
        name,
        projectNumber: p.number,
        metageneration: '2',
        iamConfiguration: {
          uniformBucketLevelAccess: { enabled: true },
          bucketPolicyOnly: { enabled: true },
          publicAccessPrevention: 'inherited',
        },
      },
    },
    iamPolicy: {
      version: 1,
      etag: 'CAE=',
      bindings: open ? [{ role: 'roles/storage.objectViewer', members: ['allUsers'] }] : [],
    },
    updateTime: '2026-11-01T00:00:00Z',
  };
}

/** An INGRESS rule; `open`: 0.0.0.0/0 on SSH (lifecycle-firewall-open); `logged` false: lifecycle-firewall-unlogged. */
export function firewallAsset(p: ProjectRef, name: string, opts: { open: boolean; logged: boolean }): Asset {
  const selfLink = `https://www.googleapis.com/compute/v1/projects/${p.id}/global/firewalls/${name}`;
  return {
    name: `//compute.googleapis.com/projects/${p.id}/global/firewalls/${name}`,
    assetType: 'compute.googleapis.com/Firewall',
    ancestors: ancestors(p),
    resource: {
      data: {
        kind: 'compute#firewall',
        id: String(name.length * 7919),
        name,
        network: `https://www.googleapis.com/compute/v1/projects/${p.id}/global/networks/default`,
        direction: 'INGRESS',
        priority: 1000,
        disabled: false,
        sourceRanges: opts.open ? ['0.0.0.0/0'] : ['10.0.0.0/8'],
        allowed: [{ IPProtocol: 'tcp', ports: ['22'] }],
        logConfig: opts.logged ? { enable: true, metadata: 'INCLUDE_ALL_METADATA' } : { enable: false },
        selfLink,
      },
    },
    updateTime: '2026-11-01T00:00:00Z',
  };
}

/** n public buckets and m open (logged) firewall rules over `projects` projects. */
export function mixedInventory(buckets: number, firewalls: number, projects = 4): Asset[] {
  const ps = Array.from({ length: projects }, (_, i) => project(i));
  return [
    ...ps.map((p) => projectAsset(p)),
    ...Array.from({ length: buckets }, (_, i) => bucketAsset(ps[i % projects]!, `lz-bucket-${i}`)),
    ...Array.from({ length: firewalls }, (_, i) =>
      firewallAsset(ps[i % projects]!, `lz-fw-${i}`, { open: true, logged: true }),
    ),
  ];
}

// ----------------------------------------------------------------------------------- policies, automation

const POLICIES: Record<string, string> = {
  'lifecycle-bucket-public.yaml': `id: lifecycle-bucket-public
title: Bucket readable by allUsers (lifecycle scenarios)
layer: data
category: security
severity: critical
assetTypes: [storage.googleapis.com/Bucket]
condition: >-
  resource.data.?iamConfiguration.?publicAccessPrevention.orValue("inherited") != "enforced"
  && iamPolicy.bindings.exists(b, b.members.exists(m, m == "allUsers"))
remediation: { action: storage.bucket.enforce-public-access-prevention, risk: low }
tags: [public-exposure]
`,
  'lifecycle-firewall-open.yaml': `id: lifecycle-firewall-open
title: Firewall rule open to the internet (lifecycle scenarios)
layer: network
category: security
severity: critical
assetTypes: [compute.googleapis.com/Firewall]
condition: >-
  resource.data.?direction.orValue("INGRESS") == "INGRESS"
  && resource.data.?sourceRanges.orValue([]).exists(r, r == "0.0.0.0/0")
remediation: { action: compute.firewall.restrict-internet-source, risk: medium }
tags: [public-exposure]
`,
  'lifecycle-firewall-unlogged.yaml': `id: lifecycle-firewall-unlogged
title: Firewall rule without logging (lifecycle scenarios)
layer: network
category: compliance
severity: medium
assetTypes: [compute.googleapis.com/Firewall]
condition: resource.data.?logConfig.?enable.orValue(false) != true
remediation: { action: compute.firewall.enable-logging, risk: low }
`,
};

/** The shipped switches, no rate limits, the default breaker, no freeze, no cap: scenarios add what they test. */
export function baseAutomation(): Record<string, unknown> {
  return {
    automation: {
      compliance: {
        enabled: true,
        auto_remediate_low_risk: true,
        auto_remediate_medium_risk_with_approval: true,
        auto_remediate_high_risk: false,
      },
      cost_optimization: { enabled: true, auto_apply_threshold_dollars: 100, auto_apply_low_risk_only: true },
      security: { enabled: true, auto_patch_critical: true, auto_fix_public_resources: true },
    },
    dry_run: false,
    guardrails: {},
  };
}

/** A second policy asking for the same change as lifecycle-firewall-open (as SSH-open and any-port-open do). */
export const SIBLING_FIREWALL_POLICY = {
  'lifecycle-firewall-ssh.yaml': `id: lifecycle-firewall-ssh
title: Firewall rule opens SSH to the internet (lifecycle scenarios)
layer: network
category: security
severity: critical
assetTypes: [compute.googleapis.com/Firewall]
condition: >-
  resource.data.?sourceRanges.orValue([]).exists(r, r == "0.0.0.0/0")
  && resource.data.?allowed.orValue([]).exists(a, a.?ports.orValue([]).exists(p, p == "22"))
remediation: { action: compute.firewall.restrict-internet-source, risk: medium }
tags: [public-exposure]
`,
};

/** A policies folder with the scenario policies and the given automation.yaml (JSON is YAML). */
export async function writePolicies(
  dir: string,
  automation: Record<string, unknown>,
  extra: Record<string, string> = {},
): Promise<string> {
  const policies = path.join(dir, 'policies');
  await mkdir(policies, { recursive: true });
  for (const [file, text] of Object.entries({ ...POLICIES, ...extra }))
    await writeFile(path.join(policies, file), text);
  await copyFile(path.join(projectRoot(), 'policies', 'params.yaml'), path.join(policies, 'params.yaml'));
  await writeFile(path.join(policies, 'automation.yaml'), JSON.stringify(automation, null, 2));
  return policies;
}

// ------------------------------------------------------------------------------------------ world, process

export type CrashPoint = 'before_captured' | 'api_called' | 'operation_done' | 'verified';
export const CRASH_POINTS: readonly CrashPoint[] = [
  'before_captured',
  'api_called',
  'operation_done',
  'verified',
];

export interface ProcessOptions {
  busOptions?: Partial<Omit<InProcessBusOptions, 'logger'>>;
  /** Kill the process right after this step of the first action that reaches it. */
  crashAt?: CrashPoint;
  maxAttempts?: number;
}

export interface Proc {
  deps: Deps;
  bus: EventBus;
  readonly killed: boolean;
  /** One sweep of the organization and everything it causes; null when the process died during it. */
  sweep(): Promise<SweepReport | null>;
  drain(): Promise<void>;
  stop(): Promise<void>;
}

export interface World {
  dir: string;
  store: DocumentStore;
  twin: Twin;
  clock: ManualClock;
  logger: MemoryLogger;
  config: EngineConfig;
  cloud: CloudClients;
  start(opts?: ProcessOptions): Promise<Proc>;
  close(): Promise<void>;
}

export interface WorldOptions {
  assets: Asset[];
  automation?: Record<string, unknown>;
  /** Default: SQLite in the world's folder (the embedded stack). */
  openStore?: (dir: string) => Promise<DocumentStore>;
  faults?: FaultRule[];
  /** More policy files (name → YAML). */
  policies?: Record<string, string>;
}

const KILLED = 'process killed (simulated crash)';

export const sqliteStore = async (dir: string): Promise<DocumentStore> =>
  openSqliteDocumentStore(path.join(dir, 'warden.db'));

/** A store connection that dies with its process: nothing, not even an open transaction, lands after. */
function mortalStore(inner: DocumentStore, life: { killed: boolean }): DocumentStore {
  const alive = (): void => {
    if (life.killed) throw new Error(KILLED);
  };
  const mortalTx = (tx: Transaction): Transaction => ({
    get: async (c, id) => (alive(), tx.get(c, id)),
    query: async (c, q) => (alive(), tx.query(c, q)),
    set: (c, id, d) => (alive(), tx.set(c, id, d)),
    delete: (c, id) => (alive(), tx.delete(c, id)),
  });
  return {
    get: async (c, id) => (alive(), inner.get(c, id)),
    query: async (c, q) => (alive(), inner.query(c, q)),
    count: async (c, q) => (alive(), inner.count(c, q)),
    set: async (c, id, d) => (alive(), inner.set(c, id, d)),
    transaction: async (fn) => {
      alive();
      return inner.transaction(async (tx) => {
        const r = await fn(mortalTx(tx));
        alive(); // killed while the transaction ran: it never commits
        return r;
      });
    },
    close: async () => undefined,
  };
}

/** Every action wrapped: a dead process starts no step, and the chosen step is where it dies. */
function mortalAction(
  real: RemediationAction,
  life: { killed: boolean; kill(): void },
  crashAt?: CrashPoint,
): RemediationAction {
  const alive = (): void => {
    if (life.killed) throw new Error(KILLED);
  };
  const die = (point: CrashPoint): void => {
    if (crashAt === point) {
      life.kill();
      throw new Error(KILLED);
    }
  };
  return {
    ...real,
    captureBefore: async (asset, ctx) => (alive(), real.captureBefore(asset, ctx)),
    apply: async (asset, before, ctx) => {
      alive();
      die('before_captured'); // the before-state was recorded just before apply is called
      const out = await real.apply(asset, before, ctx);
      die('api_called'); // the API was called and its operation waited for; nothing recorded yet
      return out;
    },
    readLive: async (asset, ctx) => {
      alive();
      die('operation_done'); // recorded operation_done, then died before the re-read
      return real.readLive(asset, ctx);
    },
    undo: async (asset, before, after, ctx) => (alive(), real.undo(asset, before, after, ctx)),
  };
}

function mortalBus(inner: EventBus, life: { killed: boolean; kill(): void }, crashAt?: CrashPoint): EventBus {
  return {
    async publish(topic, message) {
      if (life.killed) throw new Error(KILLED);
      const data = message.data as { kind?: string } | undefined;
      if (crashAt === 'verified' && topic === 'outcomes' && data?.kind === 'outcome') {
        life.kill(); // verified was recorded; the outcome message is never sent
        throw new Error(KILLED);
      }
      return inner.publish(topic, message);
    },
    // A dead process handles nothing more: its undelivered messages are lost with it.
    subscribe: (topic, subscriber) =>
      inner.subscribe(topic, async (m) => (life.killed ? undefined : subscriber(m))),
    drain: () => inner.drain(),
    close: () => inner.close(),
  };
}

export async function createWorld(opts: WorldOptions): Promise<World> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'warden-lifecycle-'));
  const logger = new MemoryLogger();
  const clock = new ManualClock('2026-11-02T09:00:00.000Z');
  const policiesDir = await writePolicies(dir, opts.automation ?? baseAutomation(), opts.policies);
  const config = await loadEngineConfig(logger, { policiesDir });
  const store = await (opts.openStore ?? sqliteStore)(dir);
  let current: Proc | null = null;
  const twin = await startTwin({
    assets: structuredClone(opts.assets),
    clock,
    onFeed: async (message) => {
      if (!current) return;
      await current.bus.publish('asset-changes', { data: message });
    },
    ...(opts.faults ? { faults: opts.faults } : {}),
    requestLogLimit: 1_000_000,
  });
  const cloud = createCloudClients({
    target: { kind: 'twin', url: twin.url, projectId: 'warden-lifecycle' },
    // Retries are the bus's job here (redelivery, resumed from the recorded step), at full speed.
    storageRetry: { autoRetry: false },
  });
  const procs: Proc[] = [];

  const start = async (p: ProcessOptions = {}): Promise<Proc> => {
    let killed = false;
    const life = {
      get killed() {
        return killed;
      },
      kill() {
        killed = true;
      },
    };
    const bus = mortalBus(createInProcessBus({ logger, clock, ...(p.busOptions ?? {}) }), life, p.crashAt);
    const deps = buildDeps({
      store: mortalStore(store, life),
      bus,
      cloud,
      clock,
      ids: randomIds,
      logger,
      config,
      ...(p.maxAttempts !== undefined ? { maxAttempts: p.maxAttempts } : {}),
    });
    const actions = deps.actions as Map<string, RemediationAction>;
    for (const [id, a] of actions) actions.set(id, mortalAction(a, life, p.crashAt));
    const on = async (topic: Topic, handler: MessageHandler) =>
      bus.subscribe(topic, async (m) => void (await runHandler(topic, handler, m, deps)));
    await on('asset-changes', handleAssetChange);
    await on('findings', handleFinding);
    await on('actions', handleAction);
    await on('outcomes', handleOutcome);

    const proc: Proc = {
      deps,
      bus,
      get killed() {
        return killed;
      },
      async sweep() {
        const event: SweepEvent = {
          kind: 'sweep',
          sweepId: randomIds.next('sweep-'),
          scope: ORG,
          category: 'all',
        };
        const msg: BusMessage = {
          messageId: randomIds.next('msg-'),
          publishTime: clock.now().toISOString(),
          attributes: {},
          data: encodeData(event),
        };
        try {
          const r = await handleSweep(msg, deps);
          await bus.drain();
          return r.report ?? null;
        } catch (err) {
          await bus.drain();
          if (killed) return null;
          throw err;
        }
      },
      drain: () => bus.drain(),
      async stop() {
        await bus.drain();
        await bus.close();
        if (current === proc) current = null;
      },
    };
    procs.push(proc);
    current = proc;
    return proc;
  };

  return {
    dir,
    store,
    twin,
    clock,
    logger,
    config,
    cloud,
    start,
    async close() {
      for (const p of procs) await p.stop().catch(() => undefined);
      await cloud.close().catch(() => undefined);
      await twin.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// --------------------------------------------------------------------------------------------- measuring

/** Is the resource fixed in the twin (the ground truth, whatever the store says)? */
export function fixedInTwin(twin: Twin, name: string): boolean {
  const a = twin.getAsset(name);
  const data = a?.resource?.data ?? {};
  if (a?.assetType === 'storage.googleapis.com/Bucket')
    return (
      (data['iamConfiguration'] as Record<string, unknown> | undefined)?.['publicAccessPrevention'] ===
      'enforced'
    );
  const ranges = data['sourceRanges'];
  return Array.isArray(ranges) && !ranges.includes('0.0.0.0/0');
}

/**
 * How many times a fix was applied to the resource: a bucket's metageneration counts every successful
 * metadata patch; a firewall rule's PATCH requests (used only where no fault is injected).
 */
export function applications(twin: Twin, asset: Asset): number {
  if (asset.assetType === 'storage.googleapis.com/Bucket') {
    const now = Number(twin.getAsset(asset.name)?.resource?.data['metageneration']);
    return now - Number(asset.resource?.data['metageneration']);
  }
  const rest = asset.name.replace('//compute.googleapis.com/', '/compute/v1/');
  return twin.requests.filter((r) => r.method === 'PATCH' && r.path === rest).length;
}

export interface Figures {
  scenario: string;
  store: string;
  resources: number;
  actions: number;
  verified: number;
  failed: number;
  awaitingApproval: number;
  /** Actions that did not reach a terminal state (or a human's queue), plus resources left unfixed. */
  lost: number;
  /** Fixes applied more than once, summed over resources. */
  doubleApplications: number;
  /** Actions whose final state the report recorded. */
  outcomesReported: number;
  ms: number;
  extra?: Record<string, unknown>;
}

async function figures(
  world: World,
  scenario: string,
  storeName: string,
  violating: Asset[],
  startedAt: number,
  opts: { countApplications?: boolean; mustBeFixed?: boolean } = {},
): Promise<Figures & { all: Action[] }> {
  const repo = new Repository(world.store, world.clock);
  const all = await repo.listActions();
  const reported = await repo.reportedOutcomes();
  const by = (s: string) => all.filter((a) => a.state === s).length;
  const notEnded = all.filter((a) => !TERMINAL_STATES.includes(a.state) && a.state !== 'awaiting_approval');
  const unfixed = opts.mustBeFixed === false ? [] : violating.filter((a) => !fixedInTwin(world.twin, a.name));
  const doubles =
    opts.countApplications === false
      ? 0
      : violating.reduce((n, a) => n + Math.max(0, applications(world.twin, a) - 1), 0);
  return {
    scenario,
    store: storeName,
    resources: violating.length,
    actions: all.length,
    verified: by('verified'),
    failed: by('failed'),
    awaitingApproval: by('awaiting_approval'),
    lost: notEnded.length + unfixed.length,
    doubleApplications: doubles,
    outcomesReported: all.filter((a) => reported.get(a.id) === a.state).length,
    ms: Math.round(performance.now() - startedAt),
    all,
  };
}

const violatingOf = (assets: Asset[]) =>
  assets.filter((a) => a.assetType !== 'cloudresourcemanager.googleapis.com/Project');

/**
 * Stores and evaluates the assets as the sweep does, recording the findings without announcing them: the
 * caller announces (a storm), or hands them to assess-risk itself (concurrency tests).
 */
export async function detectQuietly(
  deps: Deps,
  assets: readonly Asset[],
): Promise<{ changes: FindingChange[]; flagged: Map<string, number> }> {
  const changes: FindingChange[] = [];
  const flagged = new Map<string, number>();
  for (const asset of assets) {
    let stored = null;
    for (const contentType of ['IAM_POLICY', 'RESOURCE'] as const) {
      if (contentType === 'IAM_POLICY' && !asset.iamPolicy) continue;
      const r = await deps.repo.applyAssetChange(
        { kind: 'upsert', asset, contentType, changeTime: asset.updateTime ?? '' },
        'sweep',
      );
      if (r.status === 'applied') stored = r;
    }
    if (!stored?.asset) continue;
    const r = await evaluateAsset(deps, stored.asset, stored.version, 'sweep', 'sweep', { announce: false });
    changes.push(...r.changes);
    for (const p of r.flagged) flagged.set(p, (flagged.get(p) ?? 0) + 1);
  }
  return { changes, flagged };
}

/** The findings-topic message that announces a finding (as `announce` publishes it). */
export function findingMessage(change: FindingChange, attributes: Record<string, string> = {}): BusMessage {
  const event: FindingEvent = {
    kind: 'finding',
    findingId: change.finding.id,
    assetVersion: change.finding.assetVersion,
    status: change.finding.status,
  };
  return {
    messageId: randomIds.next('msg-'),
    publishTime: new Date().toISOString(),
    attributes: { ...attributes, policyId: change.finding.policyId },
    data: encodeData(event),
  };
}

// ----------------------------------------------------------------------------------------------- scenarios

export interface ScenarioOptions {
  openStore?: (dir: string) => Promise<DocumentStore>;
  storeName?: string;
}

/** Every message delivered three times, in a shuffled order. */
export async function tripleShuffledDelivery(
  o: ScenarioOptions & { buckets?: number; firewalls?: number; seed?: number } = {},
): Promise<Figures & { all: Action[] }> {
  const assets = mixedInventory(o.buckets ?? 24, o.firewalls ?? 12);
  const world = await createWorld({ assets, ...(o.openStore ? { openStore: o.openStore } : {}) });
  try {
    const t = performance.now();
    const proc = await world.start({ busOptions: { duplicate: 3, shuffle: { seed: o.seed ?? 7 } } });
    await proc.sweep();
    await proc.stop();
    return await figures(world, 'delivered ×3, shuffled', o.storeName ?? 'sqlite', violatingOf(assets), t);
  } finally {
    await world.close();
  }
}

/**
 * The process is killed right after `point` of the first action to reach it, taking every other action in
 * flight down with it; a new process, once the leases have expired, recovers through the sweep.
 */
export async function crashAfter(
  point: CrashPoint,
  o: ScenarioOptions & { buckets?: number; firewalls?: number } = {},
): Promise<
  Figures & {
    all: Action[];
    killed: boolean;
    /** Where the actions stood when the process died (state/step → count). */
    atCrash: Record<string, number>;
    resumed: number;
    republishedOutcomes: number;
    recoverySweeps: number;
  }
> {
  const assets = mixedInventory(o.buckets ?? 6, o.firewalls ?? 4, 2);
  const world = await createWorld({ assets, ...(o.openStore ? { openStore: o.openStore } : {}) });
  try {
    const t = performance.now();
    const doomed = await world.start({ crashAt: point });
    await doomed.sweep();
    const killed = doomed.killed;
    await doomed.stop();
    const atCrash: Record<string, number> = {};
    for (const a of await new Repository(world.store, world.clock).listActions())
      atCrash[`${a.state}/${a.step}`] = (atCrash[`${a.state}/${a.step}`] ?? 0) + 1;
    world.clock.advance(doomed.deps.leaseMs + 1_000);
    const recovery = await world.start();
    let sweeps = 0;
    let resumed = 0;
    let republishedOutcomes = 0;
    for (; sweeps < 5; sweeps++) {
      const r = await recovery.sweep();
      resumed += r?.resumedActions ?? 0;
      republishedOutcomes += r?.republishedOutcomes ?? 0;
      const pending = await recovery.deps.repo.countActions([
        ['state', 'in', ['planned', 'approved', 'executing', 'succeeded']],
      ]);
      if (r && r.resumedActions === 0 && r.republishedOutcomes === 0 && pending === 0) break;
      world.clock.advance(1_000);
    }
    await recovery.stop();
    const f = await figures(world, `killed after ${point}`, o.storeName ?? 'sqlite', violatingOf(assets), t);
    return { ...f, killed, atCrash, resumed, republishedOutcomes, recoverySweeps: sweeps + 1 };
  } finally {
    await world.close();
  }
}

/**
 * A share of every Storage and Compute call answers 503; retries come from redelivery. Double applications
 * are counted on the buckets (their metageneration counts every patch that went through).
 */
export async function transientFaults(
  o: ScenarioOptions & { rate?: number; buckets?: number; firewalls?: number } = {},
): Promise<Figures & { all: Action[]; redeliveries: number; calls: number }> {
  const rate = o.rate ?? 0.3;
  const assets = mixedInventory(o.buckets ?? 20, o.firewalls ?? 8, 4);
  const faults: FaultRule[] = [
    { match: { pathPattern: /^\/(storage|compute)\// }, errorStatus: 503, errorRate: rate },
  ];
  const world = await createWorld({ assets, faults, ...(o.openStore ? { openStore: o.openStore } : {}) });
  try {
    const t = performance.now();
    const proc = await world.start({ busOptions: { maxDeliveryAttempts: 200 }, maxAttempts: 200 });
    await proc.sweep();
    await proc.stop();
    const calls = world.twin.requests.filter((r) => /^\/(storage|compute)\//.test(r.path)).length;
    const retries = world.logger.records.filter((r) => r.msg === 'bus.redeliver').length;
    const violating = violatingOf(assets);
    const f = await figures(
      world,
      `${Math.round(rate * 100)}% transient faults`,
      o.storeName ?? 'sqlite',
      violating,
      t,
      {
        countApplications: false,
      },
    );
    const buckets = violating.filter((a) => a.assetType === 'storage.googleapis.com/Bucket');
    const doubleApplications = buckets.reduce((n, a) => n + Math.max(0, applications(world.twin, a) - 1), 0);
    return { ...f, doubleApplications, redeliveries: retries, calls };
  } finally {
    await world.close();
  }
}

/** Every firewall fix's operation ends in error: the fixes fail, and the breaker opens as configured. */
export async function permanentFailures(
  o: ScenarioOptions & { firewalls?: number; minOutcomes?: number } = {},
): Promise<
  Figures & {
    all: Action[];
    breakerState: string;
    breakerOpenings: number;
    failuresBeforeOpening: number;
    startedAfterOpening: number;
    alertsRaised: number;
    held: number;
  }
> {
  const minOutcomes = o.minOutcomes ?? 3;
  const assets = mixedInventory(0, o.firewalls ?? 8, 2);
  const automation = baseAutomation();
  automation['guardrails'] = {
    circuit_breaker: {
      window_outcomes: 10,
      window_minutes: 60,
      min_outcomes: minOutcomes,
      failure_rate: 0.5,
      cooldown_minutes: 30,
    },
  };
  const faults: FaultRule[] = [
    { match: { method: 'PATCH', pathPattern: '/global/firewalls/' }, failOperation: true },
  ];
  const world = await createWorld({
    assets,
    automation,
    faults,
    ...(o.openStore ? { openStore: o.openStore } : {}),
  });
  try {
    const t = performance.now();
    // One delivery at a time: the order in which outcomes arrive is then the order actions were planned.
    const proc = await world.start({ busOptions: { maxConcurrent: 1 } });
    await proc.sweep();
    await proc.stop();
    const f = await figures(world, 'permanent failures', o.storeName ?? 'sqlite', violatingOf(assets), t, {
      mustBeFixed: false,
    });
    const repo = new Repository(world.store, world.clock);
    const breaker = await repo.getBreaker('compute.firewall.restrict-internet-source');
    const audit = await repo.readAuditRecords();
    const opened = audit.findIndex((r) => r['kind'] === 'breaker.open');
    const before = opened < 0 ? audit : audit.slice(0, opened);
    const after = opened < 0 ? [] : audit.slice(opened);
    return {
      ...f,
      breakerState: breaker.state,
      breakerOpenings: audit.filter((r) => r['kind'] === 'breaker.open').length,
      /** Failures recorded when the breaker opened: min_outcomes when it opens as configured. */
      failuresBeforeOpening: before.filter((r) => r['kind'] === 'action.failed').length,
      /** Fixes that started touching a resource after the breaker opened: must be 0. */
      startedAfterOpening: after.filter((r) => r['kind'] === 'action.step.before_captured').length,
      alertsRaised: world.logger.records.filter((r) => r.msg === 'ALERT circuit breaker open').length,
      held: f.all.filter((a) => a.decision.factors.some((x) => x.factor.startsWith('circuit breaker')))
        .length,
    };
  } finally {
    await world.close();
  }
}

/**
 * A storm: 10,000 findings announced at once, as a sweep announces what it flagged. Three groups of
 * projects, each with one binding limit: A (public buckets) the per-project rate limit, B (open firewalls)
 * the per-action-type rate limit, C (unlogged firewalls) the per-run cap. The counts are exact whatever
 * the order in which the decisions are taken, so they can be asserted exactly.
 */
export const STORM_LIMITS = { perProject: 6, firewallRestrictPerType: 25, runCapPercent: 1 };
export async function storm(o: ScenarioOptions & { scale?: number } = {}): Promise<
  Figures & {
    all: Action[];
    findings: number;
    planned: Record<'A' | 'B' | 'C', number>;
    expected: Record<'A' | 'B' | 'C', number>;
    maxPerProject: number;
    decisionsPerSecond: number;
  }
> {
  const scale = o.scale ?? 1;
  const groupA = Array.from({ length: 5 }, (_, i) => project(i, 'a'));
  const groupB = Array.from({ length: 10 }, (_, i) => project(100 + i, 'b'));
  const groupC = Array.from({ length: 10 }, (_, i) => project(200 + i, 'c'));
  const perA = Math.round(800 * scale);
  const perB = Math.round(400 * scale);
  const perC = Math.round(200 * scale);
  const assets: Asset[] = [
    ...[...groupA, ...groupB, ...groupC].map((p) => projectAsset(p)),
    ...groupA.flatMap((p) => Array.from({ length: perA }, (_, i) => bucketAsset(p, `${p.id}-b${i}`))),
    ...groupB.flatMap((p) =>
      Array.from({ length: perB }, (_, i) =>
        firewallAsset(p, `${p.id}-fw${i}`, { open: true, logged: true }),
      ),
    ),
    ...groupC.flatMap((p) =>
      Array.from({ length: perC }, (_, i) =>
        firewallAsset(p, `${p.id}-fw${i}`, { open: false, logged: false }),
      ),
    ),
  ];
  const automation = baseAutomation();
  automation['guardrails'] = {
    rate_limits: {
      per_project: { max: STORM_LIMITS.perProject, window_minutes: 60 },
      per_action_type: { max: 100_000, window_minutes: 60 },
      by_action_type: {
        'compute.firewall.restrict-internet-source': {
          max: STORM_LIMITS.firewallRestrictPerType,
          window_minutes: 60,
        },
      },
    },
    per_run_cap: { max_percent: STORM_LIMITS.runCapPercent },
  };
  const world = await createWorld({ assets, automation, ...(o.openStore ? { openStore: o.openStore } : {}) });
  try {
    const proc = await world.start();
    const { deps } = proc;
    // Detection as the sweep does it: every asset part stored and evaluated, the findings recorded...
    const { changes, flagged } = await detectQuietly(deps, assets);
    // ...then the run's caps stored, and every finding announced at once.
    const sweepId = 'storm-sweep';
    await openRunCaps(
      world.store,
      world.config.automation.guardrails.per_run_cap,
      sweepId,
      flagged,
      world.clock.now().toISOString(),
    );
    const t = performance.now();
    await announce(deps, changes, 'sweep', { sweepId });
    await proc.drain();
    const ms = performance.now() - t;
    await proc.stop();

    const findings = changes.length;
    const f = await figures(
      world,
      `storm of ${findings} findings`,
      o.storeName ?? 'sqlite',
      violatingOf(assets),
      t,
      { mustBeFixed: false, countApplications: false },
    );
    const byName = new Map(assets.map((a) => [a.name, a]));
    const group = (policyId: string): 'A' | 'B' | 'C' =>
      policyId === 'lifecycle-bucket-public' ? 'A' : policyId === 'lifecycle-firewall-open' ? 'B' : 'C';
    const planned = { A: 0, B: 0, C: 0 };
    const perProject = new Map<string, number>();
    for (const a of f.all.filter((x) => x.decision.kind === 'auto')) {
      planned[group(a.policyId)] += 1;
      perProject.set(a.project ?? '', (perProject.get(a.project ?? '') ?? 0) + 1);
    }
    const cap = (policyId: string) =>
      Math.floor(((flagged.get(policyId) ?? 0) * STORM_LIMITS.runCapPercent) / 100);
    const projectCapacity = (ps: ProjectRef[]) => ps.length * STORM_LIMITS.perProject;
    const executed = f.all.filter((a) => a.decision.kind === 'auto');
    return {
      ...f,
      doubleApplications: executed.reduce(
        (n, a) => n + Math.max(0, applications(world.twin, byName.get(a.resourceName)!) - 1),
        0,
      ),
      findings,
      planned,
      expected: {
        A: Math.min(projectCapacity(groupA), cap('lifecycle-bucket-public')),
        B: Math.min(
          projectCapacity(groupB),
          cap('lifecycle-firewall-open'),
          STORM_LIMITS.firewallRestrictPerType,
        ),
        C: Math.min(projectCapacity(groupC), cap('lifecycle-firewall-unlogged')),
      },
      maxPerProject: Math.max(0, ...perProject.values()),
      decisionsPerSecond: Math.round((findings / ms) * 1000),
    };
  } finally {
    await world.close();
  }
}

// ---------------------------------------------------------------------------------------------------- main

function line(f: Figures): string {
  const extra = Object.entries(f as object)
    .filter(([k]) => !['scenario', 'store', 'all', 'ms', 'extra'].includes(k))
    .map(([k, v]: [string, unknown]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
  return `${f.store.padEnd(9)} ${f.scenario.padEnd(34)} ${String(f.ms).padStart(7)} ms  ${extra}`;
}

async function runAll(o: ScenarioOptions, print: (s: string) => void, stormScale: number): Promise<void> {
  print(line(await tripleShuffledDelivery(o)));
  for (const p of CRASH_POINTS) print(line(await crashAfter(p, o)));
  print(line(await transientFaults(o)));
  print(line(await permanentFailures(o)));
  print(line(await storm({ ...o, scale: stormScale })));
}

async function main(): Promise<void> {
  process.env['METADATA_SERVER_DETECTION'] ??= 'none';
  const print = (s: string) => console.log(s);
  print('action lifecycle under failures (lost / doubleApplications must be 0)');
  await runAll({ storeName: 'sqlite' }, print, 1);
  const { emulatorAvailability, startFirestoreEmulator, EMULATOR_PROJECT } =
    await import('../test/support/emulators.js');
  if (emulatorAvailability().firestore !== true) {
    print(`firestore: emulator not available (${String(emulatorAvailability().firestore)}): skipped`);
    return;
  }
  const { Firestore } = await import('@google-cloud/firestore');
  const { createFirestoreDocumentStore } = await import('../shared/adapters/document-store-firestore.js');
  const emulator = await startFirestoreEmulator();
  try {
    let n = 0;
    const openStore = async () =>
      createFirestoreDocumentStore({
        firestore: new Firestore({ projectId: EMULATOR_PROJECT, host: emulator.host, ssl: false }),
        prefix: `bench${Date.now().toString(36)}${n++}-`,
      });
    // The storm at a tenth of its size: every decision is a transaction against the emulator.
    await runAll({ storeName: 'firestore', openStore }, print, 0.1);
  } finally {
    await emulator.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) await main();
