import type { Inventory } from './inventory.js';
import type { ApiSurface, SurfaceOptions } from './routes.js';

/** Resource Manager v3: projects (get, patch labels, getIamPolicy, setIamPolicy) and their operations. */
export function resourceManagerApi(_inv: Inventory, _opts: SurfaceOptions): ApiSurface {
  return { routes: [], concurrentChanges: [] };
}
