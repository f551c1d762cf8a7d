import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Asset } from '../model/asset.js';
import { createPolicyEnvironment } from './cel-environment.js';
import { compilePolicy, type CompiledPolicy, type Verdict } from './compiled-policy.js';
import { PolicyFileSchema } from './policy-schema.js';
import { parseYamlWithLines, zodErrorsWithLines, type SourceError } from './yaml-source.js';

/** Files in policies/ that are not policies. */
const NOT_POLICIES = new Set(['automation.yaml']);

export class PolicySet {
  private readonly byType = new Map<string, CompiledPolicy[]>();
  private readonly byId = new Map<string, CompiledPolicy>();

  constructor(
    readonly policies: readonly CompiledPolicy[],
    /** Policies that failed to load: reported, never silently dropped. */
    readonly errors: readonly SourceError[],
  ) {
    for (const p of policies) {
      this.byId.set(p.def.id, p);
      for (const t of p.def.assetTypes) {
        const list = this.byType.get(t) ?? [];
        list.push(p);
        this.byType.set(t, list);
      }
    }
  }

  get(id: string): CompiledPolicy | undefined {
    return this.byId.get(id);
  }

  handles(assetType: string): boolean {
    return this.byType.has(assetType);
  }

  /** Only the policies of the asset's type run on it. */
  evaluate(asset: Asset): Array<{ policy: CompiledPolicy; verdict: Verdict }> {
    return (this.byType.get(asset.assetType) ?? []).map((policy) => ({
      policy,
      verdict: policy.evaluate(asset),
    }));
  }
}

async function listYaml(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listYaml(full)));
    else if (
      /\.ya?ml$/.test(entry.name) &&
      !/\.test\.ya?ml$/.test(entry.name) &&
      !NOT_POLICIES.has(entry.name)
    )
      out.push(full);
  }
  return out.sort();
}

/** Parses, validates and compiles one policy file; a bad file yields errors and never throws. */
export function compilePolicyText(
  file: string,
  text: string,
  env = createPolicyEnvironment(),
): { ok: true; policy: CompiledPolicy } | { ok: false; errors: SourceError[] } {
  const parsed = parseYamlWithLines(file, text);
  if (!parsed.ok) return parsed;
  const result = PolicyFileSchema.safeParse(parsed.parsed.value);
  if (!result.success) return { ok: false, errors: zodErrorsWithLines(file, parsed.parsed, result.error) };
  try {
    return { ok: true, policy: compilePolicy(env, result.data, file) };
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    return {
      ok: false,
      errors: [{ file, line: parsed.parsed.lineOf(['condition']), message: `condition: ${message}` }],
    };
  }
}

export async function loadPolicies(dir: string): Promise<PolicySet> {
  const env = createPolicyEnvironment();
  const policies: CompiledPolicy[] = [];
  const errors: SourceError[] = [];
  const seen = new Map<string, string>();
  for (const file of await listYaml(dir)) {
    const rel = path.relative(process.cwd(), file);
    const result = compilePolicyText(rel, await readFile(file, 'utf8'), env);
    if (!result.ok) {
      errors.push(...result.errors);
      continue;
    }
    const id = result.policy.def.id;
    if (seen.has(id)) {
      errors.push({ file: rel, line: 1, message: `duplicate policy id ${id} (also in ${seen.get(id)})` });
      continue;
    }
    seen.set(id, rel);
    policies.push(result.policy);
  }
  return new PolicySet(policies, errors);
}
