import { AsyncLocalStorage } from 'node:async_hooks';
import {
  FieldPath,
  type CollectionReference,
  type Firestore,
  type Query as FsQuery,
  type QuerySnapshot,
  type Transaction as FsTransaction,
} from '@google-cloud/firestore';
import type { Doc, DocumentStore, Query, Transaction } from '../ports/document-store.js';
import { AsyncMutex } from './async-mutex.js';
import {
  NESTED_TRANSACTION,
  READ_AFTER_WRITE,
  TRANSACTION_FINISHED,
  checkName,
  checkQuery,
  fieldSegments,
  toPlainDoc,
} from './document-store-rules.js';

export interface FirestoreDocumentStoreOptions {
  /** The store owns this client: close() terminates it. */
  firestore: Firestore;
  /** Prepended to every collection name, so several deployments can share a database. */
  prefix?: string;
  /** Attempts of one transaction under contention from other processes (the client's default is 5). */
  maxTransactionAttempts?: number;
}

type TxState = { finished: boolean };

/** Dotted fields are nested map keys; built from segments so keys with '-' or other symbols work too. */
function fieldPath(field: string): FieldPath {
  return new FieldPath(...fieldSegments(field));
}

export function createFirestoreDocumentStore(opts: FirestoreDocumentStoreOptions): DocumentStore {
  const { firestore } = opts;
  const prefix = opts.prefix ?? 'warden-';
  const maxAttempts = opts.maxTransactionAttempts ?? 5;

  const col = (collection: string): CollectionReference => {
    checkName('collection', collection);
    checkName('collection', `${prefix}${collection}`);
    return firestore.collection(`${prefix}${collection}`);
  };
  const ref = (collection: string, id: string) => {
    checkName('document id', id);
    return col(collection).doc(id);
  };

  const build = (collection: string, query: Query): FsQuery => {
    checkQuery(query);
    let q: FsQuery = col(collection);
    for (const [field, op, value] of query.where ?? []) q = q.where(fieldPath(field), op, value);
    // Firestore itself adds the implicit order (range-filtered fields, then the document id).
    if (query.orderBy) q = q.orderBy(fieldPath(query.orderBy.field), query.orderBy.direction ?? 'asc');
    if (query.offset) q = q.offset(query.offset);
    if (query.limit !== undefined) q = q.limit(query.limit);
    return q;
  };

  const rows = (snap: QuerySnapshot): Array<{ id: string; doc: Doc }> =>
    snap.docs.map((d) => ({ id: d.id, doc: d.data() }));

  // Transactions of one process queue here instead of contending on the server: every Warden transaction
  // reads the audit head, so they conflict anyway, and the client answers a conflict with a backoff that
  // starts at one second. Contention with other processes is still retried by runTransaction.
  const mutex = new AsyncMutex();
  const currentTx = new AsyncLocalStorage<TxState>();
  let closed = false;

  const checkOpen = (): void => {
    if (closed) throw new Error('the document store is closed');
  };
  const refuseInsideTx = (): void => {
    const outer = currentTx.getStore();
    if (outer && !outer.finished) throw new Error(NESTED_TRANSACTION);
  };

  const wrap = (t: FsTransaction, state: TxState): Transaction => {
    let wrote = false;
    const usable = (): void => {
      if (state.finished) throw new Error(TRANSACTION_FINISHED);
    };
    const beforeWrites = (): void => {
      usable();
      if (wrote) throw new Error(READ_AFTER_WRITE);
    };
    return {
      async get(collection, id) {
        beforeWrites();
        const snap = await t.get(ref(collection, id));
        return snap.exists ? (snap.data() ?? null) : null;
      },
      async query(collection, query) {
        beforeWrites();
        const q = build(collection, query);
        // Nothing to fetch: skip the round trip.
        if (query.limit === 0) return [];
        return rows(await t.get(q));
      },
      set(collection, id, doc) {
        usable();
        t.set(ref(collection, id), toPlainDoc(doc));
        wrote = true;
      },
      delete(collection, id) {
        usable();
        t.delete(ref(collection, id));
        wrote = true;
      },
    };
  };

  return {
    async get(collection, id) {
      checkOpen();
      const snap = await ref(collection, id).get();
      return snap.exists ? (snap.data() ?? null) : null;
    },

    async query(collection, query) {
      checkOpen();
      const q = build(collection, query);
      // Nothing to fetch: skip the round trip.
      if (query.limit === 0) return [];
      return rows(await q.get());
    },

    async count(collection, query = {}) {
      checkOpen();
      const snap = await build(collection, { where: query.where ?? [] })
        .count()
        .get();
      return snap.data().count;
    },

    async set(collection, id, doc) {
      checkOpen();
      refuseInsideTx();
      await ref(collection, id).set(toPlainDoc(doc));
    },

    async transaction<R>(fn: (tx: Transaction) => Promise<R>): Promise<R> {
      checkOpen();
      refuseInsideTx();
      return mutex.run(() =>
        firestore.runTransaction(
          async (t) => {
            // runTransaction may call this again after a conflict: each attempt gets a fresh wrapper.
            const state: TxState = { finished: false };
            try {
              return await currentTx.run(state, () => fn(wrap(t, state)));
            } finally {
              state.finished = true;
            }
          },
          { maxAttempts },
        ),
      );
    },

    async close() {
      if (closed) return;
      closed = true;
      await mutex.idle();
      await firestore.terminate();
    },
  };
}
