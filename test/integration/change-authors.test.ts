import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { changeAuthorsSince, CHANGE_AUTHORS } from '../../shared/engine/change-authors.js';
import { ManualClock } from '../../shared/ports/clock.js';
import { MemoryLogger } from '../../shared/ports/logger.js';
import { startEmbedded, type Embedded } from '../../shared/roots/embedded.js';
import { AUDIT_LOGS } from '../unit/contracts/fixtures.js';

// Who changed what, from the audit log sink's topic through detect-authors into the store: duplicated,
// reordered and malformed deliveries.
const BUCKET = '//storage.googleapis.com/acme-drop';
const open: Array<{ engine: Embedded; dir: string }> = [];
afterEach(async () => {
  for (const { engine, dir } of open.splice(0)) {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  }
});

const T0 = '2026-11-02T10:00:00.000Z';
async function start(): Promise<Embedded> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'warden-authors-'));
  const engine = await startEmbedded({
    stateDir: dir,
    assets: [],
    scope: 'organizations/1',
    logger: new MemoryLogger(),
    clock: new ManualClock(T0),
  });
  open.push({ engine, dir });
  return engine;
}

function entry(insertId: string, principal: string, timestamp: string): Record<string, unknown> {
  return {
    logName: 'organizations/1/logs/cloudaudit.googleapis.com%2Factivity',
    insertId,
    timestamp,
    protoPayload: {
      '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
      serviceName: 'storage.googleapis.com',
      methodName: 'storage.setIamPermissions',
      resourceName: 'projects/_/buckets/acme-drop',
      authenticationInfo: { principalEmail: principal },
    },
  };
}

describe('detect-authors: recording who changed what', () => {
  it('each entry once, newest first, whatever the delivery order and however often it comes', async () => {
    const engine = await start();
    const entries = [
      entry('e1', 'bob@example.com', '2026-11-01T09:00:00Z'),
      entry('e2', 'carol@example.com', '2026-11-01T11:00:00Z'),
      entry('e3', 'dave@example.com', '2026-11-01T10:00:00Z'),
    ];
    // Three times each, newest entry first and the oldest last.
    for (const e of [
      entries[1],
      entries[2],
      entries[1],
      entries[0],
      entries[2],
      entries[0],
      entries[1],
      entries[0],
      entries[2],
    ])
      await engine.deps.bus.publish('change-log', { data: e! });
    await engine.deps.bus.drain();
    const docs = await engine.deps.repo.store.query(CHANGE_AUTHORS, {});
    expect(docs).toHaveLength(1);
    expect(docs[0]!.doc).toMatchObject({
      resourceName: BUCKET,
      authors: [
        { principal: 'carol@example.com', insertId: 'e2' },
        { principal: 'dave@example.com', insertId: 'e3' },
        { principal: 'bob@example.com', insertId: 'e1' },
      ],
    });
    expect(await changeAuthorsSince(engine.deps.repo.store, [BUCKET], '2026-11-01T09:30:00Z')).toEqual([
      'carol@example.com',
      'dave@example.com',
    ]);
  });

  it('keeps a malformed entry as a dead letter, says why, and records nothing', async () => {
    const engine = await start();
    await engine.deps.bus.publish('change-log', {
      data: '{"protoPayload": {"serviceName": "storage.googleapis.com"}}',
    });
    await engine.deps.bus.drain();
    expect(await engine.deps.repo.store.query(CHANGE_AUTHORS, {})).toEqual([]);
    expect(await engine.deps.repo.listDeadLetters()).toEqual([
      expect.objectContaining({
        topic: 'change-log',
        reason: expect.stringContaining('protoPayload.methodName'),
      }),
    ]);
  });

  it('records a real sample without a usable time at its arrival', async () => {
    const engine = await start();
    const text = await readFile(path.join(AUDIT_LOGS, 'compute-firewalls-enable-logs-policy.json'), 'utf8');
    await engine.deps.bus.publish('change-log', { data: text });
    await engine.deps.bus.drain();
    const name = '//compute.googleapis.com/projects/my-project/global/firewalls/test-firewall';
    expect(await changeAuthorsSince(engine.deps.repo.store, [name], T0)).toEqual(['user@domain.com']);
    const [doc] = await engine.deps.repo.store.query(CHANGE_AUTHORS, {});
    expect(doc?.doc['authors']).toEqual([expect.objectContaining({ at: T0 })]);
  });
});
