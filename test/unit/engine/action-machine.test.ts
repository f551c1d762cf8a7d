import { describe, expect, it } from '@jest/globals';
import {
  ACTION_EVENTS,
  INITIAL_STATE,
  eventsBetween,
  executionOutcome,
  nextState,
} from '../../../shared/engine/action-machine.js';
import { Repository } from '../../../shared/engine/repository.js';
import { openSqliteDocumentStore } from '../../../shared/adapters/document-store-sqlite.js';
import {
  ACTION_STATES,
  TERMINAL_STATES,
  type Action,
  type ActionState,
} from '../../../shared/model/action.js';
import { ManualClock } from '../../../shared/ports/clock.js';

const legal = (): Array<[ActionState, string, ActionState]> =>
  ACTION_STATES.flatMap((from) =>
    ACTION_EVENTS.flatMap((e) => {
      const to = nextState(from, e);
      return to === null ? [] : [[from, e, to] as [ActionState, string, ActionState]];
    }),
  );

describe('the action state machine', () => {
  it('moves between states only as the design allows', () => {
    const moves = legal()
      .filter(([from, , to]) => from !== to)
      .map(([from, e, to]) => `${from} -${e}-> ${to}`)
      .sort();
    expect(moves).toEqual(
      [
        'approved -claim-> executing',
        'approved -expire-> expired',
        'awaiting_approval -approve-> approved',
        'awaiting_approval -expire-> expired',
        'awaiting_approval -reject-> rejected',
        'executing -fail-> failed',
        'executing -hold-> awaiting_approval',
        'executing -operation_done-> succeeded',
        'failed -roll_back-> rolled_back',
        'planned -claim-> executing',
        'planned -expire-> expired',
        'planned -hold-> awaiting_approval',
        'succeeded -fail-> failed',
        'succeeded -roll_back-> rolled_back',
        'succeeded -verify-> verified',
        'verified -roll_back-> rolled_back',
      ].sort(),
    );
  });

  it('never leaves a terminal state except by rolling back a fix', () => {
    for (const [from, event, to] of legal()) {
      if (!TERMINAL_STATES.includes(from) || from === to) continue;
      expect([event, to]).toEqual(['roll_back', 'rolled_back']);
    }
    for (const e of ACTION_EVENTS)
      for (const s of ['rejected', 'expired', 'recommended', 'suppressed', 'rolled_back'] as const)
        expect([e, nextState(s, e)]).toEqual([e, e === 'note' ? s : null]);
  });

  it('nothing moves back into planned, and creation states are the decisions', () => {
    expect(ACTION_STATES.filter((s) => eventsBetween(s, 'planned').length > 0)).toEqual(['planned']);
    expect(INITIAL_STATE).toEqual({
      auto: 'planned',
      approve: 'awaiting_approval',
      recommend: 'recommended',
      suppress: 'suppressed',
    });
  });

  it('counts execution outcomes for the circuit breaker, and nothing else', () => {
    expect(executionOutcome('succeeded', 'verified')).toEqual({ ok: true });
    expect(executionOutcome('executing', 'failed')).toEqual({ ok: false });
    expect(executionOutcome('succeeded', 'rolled_back')).toEqual({ ok: false });
    expect(executionOutcome('verified', 'rolled_back')).toEqual({ ok: false });
    expect(executionOutcome('awaiting_approval', 'rejected')).toBeNull();
    expect(executionOutcome('planned', 'expired')).toBeNull();
    expect(executionOutcome('executing', 'executing')).toBeNull();
  });
});

describe('the repository writes only legal transitions', () => {
  const action = (state: ActionState): Action => ({
    id: 'a1',
    findingId: 'f1',
    policyId: 'p',
    actionType: 't',
    resourceName: 'r',
    assetType: 'storage.googleapis.com/Bucket',
    project: 'projects/1',
    assetVersion: 'v1',
    state,
    decision: { kind: 'auto', risk: 'low', factors: [], dryRun: false },
    plan: { description: 'd', requests: [] },
    reversible: true,
    step: 'none',
    beforeState: null,
    afterState: null,
    error: null,
    attempts: 0,
    replans: 0,
    requestedBy: null,
    leaseUntil: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    revision: 0,
  });

  it('refuses an illegal move written with transitionAction, and fire derives the next state', async () => {
    const store = openSqliteDocumentStore(':memory:');
    const repo = new Repository(store, new ManualClock());
    try {
      await repo.createAction(action('planned'), { actor: 't', reason: 'r' });
      await expect(
        repo.transitionAction('a1', {
          from: ['planned'],
          patch: { state: 'verified' },
          audit: { actor: 't', reason: 'r' },
        }),
      ).rejects.toMatchObject({ code: 'illegal_transition', retryable: false });
      expect((await repo.getAction('a1'))?.state).toBe('planned');

      const verify = await repo.fire('a1', 'verify', { audit: { actor: 't', reason: 'not yet' } });
      expect(verify).toMatchObject({ ok: false, current: { state: 'planned' } });
      const claim = await repo.fire('a1', 'claim', { revision: 0, audit: { actor: 't', reason: 'go' } });
      expect(claim).toMatchObject({ ok: true, action: { state: 'executing', revision: 1 } });
      // A stale revision loses the compare-and-set.
      expect(
        await repo.fire('a1', 'operation_done', { revision: 0, audit: { actor: 't', reason: 'x' } }),
      ).toMatchObject({
        ok: false,
      });
    } finally {
      await store.close();
    }
  });

  it('refuses to create an action in a state its decision does not name', async () => {
    const store = openSqliteDocumentStore(':memory:');
    const repo = new Repository(store, new ManualClock());
    try {
      await expect(repo.createAction(action('executing'), { actor: 't', reason: 'r' })).rejects.toMatchObject(
        {
          code: 'illegal_transition',
        },
      );
      const sneaky = {
        ...action('planned'),
        decision: { ...action('planned').decision, kind: 'approve' as const },
      };
      await expect(repo.createAction(sneaky, { actor: 't', reason: 'r' })).rejects.toMatchObject({
        code: 'illegal_transition',
      });
      expect(await repo.listActions()).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
