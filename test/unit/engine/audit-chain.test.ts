import { describe, expect, it } from '@jest/globals';
import {
  appendAudit,
  GENESIS_HASH,
  verifyChain,
  type AuditHead,
} from '../../../shared/engine/audit-chain.js';
import type { Doc, Transaction } from '../../../shared/ports/document-store.js';

function chainOf(n: number): { records: Doc[]; head: AuditHead } {
  const written = new Map<string, Doc>();
  const tx = {
    set: (c: string, id: string, d: Doc) => written.set(`${c}/${id}`, d),
  } as unknown as Transaction;
  let head: AuditHead = { seq: 0, hash: GENESIS_HASH };
  for (let i = 0; i < n; i++) {
    head = appendAudit(
      tx,
      head,
      [{ actor: 'test', kind: 'k', subject: `s${i}`, reason: `r${i}`, after: { i } }],
      `2026-01-01T00:00:0${i}Z`,
    ).head;
  }
  const records = [...written.entries()]
    .filter(([k]) => k.startsWith('audit/'))
    .sort()
    .map(([, v]) => ({ ...v }));
  return { records, head };
}

describe('the audit hash chain', () => {
  it('verifies an intact chain', () => {
    const { records, head } = chainOf(5);
    expect(verifyChain(records, head)).toMatchObject({ ok: true, records: 5 });
  });

  it('detects an edited record', () => {
    const { records, head } = chainOf(5);
    records[2]!['reason'] = 'edited';
    expect(verifyChain(records, head)).toMatchObject({ ok: false, brokenAt: 3 });
  });

  it('detects a deleted record in the middle and at the end', () => {
    const { records, head } = chainOf(5);
    expect(verifyChain([...records.slice(0, 2), ...records.slice(3)], head)).toMatchObject({
      ok: false,
      brokenAt: 3,
    });
    expect(verifyChain(records.slice(0, 4), head)).toMatchObject({ ok: false, brokenAt: 5 });
  });

  it('detects reordered and inserted records', () => {
    const { records, head } = chainOf(5);
    const swapped = [records[0]!, records[2]!, records[1]!, records[3]!, records[4]!];
    expect(verifyChain(swapped, head).ok).toBe(false);
    const inserted = [...records.slice(0, 2), { ...records[1]!, seq: 3 }, ...records.slice(2)];
    expect(verifyChain(inserted, head).ok).toBe(false);
  });

  it('detects a rehashed edit through the next link', () => {
    const { records, head } = chainOf(3);
    records[0]!['reason'] = 'forged';
    expect(verifyChain(records, head)).toMatchObject({ ok: false, brokenAt: 1 });
  });
});
