import { afterEach, describe, expect, it } from '@jest/globals';
import type { ActionContext, ApplyOutcome, RemediationAction } from '../../shared/actions/types.js';
import type { Plan } from '../../shared/model/action.js';
import type { Asset } from '../../shared/model/asset.js';
import { WardenError } from '../../shared/model/errors.js';
import type { FaultRule } from '../../shared/twin/faults.js';
import type { TwinRequest } from '../../shared/twin/server.js';
import { startHarness, type TwinHarness } from '../twin/twin-fixtures.js';
import { actionContext, rejection } from './action-context.js';
import { usePolicies, verdict } from './policies.js';

/**
 * What every remediation action promises, checked the same way against the GCP twin for each case a suite
 * gives: the plan names the exact requests; the fix makes its policies pass on the live resource, twice is a
 * no-op and undo restores exactly the before-state; a concurrent change is a conflict and nothing is
 * clobbered; undo after someone else's change refuses and sends nothing; throttling and unavailability are
 * retryable, an operation ending in error is not; a resource that is gone is reported as gone.
 */

export type HarnessOptions = NonNullable<Parameters<typeof startHarness>[1]>;
export type RequestMatch = FaultRule['match'];

/** A started case: the twin, the context the action runs with, and the asset it fixes. */
export interface Run {
  h: TwinHarness;
  ctx: ActionContext;
  asset: Asset;
}

/** The fix step so far, for the suite's own checks of what was sent and what is live. */
export interface FixRun extends Run {
  /** The twin's copy of the asset before anything was read or sent. */
  twinBefore: Asset | undefined;
  /** readLive before the capture, when the case asks for it (`fix.readLiveFirst`). */
  liveBefore: Asset | null | undefined;
  before: unknown;
  applied: ApplyOutcome;
}

/** After the undo: `restored` is readLive's answer. */
export interface RestoredRun extends FixRun {
  restored: Asset;
}

/**
 * Someone else's change: made by the twin as it receives a matching request, or through the API. `toField`:
 * it changes the very field the fix changes (so that field is theirs now, not the before or the fixed value).
 */
export type ConcurrentChange = (
  { at: RequestMatch; times?: number } | { by: (run: Run) => Promise<void> }
) & {
  toField?: boolean;
};

export interface ConflictExpected {
  reason: string | RegExp;
  /**
   * true: the outcome says the resource changed under the fix, so a fresh capture and plan may succeed;
   * false: it must not say so. Left out only where the suite does not pin it.
   */
  stale?: boolean;
  /** Someone else's change is still there. */
  theirs: (now: Asset | undefined) => void;
}

export interface ActionContract {
  /** Names the case: `${action.id} on ${title}`. */
  title: string;
  action: RemediationAction;
  /** A resource the policies flag, as CAI holds it. */
  asset: () => Asset;
  /** Assets the twin holds beside it (and keeps once it is gone), e.g. a schedule the fix attaches. */
  alongside?: () => Asset[];
  /** The context the action runs with; actionContext's defaults otherwise. */
  context?: (h: TwinHarness) => ActionContext;

  /** The API host the plan's requests go to. */
  api: string;
  /** The exact requests the plan names (and, where the suite checks it, that apply sends exactly that). */
  plan: (run: Run, plan: Plan) => void | Promise<void>;

  /** Policies that flag `asset` and pass once it is fixed. */
  policyIds: string[];
  /** Policies that must pass on the fixed resource too. */
  alsoPass?: string[];
  /** The part of the resource the fix changes, and its value once fixed. */
  field: (a: Asset | undefined) => unknown;
  fixed: unknown;
  /** The requests the fix and its undo write with: what "sends nothing" counts. */
  isWrite: (r: TwinRequest) => boolean;
  /** The resource is as it was (after a failed write); the changed field alone by default. */
  untouched?: (now: Asset | undefined, asset: Asset) => void;

  fix: {
    /** Read the live resource before the capture (FixRun.liveBefore), to compare the undone one with it. */
    readLiveFirst?: boolean;
    /** The before-state captureBefore returned. */
    captured?: (before: unknown, run: Run) => void;
    /** What the fix put on the wire (one write, counted already). */
    sent?: (run: FixRun) => void;
    /** The fixed resource as readLive gives it. */
    live?: (live: Asset, run: FixRun) => void;
    /** RESOURCE feed messages once fixed: exactly this many, or at least one. */
    feed: number | 'some';
    /** What happens between the fix and its undo (time passing, a refusal and what lifts it). */
    beforeUndo?: (run: FixRun) => void | Promise<void>;
    /** 'refused': undo cannot be expressed, so it refuses and sends nothing. */
    undo?: 'restores' | 'refused';
    /** The policies that flag the undone resource: `policyIds` unless `beforeUndo` changed more than the fix. */
    violatedAfterUndo?: string[];
    /** That the undo restored exactly the before-state (and sent what it should). */
    restored: (run: RestoredRun) => void | Promise<void>;
    /**
     * Undo of an undone fix sends nothing: it refuses (the resource changed since the fix, by the undo) or
     * finds the before-state already there. Pinned where the suite says which.
     */
    undoTwice?: 'refused' | 'restored';
    /** RESOURCE feed messages once undone. */
    feedAfterUndo?: number;
  };

  conflict: {
    /** Someone changed the resource after the capture: apply's re-read sees it, and nothing is sent. */
    beforeWrite?: ConflictExpected & { change: ConcurrentChange };
    /** Someone changes the resource as the write is sent: the write's precondition refuses it. */
    atWrite?:
      | (ConflictExpected & { at: RequestMatch; times?: number })
      /** A write without precondition that touches only its own field: applied, their change kept. */
      | { at: RequestMatch; times?: number; unguarded: true; theirs: (now: Asset | undefined) => void };
  };

  /** Someone changes the resource after the fix: undo refuses (for `reason`) and sends nothing. */
  undoAfterChange: {
    change: ConcurrentChange;
    reason?: string | RegExp;
    /** Their change is still there (needed where it is to the fixed field itself: `toField`). */
    theirs?: (now: Asset | undefined) => void;
  };

  retryable: {
    /** Where the 503 is injected. */
    unavailable: { at: RequestMatch; times?: number };
    /** Where a 429 is injected, and the call that meets it. */
    throttled?: { at: RequestMatch; via: 'apply' | 'readLive' | 'captureBefore' };
    /** Run on the harness first (e.g. the client's own retries off, to see one failure fast). */
    prepare?: (h: TwinHarness) => Promise<void>;
  };

  /** The write starts a long-running operation: one that ends in error fails the fix. */
  failedOperation?: { at: RequestMatch; message?: RegExp };

  /**
   * Once the resource is gone: by default reads give null and apply/undo 'gone' (`after` is what undo is
   * given); `rejects` where the API cannot tell a deleted resource from a forbidden one.
   */
  gone?: { after?: (before: unknown) => unknown } | { rejects: { code: string; message: string } };

  /** Variants the action must refuse: a conflict for `reason`, nothing but reads sent. */
  refused?: Array<{ asset: () => Asset; reason: RegExp }>;

  /** This case's own tests, on the contract's harness. */
  more?: (fx: ContractFixture) => void;
}

export interface ContractFixture {
  /** Starts the twin over the case's asset (or `asset`) and what it keeps alongside. */
  start(opts?: HarnessOptions, asset?: Asset): Promise<Run>;
  /** The case's writes the twin received. */
  writes(h: TwinHarness): number;
}

/** The given request, exactly: method and path. */
export function request(method: string, path: string): (r: TwinRequest) => boolean {
  return (r) => r.method === method && r.path === path;
}

/** `theirs` for the twin's concurrent change to a resource: it rewrites the description. */
export function describedBySomeoneElse(now: Asset | undefined): void {
  expect(now?.resource?.data['description']).toMatch(/^changed by someone else/);
}

/** `theirs` for the twin's concurrent change to an IAM policy: it grants someone else a role. */
export function grantedToSomeoneElse(now: Asset | undefined): void {
  expect(now?.iamPolicy?.bindings.some((b) => b.members.includes('user:someone-else@example.com'))).toBe(
    true,
  );
}

/** setIamPolicy carries the etag it read: the twin's concurrent grant makes it answer 409 ABORTED. */
export function iamEtagConflict(at: RequestMatch): ActionContract['conflict'] {
  return { atWrite: { at, reason: '409 ABORTED', stale: true, theirs: grantedToSomeoneElse } };
}

/** What a suite's own table gives of every case (its field and writes it describes in its own terms). */
export type CaseBasics = Pick<ActionContract, 'title' | 'action' | 'asset' | 'policyIds' | 'alsoPass'>;

export function basicsOf(c: CaseBasics): CaseBasics {
  return { title: c.title, action: c.action, asset: c.asset, policyIds: c.policyIds, alsoPass: c.alsoPass };
}

/** `untouched` for suites that compare the whole resource. */
export function sameData(now: Asset | undefined, asset: Asset): void {
  expect(now?.resource?.data).toEqual(asset.resource?.data);
}

function present<T>(v: T | null | undefined, what: string): T {
  if (v === null || v === undefined) throw new Error(`expected ${what}`);
  return v;
}

function matching(reason: string | RegExp): unknown {
  return typeof reason === 'string' ? expect.stringContaining(reason) : expect.stringMatching(reason);
}

function expectConflict(outcome: ApplyOutcome, e: ConflictExpected): void {
  const expected = { status: 'conflict', reason: matching(e.reason) };
  if (e.stale === undefined) expect(outcome).toMatchObject(expected);
  else expect(outcome).toEqual(e.stale ? { ...expected, stale: true } : expected);
}

export function describeActionContract(cases: readonly ActionContract[]): void {
  usePolicies();

  describe.each(cases)('$action.id on $title', (c) => {
    let h: TwinHarness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });
    const contextOf = (t: TwinHarness): ActionContext => c.context?.(t) ?? actionContext(t);
    const start = async (opts: HarnessOptions = {}, asset: Asset = c.asset()): Promise<Run> => {
      const t = await startHarness([asset, ...(c.alongside?.() ?? [])], opts);
      h = t;
      return { h: t, ctx: contextOf(t), asset };
    };
    const writes = (t: TwinHarness): number => t.twin.requests.filter(c.isWrite).length;
    const twinAsset = (run: Run): Asset | undefined => run.h.twin.getAsset(run.asset.name);
    const untouched =
      c.untouched ?? ((now: Asset | undefined, asset: Asset) => expect(c.field(now)).toEqual(c.field(asset)));
    const change = async (run: Run, how: ConcurrentChange): Promise<void> => {
      if ('by' in how) await how.by(run);
      else run.h.twin.setFaults([{ match: how.at, concurrentModification: true, times: how.times ?? 1 }]);
    };

    it(`plans the exact requests against ${c.api}`, async () => {
      const run = await start();
      await c.plan(run, c.action.plan(run.asset, run.ctx.settings));
    });

    it('fixes, so that the policies pass on the live resource; twice is a no-op; undo restores exactly the before-state', async () => {
      const run = await start();
      const { h: t, ctx, asset } = run;
      for (const p of c.policyIds) expect(`${p}: ${verdict(p, asset)}`).toBe(`${p}: violation`);
      const twinBefore = t.twin.getAsset(asset.name);
      const liveBefore = c.fix.readLiveFirst ? await c.action.readLive(asset, ctx) : undefined;
      const before = await c.action.captureBefore(asset, ctx);
      expect(before).not.toBeNull();
      c.fix.captured?.(before, run);
      const applied = await c.action.apply(asset, before, ctx);
      expect(applied.status).toBe('applied');
      expect(writes(t)).toBe(1);
      const fixRun: FixRun = { ...run, twinBefore, liveBefore, before, applied };
      c.fix.sent?.(fixRun);

      const live = await c.action.readLive(asset, ctx);
      expect(live).toMatchObject({
        name: asset.name,
        assetType: asset.assetType,
        ancestors: asset.ancestors,
      });
      expect(c.field(live ?? undefined)).toEqual(c.fixed);
      for (const p of [...c.policyIds, ...(c.alsoPass ?? [])])
        expect(`${p}: ${verdict(p, present(live, 'the live resource'))}`).toBe(`${p}: pass`);
      c.fix.live?.(present(live, 'the live resource'), fixRun);
      if (c.fix.feed === 'some') expect(t.feed.length).toBeGreaterThanOrEqual(1);
      else expect(t.feed).toHaveLength(c.fix.feed);

      expect((await c.action.apply(asset, before, ctx)).status).toBe('already_applied');
      expect(writes(t)).toBe(1);

      await c.fix.beforeUndo?.(fixRun);
      const after = applied.status === 'applied' ? applied.after : null;
      const undo = await c.action.undo(asset, before, after, ctx);
      if (c.fix.undo === 'refused') {
        expect(undo).toEqual({ status: 'refused', reason: expect.any(String) });
        expect(writes(t)).toBe(1);
        return;
      }
      expect(undo).toEqual({ status: 'restored' });
      expect(writes(t)).toBe(2);
      const restored = present(await c.action.readLive(asset, ctx), 'the restored resource');
      await c.fix.restored({ ...fixRun, restored });
      for (const p of c.fix.violatedAfterUndo ?? c.policyIds)
        expect(`${p}: ${verdict(p, restored)}`).toBe(`${p}: violation`);
      const again = await c.action.undo(asset, before, after, ctx);
      if (c.fix.undoTwice === 'refused')
        expect(again).toEqual({ status: 'refused', reason: expect.any(String) });
      else if (c.fix.undoTwice === 'restored') expect(again).toEqual({ status: 'restored' });
      else expect(['refused', 'restored']).toContain(again.status);
      expect(writes(t)).toBe(2);
      if (c.fix.feedAfterUndo !== undefined) expect(t.feed).toHaveLength(c.fix.feedAfterUndo);
    });

    const { beforeWrite, atWrite } = c.conflict;
    if (beforeWrite) {
      it('reports a change made since the capture as a conflict, sends nothing and overwrites nothing', async () => {
        const run = await start();
        const before = await c.action.captureBefore(run.asset, run.ctx);
        await change(run, beforeWrite.change);
        const sent = writes(run.h);
        if ('at' in beforeWrite.change) expect(sent).toBe(0);
        expectConflict(await c.action.apply(run.asset, before, run.ctx), beforeWrite);
        expect(writes(run.h)).toBe(sent);
        const now = twinAsset(run);
        beforeWrite.theirs(now);
        if (!beforeWrite.change.toField) expect(c.field(now)).toEqual(c.field(run.asset));
      });
    }
    if (atWrite) {
      it('keeps a change made as the write is sent: the write is refused, or touches only its own field', async () => {
        const run = await start();
        const before = await c.action.captureBefore(run.asset, run.ctx);
        run.h.twin.setFaults([
          { match: atWrite.at, concurrentModification: true, times: atWrite.times ?? 1 },
        ]);
        const outcome = await c.action.apply(run.asset, before, run.ctx);
        const now = twinAsset(run);
        atWrite.theirs(now);
        if ('unguarded' in atWrite) {
          expect(outcome.status).toBe('applied');
          expect(c.field(now)).toEqual(c.fixed);
        } else {
          expectConflict(outcome, atWrite);
          expect(c.field(now)).toEqual(c.field(run.asset));
        }
      });
    }

    it('refuses to undo after someone changed the resource, and sends nothing', async () => {
      const run = await start();
      const before = await c.action.captureBefore(run.asset, run.ctx);
      const applied = await c.action.apply(run.asset, before, run.ctx);
      expect(applied.status).toBe('applied');
      await change(run, c.undoAfterChange.change);
      const sent = writes(run.h);
      if ('at' in c.undoAfterChange.change) expect(sent).toBe(1);
      const after = applied.status === 'applied' ? applied.after : null;
      expect(await c.action.undo(run.asset, before, after, run.ctx)).toEqual({
        status: 'refused',
        reason:
          c.undoAfterChange.reason === undefined ? expect.any(String) : matching(c.undoAfterChange.reason),
      });
      expect(writes(run.h)).toBe(sent);
      const now = twinAsset(run);
      c.undoAfterChange.theirs?.(now);
      if (!c.undoAfterChange.change.toField) expect(c.field(now)).toEqual(c.fixed);
    });

    const { unavailable, throttled } = c.retryable;
    it(`surfaces an injected 503${throttled ? ' and a 429' : ''} as retryable WardenErrors, the resource unchanged`, async () => {
      const run = await start({
        faults: [
          {
            match: unavailable.at,
            errorStatus: 503,
            ...(unavailable.times ? { times: unavailable.times } : {}),
          },
        ],
      });
      await c.retryable.prepare?.(run.h);
      const before = await c.action.captureBefore(run.asset, run.ctx);
      const err = await rejection(c.action.apply(run.asset, before, run.ctx));
      expect(err).toBeInstanceOf(WardenError);
      expect(err).toMatchObject({ retryable: true, code: 'UNAVAILABLE' });
      // The clients' own retries are off: whether to try again is the executor's decision.
      expect(writes(run.h)).toBe(1);
      untouched(twinAsset(run), run.asset);
      if (!throttled) return;
      run.h.twin.setFaults([{ match: throttled.at, errorStatus: 429, times: 1 }]);
      const call =
        throttled.via === 'apply'
          ? c.action.apply(run.asset, before, run.ctx)
          : throttled.via === 'readLive'
            ? c.action.readLive(run.asset, run.ctx)
            : c.action.captureBefore(run.asset, run.ctx);
      const limited = await rejection(call);
      expect(limited).toBeInstanceOf(WardenError);
      expect(limited).toMatchObject({ retryable: true, code: 'RESOURCE_EXHAUSTED' });
    });

    const failed = c.failedOperation;
    if (failed) {
      it('surfaces an operation that ends in error as a non-retryable WardenError, the resource as it was', async () => {
        const run = await start({ faults: [{ match: failed.at, failOperation: true }] });
        const before = await c.action.captureBefore(run.asset, run.ctx);
        const err = await rejection(c.action.apply(run.asset, before, run.ctx));
        expect(err).toBeInstanceOf(WardenError);
        expect(err).toMatchObject({ retryable: false, code: 'operation_failed' });
        if (failed.message) expect((err as Error).message).toMatch(failed.message);
        untouched(twinAsset(run), run.asset);
      });
    }

    const gone = c.gone ?? {};
    it(
      'rejects' in gone
        ? `surfaces a resource that no longer exists as a non-retryable ${gone.rejects.code}, and sends nothing`
        : 'returns null and gone for a resource that no longer exists, and sends nothing',
      async () => {
        const run = await start();
        const before = await c.action.captureBefore(run.asset, run.ctx);
        await run.h.close();
        h = undefined;
        const t = await startHarness(c.alongside?.() ?? []);
        h = t;
        const ctx = contextOf(t);
        if ('rejects' in gone) {
          const err = await rejection(c.action.apply(run.asset, before, ctx));
          expect(err).toBeInstanceOf(WardenError);
          expect(err).toMatchObject({ retryable: false, code: gone.rejects.code });
          expect((err as Error).message).toContain(gone.rejects.message);
        } else {
          expect(await c.action.captureBefore(run.asset, ctx)).toBeNull();
          expect(await c.action.readLive(run.asset, ctx)).toBeNull();
          expect(await c.action.apply(run.asset, before, ctx)).toEqual({ status: 'gone' });
          const after = gone.after ? gone.after(before) : before;
          expect(await c.action.undo(run.asset, before, after, ctx)).toEqual({ status: 'gone' });
        }
        expect(writes(t)).toBe(0);
      },
    );

    for (const refused of c.refused ?? []) {
      it(`refuses a resource it must not change (${String(refused.reason)}), sending nothing`, async () => {
        const run = await start({}, refused.asset());
        const before = await c.action.captureBefore(run.asset, run.ctx);
        // Not stale: a fresh capture would be refused again, so the executor must not re-plan.
        expect(await c.action.apply(run.asset, before, run.ctx)).toEqual({
          status: 'conflict',
          reason: expect.stringMatching(refused.reason),
        });
        expect(run.h.twin.requests.filter((r) => r.method !== 'GET')).toHaveLength(0);
      });
    }

    c.more?.({ start, writes });
  });
}
