import { describe, expect, it } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadInventory } from '../../../shared/contracts/inventory-reader.js';
import type { Asset } from '../../../shared/model/asset.js';
import { AssetSchema } from '../../../shared/model/asset.js';
import { createPolicyEnvironment } from '../../../shared/policy/cel-environment.js';
import {
  GROUP_FALSE,
  GROUP_TRUE,
  GROUP_UNDECIDED,
  compileCelGroup,
  explainCelCompile,
  type CelAstNode,
} from '../../../shared/policy/cel-compiler.js';
import { compilePolicy, type CompiledPolicy, type Verdict } from '../../../shared/policy/compiled-policy.js';
import { PolicyTestFileSchema } from '../../../shared/policy/policy-schema.js';
import {
  loadPolicies,
  PolicySet,
  type EvaluationInput,
  type PolicyResult,
} from '../../../shared/policy/policy-set.js';
import { TABLE_NOW } from '../../../shared/policy/table-tests.js';
import { parseYamlWithLines } from '../../../shared/policy/yaml-source.js';
import { projectRoot } from '../../../shared/util/project-root.js';
import {
  BINARY,
  MUTATION_REPLACEMENTS,
  UNARY,
  VALUES,
  deepClone,
  mulberry32,
  mutate,
} from './cel-test-data.js';

/*
 * A policy set evaluates the conditions of one asset type together (compileCelGroup): one function, whose
 * subexpressions several conditions hold are computed once. What it decides must be the interpreter's
 * verdict; what it leaves undecided the policy's own compiled code decides.
 */

const POLICIES = path.join(projectRoot(), 'policies');
const LANDING_ZONE = path.join(projectRoot(), 'examples', 'landing-zone');
const env = createPolicyEnvironment();

function typedAst(expr: string): CelAstNode | null {
  const typed = env.parse(expr);
  if (!typed.check().valid) return null;
  const ast = typed.ast as unknown as CelAstNode;
  return explainCelCompile(ast) === null ? ast : null;
}

/** The interpreter's value of `expr` on `ctx`, or 'error'. */
function interpret(expr: string, ctx: Record<string, unknown>): unknown {
  try {
    return env.parse(expr)(ctx);
  } catch {
    return 'error';
  }
}

/** One group of `exprs` run on each context: every decided outcome checked against the interpreter. */
function checkGroup(
  exprs: readonly string[],
  contexts: ReadonlyArray<[string, Record<string, unknown>]>,
): { decided: number; undecided: number; mismatches: string[] } {
  const compiled = exprs.map((e) => [e, typedAst(e)] as const).filter(([, ast]) => ast !== null);
  const group = compileCelGroup(compiled.map(([, ast]) => ast!))!;
  const out = new Uint8Array(compiled.length);
  const result = { decided: 0, undecided: 0, mismatches: [] as string[] };
  for (const [label, ctx] of contexts) {
    out.fill(255);
    group.run(ctx, out);
    compiled.forEach(([expr], i) => {
      const outcome = out[i];
      if (outcome === GROUP_UNDECIDED) {
        result.undecided++;
        return;
      }
      result.decided++;
      const want = interpret(expr, ctx);
      const got = outcome === GROUP_TRUE ? true : outcome === GROUP_FALSE ? false : `outcome ${outcome}`;
      if (got !== want)
        result.mismatches.push(`${expr} with ${label}: group ${String(got)}, interpreter ${String(want)}`);
    });
  }
  return result;
}

describe('compiled CEL groups', () => {
  it('decide only what the interpreter decides, on every value (unary matrix, both orders)', () => {
    const contexts = Object.entries(VALUES).map(
      ([name, a]) => [`a=${name}`, { a }] as [string, Record<string, unknown>],
    );
    for (const exprs of [UNARY, [...UNARY].reverse()]) {
      const r = checkGroup(exprs, contexts);
      console.log(
        `cel-group: unary matrix ${r.decided} decided, ${r.undecided} undecided, ${r.mismatches.length} mismatches`,
      );
      expect(r.mismatches).toEqual([]);
      expect(r.decided).toBeGreaterThan(1000);
    }
  });

  it('decide only what the interpreter decides, on every pair of values (binary matrix)', () => {
    const contexts: Array<[string, Record<string, unknown>]> = [];
    for (const [na, a] of Object.entries(VALUES))
      for (const [nb, b] of Object.entries(VALUES)) contexts.push([`a=${na} b=${nb}`, { a, b }]);
    const r = checkGroup(BINARY, contexts);
    console.log(
      `cel-group: binary matrix ${r.decided} decided, ${r.undecided} undecided, ${r.mismatches.length} mismatches`,
    );
    expect(r.mismatches.slice(0, 30)).toEqual([]);
    expect(r.decided).toBeGreaterThan(3000);
  });

  it('keep no value of a shared subexpression from one call to the next, nor an error from one condition to another', () => {
    const exprs = [
      'size(m.l) > 0 && m.l.exists(x, x == "a")',
      'size(m.l) > 0 || m.?k.orValue("") == "v"',
      '!(size(m.l) > 0) && m.?k.orValue("") == ""',
      'm.?k.orValue("") == "" && size(m.l) > 0',
      'm.l.exists(x, x == "a") || lower(m.?k.orValue("")) == "v"',
      'm.l.exists(x, x == "a")',
    ];
    const values: unknown[] = [['a'], ['b', 'c'], [], { a: 1 }, 'str', null, undefined];
    const contexts = values.flatMap((l) =>
      ['v', undefined].map((k): [string, Record<string, unknown>] => {
        const m: Record<string, unknown> = {};
        if (l !== undefined) m['l'] = l;
        if (k !== undefined) m['k'] = k;
        return [JSON.stringify(m), { m }];
      }),
    );
    for (const order of [exprs, [...exprs].reverse()]) {
      const r = checkGroup(order, [...contexts, ...[...contexts].reverse()]);
      expect(r.mismatches).toEqual([]);
      expect(r.undecided).toBeGreaterThan(0);
    }
  });
});

/** A verdict as text; `messages`: with the error's message (the compiled code words some differently). */
function verdictText(r: PolicyResult, messages: boolean): string {
  const v: Verdict = r.verdict;
  const verdict =
    v.kind === 'violation'
      ? `violation ${JSON.stringify(v.evidence, bigintJson)}`
      : v.kind === 'error'
        ? `error${messages ? ` ${v.message}` : ''}`
        : 'pass';
  return `${r.policy.def.id}: ${verdict}${r.exemption ? ` exempt ${JSON.stringify(r.exemption)}` : ''}`;
}

function bigintJson(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? `${v}n` : v;
}

async function listTables(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listTables(full)));
    else if (/\.test\.ya?ml$/.test(e.name)) out.push(full);
  }
  return out.sort();
}

describe('a policy set evaluating the conditions of a type together', () => {
  /**
   * The catalog (grouped, as loaded), the same policies each evaluated on its own (as before groups), and
   * in the interpreter alone.
   */
  async function sets(): Promise<{ grouped: PolicySet; alone: PolicySet; interpreted: PolicySet }> {
    const grouped = await loadPolicies(POLICIES);
    const like = (policies: CompiledPolicy[]) =>
      new PolicySet(policies, [], grouped.params, grouped.exemptions);
    return {
      grouped,
      alone: like(grouped.policies.map((p) => ({ ...p, groupable: undefined }))),
      interpreted: like(
        grouped.policies.map((p) => compilePolicy(env, p.def, p.file, p.scope, { compile: false })),
      ),
    };
  }

  /**
   * The grouped verdicts are those of the policies evaluated alone, error messages included, and the
   * interpreter's.
   */
  function compare(
    { grouped, alone, interpreted }: { grouped: PolicySet; alone: PolicySet; interpreted: PolicySet },
    asset: Asset,
    input: EvaluationInput,
    label: string,
  ): string[] {
    const results = grouped.evaluate(asset, input);
    const got = JSON.stringify(results.map((r) => verdictText(r, true)));
    const want = JSON.stringify(alone.evaluate(asset, input).map((r) => verdictText(r, true)));
    const gotKinds = JSON.stringify(results.map((r) => verdictText(r, false)));
    const interpreter = JSON.stringify(interpreted.evaluate(asset, input).map((r) => verdictText(r, false)));
    const out: string[] = [];
    if (got !== want) out.push(`${label}: grouped ${got} != alone ${want}`);
    if (gotKinds !== interpreter) out.push(`${label}: grouped ${gotKinds} != interpreter ${interpreter}`);
    return out;
  }

  it('gives the interpreter verdicts on every case of every table test', async () => {
    const all = await sets();
    const { grouped } = all;
    const mismatches: string[] = [];
    let cases = 0;
    for (const file of await listTables(POLICIES)) {
      const parsed = parseYamlWithLines(file, await readFile(file, 'utf8'));
      if (!parsed.ok) throw new Error(`${file}: unparsable`);
      const table = PolicyTestFileSchema.parse(parsed.parsed.value);
      for (const [i, c] of table.cases.entries()) {
        const asset = AssetSchema.parse({ name: `//test/${table.policy}/${i}`, ancestors: [], ...c.asset });
        const input: EvaluationInput = {
          ancestry: (c.ancestry ?? []).map((a, j) =>
            AssetSchema.parse({ name: `//test/ancestor/${j}`, ancestors: [], ...a }),
          ),
          perimeters: c.perimeters ?? { known: false, projects: [] },
          now: c.now ?? TABLE_NOW,
          related: () =>
            (c.related ?? []).map((a, j) =>
              AssetSchema.parse({ name: `//test/related/${j}`, ancestors: [], ...a }),
            ),
          relatedKnown: c.relatedKnown ?? grouped.relatedTypesOf(asset.assetType),
        };
        cases++;
        mismatches.push(...compare(all, asset, input, `${table.policy} / ${c.name}`));
      }
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
    expect(cases).toBeGreaterThan(200);
  });

  it('gives the interpreter verdicts on every landing-zone asset, and on 2,000+ mutations of them', async () => {
    const all = await sets();
    const { grouped } = all;
    const inventory = await loadInventory([LANDING_ZONE]);
    const byName = new Map(inventory.assets.map((a) => [a.name.replace(/^\/\/[^/]+\//, ''), a]));
    const inputOf = (asset: Asset): EvaluationInput => ({
      ancestry: asset.ancestors.map((a) => byName.get(a)).filter((a): a is Asset => !!a),
      perimeters: { known: true, projects: [] },
      now: TABLE_NOW,
      related: (_a, types) => inventory.assets.filter((r) => types.includes(r.assetType)),
      relatedKnown: grouped.relatedAssetTypes(),
    });
    const mismatches: string[] = [];
    for (const asset of inventory.assets) mismatches.push(...compare(all, asset, inputOf(asset), asset.name));
    const random = mulberry32(20260202);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    let mutated = 0;
    while (mutated < 2500) {
      const original = pick(inventory.assets);
      const asset = deepClone(original) as Asset;
      const roots = [asset.resource?.data, asset.iamPolicy, asset.resource].filter(
        (r): r is Record<string, unknown> => !!r && typeof r === 'object',
      );
      if (roots.length === 0) continue;
      const edits = 1 + Math.floor(random() * 3);
      for (let e = 0; e < edits; e++) mutate(pick(roots), random, () => pick(MUTATION_REPLACEMENTS)());
      mismatches.push(...compare(all, asset, inputOf(asset), `mutation ${mutated} of ${original.name}`));
      mutated++;
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
  });
});
