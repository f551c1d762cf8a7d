import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import {
  baseAutomation,
  bucketAsset,
  createWorld,
  firewallAsset,
  project,
  projectAsset,
  type World,
} from '../../bench/lifecycle-failures.js';
import { openSqliteDocumentStore } from '../../shared/adapters/document-store-sqlite.js';
import { hashRecord, verifyChain, type AuditRecord } from '../../shared/engine/audit-chain.js';
import { Repository } from '../../shared/engine/repository.js';
import { requestRollback } from '../../shared/engine/rollback-request.js';
import { auditLogMirror } from '../../shared/logging/audit-log-mirror.js';
import { createJsonLogger } from '../../shared/logging/json-logger.js';
import { ManualClock } from '../../shared/ports/clock.js';
import { projectRoot } from '../../shared/util/project-root.js';

const P = project(8);
let w: World;
let records: AuditRecord[];
let pristine: string;
let scratch: string;

beforeAll(async () => {
  w = await createWorld({
    assets: [
      projectAsset(P),
      bucketAsset(P, 'au-0'),
      firewallAsset(P, 'au-fw', { open: true, logged: true }),
    ],
    automation: baseAutomation(),
  });
  const proc = await w.start();
  await proc.sweep();
  const fix = (
    await proc.deps.repo.listActions({ where: [['resourceName', '==', '//storage.googleapis.com/au-0']] })
  )[0]!;
  w.clock.advance(60_000);
  expect(await requestRollback(proc.deps, fix.id, 'user:carol', 'audit rehearsal')).toMatchObject({
    status: 'rolled_back',
  });
  await proc.stop();
  records = (await new Repository(w.store, w.clock).readAuditRecords()) as AuditRecord[];
  // A consistent copy of the live SQLite file (WAL included) to tamper with.
  scratch = await mkdtemp(path.join(os.tmpdir(), 'warden-audit-'));
  pristine = path.join(scratch, 'pristine.db');
  const live = new Database(path.join(w.dir, 'warden.db'), { readonly: true });
  await live.backup(pristine);
  live.close();
}, 120_000);

afterAll(async () => {
  await w?.close();
  await rm(scratch, { recursive: true, force: true });
});

const parse = (s: string | null) => (s === null ? null : (JSON.parse(s) as Record<string, unknown>));

describe('the audit trail of the lifecycle', () => {
  it('records every finding, decision, transition, API call and rollback: what, who, when, before, after, why', () => {
    for (const r of records) {
      expect(r.actor).not.toBe('');
      expect(r.reason).not.toBe('');
      expect(Number.isNaN(Date.parse(r.at))).toBe(false);
    }
    const first = (kind: string) => records.find((r) => r.kind === kind)!;
    const opened = records.find(
      (r) => r.kind === 'finding.opened' && parse(r.after)?.['policyId'] === 'lifecycle-bucket-public',
    )!;
    // A finding: which policy, which resource, the evidence; why = the policy's title.
    expect(opened).toMatchObject({
      actor: 'sweep',
      reason: 'Bucket readable by allUsers (lifecycle scenarios)',
    });
    expect(parse(opened.after)).toMatchObject({
      policyId: 'lifecycle-bucket-public',
      resource: '//storage.googleapis.com/au-0',
    });
    // A decision: the action planned, its decision with every factor, the exact API calls.
    const decision = first('action.planned');
    expect(decision.actor).toBe('assess-risk');
    expect(decision.reason).toMatch(/base risk of .*; automation\.security\.auto_fix_public_resources/);
    expect(parse(decision.after)).toMatchObject({
      decision: { kind: 'auto' },
      plan: { requests: expect.any(Array) },
    });
    // Transitions carry the state before and after.
    const claimed = first('action.claimed');
    expect(parse(claimed.before)).toMatchObject({ state: 'planned', step: 'none' });
    expect(parse(claimed.after)).toMatchObject({ state: 'executing' });
    // An API call: the requests sent, the resource state before and after.
    const calls = records.filter((r) => r.kind === 'action.api_call');
    expect(calls).toHaveLength(2);
    for (const c of calls) {
      expect(c.actor).toBe('execute');
      expect(parse(c.before)).not.toBeNull();
      const after = parse(c.after)!;
      expect(after['status']).toBe('applied');
      expect((after['requests'] as Array<{ method: string }>).map((x) => x.method)).toContain('PATCH');
      expect(c.reason).toMatch(/^PATCH https:\/\//);
    }
    expect(records.filter((r) => r.kind === 'action.verified')).toHaveLength(2);
    // The rollback: who asked and why, and what was restored.
    expect(first('action.rollback_requested')).toMatchObject({
      actor: 'user:carol',
      reason: 'audit rehearsal',
    });
    const rollback = first('action.rollback');
    expect(parse(rollback.before)).toMatchObject({ bucket: 'au-0' });
    expect(parse(rollback.after)).toMatchObject({ value: 'inherited' });
    expect(records.filter((r) => r.kind === 'outcome.reported').length).toBeGreaterThanOrEqual(3);
  });

  it('every record is mirrored as one log line Cloud Logging indexes: severity, message, labels, insertId', async () => {
    const out = new PassThrough();
    const lines: string[] = [];
    out.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
    const logger = createJsonLogger({ destination: out, component: 'execute', level: 'info' });
    const sink = auditLogMirror(logger);
    for (const r of records.slice(0, 3)) sink(r);
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toHaveLength(3);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({
      severity: 'INFO',
      message: 'audit record',
      'logging.googleapis.com/labels': { audit_kind: records[0]!.kind, actor: records[0]!.actor },
      'logging.googleapis.com/insertId': `warden-audit-${records[0]!.seq}`,
      audit: { seq: records[0]!.seq, hash: records[0]!.hash, prevHash: records[0]!.prevHash },
    });
  });
});

describe('warden audit verify on a tampered SQLite file', () => {
  const run = promisify(execFile);
  const warden = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(
        process.execPath,
        [path.join(projectRoot(), 'bin/warden.js'), ...args],
        {
          cwd: projectRoot(),
          env: { ...process.env, METADATA_SERVER_DETECTION: 'none' },
        },
      );
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  /** A state folder holding a copy of the chain, changed by `tamper` through SQL on the file itself. */
  async function tampered(name: string, tamper: (db: Database.Database) => void): Promise<string> {
    const dir = path.join(scratch, name);
    await mkdir(dir, { recursive: true });
    await copyFile(pristine, path.join(dir, 'warden.db'));
    const db = new Database(path.join(dir, 'warden.db'));
    tamper(db);
    db.close();
    return dir;
  }
  const row = (db: Database.Database, seq: number) => {
    const r = db
      .prepare(
        "SELECT id, data FROM documents WHERE collection = 'audit' AND json_extract(data, '$.seq') = ?",
      )
      .get(seq) as { id: string; data: string };
    return { id: r.id, record: JSON.parse(r.data) as AuditRecord };
  };
  const put = (db: Database.Database, id: string, record: unknown) =>
    db
      .prepare(
        "INSERT INTO documents (collection, id, data) VALUES ('audit', ?, ?) ON CONFLICT (collection, id) DO UPDATE SET data = excluded.data",
      )
      .run(id, JSON.stringify(record));
  const verify = async (dir: string) => {
    const store = openSqliteDocumentStore(path.join(dir, 'warden.db'));
    try {
      return await new Repository(store, new ManualClock()).verifyAudit();
    } finally {
      await store.close();
    }
  };

  it('an untouched copy verifies', async () => {
    const dir = await tampered('intact', () => undefined);
    expect(await verify(dir)).toEqual({ ok: true, records: records.length, head: records.at(-1)!.hash });
    const cli = await warden('audit', 'verify', '--state-dir', dir);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(new RegExp(`^audit chain intact: ${records.length} records`));
  }, 60_000);

  it('an edited, deleted, inserted or reordered record is always detected, at the first broken link', async () => {
    const n = records.length;
    const cases: Array<[string, (db: Database.Database) => void, number, RegExp]> = [
      [
        'edited',
        (db) => {
          const { id, record } = row(db, 5);
          put(db, id, { ...record, reason: 'nothing to see here' });
        },
        5,
        /content does not match its hash/,
      ],
      [
        'edited and rehashed',
        (db) => {
          const { id, record } = row(db, 5);
          const { hash: _drop, ...rest } = { ...record, actor: 'user:mallory' };
          put(db, id, { ...rest, hash: hashRecord(rest) });
        },
        6,
        /prevHash does not match/,
      ],
      [
        'deleted',
        (db) => db.prepare("DELETE FROM documents WHERE collection = 'audit' AND id = ?").run(row(db, 5).id),
        5,
        /expected seq 5, found 6/,
      ],
      [
        'last deleted',
        (db) => db.prepare("DELETE FROM documents WHERE collection = 'audit' AND id = ?").run(row(db, n).id),
        n,
        /chain head says/,
      ],
      [
        'inserted',
        (db) => {
          const prev = row(db, 4).record;
          const base = { ...row(db, 5).record, reason: 'a forged record', prevHash: prev.hash };
          const { hash: _drop, ...rest } = base;
          put(db, `${row(db, 5).id}a`, { ...rest, hash: hashRecord(rest) });
        },
        6,
        /expected seq 6, found 5|prevHash/,
      ],
      [
        'appended',
        (db) => {
          const last = row(db, n).record;
          const { hash: _drop, ...rest } = { ...last, seq: n + 1, prevHash: last.hash, reason: 'appended' };
          put(db, String(n + 1).padStart(12, '0'), { ...rest, hash: hashRecord(rest) });
        },
        n + 1,
        /chain head says/,
      ],
      [
        'reordered',
        (db) => {
          const a = row(db, 5);
          const b = row(db, 6);
          put(db, a.id, { ...a.record, seq: 6 });
          put(db, b.id, { ...b.record, seq: 5 });
        },
        5,
        /prevHash does not match|content does not match/,
      ],
    ];
    for (const [name, tamper, brokenAt, reason] of cases) {
      const verdict = await verify(await tampered(name, tamper));
      expect([name, verdict.ok]).toEqual([name, false]);
      if (!verdict.ok) {
        expect([name, verdict.brokenAt]).toEqual([name, brokenAt]);
        expect([name, verdict.reason]).toEqual([name, expect.stringMatching(reason)]);
      }
    }
    const cli = await warden('audit', 'verify', '--json', '--state-dir', path.join(scratch, 'edited'));
    expect(cli.code).toBe(1);
    expect(JSON.parse(cli.stdout)).toEqual({
      ok: false,
      records: n,
      brokenAt: 5,
      reason: 'record content does not match its hash',
    });
  }, 60_000);

  it('warden audit export writes the records as JSON lines, in chain order, and they verify', async () => {
    const dir = await tampered('export', () => undefined);
    const file = path.join(scratch, 'audit.jsonl');
    const cli = await warden('audit', 'export', '--state-dir', dir, '--out', file);
    expect(cli.code).toBe(0);
    expect(cli.stderr).toMatch(new RegExp(`${records.length} audit records written`));
    const lines = (await readFile(file, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditRecord);
    expect(lines.map((r) => r.seq)).toEqual(records.map((_, i) => i + 1));
    expect(verifyChain(lines, { seq: records.length, hash: records.at(-1)!.hash })).toMatchObject({
      ok: true,
    });
    const stdout = await warden('audit', 'export', '--state-dir', dir);
    expect(stdout.stdout.trimEnd().split('\n')).toHaveLength(records.length);
  }, 60_000);
});
