import { describe, it, expect } from '@jest/globals';
import { decodeSccNotification, SccFindingSchema, type SccFinding } from '../../../shared/contracts/scc.js';
import { SCC, sample, sampleFiles } from './fixtures.js';

function finding(text: string): SccFinding {
  const decoded = decodeSccNotification(text);
  if (decoded.kind !== 'finding') throw new Error(`expected a finding, got ${JSON.stringify(decoded)}`);
  return decoded.finding;
}

function sampleJson(name: string): Record<string, unknown> {
  return JSON.parse(sample(`${SCC}${name}`)) as Record<string, unknown>;
}

describe('decodeSccNotification on the security-response-automation samples', () => {
  const files = sampleFiles(SCC);

  it('has all 22 samples', () => {
    expect(files).toHaveLength(22);
  });

  it.each(files)('%s decodes to a valid finding or to not_a_notification', (file) => {
    const decoded = decodeSccNotification(sample(`${SCC}${file}`));
    if (file === 'bad_ip.json') {
      expect(decoded).toEqual({
        kind: 'not_a_notification',
        reason: expect.stringMatching(/Cloud Logging entry .*threatdetection/),
      });
      return;
    }
    expect(decoded.kind).toBe('finding');
    if (decoded.kind !== 'finding') return;
    expect(SccFindingSchema.parse(decoded.finding)).toEqual(decoded.finding);
    expect(decoded.finding.resourceName).toMatch(/^\/\/[a-z]+\.googleapis\.com\//);
    expect(decoded.finding.state).toBe('ACTIVE');
    if (file.endsWith('-remediated.json'))
      expect(decoded.finding.securityMarks['sra-remediated-event-time']).toBeDefined();
  });

  it('normalises a legacy notification', () => {
    expect(finding(sample(`${SCC}public_bucket_acl.json`))).toEqual({
      name: 'organizations/154584661726/sources/2673592633662526977/findings/782e52631d61da6117a3772137c270d8',
      parent: 'organizations/154584661726/sources/2673592633662526977',
      resourceName: '//storage.googleapis.com/this-is-public-on-purpose',
      category: 'PUBLIC_BUCKET_ACL',
      state: 'ACTIVE',
      // From sourceProperties.SeverityLevel: the legacy shape has no severity field.
      severity: 'high',
      findingClass: null,
      mute: null,
      eventTime: '2019-09-23T17:20:27.204Z',
      createTime: '2019-09-23T17:20:27.934Z',
      sourceProperties: expect.objectContaining({
        ScannerName: 'STORAGE_SCANNER',
        ProjectId: 'test-project',
      }),
      securityMarks: { babab: '3' },
      resourceType: null,
      project: null,
    });
  });

  it('normalises a v1 notification whose resource block sits inside the finding (snake_case)', () => {
    expect(finding(sample(`${SCC}open_firewall-remediated.json`))).toMatchObject({
      resourceName: '//compute.googleapis.com/projects/test-project/global/firewalls/4695668982209007936',
      category: 'OPEN_FIREWALL',
      severity: 'high',
      findingClass: 'MISCONFIGURATION',
      mute: 'UNDEFINED',
      resourceType: 'google.compute.Firewall',
      project: 'projects/12345678',
      securityMarks: { 'sra-remediated-event-time': '2021-06-01T14:57:33.426Z' },
    });
  });

  it('reads the resource block beside the finding (camelCase), as SCC sends it', () => {
    expect(finding(sample(`${SCC}bucket_policy_only_disabled-remediated.json`))).toMatchObject({
      resourceName: '//storage.googleapis.com/unique-test-bucket',
      severity: 'medium',
      resourceType: 'google.cloud.storage.Bucket',
      project: 'projects/1234567889',
    });
  });

  it('takes the project from a project resource name when there is no resource block', () => {
    expect(finding(sample(`${SCC}iam_anomalous_grant-remediated.json`))).toMatchObject({
      findingClass: 'THREAT',
      project: 'projects/12345678',
      resourceType: null,
    });
  });
});

describe('decodeSccNotification on broken input', () => {
  it('is invalid when the finding breaks the contract, naming the field', () => {
    const msg = sampleJson('public_bucket_acl.json');
    (msg['finding'] as Record<string, unknown>)['state'] = 'SLEEPING';
    expect(decodeSccNotification(JSON.stringify(msg))).toEqual({
      kind: 'invalid',
      reason: expect.stringMatching(/^finding\.state: /),
    });
    const noTime = sampleJson('public_bucket_acl.json');
    delete (noTime['finding'] as Record<string, unknown>)['eventTime'];
    expect(decodeSccNotification(JSON.stringify(noTime))).toMatchObject({
      reason: expect.stringMatching(/^finding\.eventTime: /),
    });
  });

  it('is invalid when no resource name can be found', () => {
    const msg = sampleJson('open_firewall-remediated.json');
    delete ((msg['finding'] as Record<string, unknown>)['resource'] as Record<string, unknown>)['name'];
    expect(decodeSccNotification(JSON.stringify(msg))).toEqual({
      kind: 'invalid',
      reason: 'finding.resourceName: neither it nor resource.name is set',
    });
  });

  it('tells a message that is not a notification from garbage', () => {
    expect(decodeSccNotification('{"hello": "world"}')).toEqual({
      kind: 'not_a_notification',
      reason: 'no "finding" in the message (keys: hello)',
    });
    for (const text of ['', 'garbage', '{"finding":', '[]', '42', 'null']) {
      expect(decodeSccNotification(text).kind).toBe('invalid');
    }
    expect(decodeSccNotification('{"finding": "x"}')).toMatchObject({
      kind: 'invalid',
      reason: expect.stringMatching(/^finding: /),
    });
  });
});
