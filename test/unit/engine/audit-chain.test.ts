import { describe, expect, it } from '@jest/globals';
import {
  appendAudit,
  GENESIS_HASH,
  verifyChain,
  verifyLiveChain,
  type AuditHead,
  type LiveChainSource,
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

/** A chain of `total` records of which `visible()` are committed; the head moves with them, as in a transaction. */
function growing(
  total: number,
  visibleAt: (headReads: number) => number,
  headFor?: (n: number) => AuditHead | null,
) {
  const all = chainOf(total).records;
  let headReads = 0;
  let visible = visibleAt(0);
  const headOf = (n: number): AuditHead | null =>
    n === 0 ? null : { seq: n, hash: String(all[n - 1]!['hash']) };
  const source: LiveChainSource = {
    page: async (after, limit) => all.slice(after, Math.min(after + limit, visible)),
    head: async () => {
      // Appends landing between the last page read and this head read.
      headReads += 1;
      visible = visibleAt(headReads);
      return (headFor ?? headOf)(visible);
    },
  };
  return { source, all };
}

describe('verifying a chain that is still growing', () => {
  it('follows appends that land while it reads, a page at a time', async () => {
    const { source } = growing(12, (reads) => Math.min(5 + reads * 3, 12));
    expect(await verifyLiveChain(source, { pageSize: 2 })).toMatchObject({ ok: true, records: 12 });
  });

  it('verifies what it read, linked and vouched for, when writers never pause', async () => {
    const { source } = growing(40, (reads) => Math.min(2 + reads * 2, 40));
    expect(await verifyLiveChain(source, { maxRounds: 3 })).toMatchObject({ ok: true, records: 6 });
  });

  it('finds records the head vouched for but that are gone', async () => {
    const { all } = growing(7, () => 7);
    const source: LiveChainSource = {
      page: async (after, limit) => all.slice(after, Math.min(after + limit, 5)),
      head: async () => ({ seq: 7, hash: String(all[6]!['hash']) }),
    };
    expect(await verifyLiveChain(source)).toMatchObject({ ok: false, brokenAt: 6 });
  });

  it('finds a head whose hash is not the record it points at', async () => {
    const { source } = growing(
      8,
      (reads) => (reads === 0 ? 4 : 8),
      (n) => ({ seq: n, hash: 'f'.repeat(64) }),
    );
    expect(await verifyLiveChain(source)).toMatchObject({ ok: false, brokenAt: 8 });
  });

  it('finds records appended past the head, and records without a head', async () => {
    const { all } = growing(6, () => 6);
    const past: LiveChainSource = {
      page: async (after, limit) => all.slice(after, after + limit),
      head: async () => ({ seq: 5, hash: String(all[4]!['hash']) }),
    };
    expect(await verifyLiveChain(past)).toMatchObject({ ok: false, brokenAt: 6 });
    const headless: LiveChainSource = { page: past.page, head: async () => null };
    expect(await verifyLiveChain(headless)).toMatchObject({ ok: false, reason: 'the chain head is missing' });
  });

  it('finds an edited record while the chain grows', async () => {
    const { source, all } = growing(9, (reads) => (reads === 0 ? 3 : 9));
    all[5]!['reason'] = 'forged';
    expect(await verifyLiveChain(source, { pageSize: 2 })).toMatchObject({ ok: false, brokenAt: 6 });
  });

  it('accepts an empty chain', async () => {
    const { source } = growing(0, () => 0);
    expect(await verifyLiveChain(source)).toMatchObject({ ok: true, records: 0 });
  });
});
