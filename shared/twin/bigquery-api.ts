import type { Inventory } from './inventory.js';
import type { ApiSurface, SurfaceOptions } from './routes.js';

/** BigQuery v2: datasets. */
export function bigqueryApi(_inv: Inventory, _opts: SurfaceOptions): ApiSurface {
  return { routes: [], concurrentChanges: [] };
}
