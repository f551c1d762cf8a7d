import type { Asset } from '../../shared/model/asset.js';
import { ANCESTORS, PROJECT_ID, PROJECT_NUMBER } from './twin-fixtures.js';

export const SQL_REGION = 'us-central1';
export const SQL_V1 = `/v1/projects/${PROJECT_ID}`;

type Data = Record<string, unknown>;

/** The engine's CIS flags, all compliant (as on the landing zone's production instances). */
export const COMPLIANT_FLAGS: Record<string, Array<{ name: string; value: string }>> = {
  POSTGRES_15: [
    { name: 'cloudsql.iam_authentication', value: 'on' },
    { name: 'log_connections', value: 'on' },
    { name: 'log_disconnections', value: 'on' },
    { name: 'log_statement', value: 'ddl' },
  ],
  MYSQL_8_0: [
    { name: 'cloudsql_iam_authentication', value: 'on' },
    { name: 'local_infile', value: 'off' },
    { name: 'skip_show_database', value: 'on' },
  ],
  SQLSERVER_2019_STANDARD: [
    { name: '3625', value: 'on' },
    { name: 'remote access', value: 'off' },
  ],
};

/**
 * A Cloud SQL instance as CAI holds it (the v1beta4 DatabaseInstance of examples/landing-zone, int64 fields
 * as strings): public IP with an office network and 0.0.0.0/0 authorized, SSL not enforced, backups and
 * deletion protection off, only some required labels, compliant flags. `settings` and `data` override.
 */
export function sqlInstanceAsset(
  name: string,
  opts: { databaseVersion?: string; settings?: Data; data?: Data } = {},
): Asset {
  const databaseVersion = opts.databaseVersion ?? 'POSTGRES_15';
  const zone = `${SQL_REGION}-f`;
  return {
    name: `//cloudsql.googleapis.com/projects/${PROJECT_ID}/instances/${name}`,
    assetType: 'sqladmin.googleapis.com/Instance',
    ancestors: [...ANCESTORS],
    resource: {
      version: 'v1beta4',
      discoveryDocumentUri: 'https://www.googleapis.com/discovery/v1/apis/sqladmin/v1beta4/rest',
      discoveryName: 'DatabaseInstance',
      parent: `//cloudresourcemanager.googleapis.com/projects/${PROJECT_NUMBER}`,
      location: SQL_REGION,
      data: {
        backendType: 'SECOND_GEN',
        connectionName: `${PROJECT_ID}:${SQL_REGION}:${name}`,
        createTime: '2025-11-18T14:27:03.114Z',
        databaseVersion,
        etag: '411a26e5dd2ac6c9223c76ba2df33ec09036aec276dfd91850c6591c7cbe0108',
        gceZone: zone,
        instanceType: 'CLOUDSQL_INSTANCE',
        ipAddresses: [
          { ipAddress: '34.41.87.152', type: 'PRIMARY' },
          { ipAddress: '34.133.20.61', type: 'OUTGOING' },
        ],
        kind: 'sql#instance',
        name,
        project: PROJECT_ID,
        region: SQL_REGION,
        selfLink: `https://sqladmin.googleapis.com/sql/v1beta4/projects/${PROJECT_ID}/instances/${name}`,
        serviceAccountEmailAddress: `p${PROJECT_NUMBER}-ohvyip@gcp-sa-cloud-sql.iam.gserviceaccount.com`,
        settings: {
          activationPolicy: 'ALWAYS',
          availabilityType: 'ZONAL',
          backupConfiguration: {
            backupRetentionSettings: { retainedBackups: 7, retentionUnit: 'COUNT' },
            binaryLogEnabled: false,
            enabled: false,
            kind: 'sql#backupConfiguration',
            startTime: '04:00',
            transactionLogRetentionDays: 7,
          },
          connectorEnforcement: 'NOT_REQUIRED',
          dataDiskSizeGb: '20',
          dataDiskType: 'PD_SSD',
          databaseFlags: COMPLIANT_FLAGS[databaseVersion] ?? [],
          deletionProtectionEnabled: false,
          edition: 'ENTERPRISE',
          ipConfiguration: {
            authorizedNetworks: [
              { kind: 'sql#aclEntry', name: 'office-nyc', value: '203.0.113.0/24' },
              { kind: 'sql#aclEntry', name: 'anywhere-temp', value: '0.0.0.0/0' },
            ],
            ipv4Enabled: true,
            requireSsl: false,
            serverCaMode: 'GOOGLE_MANAGED_INTERNAL_CA',
            sslMode: 'ALLOW_UNENCRYPTED_AND_ENCRYPTED',
          },
          kind: 'sql#settings',
          locationPreference: { kind: 'sql#locationPreference', zone },
          maintenanceWindow: { day: 7, hour: 3, kind: 'sql#maintenanceWindow' },
          pricingPlan: 'PER_USE',
          replicationType: 'SYNCHRONOUS',
          settingsVersion: '27',
          storageAutoResize: true,
          storageAutoResizeLimit: '0',
          tier: 'db-custom-1-3840',
          userLabels: { app: 'reporting', team: 'data' },
          ...opts.settings,
        },
        state: 'RUNNABLE',
        ...opts.data,
      },
    },
    updateTime: '2026-11-01T00:28:31.442429Z',
  };
}
