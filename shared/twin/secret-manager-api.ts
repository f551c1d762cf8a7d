import type { Inventory } from './inventory.js';
import type { ApiSurface, SurfaceOptions } from './routes.js';

/** Secret Manager v1: secrets (get, getIamPolicy, setIamPolicy). */
export function secretManagerApi(_inv: Inventory, _opts: SurfaceOptions): ApiSurface {
  return { routes: [], concurrentChanges: [] };
}
