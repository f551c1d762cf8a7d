import { z } from 'zod';
import { castVote } from '../approvals/cast-vote.js';
import type { ApprovalRequest } from '../approvals/request.js';
import { approversOf } from '../approvals/request.js';
import { requestRollback, whyNotRollbackable } from '../engine/rollback-request.js';
import type { Action } from '../model/action.js';
import type { RollbackRequest, SweepEvent } from '../model/events.js';
import { engineStatus } from './engine-status.js';
import { decodePageToken, encodePageToken } from './pagination.js';
import { defineRoute, fail, type Caller, type Ctx, type Result, type Route } from './router.js';
import {
  ActionListQuerySchema,
  ActionPageSchema,
  ApprovalListQuerySchema,
  ApprovalListSchema,
  ApproveBodySchema,
  DecisionResultSchema,
  ErrorSchema,
  RejectBodySchema,
  RemediateBodySchema,
  RollbackBodySchema,
  RollbackRequestedSchema,
  RollbackResultSchema,
  ScopeBodySchema,
  StatusSchema,
  SweepAcceptedSchema,
  type ErrorCode,
} from './schemas.js';
import { canSee, ScopeResolver } from './visibility.js';

export function actionView(a: Action) {
  return {
    id: a.id,
    findingId: a.findingId,
    policyId: a.policyId,
    actionType: a.actionType,
    resourceName: a.resourceName,
    assetType: a.assetType,
    project: a.project,
    state: a.state,
    decision: a.decision,
    plan: a.plan,
    reversible: a.reversible,
    error: a.error,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
  };
}

export function approvalView(r: ApprovalRequest) {
  return {
    id: r.id,
    actionId: r.actionId,
    status: r.status,
    risk: r.risk,
    teams: r.teams,
    requester: r.requester,
    requiredApprovals: r.requiredApprovals,
    approvals: approversOf(r).length,
    votes: r.votes.map((v) => ({ person: v.person, vote: v.vote, reason: v.reason, at: v.at, via: v.via })),
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    decidedAt: r.decidedAt,
    outcomeReason: r.outcomeReason,
    slackMessage: r.message,
  };
}

const IdParams = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/) });
const err = (description: string) => ({ description, schema: ErrorSchema });

/** The largest number of stored rows one page may scan to fill itself with what the caller may see. */
const MAX_SCAN = 2000;

const REFUSAL_STATUS: Record<string, { status: number; code: ErrorCode }> = {
  not_an_approver: { status: 403, code: 'not_an_approver' },
  self_approval: { status: 403, code: 'self_approval' },
  already_voted: { status: 409, code: 'already_voted' },
  already_decided: { status: 409, code: 'already_decided' },
  expired: { status: 409, code: 'expired' },
  reason_required: { status: 400, code: 'reason_required' },
};

async function decide(
  ctx: Ctx<{ id: string }, unknown, { reason?: string }>,
  vote: 'approve' | 'reject',
): Promise<Result> {
  const result = await castVote(ctx.deps.approvals, {
    approvalId: ctx.params.id,
    voter: ctx.caller.identity,
    vote,
    reason: ctx.body.reason ?? null,
    via: ctx.caller.via,
  });
  if (result.request === null) return fail(404, 'not_found', result.outcome.detail);
  if (result.outcome.kind === 'refused') {
    const m = REFUSAL_STATUS[result.outcome.reason]!;
    return fail(m.status, m.code, result.outcome.detail);
  }
  return { status: 200, body: { outcome: result.outcome, approval: approvalView(result.request) } };
}

async function startSweep(
  ctx: Ctx<unknown, unknown, unknown>,
  scope: string,
  category: SweepEvent['category'],
  why: string,
  resource?: SweepEvent['resource'],
): Promise<Result> {
  const core = ctx.deps.approvals.core;
  const event: SweepEvent = {
    kind: 'sweep',
    sweepId: core.ids.next('api-sweep-'),
    scope,
    category,
    // The caller asked for these fixes: named as their requester, never their approver.
    requestedBy: ctx.caller.key,
    ...(resource ? { resource } : {}),
  };
  await core.repo.audit([
    {
      actor: ctx.caller.key,
      kind: 'sweep.requested',
      subject: event.sweepId!,
      reason: `${why} (${category})`,
    },
  ]);
  await core.bus.publish('sweeps', { data: event, attributes: { source: 'api' } });
  return { status: 202, body: { sweepId: event.sweepId, scope, category } };
}

async function authorizeTarget(ctx: Ctx<unknown, unknown, unknown>, scope: string): Promise<Result | null> {
  if (ctx.caller.scopes === '*') return null;
  const chain = await new ScopeResolver(ctx.deps.approvals.core.repo).ofTarget(scope);
  if (!chain || !canSee(ctx.caller.scopes, chain))
    return fail(
      403,
      'forbidden',
      `${scope} is not in the scope of ${ctx.caller.person ?? ctx.caller.key}'s teams`,
    );
  return null;
}

function sweepRoute(
  path: string,
  operationId: string,
  category: 'cost' | 'security',
  summary: string,
): Route {
  return defineRoute({
    method: 'POST',
    path,
    operationId,
    summary,
    auth: true,
    body: ScopeBodySchema,
    responses: {
      202: { description: 'sweep started; its id', schema: SweepAcceptedSchema },
      403: err('the scope is outside the caller’s teams (code forbidden)'),
    },
    async handle(ctx) {
      const denied = await authorizeTarget(ctx, ctx.body.scope);
      return denied ?? startSweep(ctx, ctx.body.scope, category, `${operationId} ${ctx.body.scope} via API`);
    },
  });
}

function visibleScopesKey(c: Caller): unknown {
  return c.scopes === '*' ? '*' : [...c.scopes].sort();
}

export const ROUTES: Route[] = [
  defineRoute({
    method: 'GET',
    path: '/api/v1/automation/status',
    operationId: 'getStatus',
    summary: 'Engine health, guardrail and circuit-breaker states, work waiting by state, the last sweep',
    auth: true,
    responses: { 200: { description: 'status', schema: StatusSchema } },
    async handle(ctx) {
      return { status: 200, body: await engineStatus(ctx.deps.approvals.core, ctx.deps.mode) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/automation/actions',
    operationId: 'listActions',
    summary: 'Actions the caller’s teams may see, newest first; filter by state, project, policy, time',
    auth: true,
    query: ActionListQuerySchema,
    responses: { 200: { description: 'one page of actions', schema: ActionPageSchema } },
    async handle(ctx) {
      const { limit, pageToken, ...filters } = ctx.query;
      const fingerprint = { filters, scopes: visibleScopesKey(ctx.caller) };
      const start = pageToken === undefined ? 0 : decodePageToken(pageToken, fingerprint);
      if (start === null) return fail(400, 'invalid_page_token', 'the page token is not from this query');
      const where: Array<[string, '==' | '>=' | '<', string]> = [];
      if (filters.state) where.push(['state', '==', filters.state]);
      if (filters.project) where.push(['project', '==', filters.project]);
      if (filters.policy) where.push(['policyId', '==', filters.policy]);
      if (filters.since) where.push(['updatedAt', '>=', new Date(filters.since).toISOString()]);
      if (filters.until) where.push(['updatedAt', '<', new Date(filters.until).toISOString()]);
      const repo = ctx.deps.approvals.core.repo;
      const scopes = new ScopeResolver(repo);
      const out: Action[] = [];
      let offset = start;
      let exhausted = false;
      // Scan in store order, keep what the caller may see; the token is where the scan stopped.
      while (out.length < limit && offset - start < MAX_SCAN) {
        const batch = await repo.listActions({
          where,
          orderBy: { field: 'updatedAt', direction: 'desc' },
          offset,
          limit: Math.min(limit * 2, 200),
        });
        for (const a of batch) {
          offset += 1;
          if (canSee(ctx.caller.scopes, await scopes.ofAction(a))) out.push(a);
          if (out.length === limit) break;
        }
        if (batch.length < Math.min(limit * 2, 200) && out.length < limit) {
          exhausted = true;
          break;
        }
      }
      return {
        status: 200,
        body: {
          actions: out.map(actionView),
          nextPageToken: exhausted ? null : encodePageToken(offset, fingerprint),
        },
      };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/api/v1/automation/remediate',
    operationId: 'remediate',
    summary:
      'Re-check and fix a finding or a resource now: starts a sweep of that one resource (listed afresh from Cloud Asset Inventory) and returns its id',
    auth: true,
    body: RemediateBodySchema,
    responses: {
      202: { description: 'sweep started; its id', schema: SweepAcceptedSchema },
      403: err('the resource is outside the caller’s teams (code forbidden)'),
      404: err('no such finding or resource (code not_found)'),
    },
    async handle(ctx) {
      const repo = ctx.deps.approvals.core.repo;
      let ancestors: string[];
      let category: SweepEvent['category'] = 'all';
      let what: string;
      let resource: NonNullable<SweepEvent['resource']>;
      if ('findingId' in ctx.body) {
        const f = await repo.getFinding(ctx.body.findingId);
        if (!f) return fail(404, 'not_found', `no finding ${ctx.body.findingId}`);
        ancestors = [...(f.project ? [f.project] : []), ...f.ancestors];
        category = f.category;
        what = `finding ${f.id} (${f.policyId} on ${f.resourceName})`;
        resource = { name: f.resourceName, assetType: f.assetType };
      } else {
        const stored = await repo.getAsset(ctx.body.resourceName);
        if (!stored) return fail(404, 'not_found', `Warden has not seen ${ctx.body.resourceName}`);
        ancestors = stored.asset.ancestors;
        what = ctx.body.resourceName;
        resource = { name: stored.asset.name, assetType: stored.asset.assetType };
      }
      if (!canSee(ctx.caller.scopes, ancestors))
        return fail(403, 'forbidden', `${what} is outside ${ctx.caller.person ?? ctx.caller.key}'s teams`);
      // The Asset API lists by project, folder or organization: the resource's nearest one is swept.
      const scope = ancestors.find((a) => a.startsWith('projects/')) ?? ancestors[0];
      if (!scope) return fail(404, 'not_found', `${what} has no project or folder to sweep`);
      return startSweep(ctx, scope, category, `remediate ${what} via API`, resource);
    },
  }),
  sweepRoute(
    '/api/v1/automation/optimize',
    'optimize',
    'cost',
    'Start a cost sweep of a project or folder; returns its id',
  ),
  sweepRoute(
    '/api/v1/automation/harden',
    'harden',
    'security',
    'Start a security sweep of a project or folder; returns its id',
  ),
  defineRoute({
    method: 'GET',
    path: '/api/v1/automation/approvals',
    operationId: 'listApprovals',
    summary: 'Approval requests of the caller’s teams, newest first',
    auth: true,
    query: ApprovalListQuerySchema,
    responses: { 200: { description: 'approval requests', schema: ApprovalListSchema } },
    async handle(ctx) {
      const where: Array<[string, '==', string]> = ctx.query.status
        ? [['status', '==', ctx.query.status]]
        : [];
      const all = await ctx.deps.approvals.approvals.list({ where });
      const visible = all
        .filter((r) => canSee(ctx.caller.scopes, r.scope))
        .sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))
        .slice(0, ctx.query.limit);
      return { status: 200, body: { approvals: visible.map(approvalView) } };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/api/v1/automation/approvals/{id}:approve',
    operationId: 'approve',
    summary: 'Approve a pending request as the caller (quorum, no self-approval, team and risk rules apply)',
    auth: true,
    params: IdParams,
    body: ApproveBodySchema,
    responses: {
      200: {
        description: 'the vote counted: approved, or still pending with the count',
        schema: DecisionResultSchema,
      },
      403: err(
        'not an approver for this team and risk, or the requester (codes not_an_approver, self_approval)',
      ),
      404: err('no such approval request (code not_found)'),
      409: err('already voted, already decided, or expired (codes already_voted, already_decided, expired)'),
    },
    async handle(ctx) {
      return decide(ctx, 'approve');
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/api/v1/automation/approvals/{id}:reject',
    operationId: 'reject',
    summary: 'Reject a pending request with a reason; one rejection vetoes',
    auth: true,
    params: IdParams,
    body: RejectBodySchema,
    responses: {
      200: { description: 'rejected', schema: DecisionResultSchema },
      403: err('not an approver for this team and risk (code not_an_approver)'),
      404: err('no such approval request (code not_found)'),
      409: err('already voted, already decided, or expired (codes already_voted, already_decided, expired)'),
    },
    async handle(ctx) {
      return decide(ctx, 'reject');
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/api/v1/automation/actions/{id}:rollback',
    operationId: 'rollback',
    summary: 'Restore the before-state of a verified or failed fix (approvers of its team and risk only)',
    auth: true,
    params: IdParams,
    body: RollbackBodySchema,
    responses: {
      200: { description: 'rolled back (embedded mode)', schema: RollbackResultSchema },
      202: {
        description: 'handed to the rollback function (production); the action shows the outcome',
        schema: RollbackRequestedSchema,
      },
      403: err('not an approver of the action’s team and risk (code forbidden)'),
      404: err('no such action (code not_found)'),
      409: err('cannot be rolled back now or at all (codes refused, not_rollbackable)'),
    },
    async handle(ctx) {
      const { core, rules } = ctx.deps.approvals;
      const action = await core.repo.getAction(ctx.params.id);
      if (!action) return fail(404, 'not_found', `no action ${ctx.params.id}`);
      const scope = await new ScopeResolver(core.repo).ofAction(action);
      const person = ctx.caller.person;
      if (!person || !rules.canApprove(person, rules.teamsFor(scope), action.decision.risk))
        return fail(
          403,
          'forbidden',
          `${person ?? ctx.caller.key} may not roll back ${action.decision.risk}-risk changes here`,
        );
      if (ctx.deps.mode === 'production') {
        // The API's identity may change no resource: the rollback function, holding the execute role, does.
        const not = whyNotRollbackable(action);
        if (not) return fail(409, 'not_rollbackable', not);
        const request: RollbackRequest = {
          kind: 'rollback',
          actionId: action.id,
          actor: ctx.caller.key,
          reason: ctx.body.reason,
        };
        await core.bus.publish('rollbacks', { data: request });
        return { status: 202, body: { status: 'requested', action: actionView(action) } };
      }
      const r = await requestRollback(core, action.id, ctx.caller.key, ctx.body.reason);
      switch (r.status) {
        case 'rolled_back':
          return { status: 200, body: { status: 'rolled_back', action: actionView(r.action) } };
        case 'not_found':
          return fail(404, 'not_found', `no action ${ctx.params.id}`);
        case 'not_rollbackable':
          return fail(409, 'not_rollbackable', r.reason);
        case 'refused':
          return fail(409, 'refused', r.reason);
      }
    },
  }),
];
