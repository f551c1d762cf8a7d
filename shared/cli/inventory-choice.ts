import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadInventory } from '../contracts/inventory-reader.js';
import type { Asset } from '../model/asset.js';
import { WardenError } from '../model/errors.js';
import { projectRoot } from '../util/project-root.js';

export const EXAMPLE_LANDING_ZONE = path.join(projectRoot(), 'examples', 'landing-zone');
const TWIN_STATE = 'twin-inventory.json';

/**
 * What the twin serves: an inventory given with --assets, else the twin's own state from the last run
 * (the embedded "cloud" keeps its changes, as the real one would), else the example landing zone.
 */
export async function chooseInventory(
  stateDir: string,
  assetPaths: string[] | undefined,
): Promise<{ assets: Asset[]; source: string; errors: string[] }> {
  if (assetPaths?.length) {
    const { assets, errors } = await loadInventory(assetPaths);
    return {
      assets,
      source: assetPaths.join(', '),
      errors: errors.map((e) => `${e.source.file}:${e.source.line}: ${e.reason}`),
    };
  }
  const saved = path.join(stateDir, TWIN_STATE);
  if (existsSync(saved)) {
    return {
      assets: JSON.parse(await readFile(saved, 'utf8')) as Asset[],
      source: `${saved} (the twin as the last run left it)`,
      errors: [],
    };
  }
  const { assets, errors } = await loadInventory([EXAMPLE_LANDING_ZONE]);
  if (assets.length === 0)
    throw new WardenError(`no assets found in ${EXAMPLE_LANDING_ZONE}`, {
      retryable: false,
      code: 'no_inventory',
    });
  return {
    assets,
    source: path.relative(process.cwd(), EXAMPLE_LANDING_ZONE) || EXAMPLE_LANDING_ZONE,
    errors: errors.map((e) => `${e.source.file}:${e.source.line}: ${e.reason}`),
  };
}

export async function saveTwinState(stateDir: string, assets: Asset[]): Promise<void> {
  await writeFile(path.join(stateDir, TWIN_STATE), JSON.stringify(assets));
}

/** The organization the sweep lists: the top of the hierarchy the inventory names. */
export function organizationScope(assets: Asset[]): string {
  for (const a of assets) {
    const org = a.ancestors.find((x) => x.startsWith('organizations/'));
    if (org) return org;
  }
  const project = assets.flatMap((a) => a.ancestors).find((x) => x.startsWith('projects/'));
  if (project) return project;
  throw new WardenError('the inventory names no organization or project', {
    retryable: false,
    code: 'no_scope',
  });
}
