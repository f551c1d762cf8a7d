import { describe, expect, it } from '@jest/globals';
import { caiNamesOf, decodeAuditLogEntry } from '../../../shared/contracts/audit-log.js';
import { AUDIT_LOGS, sample, sampleFiles } from './fixtures.js';

/** What each real entry says: who changed which CAI-named resource, or why it names no change. */
const EXPECTED: Record<
  string,
  { principal: string; names: string[]; at: string | null } | { ignored: RegExp }
> = {
  'app-engine-debug.json': { ignored: /apps\/my_project.* is not a resource Warden tracks/ },
  'bigtable-set-iam-policy.json': {
    principal: 'example@example.com',
    names: ['//bigtableadmin.googleapis.com/projects/example-project/instances/example-instance'],
    at: '2000-01-01T00:00:01.333165743Z',
  },
  'bq-ds-set-iam-policy.json': {
    principal: 'user@example.com',
    names: ['//bigquery.googleapis.com/projects/fake-project/datasets/wooo'],
    at: '2019-03-28T18:16:44.642Z',
  },
  'cloudfunctions-set-iam-policy.json': {
    principal: 'some.user@example.com',
    names: [
      '//cloudfunctions.googleapis.com/projects/example-project/locations/us-central1/functions/example_function',
    ],
    at: '2000-01-01T00:00:01.497Z',
  },
  // instances.create names the project only: no instance to attribute.
  'cloudsql-protoPayload.request.body.json': {
    ignored: /cloudsql.googleapis.com projects\/my-project is not/,
  },
  'cloudsql-protoPayload.request.resource.instanceName.instanceId.json': {
    principal: 'user@domain.com',
    names: ['//cloudsql.googleapis.com/projects/my-project/instances/test-instance'],
    at: null,
  },
  'cloudsql-resource.labels.json': {
    principal: 'user@domain.com',
    names: ['//cloudsql.googleapis.com/projects/my-project/instances/test-instance'],
    at: null,
  },
  'compute-firewalls-enable-logs-policy.json': {
    principal: 'user@domain.com',
    names: ['//compute.googleapis.com/projects/my-project/global/firewalls/test-firewall'],
    at: null,
  },
  'compute-hardened-images.json': {
    principal: 'service-000000000000@gcp-sa-notebooks.iam.gserviceaccount.com',
    names: ['//compute.googleapis.com/projects/my-project/zones/us-west1-b/instances/my-instance'],
    at: '2021-04-15T17:43:08.405047Z',
  },
  'compute-subnetworks-enable-flow-logs.json': {
    principal: 'user@example.com',
    names: ['//compute.googleapis.com/projects/example-project/regions/us-east1/subnetworks/example'],
    at: null,
  },
  'compute-subnetworks-set-private-ip-google-access.json': {
    principal: 'user@example.com',
    names: ['//compute.googleapis.com/projects/example-project/regions/us-east1/subnetworks/example'],
    at: null,
  },
  'dataflow-job-step.json': { ignored: /\(no resource\) is not a resource Warden tracks/ },
  'datafusion-create-instance.json': {
    principal: 'joe.ceresini@cleardata.com',
    names: ['//datafusion.googleapis.com/projects/test-project/locations/us-west1/instances/test-instance'],
    at: '2021-04-21T13:42:07.141616Z',
  },
  'datafusion-update-instance.json': {
    principal: 'joe.ceresini@cleardata.com',
    names: ['//datafusion.googleapis.com/projects/test-project/locations/us-west1/instances/test-instance'],
    at: '2021-04-21T14:29:45.751408435Z',
  },
  'dataproc_createcluster.json': {
    principal: 'user@domain.com',
    names: ['//dataproc.googleapis.com/projects/my-project/regions/global/clusters/test-dataproc-cluster'],
    at: null,
  },
  // A write logged in the Data Access log: still a change.
  'gke-cluster-update.json': {
    principal: 'example@example.com',
    names: [
      '//container.googleapis.com/projects/example-project/zones/europe-west4-a/clusters/example-cluster',
      '//container.googleapis.com/projects/example-project/locations/europe-west4-a/clusters/example-cluster',
    ],
    at: '2000-01-01T00:00:01.594543941Z',
  },
  'gke-nodepool-set.json': {
    principal: 'example@example.com',
    names: [
      '//container.googleapis.com/projects/example-project/zones/europe-west4-a/clusters/example-cluster/nodePools/example-pool',
      '//container.googleapis.com/projects/example-project/locations/europe-west4-a/clusters/example-cluster/nodePools/example-pool',
    ],
    at: '2000-01-01T00:00:01.673796417Z',
  },
  'memorystore-redis.json': {
    principal: 'example@example.com',
    names: ['//redis.googleapis.com/projects/example-project/locations/us-central1/instances/test-instance'],
    at: '2021-04-06T02:06:29.528016514Z',
  },
  // No timestamp at all; the receive time stands in.
  'pubsub-subscription-set-iam-policy.json': {
    principal: 'joe.ceresini@cleardata.com',
    names: ['//pubsub.googleapis.com/projects/fake-project/subscriptions/test-subscription'],
    at: '2019-04-23T19:04:26.998833327Z',
  },
  'pubsub-topic-set-iam-policy.json': {
    principal: 'some.user@example.com',
    names: ['//pubsub.googleapis.com/projects/fake-project/topics/test-topic'],
    at: '2019-04-23T17:42:58.817353433Z',
  },
  'servicemanagement-activate-service.json': {
    principal: 'user@example.com',
    names: [
      '//servicemanagement.googleapis.com/projects/000000000000/services/[calendar-json.googleapis.com]',
    ],
    at: null,
  },
  'servicemanagement-deactivate-service.json': {
    principal: 'user@example.com',
    names: ['//servicemanagement.googleapis.com/projects/000000000000/services/[zync.googleapis.com]'],
    at: null,
  },
  'servicemanagement-disable-service.json': {
    principal: 'user@example.com',
    names: [
      '//servicemanagement.googleapis.com/projects/000000000000/services/youtubereporting.googleapis.com',
    ],
    at: null,
  },
  'servicemanagement-enable-service.json': {
    principal: 'user@example.com',
    names: [
      '//servicemanagement.googleapis.com/projects/000000000000/services/youtubeadsreach.googleapis.com',
    ],
    at: null,
  },
  'serviceusage-batchenable.json': {
    principal: 'user@example.com',
    names: ['//serviceusage.googleapis.com/projects/my-project/services'],
    at: null,
  },
  'serviceusage-disable.json': {
    principal: 'user@example.com',
    names: ['//serviceusage.googleapis.com/projects/my-project/services/zync.googleapis.com'],
    at: null,
  },
  'serviceusage-enable.json': {
    principal: 'user@example.com',
    names: ['//serviceusage.googleapis.com/projects/my-project/services/youtubereporting.googleapis.com'],
    at: null,
  },
};

describe('decodeAuditLogEntry on the real-time-enforcer audit log samples', () => {
  it('covers every sample', () => {
    expect(sampleFiles(AUDIT_LOGS)).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const [file, expected] of Object.entries(EXPECTED)) {
    it(file, () => {
      const decoded = decodeAuditLogEntry(sample(`${AUDIT_LOGS}${file}`));
      if ('ignored' in expected) {
        expect(decoded).toEqual({ kind: 'ignored', reason: expect.stringMatching(expected.ignored) });
        return;
      }
      expect(decoded).toEqual({
        kind: 'change',
        event: {
          insertId: expect.any(String),
          principal: expected.principal,
          at: expected.at,
          method: expect.any(String),
          resourceNames: expected.names,
        },
      });
    });
  }
});

describe('decodeAuditLogEntry on entries the samples do not cover', () => {
  const entry = (over: Record<string, unknown> = {}, payload: Record<string, unknown> = {}) =>
    JSON.stringify({
      logName: 'organizations/1/logs/cloudaudit.googleapis.com%2Factivity',
      insertId: 'abc',
      timestamp: '2026-11-02T10:00:00.123456Z',
      ...over,
      protoPayload: {
        '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
        serviceName: 'storage.googleapis.com',
        methodName: 'storage.setIamPermissions',
        resourceName: 'projects/_/buckets/acme-drop',
        authenticationInfo: { principalEmail: 'Bob@Example.com' },
        ...payload,
      },
    });

  it('a bucket change, its principal lower-cased', () => {
    expect(decodeAuditLogEntry(entry())).toEqual({
      kind: 'change',
      event: {
        insertId: 'abc',
        principal: 'bob@example.com',
        at: '2026-11-02T10:00:00.123456Z',
        method: 'storage.setIamPermissions',
        resourceNames: ['//storage.googleapis.com/acme-drop'],
      },
    });
  });

  it('ignores failed calls, reads in the Data Access log, objects and Google-internal changes', () => {
    expect(decodeAuditLogEntry(entry({}, { status: { code: 7, message: 'denied' } }))).toMatchObject({
      kind: 'ignored',
      reason: 'the call failed (status 7)',
    });
    const dataAccess = { logName: 'projects/p/logs/cloudaudit.googleapis.com%2Fdata_access' };
    expect(decodeAuditLogEntry(entry(dataAccess, { methodName: 'storage.buckets.get' }))).toMatchObject({
      kind: 'ignored',
    });
    expect(
      decodeAuditLogEntry(entry({}, { resourceName: 'projects/_/buckets/acme-drop/objects/a.txt' })),
    ).toMatchObject({ kind: 'ignored' });
    expect(decodeAuditLogEntry(entry({}, { authenticationInfo: {} }))).toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('no principal'),
    });
    expect(decodeAuditLogEntry(entry({}, { status: { code: 0 } }))).toMatchObject({ kind: 'change' });
  });

  it('rejects what is not an audit log entry, saying why', () => {
    expect(decodeAuditLogEntry('{not json')).toMatchObject({
      kind: 'invalid',
      reason: expect.stringContaining('not JSON'),
    });
    expect(decodeAuditLogEntry(JSON.stringify({ textPayload: 'x' }))).toMatchObject({
      kind: 'invalid',
      reason: expect.stringContaining('protoPayload'),
    });
    expect(
      decodeAuditLogEntry(entry({}, { '@type': 'type.googleapis.com/google.cloud.audit.RequestLog' })),
    ).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('not an audit log entry') });
    expect(decodeAuditLogEntry(entry({}, { serviceName: '' }))).toMatchObject({ kind: 'invalid' });
  });

  it('derives a stable id for entries without an insertId, so a redelivery is still a duplicate', () => {
    const text = entry({ insertId: undefined });
    const a = decodeAuditLogEntry(text);
    const b = decodeAuditLogEntry(text);
    expect(a).toMatchObject({ kind: 'change' });
    expect(a).toEqual(b);
  });

  it('maps each service’s own resource spellings to CAI names', () => {
    expect(caiNamesOf('cloudsql.googleapis.com', 'projects/p/instances/db')).toEqual([
      '//cloudsql.googleapis.com/projects/p/instances/db',
    ]);
    expect(caiNamesOf('sqladmin.googleapis.com', 'instances/p:db')).toEqual([
      '//cloudsql.googleapis.com/projects/p/instances/db',
    ]);
    expect(caiNamesOf('cloudresourcemanager.googleapis.com', 'projects/my-project')).toEqual([
      '//cloudresourcemanager.googleapis.com/projects/my-project',
    ]);
    expect(caiNamesOf('storage.googleapis.com', 'projects/_/buckets/b/objects/o')).toEqual([]);
    expect(caiNamesOf('not a service', 'projects/p')).toEqual([]);
  });
});
