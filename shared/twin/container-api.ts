import type { Inventory } from './inventory.js';
import type { ApiSurface, SurfaceOptions } from './routes.js';

/** GKE v1 (container.googleapis.com): clusters, node pools and their operations. */
export function containerApi(_inv: Inventory, _opts: SurfaceOptions): ApiSurface {
  return { routes: [], concurrentChanges: [] };
}
