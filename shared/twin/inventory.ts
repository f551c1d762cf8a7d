import type { Asset } from '../model/asset.js';
import { AssetSchema } from '../model/asset.js';
import type { Clock } from '../ports/clock.js';
import { temporalAsset, type FeedPart } from './feed.js';

export type FeedSink = (message: object) => void | Promise<void>;

/**
 * The twin's state: CAI-shaped assets keyed by full resource name. `resource.data` is kept as CAI holds
 * it (int64 fields as JSON numbers, e.g. bucket metageneration); the REST handlers render the API's own
 * encoding on the way out. Every change goes through `change`, which is what publishes the feed.
 */
export class Inventory {
  private readonly assets = new Map<string, Asset>();
  /** Failures of the feed sink: the API call that caused the change still succeeds, as with real CAI. */
  readonly feedErrors: unknown[] = [];

  constructor(
    assets: Asset[],
    readonly clock: Clock,
    private readonly sink: FeedSink | undefined,
  ) {
    for (const a of assets) {
      const parsed = AssetSchema.parse(structuredClone(a));
      this.assets.set(parsed.name, parsed);
    }
  }

  now(): string {
    return this.clock.now().toISOString();
  }

  get(name: string): Asset | undefined {
    return this.assets.get(name);
  }

  /** The stored assets (not copies: callers render copies), sorted by name so listings paginate stably. */
  all(): Asset[] {
    return [...this.assets.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Applies `mutate` to a copy of the asset, stores it, and publishes one TemporalAsset per changed part.
   * A part whose content did not change publishes nothing (CAI reports changes, not writes).
   */
  async change(name: string, parts: FeedPart[], mutate: (asset: Asset) => void): Promise<Asset> {
    const prior = this.assets.get(name);
    if (!prior) throw new Error(`twin inventory has no asset ${name}`);
    const next = structuredClone(prior);
    mutate(next);
    const at = this.now();
    next.updateTime = at;
    this.assets.set(name, next);
    for (const which of parts) {
      const before = which === 'RESOURCE' ? prior.resource : prior.iamPolicy;
      const after = which === 'RESOURCE' ? next.resource : next.iamPolicy;
      if (JSON.stringify(before) === JSON.stringify(after)) continue;
      await this.publish(temporalAsset(prior, next, which, at));
    }
    return next;
  }

  private async publish(message: object): Promise<void> {
    if (!this.sink) return;
    try {
      await this.sink(message);
    } catch (err) {
      this.feedErrors.push(err);
    }
  }

  /**
   * projects/NUMBER for a project given by id or number. CAI ancestors always use numbers while compute
   * paths and names use ids; the pairing comes from Project assets or from compute names beside ancestors.
   */
  projectNumber(project: string): string | undefined {
    if (/^\d+$/.test(project)) return project;
    for (const a of this.assets.values()) {
      const data = a.resource?.data ?? {};
      if (a.assetType === 'cloudresourcemanager.googleapis.com/Project' && data['projectId'] === project) {
        return String(data['projectNumber'] ?? '') || undefined;
      }
      if (a.name.includes(`/projects/${project}/`)) {
        const anc = a.ancestors.find((x) => x.startsWith('projects/'));
        if (anc) return anc.slice('projects/'.length);
      }
    }
    return undefined;
  }
}
