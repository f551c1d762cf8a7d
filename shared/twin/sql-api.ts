import type { Inventory } from './inventory.js';
import type { ApiSurface, SurfaceOptions } from './routes.js';

/** Cloud SQL Admin v1 (sqladmin.googleapis.com): instances and their operations. */
export function sqlApi(_inv: Inventory, _opts: SurfaceOptions): ApiSurface {
  return { routes: [], concurrentChanges: [] };
}
