import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { openSqliteDocumentStore } from '../../shared/adapters/document-store-sqlite.js';
import { documentStoreContract } from './document-store.contract.js';

documentStoreContract('sqlite file', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'warden-store-'));
  const store = openSqliteDocumentStore(path.join(dir, 'warden.db'));
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

documentStoreContract('sqlite :memory:', async () => {
  const store = openSqliteDocumentStore(':memory:');
  return { store, cleanup: () => store.close() };
});

describe('sqlite document store, file specifics', () => {
  it('keeps documents across reopening, in WAL mode, with an index for a filtered field', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'warden-store-'));
    const file = path.join(dir, 'warden.db');
    try {
      const first = openSqliteDocumentStore(file);
      await first.set('findings', 'f1', { status: 'open', meta: { layer: 'data' } });
      expect(await first.count('findings', { where: [['meta.layer', '==', 'data']] })).toBe(1);
      await first.close();

      const second = openSqliteDocumentStore(file);
      expect(await second.get('findings', 'f1')).toEqual({ status: 'open', meta: { layer: 'data' } });
      await second.close();

      const raw = new Database(file, { readonly: true });
      try {
        expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
        const plan = raw
          .prepare(
            `EXPLAIN QUERY PLAN SELECT id FROM documents WHERE collection = ? AND (json_extract(data, '$."meta"."layer"') = ? AND json_type(data, '$."meta"."layer"') IN ('text'))`,
          )
          .all('findings', 'data') as Array<{ detail: string }>;
        expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING INDEX documents_/);
      } finally {
        raw.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('serialises transactions of two stores on the same file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'warden-store-'));
    const file = path.join(dir, 'warden.db');
    const a = openSqliteDocumentStore(file);
    const b = openSqliteDocumentStore(file);
    try {
      await a.set('counters', 'c', { n: 0 });
      const increment = (s: typeof a) =>
        s.transaction(async (tx) => {
          const doc = await tx.get('counters', 'c');
          tx.set('counters', 'c', { n: Number(doc?.['n']) + 1 });
        });
      await Promise.all(Array.from({ length: 10 }, (_, i) => increment(i % 2 ? a : b)));
      expect(await b.get('counters', 'c')).toEqual({ n: 10 });
    } finally {
      await a.close();
      await b.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("waits for another connection's write lock without blocking the event loop", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'warden-store-'));
    const file = path.join(dir, 'warden.db');
    const store = openSqliteDocumentStore(file);
    // A connection outside the store's own lock stands for another process.
    const other = new Database(file);
    try {
      other.exec('BEGIN IMMEDIATE');
      other
        .prepare(`INSERT INTO documents (collection, id, data) VALUES ('k', 'first', '{"by":"other"}')`)
        .run();
      let settled = false;
      const running = store
        .transaction(async (tx) => {
          const first = await tx.get('k', 'first');
          tx.set('k', 'second', { saw: first });
        })
        .finally(() => (settled = true));
      // The event loop keeps turning while the store waits for the lock.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(settled).toBe(false);
      other.exec('COMMIT');
      await running;
      expect(await store.get('k', 'second')).toEqual({ saw: { by: 'other' } });
    } finally {
      other.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
