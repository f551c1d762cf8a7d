import type { Action, ActionState } from '../model/action.js';
import { ActionSchema } from '../model/action.js';
import type { Asset, AssetChange } from '../model/asset.js';
import { projectOf } from '../model/asset.js';
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
  verifyChain,
  type AuditEntry,
  type AuditRecord,
  type ChainVerdict,
} from './audit-chain.js';
import { ASSETS, assetFromDoc, mergeChange, type AssetDoc } from './asset-state.js';

const FINDINGS = 'findings';
const ACTIONS = 'actions';
const DEAD_LETTERS = 'dead-letters';
const OUTCOMES = 'outcomes';

export type AssetApply =
  | { status: 'applied'; asset: Asset | null; version: string }
  | { status: 'duplicate' }
  | { status: 'stale'; reason: string };

export interface FindingChange {
  finding: Finding;
  change: 'opened' | 'reopened' | 'resolved' | 'suppressed';
}

export type Transition = { ok: true; action: Action } | { ok: false; current: Action | null };

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
    const docs = await this.store.query(ASSETS, { where: [['assetType', '==', assetType]] });
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

  /** Creates the action unless one with the same id exists (a redelivered finding): then returns that one. */
  async createAction(
    action: Action,
    entry: Omit<AuditEntry, 'subject' | 'kind'>,
  ): Promise<{ created: boolean; action: Action }> {
    return this.audited(async (tx, audit) => {
      const existing = await tx.get(ACTIONS, action.id);
      if (existing) return { created: false, action: actionFromDoc(existing) };
      tx.set(ACTIONS, action.id, actionToDoc(action));
      audit(
        [
          {
            ...entry,
            kind: `action.${action.state}`,
            subject: action.id,
            after: { decision: action.decision, plan: action.plan },
          },
        ],
        action.createdAt,
      );
      return { created: true, action };
    });
  }

  /**
   * Compare-and-set: applies `patch` only if the action is in one of `from` (and at `revision` when given).
   * A redelivered message that finds the action past its step gets ok:false and does nothing.
   */
  async transitionAction(
    id: string,
    opts: {
      from: readonly ActionState[];
      revision?: number;
      patch: Partial<Omit<Action, 'id' | 'revision' | 'createdAt'>>;
      audit: Omit<AuditEntry, 'subject' | 'kind'> & { kind?: string };
    },
  ): Promise<Transition> {
    return this.audited(async (tx, audit) => {
      const doc = await tx.get(ACTIONS, id);
      const current = doc ? actionFromDoc(doc) : null;
      if (!current || !opts.from.includes(current.state)) return { ok: false, current };
      if (opts.revision !== undefined && current.revision !== opts.revision) return { ok: false, current };
      const now = this.now();
      const next: Action = { ...current, ...opts.patch, updatedAt: now, revision: current.revision + 1 };
      tx.set(ACTIONS, id, actionToDoc(next));
      const kind =
        opts.audit.kind ??
        (next.state !== current.state ? `action.${next.state}` : `action.step.${next.step}`);
      audit(
        [
          {
            actor: opts.audit.actor,
            reason: opts.audit.reason,
            before: opts.audit.before,
            after: opts.audit.after,
            kind,
            subject: id,
          },
        ],
        now,
      );
      return { ok: true, action: next };
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
      const t = await this.transitionAction(a.id, {
        from: ['planned', 'awaiting_approval', 'approved'],
        patch: { state: 'expired', leaseUntil: null, error: { message: reason, retryable: false } },
        audit: { actor, reason },
      });
      if (t.ok) expired.push(t.action);
    }
    return expired;
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

  async audit(entries: AuditEntry[]): Promise<void> {
    await this.audited(async (tx, audit) => {
      audit(entries, this.now());
    });
  }

  async readAuditRecords(): Promise<Array<Record<string, unknown>>> {
    return (await this.store.query(AUDIT, { orderBy: { field: 'seq' } })).map(({ doc }) => doc);
  }

  async verifyAudit(): Promise<ChainVerdict> {
    const head = await readHeadOutsideTx((c, id) => this.store.get(c, id));
    return verifyChain(await this.readAuditRecords(), head);
  }
}
