import type * as ComputeModuleNamespace from '@google-cloud/compute';
import type * as SqlModuleNamespace from '@google-cloud/sql';
import type * as KmsModuleNamespace from '@google-cloud/kms';
import type * as SecretManagerModuleNamespace from '@google-cloud/secret-manager';
import type * as ContainerModuleNamespace from '@google-cloud/container';
import type * as ResourceManagerModuleNamespace from '@google-cloud/resource-manager';
import type * as ServiceUsageModuleNamespace from '@google-cloud/service-usage';
import type { BigQuery } from '@google-cloud/bigquery';
import type { DNS } from '@google-cloud/dns';
import { kmsIamClient, type AuthorizedRequester, type KmsIamClient } from './kms-iam.js';
import { iamAdminClient, type IamAdminClient } from './iam-admin.js';
import { createRequire } from 'node:module';
import type { Storage, StorageOptions } from '@google-cloud/storage';
import type { FirewallsClient, GlobalOperationsClient } from '@google-cloud/compute';
import type { AssetServiceClient } from '@google-cloud/asset';

/** Where the official clients send their calls: Google, or the GCP twin on localhost (design §2). */
export type CloudTarget =
  | { kind: 'google'; projectId?: string }
  /** url: http://127.0.0.1:PORT */
  | { kind: 'twin'; url: string; projectId: string };

/**
 * The official Google clients, each built on first use: @google-cloud/compute alone costs ~1.1 s to load
 * plus ~0.5 s per client (platform notes), which a Cloud Function pays on every cold start for clients it
 * never calls. Getters are async because loading is a dynamic import.
 */
/** The gax (generated) client packages, by the CloudClients getter that serves them. */
interface GaxModules {
  compute: typeof ComputeModuleNamespace;
  sql: typeof SqlModuleNamespace;
  kms: typeof KmsModuleNamespace;
  secretManager: typeof SecretManagerModuleNamespace;
  container: typeof ContainerModuleNamespace;
  resourceManager: typeof ResourceManagerModuleNamespace;
  serviceUsage: typeof ServiceUsageModuleNamespace;
}
export type GaxModuleName = keyof GaxModules;
/** The client classes a gax package exports at its top level (its default API version). */
export type GaxClientName<M extends GaxModuleName> = {
  [K in keyof GaxModules[M]]: K extends `${string}Client`
    ? GaxModules[M][K] extends new (...args: never[]) => unknown
      ? K
      : never
    : never;
}[keyof GaxModules[M]];
export type GaxClient<M extends GaxModuleName, K extends GaxClientName<M>> = GaxModules[M][K] extends new (
  ...args: never[]
) => infer C
  ? C
  : never;
/** The Compute Engine v1 clients (InstancesClient, SubnetworksClient, ZoneOperationsClient, …). */
export type ComputeClientName = GaxClientName<'compute'>;
export type ComputeClient<K extends ComputeClientName> = GaxClient<'compute', K>;
type GaxGetter<M extends GaxModuleName> = <K extends GaxClientName<M>>(name: K) => Promise<GaxClient<M, K>>;

export interface CloudClients {
  readonly target: CloudTarget;
  storage(): Promise<Storage>;
  firewalls(): Promise<FirewallsClient>;
  globalOperations(): Promise<GlobalOperationsClient>;
  assets(): Promise<AssetServiceClient>;
  /** Any other Compute Engine client, built once on first use with the same endpoint and credentials. */
  compute: GaxGetter<'compute'>;
  /** Cloud SQL Admin v1 (SqlInstancesServiceClient, SqlOperationsServiceClient). */
  sql: GaxGetter<'sql'>;
  /**
   * Cloud KMS v1 (KeyManagementServiceClient). Its getIamPolicy/setIamPolicy go out as POST through gax's
   * generic IAM mixin, which KMS rejects (googleapis/gax-nodejs#1462): use kmsIam() for key IAM.
   */
  kms: GaxGetter<'kms'>;
  /** Cloud KMS key ring and crypto key IAM, as the REST calls KMS documents. */
  kmsIam(): Promise<KmsIamClient>;
  /** IAM Admin v1 service account keys (get, disable, enable), as the REST calls IAM documents. */
  iamAdmin(): Promise<IamAdminClient>;
  /** Secret Manager v1 (SecretManagerServiceClient). */
  secretManager: GaxGetter<'secretManager'>;
  /** GKE v1 (ClusterManagerClient). */
  container: GaxGetter<'container'>;
  /** Resource Manager v3 (ProjectsClient, FoldersClient, OrganizationsClient). */
  resourceManager: GaxGetter<'resourceManager'>;
  /** Service Usage v1 (ServiceUsageClient). */
  serviceUsage: GaxGetter<'serviceUsage'>;
  /** BigQuery v2 (handwritten JSON client; datasets.patch sends the etag as If-Match). */
  bigquery(): Promise<BigQuery>;
  /** Cloud DNS v1 (handwritten JSON client). */
  dns(): Promise<DNS>;
  /** Closes the gax clients built so far. */
  close(): Promise<void>;
}

export interface CloudClientsOptions {
  target: CloudTarget;
  /**
   * @google-cloud/storage retries 429/5xx of idempotent calls itself (a patch with ifMetagenerationMatch
   * counts), 3 times with exponential backoff by default; tests shorten or disable that here.
   */
  storageRetry?: StorageOptions['retryOptions'];
}

/** The token the twin target presents. The twin accepts any bearer token, as an emulator should. */
export const TWIN_ACCESS_TOKEN = 'warden-twin-token';
/** Far enough ahead that no client ever thinks the token is expiring and tries to refresh it. */
const FAR_FUTURE_MS = Date.parse('2999-01-01T00:00:00Z');

interface TokenClient {
  setCredentials(credentials: { access_token: string; expiry_date: number }): void;
}

/**
 * An OAuth2Client from a given google-auth-library, holding the dummy token: no metadata server, DNS or
 * token endpoint is ever contacted.
 *
 * Storage 7 bundles google-auth-library 9 while gax uses 10. Storage wraps whatever authClient it gets in
 * its own GoogleAuth@9, which copies `getRequestHeaders()` with Object.assign; a v10 client returns a
 * fetch `Headers` object there, whose entries Object.assign cannot see, so requests went out with no
 * Authorization header at all. Resolving google-auth-library from storage's own location gives the major
 * storage itself loads, whatever the install layout (nested or hoisted).
 */
function dummyAuthFrom(fromModule: string | undefined): unknown {
  const req = createRequire(import.meta.url);
  const gal = (fromModule ? createRequire(req.resolve(fromModule)) : req)('google-auth-library') as {
    OAuth2Client: new () => TokenClient;
  };
  const client = new gal.OAuth2Client();
  client.setCredentials({ access_token: TWIN_ACCESS_TOKEN, expiry_date: FAR_FUTURE_MS });
  return client;
}

/** The constructor options the gax clients share (ClientOptions of google-gax, which is not a direct dependency). */
type GaxOptions = NonNullable<ConstructorParameters<typeof FirewallsClient>[0]>;

function lazy<T>(make: () => Promise<T>): { get(): Promise<T>; built(): Promise<T> | undefined } {
  let p: Promise<T> | undefined;
  return {
    get: () => {
      // A failed build (e.g. a bad option) is not cached, so the next call tries again.
      p ??= make().catch((err: unknown) => {
        p = undefined;
        throw err;
      });
      return p;
    },
    built: () => p,
  };
}

export function createCloudClients(opts: CloudClientsOptions): CloudClients {
  const { target } = opts;

  /**
   * Options every gax client shares. REST (fallback) in production too: it spares loading gRPC, and the
   * requests, enum encodings and error shapes are then the ones tested against the twin.
   */
  const gaxOptions = (): GaxOptions => {
    if (target.kind === 'google')
      return target.projectId ? { projectId: target.projectId, fallback: true } : { fallback: true };
    const u = new URL(target.url);
    return {
      projectId: target.projectId,
      // The port must be separate: inside apiEndpoint it is ignored and the call goes to 443.
      apiEndpoint: u.hostname,
      port: Number(u.port),
      protocol: u.protocol.replace(':', ''),
      fallback: true,
      authClient: dummyAuthFrom(undefined) as GaxOptions['authClient'],
    };
  };

  const modules: { [M in GaxModuleName]: () => Promise<GaxModules[M]> } = {
    compute: () => import('@google-cloud/compute'),
    sql: () => import('@google-cloud/sql'),
    kms: () => import('@google-cloud/kms'),
    secretManager: () => import('@google-cloud/secret-manager'),
    container: () => import('@google-cloud/container'),
    resourceManager: () => import('@google-cloud/resource-manager'),
    serviceUsage: () => import('@google-cloud/service-usage'),
  };
  const compute = lazy(modules.compute);

  const storage = lazy(async () => {
    const { Storage } = await import('@google-cloud/storage');
    const options: StorageOptions = {};
    if (opts.storageRetry) options.retryOptions = opts.storageRetry;
    if (target.kind === 'google') {
      if (target.projectId) options.projectId = target.projectId;
      return new Storage(options);
    }
    return new Storage({
      ...options,
      apiEndpoint: target.url,
      projectId: target.projectId,
      // A custom endpoint is sent unauthenticated unless asked; the twin, like Google, wants a token.
      useAuthWithCustomEndpoint: true,
      authClient: dummyAuthFrom('@google-cloud/storage') as StorageOptions['authClient'],
    });
  });
  const firewalls = lazy(async () => new (await compute.get()).FirewallsClient(gaxOptions()));
  const globalOperations = lazy(async () => new (await compute.get()).GlobalOperationsClient(gaxOptions()));
  const assets = lazy(async () => new (await import('@google-cloud/asset')).AssetServiceClient(gaxOptions()));
  const gaxClients = new Map<string, ReturnType<typeof lazy<{ close(): Promise<void> }>>>();
  const gaxGetter =
    <M extends GaxModuleName>(module: M): GaxGetter<M> =>
    <K extends GaxClientName<M>>(name: K): Promise<GaxClient<M, K>> => {
      const key = `${module}:${String(name)}`;
      let entry = gaxClients.get(key);
      if (!entry) {
        entry = lazy(async () => {
          const mod = module === 'compute' ? await compute.get() : await modules[module]();
          const Ctor = (mod as unknown as Record<string, unknown>)[String(name)] as new (o: GaxOptions) => {
            close(): Promise<void>;
          };
          return new Ctor(gaxOptions());
        });
        gaxClients.set(key, entry);
      }
      return entry.get() as unknown as Promise<GaxClient<M, K>>;
    };
  /** Options of the handwritten JSON clients (BigQuery, DNS), which take a full endpoint URL. */
  const jsonClientOptions = (fromModule: string): Record<string, unknown> =>
    target.kind === 'google'
      ? target.projectId
        ? { projectId: target.projectId }
        : {}
      : {
          apiEndpoint: target.url,
          projectId: target.projectId,
          authClient: dummyAuthFrom(fromModule),
        };
  const bigquery = lazy(async () => {
    const { BigQuery } = await import('@google-cloud/bigquery');
    return new BigQuery(jsonClientOptions('@google-cloud/bigquery'));
  });
  /** The authenticated requester of the documented-REST clients (no official Node client serves them). */
  const restAuth = lazy(async (): Promise<AuthorizedRequester> => {
    if (target.kind === 'twin') return dummyAuthFrom(undefined) as AuthorizedRequester;
    const { GoogleAuth } = await import('google-auth-library');
    const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
    return auth as unknown as AuthorizedRequester;
  });
  const restBase = (googleHost: string): string => (target.kind === 'twin' ? target.url : googleHost);
  const kmsIam = lazy(async () =>
    kmsIamClient(await restAuth.get(), restBase('https://cloudkms.googleapis.com')),
  );
  const iamAdmin = lazy(async () =>
    iamAdminClient(await restAuth.get(), restBase('https://iam.googleapis.com')),
  );
  const dns = lazy(async () => {
    const { DNS } = await import('@google-cloud/dns');
    const client = new DNS(jsonClientOptions('@google-cloud/dns'));
    // DNS builds `https://${apiEndpoint}/dns/v1` and so cannot take the twin's http URL through options.
    if (target.kind === 'twin') client.baseUrl = `${target.url}/dns/v1`;
    return client;
  });

  return {
    target,
    storage: storage.get,
    firewalls: firewalls.get,
    globalOperations: globalOperations.get,
    assets: assets.get,
    compute: gaxGetter('compute'),
    sql: gaxGetter('sql'),
    kms: gaxGetter('kms'),
    secretManager: gaxGetter('secretManager'),
    container: gaxGetter('container'),
    resourceManager: gaxGetter('resourceManager'),
    serviceUsage: gaxGetter('serviceUsage'),
    kmsIam: kmsIam.get,
    iamAdmin: iamAdmin.get,
    bigquery: bigquery.get,
    dns: dns.get,
    async close() {
      const gax = [
        firewalls.built(),
        globalOperations.built(),
        assets.built(),
        ...[...gaxClients.values()].map((c) => c.built()),
      ];
      await Promise.all(
        gax.map(async (p) => {
          if (!p) return;
          const client = await p.catch(() => undefined);
          await client?.close();
        }),
      );
    },
  };
}
