import { appendAudit, readAuditHead, type AuditEntry, type AuditRecord } from '../engine/audit-chain.js';
import type { AuditSink } from '../engine/repository.js';
import type { Clock } from '../ports/clock.js';
import type { Doc, DocumentStore, Query } from '../ports/document-store.js';
import { ApprovalRequestSchema, type ApprovalRequest } from './request.js';

export const APPROVALS = 'approvals';

export type Change<R> = { result: R; next?: ApprovalRequest; audit?: AuditEntry[] };

/**
 * Approval requests in the document store. Every change is a read-modify-write in one transaction with its
 * audit records (the chain head read first, as Repository does), so concurrent clicks serialise and a
 * change and its record land together or not at all.
 */
export class ApprovalStore {
  constructor(
    readonly store: DocumentStore,
    private readonly clock: Clock,
    private readonly auditSink?: AuditSink,
  ) {}

  async get(id: string): Promise<ApprovalRequest | null> {
    const doc = await this.store.get(APPROVALS, id);
    return doc ? ApprovalRequestSchema.parse(doc) : null;
  }

  async list(query: Query = {}): Promise<ApprovalRequest[]> {
    return (await this.store.query(APPROVALS, query)).map(({ doc }) => ApprovalRequestSchema.parse(doc));
  }

  async pending(): Promise<ApprovalRequest[]> {
    return this.list({ where: [['status', '==', 'pending']] });
  }

  /**
   * Compare-and-set by transaction: `fn` sees the stored request (or null) and says what to write. It may
   * run again when the store retries on contention, so it must be pure.
   */
  async change<R>(id: string, fn: (current: ApprovalRequest | null, now: Date) => Change<R>): Promise<R> {
    let committed: AuditRecord[] = [];
    const result = await this.store.transaction(async (tx) => {
      const head = await readAuditHead(tx);
      const doc = await tx.get(APPROVALS, id);
      const current = doc ? ApprovalRequestSchema.parse(doc) : null;
      const now = this.clock.now();
      const c = fn(current, now);
      committed = [];
      if (c.next) {
        tx.set(APPROVALS, id, ApprovalRequestSchema.parse(c.next) as unknown as Doc);
        if (c.audit?.length) committed = appendAudit(tx, head, c.audit, now.toISOString()).records;
      }
      return c.result;
    });
    if (this.auditSink) for (const r of committed) this.auditSink(r);
    return result;
  }
}
