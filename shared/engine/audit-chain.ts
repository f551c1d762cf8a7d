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

/** Walks the chain in order; any edited, deleted, inserted or reordered record breaks a link. */
export function verifyChain(records: Array<Record<string, unknown>>, head: AuditHead | null): ChainVerdict {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  for (const raw of records) {
    const parsed = AuditRecordSchema.safeParse(raw);
    if (!parsed.success)
      return { ok: false, records: records.length, brokenAt: expectedSeq, reason: 'malformed record' };
    const r = parsed.data;
    if (r.seq !== expectedSeq)
      return {
        ok: false,
        records: records.length,
        brokenAt: expectedSeq,
        reason: `expected seq ${expectedSeq}, found ${r.seq}`,
      };
    if (r.prevHash !== prev)
      return {
        ok: false,
        records: records.length,
        brokenAt: r.seq,
        reason: 'prevHash does not match the previous record',
      };
    const { hash, ...rest } = r;
    if (hashRecord(rest) !== hash)
      return {
        ok: false,
        records: records.length,
        brokenAt: r.seq,
        reason: 'record content does not match its hash',
      };
    prev = hash;
    expectedSeq += 1;
  }
  const count = expectedSeq - 1;
  // Records missing at the end, or appended past the head: the first record the head does not vouch for.
  if (head && (head.seq !== count || head.hash !== prev))
    return {
      ok: false,
      records: count,
      brokenAt: Math.min(head.seq, count) + 1,
      reason: `chain head says ${head.seq} records, found ${count}`,
    };
  return { ok: true, records: count, head: prev };
}

export async function readHeadOutsideTx(
  get: (c: string, id: string) => Promise<Doc | null>,
): Promise<AuditHead | null> {
  const doc = await get(META, HEAD_ID);
  return doc ? { seq: Number(doc['seq']), hash: String(doc['hash']) } : null;
}
