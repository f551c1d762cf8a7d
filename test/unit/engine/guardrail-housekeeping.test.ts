import { describe, expect, it } from '@jest/globals';
import { openSqliteDocumentStore } from '../../../shared/adapters/document-store-sqlite.js';
import { pruneGuardrailDocs } from '../../../shared/engine/guardrail-housekeeping.js';
import { countRateUses, RATE_COUNTERS, rateKeys, readRateUses } from '../../../shared/engine/rate-limits.js';
import { openRunCaps, RUN_CAPS } from '../../../shared/engine/run-cap.js';

const HOUR = 3_600_000;
const limits = {
  per_project: { max: 5, window_minutes: 60 },
  per_action_type: { max: 5, window_minutes: 60 },
  by_action_type: {},
};

describe('pruning guardrail documents', () => {
  it('deletes counters of windows closed over a day ago and caps of runs over a week old, and keeps the rest', async () => {
    const store = openSqliteDocumentStore(':memory:');
    try {
      const count = async (at: Date, project: string) =>
        store.transaction(async (tx) => {
          const uses = await readRateUses(tx, rateKeys(limits, { project, actionType: 't' }, at));
          countRateUses(tx, uses, `a-${project}-${at.getTime()}`);
        });
      const now = new Date('2026-11-20T12:30:00Z');
      await count(new Date(now.getTime() - 30 * HOUR), 'projects/1'); // window ended 29.5 h ago
      await count(new Date(now.getTime() - 20 * HOUR), 'projects/2'); // ended 19.5 h ago: kept
      await count(now, 'projects/3'); // open: kept
      const flagged = new Map([['p', 10]]);
      const cap = { max_resources: 3 };
      await openRunCaps(store, cap, 'old', flagged, new Date(now.getTime() - 8 * 24 * HOUR).toISOString());
      await openRunCaps(store, cap, 'recent', flagged, new Date(now.getTime() - 2 * 24 * HOUR).toISOString());

      expect(await store.count(RATE_COUNTERS)).toBe(6);
      expect(await pruneGuardrailDocs(store, now)).toBe(3);
      const left = (await store.query(RATE_COUNTERS, {})).map((r) => String(r.doc['scope'])).sort();
      expect(left).toEqual(['action type t', 'action type t', 'project projects/2', 'project projects/3']);
      expect((await store.query(RUN_CAPS, {})).map((r) => r.doc['sweepId'])).toEqual(['recent']);
      expect(await pruneGuardrailDocs(store, now)).toBe(0);
    } finally {
      await store.close();
    }
  });
});
