import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Asset } from '../model/asset.js';
import { createPolicyEnvironment } from './cel-environment.js';
import { GROUP_TRUE, GROUP_UNDECIDED, compileCelGroup, type CelGroup } from './cel-compiler.js';
import {
  compilePolicy,
  evaluationContext,
  type CompiledPolicy,
  type EvaluationEnv,
  type Verdict,
} from './compiled-policy.js';
import { Exemptions, loadExemptions, type Exemption } from './exemptions.js';
import { DEFAULT_PARAMS, loadPolicyParams, paramsForCel, type PolicyParams } from './policy-params.js';
import { PolicyFileSchema } from './policy-schema.js';
import { inScope, loadTeamScope } from './team-scope.js';
import { parseYamlWithLines, zodErrorsWithLines, type SourceError } from './yaml-source.js';

/** Files in policies/ that are not policies. */
const NOT_POLICIES = new Set([
  'automation.yaml',
  'params.yaml',
  'exceptions.yaml',
  'team.yaml',
  'approvals.yaml',
]);

export interface PolicyResult {
  policy: CompiledPolicy;
  verdict: Verdict;
  /** Set when the verdict is a violation the resource is exempt from: recorded as suppressed. */
  exemption?: Exemption;
}

/** What the caller knows beyond the asset; missing parts mean "unknown", never "compliant". */
export type EvaluationInput = Partial<Pick<EvaluationEnv, 'ancestry' | 'perimeters'>> & {
  now: string;
  /** Assets of these types in the asset's project (or under the organization/folder it is); see `related`. */
  related?: (asset: Asset, assetTypes: readonly string[]) => Asset[];
  /** Related types the inventory covers (see EvaluationEnv.relatedKnown). */
  relatedKnown?: string[];
};

/**
 * The policies of one asset type, with the fast code of those that run on every asset of the type (no team
 * scope) compiled together.
 */
interface TypePolicies {
  readonly policies: CompiledPolicy[];
  /** Per policy: its index among the group's outcomes, or -1 when it is evaluated on its own. */
  readonly slots: Int32Array;
  readonly group: CelGroup | null;
  /** The group's outcomes for the asset being evaluated (evaluation is synchronous and not re-entered). */
  readonly outcomes: Uint8Array;
}

function typePolicies(policies: CompiledPolicy[]): TypePolicies {
  const slots = new Int32Array(policies.length).fill(-1);
  const members = policies.filter((p) => p.scope === undefined && p.groupable !== undefined);
  // One condition gains nothing from a group: its own compiled function is the same code.
  const group = members.length > 1 ? compileCelGroup(members.map((p) => p.groupable!)) : null;
  if (group) for (const [i, p] of policies.entries()) slots[i] = members.indexOf(p);
  return { policies, slots, group, outcomes: new Uint8Array(members.length) };
}

export class PolicySet {
  private readonly byType = new Map<string, CompiledPolicy[]>();
  private readonly typePolicies = new Map<string, TypePolicies>();
  private readonly byId = new Map<string, CompiledPolicy>();
  private readonly celParams: Record<string, unknown>;
  private readonly relatedByType = new Map<string, string[]>();

  constructor(
    readonly policies: readonly CompiledPolicy[],
    /** Policies that failed to load: reported, never silently dropped. */
    readonly errors: readonly SourceError[],
    readonly params: PolicyParams = DEFAULT_PARAMS,
    readonly exemptions: Exemptions = new Exemptions(),
  ) {
    this.celParams = paramsForCel(params);
    for (const p of policies) {
      this.byId.set(p.def.id, p);
      for (const t of p.def.assetTypes) {
        const list = this.byType.get(t) ?? [];
        list.push(p);
        this.byType.set(t, list);
        if (p.def.related.length)
          this.relatedByType.set(t, [...new Set([...(this.relatedByType.get(t) ?? []), ...p.def.related])]);
      }
    }
    for (const [t, list] of this.byType) this.typePolicies.set(t, typePolicies(list));
  }

  /** Asset types some policy reads as related context (the engine and the scan keep them for lookups). */
  relatedAssetTypes(): string[] {
    return [...new Set([...this.relatedByType.values()].flat())];
  }

  /** Asset types the policies of `assetType` read as related context. */
  relatedTypesOf(assetType: string): string[] {
    return this.relatedByType.get(assetType) ?? [];
  }

  /** Asset types whose policies read assets of `relatedType` (re-evaluated when such an asset changes). */
  typesRelatingTo(relatedType: string): string[] {
    return [...this.relatedByType.entries()].filter(([, rs]) => rs.includes(relatedType)).map(([t]) => t);
  }

  get(id: string): CompiledPolicy | undefined {
    return this.byId.get(id);
  }

  handles(assetType: string): boolean {
    return this.byType.has(assetType);
  }

  assetTypes(): string[] {
    return [...this.byType.keys()];
  }

  /** A copy without some policies (e.g. ones naming an action that does not exist), with errors added. */
  without(drop: readonly CompiledPolicy[], errors: readonly SourceError[]): PolicySet {
    return new PolicySet(
      this.policies.filter((p) => !drop.includes(p)),
      [...this.errors, ...errors],
      this.params,
      this.exemptions,
    );
  }

  /** Only the policies of the asset's type (and, for team rules, of its place in the hierarchy) run on it. */
  evaluate(asset: Asset, input: EvaluationInput): PolicyResult[] {
    const env: EvaluationEnv = {
      ancestry: input.ancestry ?? [],
      perimeters: input.perimeters ?? { known: false, projects: [] },
      params: this.celParams,
      now: input.now,
    };
    const relatedTypes = this.relatedByType.get(asset.assetType);
    if (relatedTypes && input.related) env.related = input.related(asset, relatedTypes);
    if (input.relatedKnown) env.relatedKnown = input.relatedKnown;
    const out: PolicyResult[] = [];
    const typed = this.typePolicies.get(asset.assetType);
    if (!typed) return out;
    const { policies, slots, group, outcomes } = typed;
    // Built once per asset, on the first policy in scope, and shared: conditions only read it.
    let ctx: Record<string, unknown> | undefined;
    let grouped = false;
    for (let i = 0; i < policies.length; i++) {
      const policy = policies[i]!;
      if (!inScope(asset.ancestors, asset.name, policy.scope)) continue;
      ctx ??= evaluationContext(asset, env);
      const slot = slots[i]!;
      let verdict: Verdict;
      if (slot < 0 || !group) {
        verdict = policy.evaluateContext(ctx);
      } else {
        if (!grouped) {
          group.run(ctx, outcomes);
          grouped = true;
        }
        const outcome = outcomes[slot]!;
        verdict =
          outcome === GROUP_UNDECIDED
            ? policy.evaluateContext(ctx)
            : policy.verdictFor(outcome === GROUP_TRUE, ctx);
      }
      if (verdict.kind === 'violation') {
        const exemption = this.exemptions.check(asset, policy.def.id, input.now);
        out.push(exemption ? { policy, verdict, exemption } : { policy, verdict });
      } else {
        out.push({ policy, verdict });
      }
    }
    return out;
  }
}

async function listYaml(dir: string, skipTeams: boolean): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (skipTeams && entry.name === 'teams') continue;
      out.push(...(await listYaml(full, false)));
    } else if (
      /\.ya?ml$/.test(entry.name) &&
      !/\.test\.ya?ml$/.test(entry.name) &&
      !NOT_POLICIES.has(entry.name)
    ) {
      out.push(full);
    }
  }
  return out.sort();
}

/** Parses, validates and compiles one policy file; a bad file yields errors and never throws. */
export function compilePolicyText(
  file: string,
  text: string,
  env = createPolicyEnvironment(),
  scope?: readonly string[],
): { ok: true; policy: CompiledPolicy } | { ok: false; errors: SourceError[] } {
  const parsed = parseYamlWithLines(file, text);
  if (!parsed.ok) return parsed;
  const result = PolicyFileSchema.safeParse(parsed.parsed.value);
  if (!result.success) return { ok: false, errors: zodErrorsWithLines(file, parsed.parsed, result.error) };
  try {
    return { ok: true, policy: compilePolicy(env, result.data, file, scope) };
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    return {
      ok: false,
      errors: [{ file, line: parsed.parsed.lineOf(['condition']), message: `condition: ${message}` }],
    };
  }
}

/**
 * Loads policies/: the catalog, params.yaml, exceptions.yaml, and each team's rules under teams/<team>/
 * scoped by its team.yaml. Conditions are compiled once here.
 */
export async function loadPolicies(dir: string): Promise<PolicySet> {
  const env = createPolicyEnvironment();
  const rel = (f: string) => path.relative(process.cwd(), f) || f;
  const policies: CompiledPolicy[] = [];
  const errors: SourceError[] = [];
  const seen = new Map<string, string>();
  const add = async (files: string[], scope?: readonly string[]) => {
    for (const file of files) {
      const result = compilePolicyText(rel(file), await readFile(file, 'utf8'), env, scope);
      if (!result.ok) {
        errors.push(...result.errors);
        continue;
      }
      const id = result.policy.def.id;
      if (seen.has(id)) {
        errors.push({
          file: rel(file),
          line: 1,
          message: `duplicate policy id ${id} (also in ${seen.get(id)})`,
        });
        continue;
      }
      seen.set(id, rel(file));
      policies.push(result.policy);
    }
  };
  await add(await listYaml(dir, true));

  const teamsDir = path.join(dir, 'teams');
  if (existsSync(teamsDir)) {
    for (const team of (await readdir(teamsDir, { withFileTypes: true })).filter((d) => d.isDirectory())) {
      const teamDir = path.join(teamsDir, team.name);
      const { scope, errors: scopeErrors } = await loadTeamScope(
        path.join(teamDir, 'team.yaml'),
        rel(path.join(teamDir, 'team.yaml')),
      );
      errors.push(...scopeErrors);
      if (scope) await add(await listYaml(teamDir, false), scope);
    }
  }

  let params = DEFAULT_PARAMS;
  try {
    params = await loadPolicyParams(path.join(dir, 'params.yaml'));
  } catch (err) {
    errors.push({
      file: rel(path.join(dir, 'params.yaml')),
      line: 1,
      message: err instanceof Error ? err.message : String(err),
    });
  }
  const ex = await loadExemptions(path.join(dir, 'exceptions.yaml'), rel(path.join(dir, 'exceptions.yaml')));
  errors.push(...ex.errors);
  return new PolicySet(policies, errors, params, ex.exemptions);
}
