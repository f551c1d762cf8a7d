import { afterEach, describe, expect, it } from '@jest/globals';
import type { Doc, DocumentStore } from '../../shared/ports/document-store.js';

export interface StoreUnderTest {
  store: DocumentStore;
  cleanup(): Promise<void>;
}

/**
 * What every DocumentStore adapter must do, run against each of them: the domain repository is written
 * once on the port, so an adapter that differs here breaks it in one mode only.
 */
export function documentStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`DocumentStore contract: ${name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    const fresh = async (): Promise<DocumentStore> => {
      const made = await makeStore();
      cleanups.push(made.cleanup);
      return made.store;
    };
    afterEach(async () => {
      for (const c of cleanups.splice(0)) await c();
    });

    const ids = (rows: Array<{ id: string }>): string[] => rows.map((r) => r.id);

    /** Documents of mixed shapes: typed comparisons, nested fields and missing fields all show up in them. */
    async function seed(store: DocumentStore): Promise<void> {
      const docs: Record<string, Doc> = {
        a: { n: 3, s: 'pear', flag: true, meta: { team: 'red', level: 2 } },
        b: { n: 1, s: 'apple', flag: false, meta: { team: 'blue', level: 5 } },
        c: { n: 2, s: 'fig', flag: true, meta: { team: 'red', level: 1 } },
        d: { n: 'two', s: 'kiwi', meta: { team: 'green' } },
        e: { n: 5.5, s: 'date', flag: 1, meta: null },
        f: { s: 'zucchini' },
      };
      for (const [id, doc] of Object.entries(docs)) await store.set('fruit', id, doc);
    }

    it('round-trips nested JSON and replaces the whole document on set', async () => {
      const store = await fresh();
      const doc = {
        name: 'bucket',
        size: 12.5,
        count: 0,
        negative: -7,
        big: 2 ** 52,
        ok: true,
        nothing: null,
        tags: ['a', 'b', 'a'],
        empty: { list: [], map: {} },
        nested: { deeper: { deepest: [1, { x: 'y' }, null, false] } },
        unicode: 'Grüße ✓ 日本',
      };
      await store.set('things', 'one', doc);
      expect(await store.get('things', 'one')).toEqual(doc);
      await store.set('things', 'one', { only: 'this' });
      expect(await store.get('things', 'one')).toEqual({ only: 'this' });
    });

    it('answers null for a missing document and keeps collections apart', async () => {
      const store = await fresh();
      await store.set('left', 'x', { side: 'left' });
      expect(await store.get('left', 'missing')).toBeNull();
      expect(await store.get('right', 'x')).toBeNull();
      expect(await store.get('never-written', 'x')).toBeNull();
    });

    it('drops undefined properties as JSON does, in both adapters', async () => {
      const store = await fresh();
      await store.set('things', 'u', { keep: 1, drop: undefined, inner: { gone: undefined, here: 'yes' } });
      expect(await store.get('things', 'u')).toEqual({ keep: 1, inner: { here: 'yes' } });
    });

    it('refuses what Firestore cannot store: arrays inside arrays, ids with a slash', async () => {
      const store = await fresh();
      await expect(store.set('things', 'nested', { grid: [[1, 2]] })).rejects.toThrow(/arrays/);
      await expect(store.set('things', 'a/b', { x: 1 })).rejects.toThrow(/\//);
      expect(await store.get('things', 'nested')).toBeNull();
    });

    it('filters with ==, <, <=, >, >= typed like Firestore', async () => {
      const store = await fresh();
      await seed(store);
      expect(ids(await store.query('fruit', { where: [['n', '==', 2]] }))).toEqual(['c']);
      expect(ids(await store.query('fruit', { where: [['n', '==', 'two']] }))).toEqual(['d']);
      // Range filters only match values of the same type, and order by the filtered field.
      expect(ids(await store.query('fruit', { where: [['n', '<', 3]] }))).toEqual(['b', 'c']);
      expect(ids(await store.query('fruit', { where: [['n', '<=', 3]] }))).toEqual(['b', 'c', 'a']);
      expect(ids(await store.query('fruit', { where: [['n', '>', 2]] }))).toEqual(['a', 'e']);
      expect(ids(await store.query('fruit', { where: [['n', '>=', 2]] }))).toEqual(['c', 'a', 'e']);
      expect(ids(await store.query('fruit', { where: [['s', '>=', 'kiwi']] }))).toEqual(['d', 'a', 'f']);
      // A boolean never equals a number.
      expect(ids(await store.query('fruit', { where: [['flag', '==', true]] }))).toEqual(['a', 'c']);
      expect(ids(await store.query('fruit', { where: [['flag', '==', 1]] }))).toEqual(['e']);
      expect(ids(await store.query('fruit', { where: [['flag', '<', true]] }))).toEqual(['b']);
      // null matches a stored null only, not a missing field.
      expect(ids(await store.query('fruit', { where: [['meta', '==', null]] }))).toEqual(['e']);
    });

    it('filters on dotted nested fields and combines filters with AND', async () => {
      const store = await fresh();
      await seed(store);
      expect(ids(await store.query('fruit', { where: [['meta.team', '==', 'red']] }))).toEqual(['a', 'c']);
      expect(ids(await store.query('fruit', { where: [['meta.level', '>=', 2]] }))).toEqual(['a', 'b']);
      expect(
        ids(
          await store.query('fruit', {
            where: [
              ['meta.team', '==', 'red'],
              ['flag', '==', true],
              ['meta.level', '<', 2],
            ],
          }),
        ),
      ).toEqual(['c']);
    });

    it("filters with 'in', over values of several types", async () => {
      const store = await fresh();
      await seed(store);
      expect(ids(await store.query('fruit', { where: [['s', 'in', ['fig', 'kiwi', 'none']]] }))).toEqual([
        'c',
        'd',
      ]);
      expect(ids(await store.query('fruit', { where: [['n', 'in', [1, 'two', 5.5]]] }))).toEqual([
        'b',
        'd',
        'e',
      ]);
      expect(ids(await store.query('fruit', { where: [['meta.team', 'in', ['green', 'blue']]] }))).toEqual([
        'b',
        'd',
      ]);
      await expect(store.query('fruit', { where: [['s', 'in', []]] })).rejects.toThrow(/non-empty/);
      await expect(store.query('fruit', { where: [['s', '<', null]] })).rejects.toThrow(/null/);
    });

    it('orders ascending and descending, leaving out documents without the field, then pages', async () => {
      const store = await fresh();
      await seed(store);
      expect(ids(await store.query('fruit', { orderBy: { field: 'meta.level' } }))).toEqual(['c', 'a', 'b']);
      expect(ids(await store.query('fruit', { orderBy: { field: 's', direction: 'desc' } }))).toEqual([
        'f',
        'a',
        'd',
        'c',
        'e',
        'b',
      ]);
      // Values of different types order as Firestore orders them: booleans < numbers < strings.
      expect(ids(await store.query('fruit', { orderBy: { field: 'n' } }))).toEqual(['b', 'c', 'a', 'e', 'd']);
      expect(ids(await store.query('fruit', { orderBy: { field: 'flag' } }))).toEqual(['b', 'a', 'c', 'e']);
      expect(ids(await store.query('fruit', { orderBy: { field: 's' }, limit: 2 }))).toEqual(['b', 'e']);
      expect(ids(await store.query('fruit', { orderBy: { field: 's' }, offset: 2, limit: 3 }))).toEqual([
        'c',
        'd',
        'a',
      ]);
      expect(ids(await store.query('fruit', { orderBy: { field: 's' }, offset: 5 }))).toEqual(['f']);
      expect(await store.query('fruit', { orderBy: { field: 's' }, limit: 0 })).toEqual([]);
      // Without an order, documents come by id; with one, ties break by id.
      expect(ids(await store.query('fruit', {}))).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
      expect(
        ids(await store.query('fruit', { where: [['meta.team', '==', 'red']], orderBy: { field: 'flag' } })),
      ).toEqual(['a', 'c']);
      const rows = await store.query('fruit', { where: [['s', '==', 'fig']] });
      expect(rows).toEqual([
        { id: 'c', doc: { n: 2, s: 'fig', flag: true, meta: { team: 'red', level: 1 } } },
      ]);
    });

    it('counts, with and without filters', async () => {
      const store = await fresh();
      expect(await store.count('fruit')).toBe(0);
      await seed(store);
      expect(await store.count('fruit')).toBe(6);
      expect(await store.count('fruit', { where: [['meta.team', '==', 'red']] })).toBe(2);
      expect(await store.count('fruit', { where: [['n', '>', 1]] })).toBe(3);
      expect(await store.count('fruit', { where: [['s', 'in', ['fig', 'date']]] })).toBe(2);
      expect(await store.count('other')).toBe(0);
    });

    it('commits every write of a transaction together and returns its result', async () => {
      const store = await fresh();
      await store.set('acct', 'gone', { v: 1 });
      const result = await store.transaction(async (tx) => {
        const before = await tx.get('acct', 'x');
        tx.set('acct', 'x', { v: 1 });
        tx.set('acct', 'y', { v: 2 });
        tx.set('acct', 'x', { v: 3 }); // the last write to a document wins
        tx.delete('acct', 'gone');
        return { before };
      });
      expect(result).toEqual({ before: null });
      expect(await store.get('acct', 'x')).toEqual({ v: 3 });
      expect(await store.get('acct', 'y')).toEqual({ v: 2 });
      expect(await store.get('acct', 'gone')).toBeNull();
    });

    it('writes nothing when the transaction throws', async () => {
      const store = await fresh();
      await store.set('acct', 'a', { balance: 10 });
      const failure = new Error('boom');
      await expect(
        store.transaction(async (tx) => {
          const a = await tx.get('acct', 'a');
          tx.set('acct', 'a', { balance: Number(a?.['balance']) - 5 });
          tx.set('acct', 'b', { balance: 5 });
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(await store.get('acct', 'a')).toEqual({ balance: 10 });
      expect(await store.get('acct', 'b')).toBeNull();
      // The store is still usable afterwards.
      await store.transaction(async (tx) => tx.set('acct', 'b', { balance: 1 }));
      expect(await store.get('acct', 'b')).toEqual({ balance: 1 });
    });

    it('reads (get and query) before writes, and refuses a read after a write', async () => {
      const store = await fresh();
      await store.set('jobs', 'j1', { state: 'open', n: 1 });
      await store.set('jobs', 'j2', { state: 'open', n: 2 });
      await store.set('jobs', 'j3', { state: 'done', n: 3 });
      const closed = await store.transaction(async (tx) => {
        const head = await tx.get('jobs', 'j1');
        const open = await tx.query('jobs', { where: [['state', '==', 'open']], orderBy: { field: 'n' } });
        for (const { id, doc } of open) tx.set('jobs', id, { ...doc, state: 'done', by: head?.['state'] });
        return ids(open);
      });
      expect(closed).toEqual(['j1', 'j2']);
      expect(await store.count('jobs', { where: [['state', '==', 'done']] })).toBe(3);
      expect(await store.get('jobs', 'j2')).toEqual({ state: 'done', n: 2, by: 'open' });

      await expect(
        store.transaction(async (tx) => {
          tx.set('jobs', 'j4', { state: 'open' });
          await tx.get('jobs', 'j1');
        }),
      ).rejects.toThrow(/reads .*before all writes/);
      expect(await store.get('jobs', 'j4')).toBeNull();
    });

    it('serialises read-then-write transactions: 20 concurrent increments make 20', async () => {
      const store = await fresh();
      await store.set('counters', 'c', { n: 0 });
      await Promise.all(
        Array.from({ length: 20 }, () =>
          store.transaction(async (tx) => {
            const doc = await tx.get('counters', 'c');
            tx.set('counters', 'c', { n: Number(doc?.['n']) + 1 });
          }),
        ),
      );
      expect(await store.get('counters', 'c')).toEqual({ n: 20 });
    });

    it('lets reads outside a transaction run while one is open, seeing only committed state', async () => {
      const store = await fresh();
      await store.set('k', 'v', { n: 1 });
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      const running = store.transaction(async (tx) => {
        await tx.get('k', 'v');
        tx.set('k', 'v', { n: 2 });
        entered();
        await gate;
      });
      await inside;
      expect(await store.get('k', 'v')).toEqual({ n: 1 });
      expect(await store.count('k')).toBe(1);
      release();
      await running;
      expect(await store.get('k', 'v')).toEqual({ n: 2 });
    });

    it('refuses a transaction nested in another instead of deadlocking', async () => {
      const store = await fresh();
      await expect(
        store.transaction(async () => {
          await store.transaction(async (inner) => inner.set('k', 'nested', { x: 1 }));
        }),
      ).rejects.toThrow(/inside a transaction/);
      expect(await store.get('k', 'nested')).toBeNull();
    });
  });
}
