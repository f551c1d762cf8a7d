/**
 * The persistence port: named collections of JSON documents with transactions. The domain repository
 * (shared/engine/repository.ts) is written once on top of it; adapters only store documents.
 * Semantics follow Firestore's, the strictest adapter: in a transaction every read comes before any write,
 * and a transaction whose reads changed underneath it is retried by the adapter.
 */
export type Doc = Record<string, unknown>;

export type WhereOp = '==' | '<' | '<=' | '>' | '>=' | 'in';
export interface Query {
  where?: Array<[field: string, op: WhereOp, value: unknown]>;
  orderBy?: { field: string; direction?: 'asc' | 'desc' };
  limit?: number;
  /** Skip this many matching documents (after ordering). */
  offset?: number;
}

export interface Transaction {
  get(collection: string, id: string): Promise<Doc | null>;
  query(collection: string, query: Query): Promise<Array<{ id: string; doc: Doc }>>;
  set(collection: string, id: string, doc: Doc): void;
  delete(collection: string, id: string): void;
}

export interface DocumentStore {
  get(collection: string, id: string): Promise<Doc | null>;
  query(collection: string, query: Query): Promise<Array<{ id: string; doc: Doc }>>;
  count(collection: string, query?: Pick<Query, 'where'>): Promise<number>;
  set(collection: string, id: string, doc: Doc): Promise<void>;
  /** Runs fn atomically: all its writes land together or none does. fn may be run again on contention. */
  transaction<R>(fn: (tx: Transaction) => Promise<R>): Promise<R>;
  close(): Promise<void>;
}
