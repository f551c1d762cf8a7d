import type { Repository } from '../engine/repository.js';
import type { Action } from '../model/action.js';

/** May a caller whose teams own `scopes` see something at `scope` (its project and ancestors)? */
export function canSee(scopes: '*' | readonly string[], scope: readonly string[]): boolean {
  return scopes === '*' || scope.some((s) => scopes.includes(s));
}

const hierarchyName = (scope: string) => `//cloudresourcemanager.googleapis.com/${scope}`;

/**
 * Where things sit in the hierarchy, for team scoping: an action's project and the project's ancestors
 * (from the stored hierarchy, else from its finding). All actions of a project share them, so one lookup
 * per project and request is enough.
 */
export class ScopeResolver {
  private readonly byProject = new Map<string, string[]>();
  constructor(private readonly repo: Repository) {}

  async ofAction(action: Action): Promise<string[]> {
    const key = action.project ?? `finding:${action.findingId}`;
    const cached = this.byProject.get(key);
    if (cached) return cached;
    const project = action.project ? await this.repo.getAsset(hierarchyName(action.project)) : null;
    const ancestors =
      project?.asset.ancestors ?? (await this.repo.getFinding(action.findingId))?.ancestors ?? [];
    const scope = [...new Set([...(action.project ? [action.project] : []), ...ancestors])];
    this.byProject.set(key, scope);
    return scope;
  }

  /** A project or folder and its ancestors, from the stored hierarchy; null when Warden has not seen it. */
  async ofTarget(target: string): Promise<string[] | null> {
    const stored = await this.repo.getAsset(hierarchyName(target));
    if (!stored) return null;
    return [...new Set([target, ...stored.asset.ancestors])];
  }
}
