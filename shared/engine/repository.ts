import type { GuardrailsConfig } from '../config/automation-config.js';
import type { Action, ActionState } from '../model/action.js';
import { ActionSchema } from '../model/action.js';
import type { Asset, AssetChange } from '../model/asset.js';
import { projectOf } from '../model/asset.js';
import { WardenError } from '../model/errors.js';
import type { Finding, FindingStatus } from '../model/finding.js';
import { FindingSchema } from '../model/finding.js';
import type { Clock } from '../ports/clock.js';
import type { Doc, DocumentStore, Query, Transaction } from '../ports/document-store.js';
import { stableId } from '../ports/ids.js';
import type { PolicyResult } from '../policy/policy-set.js';
import {
  AUDIT,
  appendAudit,
  readAuditHead,
  readHeadOutsideTx,
  verifyLiveChain,
  type AuditEntry,
  type AuditRecord,
  type ChainVerdict,
} from './audit-chain.js';
import { ASSETS, assetFromDoc, mergeChange, type AssetDoc } from './asset-state.js';
import {
  INITIAL_STATE,
  assertLegalTransition,
  changeUnderWay,
  executionOutcome,
  nextState,
  type ActionEventName,
} from './action-machine.js';
import {
  BREAKERS,
  breakerAudit,
  breakerFromDoc,
  breakerId,
  recordBreakerOutcome,
  type BreakerChange,
  type BreakerDoc,
} from './circuit-breaker.js';
import { countRateUses, rateKeys, readRateUses } from './rate-limits.js';

const FINDINGS = 'findings';
const ACTIONS = 'actions';
const DEAD_LETTERS = 'dead-letters';
const OUTCOMES = 'outcomes';
/** One document per (resource, action type): the latest action making that change. */
const CHANGE_LOCKS = 'change-locks';

export type AssetApply =
  | { status: 'applied'; asset: Asset | null; version: string }
  | { status: 'duplicate' }
  | { status: 'stale'; reason: string };

export interface FindingChange {
  finding: Finding;
  change: 'opened' | 'reopened' | 'resolved' | 'suppressed';
}

export type Transition =
  | {
      ok: true;
      action: Action;
      /** Set when this transition's outcome changed the action type's circuit breaker. */
      breaker?: BreakerChange | null;
    }
  | { ok: false; current: Action | null };

/**
 * Guardrail state read and counted in the transaction that creates an action (rate limits, the circuit
 * breaker, per-run caps): returns the action as admitted and, for the write phase, what to count.
 */
export type Admission = (
  tx: Transaction,
  candidate: Action,
) => Promise<{ action: Action; write: (tx: Transaction) => AuditEntry[] }>;

type ActionPatch = Partial<Omit<Action, 'id' | 'revision' | 'createdAt'>>;
type TransitionAudit = Omit<AuditEntry, 'subject' | 'kind'> & { kind?: string };

export interface DeadLetter {
  topic: string;
  messageId: string;
  reason: string;
  data: string;
  attributes: Record<string, string>;
}

export function findingId(policyId: string, resourceName: string): string {
  return stableId('finding', policyId, resourceName);
}

// Foreign, free-form values (asset data, evidence, API states) are stored as JSON text: Firestore forbids
// arrays of arrays and limits indexed fields, and SQLite has no such limits, so both adapters see the same.
function findingToDoc(f: Finding): Doc {
  return { ...f, evidence: JSON.stringify(f.evidence) };
}
function findingFromDoc(d: Doc): Finding {
  return FindingSchema.parse({ ...d, evidence: JSON.parse(String(d['evidence'] ?? '{}')) });
}
function actionToDoc(a: Action): Doc {
  return {
    ...a,
    plan: JSON.stringify(a.plan),
    beforeState: JSON.stringify(a.beforeState ?? null),
    afterState: JSON.stringify(a.afterState ?? null),
  };
}
function actionFromDoc(d: Doc): Action {
  return ActionSchema.parse({
    ...d,
    plan: JSON.parse(String(d['plan'])),
    beforeState: JSON.parse(String(d['beforeState'] ?? 'null')),
    afterState: JSON.parse(String(d['afterState'] ?? 'null')),
  });
}

/** The decision's factors as one line: the reason of its audit record. */
export function explainDecision(action: Pick<Action, 'decision'>): string {
  return action.decision.factors.map((f) => `${f.factor}: ${f.effect}`).join('; ');
}

/** Receives every audit record once its transaction has committed (e.g. to mirror it to Cloud Logging). */
export type AuditSink = (record: AuditRecord) => void;

/**
 * The domain's persistence, written once over the DocumentStore port. Every state change and the audit
 * record of it are one transaction; every method is safe to call twice with the same input.
 */
export class Repository {
  constructor(
    readonly store: DocumentStore,
    private readonly clock: Clock,
    private readonly auditSink?: AuditSink,
    /** Rate limits count approvals, and the circuit breaker counts outcomes, in the transition's transaction. */
    private readonly guardrails?: GuardrailsConfig,
  ) {}

  /**
   * A transaction that may append audit records: the chain head is read first (Firestore wants reads before
   * writes), the records land with the change, and the sink sees them only after the commit, once, even
   * when the store retried the transaction.
   */
  private async audited<R>(
    fn: (tx: Transaction, audit: (entries: AuditEntry[], at: string) => void) => Promise<R>,
  ): Promise<R> {
    let committed: AuditRecord[] = [];
    const result = await this.store.transaction(async (tx) => {
      let head = await readAuditHead(tx);
      const written: AuditRecord[] = [];
      const audit = (entries: AuditEntry[], at: string) => {
        const r = appendAudit(tx, head, entries, at);
        head = r.head;
        written.push(...r.records);
      };
      const value = await fn(tx, audit);
      committed = written;
      return value;
    });
    if (this.auditSink) for (const r of committed) this.auditSink(r);
    return result;
  }

  private now(): string {
    return this.clock.now().toISOString();
  }

  async applyAssetChange(change: AssetChange, actor: string): Promise<AssetApply> {
    const name = change.kind === 'delete' ? change.name : change.asset.name;
    return this.audited(async (tx, audit) => {
      const current = (await tx.get(ASSETS, stableId(name))) as AssetDoc | null;
      const merged = mergeChange(current, change);
      if (merged.status !== 'applied') return merged;
      tx.set(ASSETS, stableId(name), merged.doc as unknown as Doc);
      audit(
        [
          {
            actor,
            kind: change.kind === 'delete' ? 'asset.deleted' : 'asset.changed',
            subject: name,
            reason:
              change.kind === 'delete'
                ? 'asset deleted'
                : `${change.contentType} changed at ${change.changeTime}`,
          },
        ],
        this.now(),
      );
      return {
        status: 'applied',
        asset: merged.doc.deletedTime ? null : assetFromDoc(merged.doc),
        version: merged.doc.version,
      };
    });
  }

  /** Every live asset of one type (for `related` context: log metrics, alert policies, contacts). */
  async listAssetsOfType(assetType: string): Promise<Asset[]> {
    const where: Query['where'] = [['assetType', '==', assetType]];
    // Asked for every firewall decision: a count first answers the common "none of that type" cheaply.
    if ((await this.store.count(ASSETS, { where })) === 0) return [];
    const docs = await this.store.query(ASSETS, { where });
    return docs
      .map(({ doc }) => doc as unknown as AssetDoc)
      .filter((d) => !d.deletedTime)
      .map(assetFromDoc);
  }

  async getAsset(name: string): Promise<{ asset: Asset; version: string } | null> {
    const doc = (await this.store.get(ASSETS, stableId(name))) as AssetDoc | null;
    if (!doc || doc.deletedTime) return null;
    return { asset: assetFromDoc(doc), version: doc.version };
  }

  /**
   * Records the verdicts of the policies run on one asset state. A verdict on an older asset version than
   * the stored finding's is ignored, so a late message never reopens or resolves wrongly.
   */
  async recordVerdicts(input: {
    asset: Asset;
    version: string;
    results: PolicyResult[];
    source: Finding['source'];
    actor: string;
  }): Promise<FindingChange[]> {
    const decided = input.results.filter((r) => r.verdict.kind !== 'error');
    if (decided.length === 0) return [];
    return this.audited(async (tx, audit) => {
      const existing = await Promise.all(
        decided.map(async (r) => {
          const d = await tx.get(FINDINGS, findingId(r.policy.def.id, input.asset.name));
          return d ? findingFromDoc(d) : null;
        }),
      );
      const now = this.now();
      const changes: FindingChange[] = [];
      const audits: AuditEntry[] = [];
      decided.forEach((r, i) => {
        const prev = existing[i] ?? null;
        if (prev && prev.assetVersion > input.version) return;
        const def = r.policy.def;
        if (r.verdict.kind === 'violation') {
          // Exempted findings are recorded as suppressed, with the reason: visible, never acted on.
          const status: FindingStatus = r.exemption ? 'suppressed' : 'open';
          const finding: Finding = {
            id: findingId(def.id, input.asset.name),
            policyId: def.id,
            title: def.title,
            resourceName: input.asset.name,
            assetType: input.asset.assetType,
            project: projectOf(input.asset) ?? null,
            ancestors: input.asset.ancestors,
            severity: def.severity,
            layer: def.layer,
            category: def.category,
            status,
            remediation: r.policy.remediation,
            evidence: r.verdict.evidence,
            assetVersion: input.version,
            firstSeen: prev?.firstSeen ?? now,
            lastSeen: now,
            resolvedAt: null,
            suppressedReason: r.exemption
              ? `${r.exemption.source}: ${r.exemption.reason}${r.exemption.owner ? ` (owner ${r.exemption.owner}, until ${r.exemption.expires})` : ''}`
              : null,
            source: input.source,
          };
          tx.set(FINDINGS, finding.id, findingToDoc(finding));
          if (!prev || prev.status !== status) {
            const change =
              status === 'suppressed'
                ? 'suppressed'
                : prev && prev.status !== 'suppressed'
                  ? 'reopened'
                  : 'opened';
            changes.push({ finding, change });
            audits.push({
              actor: input.actor,
              kind: `finding.${change}`,
              subject: finding.id,
              after: { policyId: def.id, resource: input.asset.name, evidence: r.verdict.evidence },
              reason: def.title,
            });
          }
        } else if (prev && prev.status !== 'resolved') {
          const finding: Finding = {
            ...prev,
            status: 'resolved',
            resolvedAt: now,
            lastSeen: now,
            assetVersion: input.version,
          };
          tx.set(FINDINGS, finding.id, findingToDoc(finding));
          changes.push({ finding, change: 'resolved' });
          audits.push({
            actor: input.actor,
            kind: 'finding.resolved',
            subject: finding.id,
            reason: `${def.id} passes on ${input.asset.name} at ${input.version}`,
          });
        }
      });
      audit(audits, now);
      return changes;
    });
  }

  /** The resource is gone: its open findings are closed (never remediated). */
  async resolveFindingsOf(
    resourceName: string,
    version: string,
    actor: string,
    reason: string,
  ): Promise<FindingChange[]> {
    return this.audited(async (tx, audit) => {
      const open = await tx.query(FINDINGS, {
        where: [
          ['resourceName', '==', resourceName],
          ['status', '==', 'open'],
        ],
      });
      const now = this.now();
      const changes: FindingChange[] = [];
      for (const { doc } of open) {
        const prev = findingFromDoc(doc);
        if (prev.assetVersion > version) continue;
        const finding: Finding = {
          ...prev,
          status: 'resolved',
          resolvedAt: now,
          lastSeen: now,
          assetVersion: version,
        };
        tx.set(FINDINGS, finding.id, findingToDoc(finding));
        changes.push({ finding, change: 'resolved' });
      }
      audit(
        changes.map((c) => ({ actor, kind: 'finding.resolved', subject: c.finding.id, reason })),
        now,
      );
      return changes;
    });
  }

  async getFinding(id: string): Promise<Finding | null> {
    const d = await this.store.get(FINDINGS, id);
    return d ? findingFromDoc(d) : null;
  }

  async listFindings(query: Query = {}): Promise<Finding[]> {
    return (await this.store.query(FINDINGS, query)).map(({ doc }) => findingFromDoc(doc));
  }

  async countFindings(where: Query['where'] = []): Promise<number> {
    return this.store.count(FINDINGS, { where });
  }

  /**
   * Creates the action unless one with the same id exists (a redelivered finding): then returns that one.
   * `admission` applies the stateful guardrails in the same transaction and may make the action safer.
   */
  async createAction(
    action: Action,
    entry: Omit<AuditEntry, 'subject' | 'kind'>,
    opts: {
      admission?: Admission;
      /**
       * One action at a time per change (resource, action type): when another is under way (see
       * changeUnderWay) nothing is created and that one is returned, with `superseded`.
       */
      exclusive?: { now: string };
    } = {},
  ): Promise<{ created: boolean; action: Action; superseded?: boolean }> {
    return this.audited(async (tx, audit) => {
      const existing = await tx.get(ACTIONS, action.id);
      if (existing) return { created: false, action: actionFromDoc(existing) };
      const lockId = stableId('change', action.resourceName, action.actionType);
      if (opts.exclusive) {
        const lock = await tx.get(CHANGE_LOCKS, lockId);
        const holderDoc = lock ? await tx.get(ACTIONS, String(lock['actionId'])) : null;
        const holder = holderDoc ? actionFromDoc(holderDoc) : null;
        if (holder && changeUnderWay(holder, opts.exclusive.now))
          return { created: false, action: holder, superseded: true };
      }
      const admitted = opts.admission ? await opts.admission(tx, action) : null;
      const final = admitted?.action ?? action;
      // An action is born in the state its decision names, or not at all: no way around the decision.
      if (final.state !== INITIAL_STATE[final.decision.kind])
        throw new WardenError(
          `action ${final.id} cannot start ${final.state} on a decision to ${final.decision.kind}`,
          { retryable: false, code: 'illegal_transition' },
        );
      tx.set(ACTIONS, final.id, actionToDoc(final));
      if (opts.exclusive)
        tx.set(CHANGE_LOCKS, lockId, {
          actionId: final.id,
          resourceName: final.resourceName,
          actionType: final.actionType,
        });
      const extra = admitted?.write(tx) ?? [];
      audit(
        [
          {
            ...entry,
            reason: admitted ? explainDecision(final) : entry.reason,
            kind: `action.${final.state}`,
            subject: final.id,
            after: {
              decision: final.decision,
              plan: final.plan,
              finding: final.findingId,
              resource: final.resourceName,
            },
          },
          ...extra,
        ],
        final.createdAt,
      );
      return { created: true, action: final };
    });
  }

  /**
   * Compare-and-set: applies `patch` only if the action is in one of `from` (and at `revision` when given).
   * A redelivered message that finds the action past its step gets ok:false and does nothing. The move must
   * be one the state machine allows (action-machine.ts), or this throws.
   */
  async transitionAction(
    id: string,
    opts: {
      from: readonly ActionState[];
      revision?: number;
      patch: ActionPatch;
      audit: TransitionAudit;
    },
  ): Promise<Transition> {
    return this.transition(
      id,
      (current) => {
        if (!opts.from.includes(current.state)) return null;
        const to = opts.patch.state ?? current.state;
        assertLegalTransition(id, current.state, to);
        return to;
      },
      opts,
    );
  }

  /**
   * The state machine's way to move an action: the next state comes from the transition table for the
   * event, so only allowed transitions can be written. Compare-and-set on the state (and `revision`).
   */
  async fire(
    id: string,
    event: ActionEventName,
    opts: {
      revision?: number;
      patch?: Omit<ActionPatch, 'state'>;
      audit: TransitionAudit;
      /** More records of the same change (e.g. the API calls a step made), in the same transaction. */
      also?: AuditEntry[];
    },
  ): Promise<Transition> {
    return this.transition(id, (current) => nextState(current.state, event), {
      ...opts,
      patch: opts.patch ?? {},
    });
  }

  private async transition(
    id: string,
    target: (current: Action) => ActionState | null,
    opts: { revision?: number; patch: ActionPatch; audit: TransitionAudit; also?: AuditEntry[] },
  ): Promise<Transition> {
    return this.audited(async (tx, audit) => {
      const doc = await tx.get(ACTIONS, id);
      const current = doc ? actionFromDoc(doc) : null;
      if (!current) return { ok: false, current };
      const to = target(current);
      if (to === null) return { ok: false, current };
      if (opts.revision !== undefined && current.revision !== opts.revision) return { ok: false, current };
      const now = this.clock.now();
      const next: Action = {
        ...current,
        ...opts.patch,
        state: to,
        updatedAt: now.toISOString(),
        revision: current.revision + 1,
      };

      // Reads of the guardrail state this move changes, before any write (Firestore's rule).
      const g = this.guardrails;
      const entering = to !== current.state && (to === 'approved' || to === 'planned');
      const rates = g && entering ? await readRateUses(tx, rateKeys(g.rate_limits, next, now)) : [];
      const outcome = executionOutcome(current.state, to);
      const breaker: BreakerDoc | null =
        g && outcome
          ? breakerFromDoc(next.actionType, await tx.get(BREAKERS, breakerId(next.actionType)))
          : null;

      tx.set(ACTIONS, id, actionToDoc(next));
      // A human's approval is not refused by a rate limit, but it counts: automation yields to it.
      countRateUses(tx, rates, id);
      let change: BreakerChange | null = null;
      if (g && outcome && breaker) {
        const r = recordBreakerOutcome(breaker, { actionId: id, ok: outcome.ok }, g.circuit_breaker, now);
        tx.set(BREAKERS, breakerId(next.actionType), { ...r.doc });
        change = r.change;
      }
      const kind =
        opts.audit.kind ??
        (next.state !== current.state ? `action.${next.state}` : `action.step.${next.step}`);
      audit(
        [
          {
            actor: opts.audit.actor,
            reason: opts.audit.reason,
            before: opts.audit.before ?? {
              state: current.state,
              step: current.step,
              revision: current.revision,
            },
            after: opts.audit.after ?? { state: next.state, step: next.step, revision: next.revision },
            kind,
            subject: id,
          },
          ...(opts.also ?? []),
          ...(change ? [breakerAudit(change, opts.audit.actor)] : []),
        ],
        now.toISOString(),
      );
      return { ok: true, action: next, breaker: change };
    });
  }

  /**
   * The finding was resolved (by a person, another fix, or the resource going away) before these actions ran:
   * they no longer stand, so they expire instead of waiting for an approval nobody needs to give.
   */
  async expirePendingActions(findingId: string, actor: string, reason: string): Promise<Action[]> {
    const pending = await this.listActions({
      where: [
        ['findingId', '==', findingId],
        ['state', 'in', ['planned', 'awaiting_approval', 'approved']],
      ],
    });
    const expired: Action[] = [];
    for (const a of pending) {
      const t = await this.fire(a.id, 'expire', {
        patch: { leaseUntil: null, error: { message: reason, retryable: false } },
        audit: { actor, reason },
      });
      if (t.ok) expired.push(t.action);
    }
    return expired;
  }

  /** Every action ever planned on a resource (usually none: counted first, the cheaper question). */
  async actionsOn(resourceName: string): Promise<Action[]> {
    const where: Query['where'] = [['resourceName', '==', resourceName]];
    if ((await this.store.count(ACTIONS, { where })) === 0) return [];
    return this.listActions({ where });
  }

  async getAction(id: string): Promise<Action | null> {
    const d = await this.store.get(ACTIONS, id);
    return d ? actionFromDoc(d) : null;
  }

  async listActions(query: Query = {}): Promise<Action[]> {
    return (await this.store.query(ACTIONS, query)).map(({ doc }) => actionFromDoc(doc));
  }

  async countActions(where: Query['where'] = []): Promise<number> {
    return this.store.count(ACTIONS, { where });
  }

  /** Bad input is kept, once per message, so nothing is lost and nothing retries forever. */
  async recordDeadLetter(dl: DeadLetter): Promise<void> {
    await this.store.set(DEAD_LETTERS, stableId(dl.topic, dl.messageId), { ...dl, at: this.now() });
  }

  async listDeadLetters(): Promise<DeadLetter[]> {
    return (await this.store.query(DEAD_LETTERS, {})).map(({ doc }) => doc as unknown as DeadLetter);
  }

  /** One outcome per action, however often it is reported. */
  async recordOutcome(actionId: string, state: string, actor: string): Promise<boolean> {
    return this.audited(async (tx, audit) => {
      const existing = await tx.get(OUTCOMES, actionId);
      if (existing && existing['state'] === state) return false;
      const now = this.now();
      tx.set(OUTCOMES, actionId, { actionId, state, at: now });
      audit([{ actor, kind: 'outcome.reported', subject: actionId, reason: `action ended ${state}` }], now);
      return true;
    });
  }

  async countOutcomes(state: string): Promise<number> {
    return this.store.count(OUTCOMES, { where: [['state', '==', state]] });
  }

  /** Ids of the actions whose outcome report has recorded them (in whatever state). */
  async reportedOutcomes(): Promise<Map<string, string>> {
    const docs = await this.store.query(OUTCOMES, {});
    return new Map(docs.map(({ id, doc }) => [id, String(doc['state'])]));
  }

  async getBreaker(actionType: string): Promise<BreakerDoc> {
    return breakerFromDoc(actionType, await this.store.get(BREAKERS, breakerId(actionType)));
  }

  async listBreakers(): Promise<BreakerDoc[]> {
    return (await this.store.query(BREAKERS, {})).map(({ doc }) =>
      breakerFromDoc(String(doc['actionType']), doc),
    );
  }

  async audit(entries: AuditEntry[]): Promise<void> {
    await this.audited(async (tx, audit) => {
      audit(entries, this.now());
    });
  }

  async readAuditRecords(): Promise<Array<Record<string, unknown>>> {
    return (await this.store.query(AUDIT, { orderBy: { field: 'seq' } })).map(({ doc }) => doc);
  }

  /** The records after `afterSeq`, in order, a page at a time (an export never holds the whole chain). */
  async readAuditPage(afterSeq: number, limit: number): Promise<Array<Record<string, unknown>>> {
    return (
      await this.store.query(AUDIT, { where: [['seq', '>', afterSeq]], orderBy: { field: 'seq' }, limit })
    ).map(({ doc }) => doc);
  }

  /** Safe while other processes append: the walk follows the head until it has caught up. */
  async verifyAudit(): Promise<ChainVerdict> {
    const verdict = await verifyLiveChain({
      page: (after, limit) => this.readAuditPage(after, limit),
      head: () => readHeadOutsideTx((c, id) => this.store.get(c, id)),
    });
    // The walk stops at the first broken link; the verdict still says how many records there are.
    return verdict.ok ? verdict : { ...verdict, records: await this.store.count(AUDIT) };
  }
}
