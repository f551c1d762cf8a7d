import type * as ComputeModuleNamespace from '@google-cloud/compute';
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
type ComputeModule = typeof ComputeModuleNamespace;
/** The Compute Engine v1 clients (InstancesClient, SubnetworksClient, ZoneOperationsClient, …). */
export type ComputeClientName = {
  [K in keyof ComputeModule]: K extends `${string}Client`
    ? ComputeModule[K] extends new (...args: never[]) => unknown
      ? K
      : never
    : never;
}[keyof ComputeModule];
export type ComputeClient<K extends ComputeClientName> = ComputeModule[K] extends new (
  ...args: never[]
) => infer C
  ? C
  : never;

export interface CloudClients {
  readonly target: CloudTarget;
  storage(): Promise<Storage>;
  firewalls(): Promise<FirewallsClient>;
  globalOperations(): Promise<GlobalOperationsClient>;
  assets(): Promise<AssetServiceClient>;
  /** Any other Compute Engine client, built once on first use with the same endpoint and credentials. */
  compute<K extends ComputeClientName>(name: K): Promise<ComputeClient<K>>;
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

  const compute = lazy(() => import('@google-cloud/compute'));

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
  const computeClients = new Map<string, ReturnType<typeof lazy<{ close(): Promise<void> }>>>();
  const computeClient = <K extends ComputeClientName>(name: K): Promise<ComputeClient<K>> => {
    let entry = computeClients.get(name);
    if (!entry) {
      entry = lazy(async () => {
        const Ctor = (await compute.get())[name] as unknown as new (o: GaxOptions) => {
          close(): Promise<void>;
        };
        return new Ctor(gaxOptions());
      });
      computeClients.set(name, entry);
    }
    return entry.get() as unknown as Promise<ComputeClient<K>>;
  };

  return {
    target,
    storage: storage.get,
    firewalls: firewalls.get,
    globalOperations: globalOperations.get,
    assets: assets.get,
    compute: computeClient,
    async close() {
      const gax = [
        firewalls.built(),
        globalOperations.built(),
        assets.built(),
        ...[...computeClients.values()].map((c) => c.built()),
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
