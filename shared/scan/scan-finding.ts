import { labelsOf, projectOf, type Asset } from '../model/asset.js';
import type { PolicyResult } from '../policy/policy-set.js';

/** One finding as every output format reports it (the JSON format writes exactly this object). */
export interface ScanFinding {
  policyId: string;
  title: string;
  /** Full CAI name. */
  resourceName: string;
  assetType: string;
  /** projects/NUMBER, or null for organization- and folder-level assets. */
  project: string | null;
  severity: string;
  layer: string;
  category: string;
  references: Record<string, string[]>;
  /** The policy's remediation as written: {action, risk} or {recommendation}. */
  remediation: { action: string; risk: string } | { recommendation: string } | null;
  evidence: Record<string, unknown>;
  /** Suppressed: the resource is exempt (label or exceptions.yaml); it never fails the scan. */
  status: 'open' | 'suppressed';
  suppressedReason: string | null;
  /** Where the asset was read: file:line of its RESOURCE part (else of its first other part). */
  source: string;
}

/** What OCSF (and future formats) need beyond the finding itself; not part of the JSON output. */
export interface FindingContext {
  /** The asset the finding is about, with its known ancestors nearest first (for plans and risk). */
  readonly asset: Asset;
  readonly ancestry: readonly Asset[];
  description: string;
  labels: Record<string, string>;
  location: string | null;
  organization: string | null;
  tags: string[];
}

export function scanFinding(asset: Asset, result: PolicyResult, source: string): ScanFinding {
  const def = result.policy.def;
  const evidence = result.verdict.kind === 'violation' ? result.verdict.evidence : {};
  const ex = result.exemption;
  return {
    policyId: def.id,
    title: def.title,
    resourceName: asset.name,
    assetType: asset.assetType,
    project: projectOf(asset) ?? null,
    severity: def.severity,
    layer: def.layer,
    category: def.category,
    references: def.references,
    remediation: def.remediation,
    evidence,
    status: ex ? 'suppressed' : 'open',
    suppressedReason: ex
      ? ex.source === 'label'
        ? ex.reason
        : `exception: ${ex.reason} (owner ${ex.owner ?? '?'}, until ${ex.expires ?? '?'})`
      : null,
    source,
  };
}

export function findingContext(
  asset: Asset,
  result: PolicyResult,
): Omit<FindingContext, 'asset' | 'ancestry'> {
  return {
    description: result.policy.def.description ?? result.policy.def.title,
    labels: labelsOf(asset),
    location: asset.resource?.location ?? null,
    organization: asset.ancestors.find((a) => a.startsWith('organizations/')) ?? null,
    tags: result.policy.def.tags,
  };
}

/**
 * The context of a finding, computed on first read: only some formats (OCSF) read it, and the scan hands one
 * to the output with every finding.
 */
export class LazyFindingContext implements FindingContext {
  #value: Omit<FindingContext, 'asset' | 'ancestry'> | undefined;
  readonly #asset: Asset;
  readonly #result: PolicyResult;
  readonly ancestry: readonly Asset[];

  constructor(asset: Asset, result: PolicyResult, ancestry: readonly Asset[] = []) {
    this.#asset = asset;
    this.#result = result;
    this.ancestry = ancestry;
  }

  get asset(): Asset {
    return this.#asset;
  }

  #get(): Omit<FindingContext, 'asset' | 'ancestry'> {
    return (this.#value ??= findingContext(this.#asset, this.#result));
  }

  get description(): string {
    return this.#get().description;
  }

  get labels(): Record<string, string> {
    return this.#get().labels;
  }

  get location(): string | null {
    return this.#get().location;
  }

  get organization(): string | null {
    return this.#get().organization;
  }

  get tags(): string[] {
    return this.#get().tags;
  }
}
