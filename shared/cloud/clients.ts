// Placeholder types only; the twin helper replaces this file with the real lazy client factory.
import type { Storage } from '@google-cloud/storage';
import type { FirewallsClient, GlobalOperationsClient } from '@google-cloud/compute';
import type { AssetServiceClient } from '@google-cloud/asset';

export interface CloudClients {
  storage(): Storage;
  firewalls(): FirewallsClient;
  globalOperations(): GlobalOperationsClient;
  assets(): AssetServiceClient;
}
