import type { Inventory } from './inventory.js';
import type { ApiSurface, SurfaceOptions } from './routes.js';

/** Cloud KMS v1: key rings and crypto keys (get, patch, getIamPolicy, setIamPolicy). */
export function kmsApi(_inv: Inventory, _opts: SurfaceOptions): ApiSurface {
  return { routes: [], concurrentChanges: [] };
}
