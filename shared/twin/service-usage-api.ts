import type { Inventory } from './inventory.js';
import type { ApiSurface, SurfaceOptions } from './routes.js';

/** Service Usage v1: services (get, enable) and their operations. */
export function serviceUsageApi(_inv: Inventory, _opts: SurfaceOptions): ApiSurface {
  return { routes: [], concurrentChanges: [] };
}
