// Benchmark of `warden scan` on generated inventories of 100k and 1M assets with the full catalog.
// Prints assets/s, policy evaluations/s and peak RSS per size; asserts nothing. One core: the scan is
// single-threaded. Each size runs in its own child process so that peak RSS is that scan's alone.
//   BENCH_SIZES=100000,1000000 (default)   BENCH_GZIP=1 to gzip the inventory   BENCH_KEEP=1 keeps the data
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { loadPolicies } from '../shared/policy/policy-set.js';
import { Sink, writerFor } from '../shared/scan/output/choose-writer.js';
import { scanInventory } from '../shared/scan/scan-inventory.js';
import { projectRoot } from '../shared/util/project-root.js';

process.env['METADATA_SERVER_DETECTION'] ??= 'none';
const SIZES = (process.env['BENCH_SIZES'] ?? '100000,1000000').split(',').map(Number);
const GZIP = process.env['BENCH_GZIP'] === '1';
const ORG = 'organizations/900000000001';
const FOLDERS = 20;
/** One project per this many assets: a landing zone of 1M assets has 1,000 projects. */
const ASSETS_PER_PROJECT = 1000;

/*
 * Export lines as `gcloud asset export` writes them (snake_case envelope, REST casing inside data), one
 * template per type with `@` for the serial and `%` for the project number; about one in ten is a planted
 * problem. RESOURCE and IAM_POLICY content go to separate files, as real exports do.
 */
function line(o: unknown): string {
  return JSON.stringify(o);
}
const common = (type: string, name: string) => ({
  name,
  asset_type: type,
  ancestors: ['projects/%', 'folders/F', ORG],
  update_time: '2026-10-01T00:00:00.000001Z',
});
const TEMPLATES: Array<{ weight: number; resource: string; iam?: string }> = [
  {
    weight: 20,
    resource: line({
      ...common('storage.googleapis.com/Bucket', '//storage.googleapis.com/bkt-@'),
      resource: {
        version: 'v1',
        discovery_name: 'Bucket',
        parent: '//cloudresourcemanager.googleapis.com/projects/%',
        location: 'us-central1',
        data: {
          name: 'bkt-@',
          location: 'US-CENTRAL1',
          labels: { env: 'prod', team: 'data', 'cost-center': 'cc-1' },
          iamConfiguration: {
            uniformBucketLevelAccess: { enabled: true },
            publicAccessPrevention: 'inherited',
          },
          versioning: { enabled: true },
          logging: { logBucket: 'logs' },
          retentionPolicy: { retentionPeriod: '86400' },
        },
      },
    }),
    iam: line({
      ...common('storage.googleapis.com/Bucket', '//storage.googleapis.com/bkt-@'),
      iam_policy: {
        version: 1,
        bindings: [
          { role: 'roles/storage.objectViewer', members: ['group:readers@example.com'] },
          { role: 'roles/storage.admin', members: ['group:admins@example.com'] },
        ],
      },
    }),
  },
  {
    weight: 15,
    resource: line({
      ...common(
        'compute.googleapis.com/Firewall',
        '//compute.googleapis.com/projects/p-%/global/firewalls/fw-@',
      ),
      resource: {
        version: 'v1',
        discovery_name: 'Firewall',
        parent: '//cloudresourcemanager.googleapis.com/projects/%',
        data: {
          name: 'fw-@',
          direction: 'INGRESS',
          network: 'https://www.googleapis.com/compute/v1/projects/p-%/global/networks/vpc',
          sourceRanges: ['10.0.0.0/8'],
          allowed: [{ IPProtocol: 'tcp', ports: ['443', '8080-8090'] }],
          logConfig: { enable: true },
          disabled: false,
        },
      },
    }),
  },
  {
    weight: 20,
    resource: line({
      ...common(
        'compute.googleapis.com/Instance',
        '//compute.googleapis.com/projects/p-%/zones/us-central1-a/instances/vm-@',
      ),
      resource: {
        version: 'v1',
        discovery_name: 'Instance',
        parent: '//cloudresourcemanager.googleapis.com/projects/%',
        location: 'us-central1-a',
        data: {
          name: 'vm-@',
          status: 'RUNNING',
          labels: { env: 'prod', team: 'web', 'cost-center': 'cc-2' },
          canIpForward: false,
          deletionProtection: true,
          shieldedInstanceConfig: {
            enableSecureBoot: true,
            enableVtpm: true,
            enableIntegrityMonitoring: true,
          },
          confidentialInstanceConfig: { enableConfidentialCompute: true },
          metadata: {
            items: [
              { key: 'block-project-ssh-keys', value: 'true' },
              { key: 'enable-oslogin', value: 'TRUE' },
            ],
          },
          networkInterfaces: [{ network: 'vpc', networkIP: '10.0.0.2' }],
          serviceAccounts: [
            {
              email: 'app@p-%.iam.gserviceaccount.com',
              scopes: ['https://www.googleapis.com/auth/cloud-platform'],
            },
          ],
          disks: [{ source: 'disk-@', boot: true }],
        },
      },
    }),
  },
  {
    weight: 20,
    resource: line({
      ...common(
        'compute.googleapis.com/Disk',
        '//compute.googleapis.com/projects/p-%/zones/us-central1-a/disks/disk-@',
      ),
      resource: {
        version: 'v1',
        discovery_name: 'Disk',
        parent: '//cloudresourcemanager.googleapis.com/projects/%',
        location: 'us-central1-a',
        data: {
          name: 'disk-@',
          sizeGb: '100',
          labels: { env: 'prod', team: 'web', 'cost-center': 'cc-2' },
          diskEncryptionKey: { kmsKeyName: 'projects/k/locations/us/keyRings/r/cryptoKeys/k' },
          resourcePolicies: ['snap'],
        },
      },
    }),
  },
  {
    weight: 5,
    resource: line({
      ...common(
        'compute.googleapis.com/Subnetwork',
        '//compute.googleapis.com/projects/p-%/regions/us-central1/subnetworks/sn-@',
      ),
      resource: {
        version: 'v1',
        discovery_name: 'Subnetwork',
        parent: '//cloudresourcemanager.googleapis.com/projects/%',
        location: 'us-central1',
        data: {
          name: 'sn-@',
          ipCidrRange: '10.1.0.0/20',
          privateIpGoogleAccess: true,
          logConfig: {
            enable: true,
            aggregationInterval: 'INTERVAL_5_SEC',
            flowSampling: 0.5,
            metadata: 'INCLUDE_ALL_METADATA',
          },
          purpose: 'PRIVATE',
        },
      },
    }),
  },
  {
    weight: 5,
    resource: line({
      ...common('sqladmin.googleapis.com/Instance', '//cloudsql.googleapis.com/projects/p-%/instances/sql-@'),
      resource: {
        version: 'v1beta4',
        discovery_name: 'DatabaseInstance',
        parent: '//cloudresourcemanager.googleapis.com/projects/%',
        location: 'us-central1',
        data: {
          name: 'sql-@',
          databaseVersion: 'POSTGRES_15',
          settings: {
            userLabels: { env: 'prod', team: 'data', 'cost-center': 'cc-3' },
            backupConfiguration: { enabled: true, pointInTimeRecoveryEnabled: true },
            ipConfiguration: {
              ipv4Enabled: false,
              requireSsl: true,
              sslMode: 'TRUSTED_CLIENT_CERTIFICATE_REQUIRED',
              authorizedNetworks: [],
            },
            databaseFlags: [
              { name: 'log_connections', value: 'on' },
              { name: 'log_disconnections', value: 'on' },
              { name: 'cloudsql.enable_pgaudit', value: 'on' },
            ],
            deletionProtectionEnabled: true,
          },
        },
      },
    }),
  },
  {
    weight: 10,
    resource: line({
      ...common(
        'iam.googleapis.com/ServiceAccount',
        '//iam.googleapis.com/projects/p-%/serviceAccounts/sa-@@p-%.iam.gserviceaccount.com',
      ),
      resource: {
        version: 'v1',
        discovery_name: 'ServiceAccount',
        parent: '//cloudresourcemanager.googleapis.com/projects/%',
        data: { email: 'sa-@@p-%.iam.gserviceaccount.com', disabled: false },
      },
    }),
  },
  {
    weight: 5,
    resource: line({
      ...common(
        'cloudkms.googleapis.com/CryptoKey',
        '//cloudkms.googleapis.com/projects/p-%/locations/us/keyRings/kr/cryptoKeys/key-@',
      ),
      resource: {
        version: 'v1',
        discovery_name: 'CryptoKey',
        parent: '//cloudresourcemanager.googleapis.com/projects/%',
        location: 'us',
        data: {
          name: 'key-@',
          purpose: 'ENCRYPT_DECRYPT',
          rotationPeriod: '7776000s',
          nextRotationTime: '2026-12-01T00:00:00Z',
        },
      },
    }),
    iam: line({
      ...common(
        'cloudkms.googleapis.com/CryptoKey',
        '//cloudkms.googleapis.com/projects/p-%/locations/us/keyRings/kr/cryptoKeys/key-@',
      ),
      iam_policy: {
        bindings: [
          {
            role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter',
            members: ['serviceAccount:x@p.iam.gserviceaccount.com'],
          },
        ],
      },
    }),
  },
];

/** Planted problems: text substitutions on a template's line. */
function plant(text: string, n: number): string {
  if (n % 10 !== 0) return text;
  return text
    .replace('"sourceRanges":["10.0.0.0/8"]', '"sourceRanges":["0.0.0.0/0"]')
    .replace('"ports":["443","8080-8090"]', '"ports":["22"]')
    .replace('"enabled":true},"publicAccessPrevention"', '"enabled":false},"publicAccessPrevention"')
    .replace('"deletionProtection":true', '"deletionProtection":false')
    .replace('"requireSsl":true', '"requireSsl":false');
}

function fill(template: string, n: number, project: number, folder: number): string {
  return template
    .replaceAll('@', String(n))
    .replaceAll('%', String(project))
    .replace('folders/F', `folders/${folder}`);
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

function output(file: string): { stream: Writable; done: Promise<unknown> } {
  const file$ = createWriteStream(file);
  if (!GZIP) return { stream: file$, done: once(file$, 'finish') };
  const gz = createGzip({ level: 1 });
  gz.pipe(file$);
  return { stream: gz, done: once(file$, 'finish') };
}

/** resources.ndjson and iam-policies.ndjson (plus hierarchy and a perimeter), `assets` assets in all. */
async function generate(dir: string, assets: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  const ext = GZIP ? '.ndjson.gz' : '.ndjson';
  const res = output(path.join(dir, `resources${ext}`));
  const iam = output(path.join(dir, `iam-policies${ext}`));
  const projects = Math.max(1, Math.round(assets / ASSETS_PER_PROJECT));
  const weights = TEMPLATES.flatMap((t, i) => Array<number>(t.weight).fill(i));
  let written = 0;
  let buf = '';
  let ibuf = '';
  const orgLine = {
    name: `//cloudresourcemanager.googleapis.com/${ORG}`,
    asset_type: 'cloudresourcemanager.googleapis.com/Organization',
    ancestors: [ORG],
    resource: {
      version: 'v1',
      discovery_name: 'Organization',
      data: { name: ORG, lifecycleState: 'ACTIVE' },
    },
  };
  buf += line(orgLine) + '\n';
  ibuf +=
    line({
      ...orgLine,
      resource: undefined,
      iam_policy: {
        bindings: [
          { role: 'roles/resourcemanager.organizationAdmin', members: ['group:org-admins@example.com'] },
        ],
        audit_configs: [
          {
            service: 'allServices',
            audit_log_configs: [
              { log_type: 'ADMIN_READ' },
              { log_type: 'DATA_READ' },
              { log_type: 'DATA_WRITE' },
            ],
          },
        ],
      },
    }) + '\n';
  for (let f = 0; f < FOLDERS; f++) {
    buf +=
      line({
        name: `//cloudresourcemanager.googleapis.com/folders/${f}`,
        asset_type: 'cloudresourcemanager.googleapis.com/Folder',
        ancestors: [`folders/${f}`, ORG],
        resource: {
          version: 'v2',
          discovery_name: 'Folder',
          data: { name: `folders/${f}`, displayName: `f${f}` },
        },
      }) + '\n';
  }
  written += 1 + FOLDERS;
  const perimeterProjects: string[] = [];
  for (let p = 0; p < projects && written < assets; p++) {
    const folder = p % FOLDERS;
    const project = 500000000000 + p;
    if (p % 2 === 0) perimeterProjects.push(`projects/${project}`);
    const proj = {
      name: `//cloudresourcemanager.googleapis.com/projects/${project}`,
      asset_type: 'cloudresourcemanager.googleapis.com/Project',
      ancestors: [`projects/${project}`, `folders/${folder}`, ORG],
    };
    buf +=
      line({
        ...proj,
        resource: {
          version: 'v1',
          discovery_name: 'Project',
          data: {
            projectNumber: String(project),
            projectId: `p-${project}`,
            lifecycleState: 'ACTIVE',
            labels: { env: 'prod' },
          },
        },
      }) + '\n';
    ibuf +=
      line({
        ...proj,
        iam_policy: {
          bindings: [
            { role: 'roles/owner', members: ['group:owners@example.com'] },
            {
              role: 'roles/editor',
              members: [p % 10 === 0 ? 'user:someone@gmail.com' : 'group:eds@example.com'],
            },
          ],
        },
      }) + '\n';
    written++;
    const inProject = Math.min(ASSETS_PER_PROJECT - 1, assets - written);
    for (let i = 0; i < inProject; i++) {
      const t = TEMPLATES[weights[written % weights.length]!]!;
      buf += fill(plant(t.resource, written), written, project, folder) + '\n';
      if (t.iam && written % 3 === 0) ibuf += fill(t.iam, written, project, folder) + '\n';
      written++;
      if (buf.length > 1 << 20) {
        await write(res.stream, buf);
        buf = '';
      }
      if (ibuf.length > 1 << 20) {
        await write(iam.stream, ibuf);
        ibuf = '';
      }
    }
  }
  ibuf +=
    line({
      name: '//accesscontextmanager.googleapis.com/accessPolicies/1/servicePerimeters/main',
      asset_type: 'accesscontextmanager.googleapis.com/ServicePerimeter',
      ancestors: [ORG],
      service_perimeter: {
        name: 'accessPolicies/1/servicePerimeters/main',
        title: 'main',
        status: { resources: perimeterProjects, restricted_services: ['storage.googleapis.com'] },
      },
    }) + '\n';
  await write(res.stream, buf);
  await write(iam.stream, ibuf);
  res.stream.end();
  iam.stream.end();
  await Promise.all([res.done, iam.done]);
}

interface Figures {
  assets: number;
  records: number;
  evaluations: number;
  findings: number;
  seconds: number;
  peakRssMb: number;
  bytes: number;
}

/** In the child: generate, then scan once with the full catalog, findings written as JSON to a file. */
async function runOne(size: number): Promise<Figures> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'warden-bench-scan-'));
  try {
    const inventory = path.join(dir, 'inventory');
    await generate(inventory, size);
    const bytes = (await stat(path.join(inventory, GZIP ? 'resources.ndjson.gz' : 'resources.ndjson'))).size;
    const policies = await loadPolicies(path.join(projectRoot(), 'policies'));
    const now = '2026-11-02T00:00:00Z';
    const sink = new Sink(createWriteStream(path.join(dir, 'findings.json')), true);
    const writer = writerFor('json', now);
    let peak = process.memoryUsage().rss;
    let findings = 0;
    writer.begin(sink);
    const t = performance.now();
    const stats = await scanInventory(
      { paths: [inventory], policies, now, tempDir: dir },
      {
        finding(f, ctx) {
          findings++;
          writer.finding(sink, f, ctx);
          return sink.pressure();
        },
        inputError(e) {
          process.stderr.write(`${e.file}:${e.line}: ${e.reason}\n`);
        },
        progress() {
          peak = Math.max(peak, process.memoryUsage().rss);
        },
      },
    );
    writer.end(sink, stats);
    await sink.end();
    const seconds = (performance.now() - t) / 1000;
    peak = Math.max(peak, process.memoryUsage().rss);
    return {
      assets: stats.assets,
      records: stats.records,
      evaluations: stats.evaluations,
      findings,
      seconds,
      peakRssMb: peak / 2 ** 20,
      bytes,
    };
  } finally {
    if (process.env['BENCH_KEEP'] !== '1') await rm(dir, { recursive: true, force: true });
    else process.stderr.write(`kept ${dir}\n`);
  }
}

const childSize = process.env['BENCH_SCAN_CHILD'];
if (childSize) {
  const figures = await runOne(Number(childSize));
  process.send?.(figures);
} else {
  const policies = await loadPolicies(path.join(projectRoot(), 'policies'));
  console.log(
    `scan: ${policies.policies.length} policies over ${policies.assetTypes().length} asset types; ` +
      `inventory NDJSON${GZIP ? '.gz' : ''}, RESOURCE and IAM_POLICY in separate files`,
  );
  for (const size of SIZES) {
    const child = fork(fileURLToPath(import.meta.url), [], {
      env: { ...process.env, BENCH_SCAN_CHILD: String(size) },
    });
    const [figures] = (await once(child, 'message')) as [Figures];
    await once(child, 'exit');
    const f = figures;
    console.log(
      `scan ${f.assets.toLocaleString('en-US')} assets (${f.records.toLocaleString('en-US')} records, ` +
        `${(f.bytes / 2 ** 20).toFixed(0)} MB resources): ${f.seconds.toFixed(1)} s, ` +
        `${Math.round(f.assets / f.seconds).toLocaleString('en-US')} assets/s, ` +
        `${Math.round(f.evaluations / f.seconds).toLocaleString('en-US')} policy evaluations/s, ` +
        `${f.findings.toLocaleString('en-US')} findings, peak RSS ${f.peakRssMb.toFixed(0)} MB`,
    );
  }
}
