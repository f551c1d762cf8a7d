import type { protos } from '@google-cloud/compute';
import {
  fingerprintPatchAction,
  rec,
  startedOperation,
  type ResourceJson,
} from './compute-fingerprint-patch.js';

type IBackendService = protos.google.cloud.compute.v1.IBackendService;

const lower = (v: unknown): string => String(v).toLowerCase();

/** Logging on with a positive sample rate (absent = 1.0), as lb-backend-service-logging-disabled reads it. */
function loggingOn(data: ResourceJson): boolean {
  const log = rec(data['logConfig']) ?? {};
  return lower(log['enable'] ?? false) === 'true' && Number(log['sampleRate'] ?? 1) > 0;
}

/**
 * Turns request logging on for an HTTP(S) load balancer backend service (CIS 2.17,
 * lb-backend-service-logging-disabled): backendServices.patch (global) or regionBackendServices.patch
 * (regional) with {fingerprint, logConfig: {enable: true, sampleRate: 1}}, then the operation. Only adds
 * log volume. Undo restores the previous logConfig (`{enable: false}` when logging was off or unset:
 * compute's client cannot send null to remove the field).
 */
export const enableBackendServiceLogging = fingerprintPatchAction({
  id: 'compute.backend-service.enable-logging',
  title: 'Turn on request logging for a load balancer backend service',
  risk: 'low',
  assetTypes: ['compute.googleapis.com/BackendService', 'compute.googleapis.com/RegionBackendService'],
  collection: 'backendServices',
  scopes: 'any',
  what: 'backend service',
  get: async (ctx, ref) => {
    if (ref.region) {
      const client = await ctx.cloud.compute('RegionBackendServicesClient');
      const [data] = await client.get({ project: ref.project, region: ref.region, backendService: ref.name });
      return data;
    }
    const client = await ctx.cloud.compute('BackendServicesClient');
    const [data] = await client.get({ project: ref.project, backendService: ref.name });
    return data;
  },
  patch: async (ctx, ref, body) => {
    const backendServiceResource = body as IBackendService;
    if (ref.region) {
      const client = await ctx.cloud.compute('RegionBackendServicesClient');
      const [lro] = await client.patch({
        project: ref.project,
        region: ref.region,
        backendService: ref.name,
        backendServiceResource,
      });
      return startedOperation(lro);
    }
    const client = await ctx.cloud.compute('BackendServicesClient');
    const [lro] = await client.patch({
      project: ref.project,
      backendService: ref.name,
      backendServiceResource,
    });
    return startedOperation(lro);
  },
  isFixed: loggingOn,
  fixBody: () => ({ logConfig: { enable: true, sampleRate: 1 } }),
  undoBody(before, live) {
    const was = rec(before['logConfig']) ?? {};
    const now = rec(live['logConfig']) ?? {};
    if (lower(was['enable'] ?? false) !== 'true') {
      return now['enable'] === false && Object.keys(now).length === 1
        ? null
        : { logConfig: { enable: false } };
    }
    // Logging was on with sampleRate ≤ 0 (the only "on" the fix changes): put that rate back.
    const logConfig = { enable: true, sampleRate: Number(was['sampleRate'] ?? 1) };
    return now['enable'] === true && now['sampleRate'] === logConfig.sampleRate ? null : { logConfig };
  },
  describe(ref) {
    const where = ref.region ? `region ${ref.region}` : 'global';
    return (
      `Turn on request logging (logConfig {enable: true, sampleRate: 1}) for backend service ${ref.name} ` +
      `(project ${ref.project}, ${where}) with ${ref.region ? 'regionBackendServices' : 'backendServices'}.patch ` +
      "carrying the service's current fingerprint (412 if anyone changed it since), then wait for the " +
      'operation. Only adds log volume (cost). Reversible: undo restores the previous logConfig if the ' +
      'service is still as the fix left it.'
    );
  },
});
