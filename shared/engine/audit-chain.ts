import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Doc, Transaction } from '../ports/document-store.js';
import { canonicalJson } from '../util/canonical-json.js';

export const AUDIT = 'audit';
const META = 'meta';
const HEAD_ID = 'audit-head';
export const GENESIS_HASH = '0'.repeat(64);

/** What happened, told by whoever did it; the chain adds when, the sequence and the hashes. */
export interface AuditEntry {
  /** A component (detect, assess-risk, execute, …) or a person (user:…, slack:U…). */
  actor: string;
  kind: string;
  /** The finding, action or asset the record is about. */
  subject: string;
  before?: unknown;
  after?: unknown;
  reason: string;
}

export const AuditRecordSchema = z.object({
  seq: z.number().int().positive(),
  at: z.string(),
  actor: z.string(),
  kind: z.string(),
  subject: z.string(),
  before: z.string().nullable(),
  after: z.string().nullable(),
  reason: z.string(),
  prevHash: z.string(),
  hash: z.string(),
});
export type AuditRecord = z.infer<typeof AuditRecordSchema>;

export function auditId(seq: number): string {
  return String(seq).padStart(12, '0');
}

export function hashRecord(record: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256').update(canonicalJson(record)).digest('hex');
}

export interface AuditHead {
  seq: number;
  hash: string;
}

/** Must be called before any write of the transaction (Firestore: reads before writes). */
export async function readAuditHead(tx: Transaction): Promise<AuditHead> {
  const doc = await tx.get(META, HEAD_ID);
  return doc ? { seq: Number(doc['seq']), hash: String(doc['hash']) } : { seq: 0, hash: GENESIS_HASH };
}

/** Appends records in the same transaction as the change they record: both land, or neither. */
export function appendAudit(
  tx: Transaction,
  head: AuditHead,
  entries: AuditEntry[],
  at: string,
): { head: AuditHead; records: AuditRecord[] } {
  let cur = head;
  const records: AuditRecord[] = [];
  for (const e of entries) {
    const base = {
      seq: cur.seq + 1,
      at,
      actor: e.actor,
      kind: e.kind,
      subject: e.subject,
      before: e.before === undefined ? null : canonicalJson(e.before),
      after: e.after === undefined ? null : canonicalJson(e.after),
      reason: e.reason,
      prevHash: cur.hash,
    };
    const record: AuditRecord = { ...base, hash: hashRecord(base) };
    tx.set(AUDIT, auditId(record.seq), record as unknown as Doc);
    records.push(record);
    cur = { seq: record.seq, hash: record.hash };
  }
  if (cur !== head) tx.set(META, HEAD_ID, { seq: cur.seq, hash: cur.hash });
  return { head: cur, records };
}

export type ChainVerdict =
  | { ok: true; records: number; head: string }
  | { ok: false; records: number; brokenAt: number; reason: string };

type Broken = Extract<ChainVerdict, { ok: false }>;

/** Walks records in order, one at a time; any edited, deleted, inserted or reordered record breaks a link. */
export class ChainWalker {
  private prev = GENESIS_HASH;
  private count = 0;
  private broken: Broken | null = null;

  get records(): number {
    return this.count;
  }

  get lastHash(): string {
    return this.prev;
  }

  /** False once a link is broken; the verdict then says where. */
  feed(raw: Record<string, unknown>): boolean {
    if (this.broken) return false;
    const expectedSeq = this.count + 1;
    const parsed = AuditRecordSchema.safeParse(raw);
    if (!parsed.success) return this.fail(expectedSeq, 'malformed record');
    const r = parsed.data;
    if (r.seq !== expectedSeq) return this.fail(expectedSeq, `expected seq ${expectedSeq}, found ${r.seq}`);
    if (r.prevHash !== this.prev) return this.fail(r.seq, 'prevHash does not match the previous record');
    const { hash, ...rest } = r;
    if (hashRecord(rest) !== hash) return this.fail(r.seq, 'record content does not match its hash');
    this.prev = hash;
    this.count = r.seq;
    return true;
  }

  /** The verdict against a head read after every record fed (null: no head was ever written). */
  verdict(head: AuditHead | null): ChainVerdict {
    if (this.broken) return this.broken;
    // Records missing at the end, or appended past the head: the first record the head does not vouch for.
    if (head && (head.seq !== this.count || head.hash !== this.prev))
      return {
        ok: false,
        records: this.count,
        brokenAt: Math.min(head.seq, this.count) + 1,
        reason: `chain head says ${head.seq} records, found ${this.count}`,
      };
    return { ok: true, records: this.count, head: this.prev };
  }

  private fail(brokenAt: number, reason: string): false {
    this.broken = { ok: false, records: this.count + 1, brokenAt, reason };
    return false;
  }
}

export function verifyChain(records: Array<Record<string, unknown>>, head: AuditHead | null): ChainVerdict {
  const walker = new ChainWalker();
  for (const r of records) if (!walker.feed(r)) break;
  const v = walker.verdict(head);
  return v.ok ? v : { ...v, records: Math.max(v.records, records.length) };
}

export interface LiveChainSource {
  /** The records after `afterSeq`, in seq order, at most `limit`. */
  page(afterSeq: number, limit: number): Promise<Array<Record<string, unknown>>>;
  head(): Promise<AuditHead | null>;
}

/**
 * Verifies a chain that may still be growing, a page at a time. A record and the head move in one
 * transaction, so a head read after the records can only be at or past them: past them means appends
 * landed meanwhile, and those records must be readable now; behind them means records the head never
 * vouched for. Every head seen must match the record at its seq.
 */
export async function verifyLiveChain(
  source: LiveChainSource,
  opts: { pageSize?: number; maxRounds?: number } = {},
): Promise<ChainVerdict> {
  const pageSize = opts.pageSize ?? 500;
  const maxRounds = opts.maxRounds ?? 20;
  const walker = new ChainWalker();
  let ahead: AuditHead | null = null;
  for (let round = 0; round < maxRounds; round++) {
    for (;;) {
      const page = await source.page(walker.records, pageSize);
      for (const r of page) {
        if (!walker.feed(r)) return walker.verdict(null);
        if (ahead && walker.records === ahead.seq && walker.lastHash !== ahead.hash)
          return {
            ok: false,
            records: walker.records,
            brokenAt: ahead.seq,
            reason: `the chain head's hash is not record ${ahead.seq}'s`,
          };
      }
      if (page.length < pageSize) break;
    }
    // Records the head had vouched for before this round's reads began are gone.
    if (ahead && walker.records < ahead.seq) return walker.verdict(ahead);
    const head = await source.head();
    if (!head && walker.records > 0)
      return { ok: false, records: walker.records, brokenAt: 1, reason: 'the chain head is missing' };
    if (!head || head.seq <= walker.records) return walker.verdict(head);
    ahead = head;
  }
  // Writers never paused: every record read is linked, and vouched for up to the last head reached.
  return walker.verdict(null);
}

export async function readHeadOutsideTx(
  get: (c: string, id: string) => Promise<Doc | null>,
): Promise<AuditHead | null> {
  const doc = await get(META, HEAD_ID);
  return doc ? { seq: Number(doc['seq']), hash: String(doc['hash']) } : null;
}
