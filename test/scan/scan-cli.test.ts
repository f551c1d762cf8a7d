import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CSV_COLUMNS } from '../../shared/scan/output/csv-format.js';
import { inventoryDir, ndjson, NOW, policyDir, REPO, RESOURCES } from './fixture.js';

const run = promisify(execFile);

async function warden(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [path.join(REPO, 'bin', 'warden.js'), ...args], {
      cwd: REPO,
      env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'warn' },
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** RFC 4180 rows (quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else if (c !== '\r') field += c;
  }
  return rows;
}

describe('warden scan (CLI)', () => {
  const dirs: string[] = [];
  let policies: string;
  let inventory: string;
  const base = () => ['scan', '--policies', policies, '--now', NOW, '--assets', inventory];

  beforeAll(async () => {
    policies = await policyDir();
    inventory = await inventoryDir({ perimeter: true });
    dirs.push(policies, inventory);
  });

  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('json: an array of findings with every field; exit 1 on critical findings (default --fail-on high)', async () => {
    const { code, stdout, stderr } = await warden([...base(), '--format', 'json']);
    expect(code).toBe(1);
    const findings = JSON.parse(stdout) as Array<Record<string, unknown>>;
    expect(findings).toHaveLength(8);
    for (const f of findings)
      for (const k of [
        'policyId',
        'title',
        'resourceName',
        'assetType',
        'project',
        'severity',
        'layer',
        'category',
        'references',
        'remediation',
        'evidence',
        'status',
        'suppressedReason',
      ])
        expect(f).toHaveProperty(k);
    expect(findings.filter((f) => f['status'] === 'suppressed')).toHaveLength(2);
    // the expired exception is reported with its file:line and owner
    expect(stderr).toMatch(
      /exceptions\.yaml:\d+: exception for \/\/compute\.googleapis\.com\/.*expired on 2026-01-31; owner net-team@example\.com/,
    );
  });

  it('csv: a header and one properly quoted row per finding', async () => {
    const { code, stdout } = await warden([...base(), '--format', 'csv']);
    expect(code).toBe(1);
    const rows = parseCsv(stdout);
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(9);
    const pub = rows.find((r) => r[2] === '//storage.googleapis.com/public-b')!;
    const col = (name: string) => pub[CSV_COLUMNS.indexOf(name as (typeof CSV_COLUMNS)[number])]!;
    expect(JSON.parse(col('evidence'))).toMatchObject({ 'iamPolicy.bindings': [{ members: ['allUsers'] }] });
    expect(JSON.parse(col('references'))).toMatchObject({ 'cis-gcp-5.0': ['5.1'] });
    expect(col('severity')).toBe('critical');
  });

  it('ocsf: Detection Findings with the fields Prowler emits', async () => {
    const out = path.join(inventory, '..', `${path.basename(inventory)}.ocsf.json`);
    const { code } = await warden([...base(), '--format', 'ocsf', '--out', out]);
    dirs.push(out);
    expect(code).toBe(1);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form OCSF events, checked field by field
    const events = JSON.parse(await readFile(out, 'utf8')) as Array<Record<string, any>>;
    expect(events).toHaveLength(8);
    for (const e of events) {
      expect(e).toMatchObject({
        class_uid: 2004,
        category_uid: 2,
        activity_id: 1,
        type_uid: 200401,
        status_code: 'FAIL',
        metadata: { product: { name: 'Warden', vendor_name: 'Warden' }, version: '1.1.0' },
        cloud: { provider: 'GCP' },
      });
      expect([2, 3, 4, 5]).toContain(e['severity_id']);
      expect([1, 3]).toContain(e['status_id']);
      expect(typeof e['time']).toBe('number');
      expect(e['finding_info']).toEqual(
        expect.objectContaining({
          uid: expect.any(String),
          title: expect.any(String),
          desc: expect.any(String),
          types: expect.any(Array),
        }),
      );
      expect(e['resources'][0]).toEqual(
        expect.objectContaining({
          uid: expect.stringMatching(/^\/\//),
          type: expect.any(String),
          labels: expect.any(Array),
        }),
      );
      expect(e['metadata']['event_code']).toEqual(expect.any(String));
    }
    const pub = events.find((e) => e['resources'][0].uid === '//storage.googleapis.com/public-b')!;
    expect(pub).toMatchObject({
      severity_id: 5,
      severity: 'Critical',
      status_id: 1,
      metadata: { event_code: 'storage-bucket-public' },
      cloud: { account: { uid: 'projects/10', type_id: 5 }, org: { uid: 'organizations/1' } },
      resources: [{ type: 'storage.googleapis.com/Bucket', region: 'us-central1' }],
      unmapped: { compliance: { 'cis-gcp-5.0': ['5.1'] } },
      remediation: { desc: expect.stringMatching(/storage\.bucket\.enforce-public-access-prevention/) },
    });
    const suppressed = events.find((e) => e['resources'][0].uid.endsWith('/exempt-b'))!;
    expect(suppressed).toMatchObject({ status_id: 3, status: 'Suppressed' });
  });

  it('table: findings, then the compliance summary by layer', async () => {
    const { code, stdout, stderr } = await warden([...base(), '--fail-on', 'none']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^SEVERITY +STATUS +POLICY +RESOURCE/);
    expect(stdout).toMatch(/critical +open +storage-bucket-public +\/\/storage\.googleapis\.com\/public-b/);
    const summary = stdout.slice(stdout.indexOf('Compliance by layer'));
    expect(summary).toMatch(/\ndata +\d+ +\d+ +\d+ +\d+ +\d+ +[\d.]+%/);
    expect(summary).toMatch(/\ntotal +\d+/);
    // stderr is not a terminal here: no progress bar
    expect(stderr).not.toMatch(/pass 2\/2/);
  });

  it('exit 0 when nothing open reaches --fail-on; 1 when something does; suppressed never counts', async () => {
    expect((await warden([...base(), '--format', 'json', '--fail-on', 'critical'])).code).toBe(1);
    // only medium (uniform access) findings, one of them suppressed by the label
    const inv = await mkdtemp(path.join(tmpdir(), 'warden-scan-medium-'));
    dirs.push(inv);
    await writeFile(path.join(inv, 'r.ndjson'), ndjson([RESOURCES[6], RESOURCES[7]]));
    const args = ['scan', '--policies', policies, '--now', NOW, '--format', 'json', '--assets', inv];
    expect((await warden(args)).code).toBe(0);
    expect((await warden([...args, '--fail-on', 'medium'])).code).toBe(0); // legacy-b has an exception
    expect((await warden([...args, '--fail-on', 'low'])).code).toBe(0);
  });

  it('exit 2 on bad input, reported with file:line, while the rest is still scanned and reported', async () => {
    const inv = await mkdtemp(path.join(tmpdir(), 'warden-scan-bad-'));
    dirs.push(inv);
    await writeFile(path.join(inv, 'r.ndjson'), `${JSON.stringify(RESOURCES[9])}\n{"name": oops\n`);
    const { code, stdout, stderr } = await warden([
      'scan',
      '--policies',
      policies,
      '--now',
      NOW,
      '--format',
      'json',
      '--assets',
      inv,
    ]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/r\.ndjson:2: not JSON/);
    expect((JSON.parse(stdout) as unknown[]).length).toBe(1);
  });

  it('exit 2 on usage errors', async () => {
    expect((await warden([...base(), '--format', 'xml'])).code).toBe(2);
    expect((await warden(['scan', '--policies', policies])).code).toBe(2);
  });
});
