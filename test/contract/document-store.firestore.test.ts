import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Firestore } from '@google-cloud/firestore';
import { createFirestoreDocumentStore } from '../../shared/adapters/document-store-firestore.js';
import { describeWithEmulator } from '../support/describe-with-emulator.js';
import {
  EMULATOR_PROJECT,
  startFirestoreEmulator,
  wipeFirestoreEmulator,
  type RunningEmulator,
} from '../support/emulators.js';
import { documentStoreContract } from './document-store.contract.js';

const describeIf = describeWithEmulator('firestore');

describeIf('Firestore document store (emulator)', () => {
  let emulator: RunningEmulator | undefined;
  // A prefix per run and per store: stores never see each other's documents, even in one emulator.
  const run = randomBytes(4).toString('hex');
  let n = 0;
  const client = (): Firestore => {
    if (!emulator) throw new Error('the Firestore emulator did not start');
    return new Firestore({ projectId: EMULATOR_PROJECT, host: emulator.host, ssl: false });
  };

  beforeAll(async () => {
    emulator = await startFirestoreEmulator();
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  documentStoreContract('firestore', async () => {
    n += 1;
    const store = createFirestoreDocumentStore({ firestore: client(), prefix: `t${run}-${n}-` });
    return { store, cleanup: () => store.close() };
  });

  it('retries a transaction that lost a conflict with another client', async () => {
    const prefix = `t${run}-conflict-`;
    const a = createFirestoreDocumentStore({ firestore: client(), prefix });
    const b = createFirestoreDocumentStore({ firestore: client(), prefix });
    try {
      await a.set('counters', 'c', { n: 0 });
      // Both transactions read before either writes (a barrier on their first attempts), so one of them
      // must lose the conflict and be retried: deterministic, not left to timing.
      let attempts = 0;
      let readers = 0;
      let release!: () => void;
      const bothRead = new Promise<void>((resolve) => (release = resolve));
      const increment = (s: typeof a) => {
        let first = true;
        return s.transaction(async (tx) => {
          attempts += 1;
          const doc = await tx.get('counters', 'c');
          if (first) {
            first = false;
            readers += 1;
            if (readers === 2) release();
            await bothRead;
          }
          tx.set('counters', 'c', { n: Number(doc?.['n']) + 1 });
        });
      };
      await Promise.all([increment(a), increment(b)]);
      expect(await b.get('counters', 'c')).toEqual({ n: 2 });
      expect(attempts).toBeGreaterThanOrEqual(3);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('stores under the prefixed collection name, and the wipe helper empties the emulator', async () => {
    const firestore = client();
    const store = createFirestoreDocumentStore({ firestore: client(), prefix: `t${run}-raw-` });
    try {
      await store.set('findings', 'f1', { status: 'open' });
      const raw = await firestore.collection(`t${run}-raw-findings`).doc('f1').get();
      expect(raw.data()).toEqual({ status: 'open' });
      await wipeFirestoreEmulator(emulator!.host);
      expect(await store.get('findings', 'f1')).toBeNull();
    } finally {
      await store.close();
      await firestore.terminate();
    }
  });
});
