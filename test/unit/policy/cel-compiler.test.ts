import { describe, expect, it } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadInventory } from '../../../shared/contracts/inventory-reader.js';
import type { Asset } from '../../../shared/model/asset.js';
import { AssetSchema } from '../../../shared/model/asset.js';
import { createPolicyEnvironment } from '../../../shared/policy/cel-environment.js';
import {
  CEL_CONTEXT_ID,
  CEL_FALLBACK,
  celCompilerStats,
  celExactStats,
  newCelContextId,
} from '../../../shared/policy/cel-compiler.js';
import {
  compileCondition,
  compilePolicy,
  evaluationContext,
  type CompiledPolicy,
  type EvaluationEnv,
  type Verdict,
} from '../../../shared/policy/compiled-policy.js';
import { paramsForCel } from '../../../shared/policy/policy-params.js';
import { PolicyTestFileSchema } from '../../../shared/policy/policy-schema.js';
import { loadPolicies, type PolicySet } from '../../../shared/policy/policy-set.js';
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

const POLICIES = path.join(projectRoot(), 'policies');
const LANDING_ZONE = path.join(projectRoot(), 'examples', 'landing-zone');
const env = createPolicyEnvironment();

interface PolicyVariants {
  compiled: CompiledPolicy;
  /** Compiled without the fast code: the exact code alone, which the fast code hands any error to. */
  exact: CompiledPolicy;
  interpreted: CompiledPolicy;
}

/** The same policies, each also built to run in the exact code only and in the cel-js interpreter only. */
async function policyPairs(): Promise<{ set: PolicySet; pairs: Map<string, PolicyVariants> }> {
  const set = await loadPolicies(POLICIES);
  const pairs = new Map<string, PolicyVariants>();
  for (const p of set.policies) {
    pairs.set(p.def.id, {
      compiled: compilePolicy(env, p.def, p.file, p.scope, { compile: true }),
      exact: compilePolicy(env, p.def, p.file, p.scope, { compile: true, exactOnly: true }),
      interpreted: compilePolicy(env, p.def, p.file, p.scope, { compile: false }),
    });
  }
  return { set, pairs };
}

function verdictKind(v: Verdict): string {
  return v.kind === 'violation' ? `violation ${JSON.stringify(v.evidence, bigintJson)}` : v.kind;
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

describe('compiled CEL', () => {
  it('compiles every policy of the catalog (none falls back to the interpreter)', async () => {
    const { set } = await loadPolicies(POLICIES).then((s) => ({ set: s }));
    const notCompiled = set.policies.filter((p) => !p.compiled).map((p) => p.def.id);
    console.log(
      `cel-compiler: ${set.policies.length - notCompiled.length} of ${set.policies.length} policies compile; interpreter: ${notCompiled.join(', ') || 'none'}`,
    );
    expect(notCompiled).toEqual([]);
  });

  it('gives the interpreter verdict on every case of every table test', async () => {
    const { set, pairs } = await policyPairs();
    const mismatches: string[] = [];
    let cases = 0;
    const before = celCompilerStats.fallbacks;
    for (const file of await listTables(POLICIES)) {
      const parsed = parseYamlWithLines(file, await readFile(file, 'utf8'));
      if (!parsed.ok) throw new Error(`${file}: unparsable`);
      const table = PolicyTestFileSchema.parse(parsed.parsed.value);
      const pair = pairs.get(table.policy);
      if (!pair) continue;
      for (const [i, c] of table.cases.entries()) {
        const asset = AssetSchema.parse({ name: `//test/${table.policy}/${i}`, ancestors: [], ...c.asset });
        const evalEnv: EvaluationEnv = {
          ancestry: (c.ancestry ?? []).map((a, j) =>
            AssetSchema.parse({ name: `//test/ancestor/${j}`, ancestors: [], ...a }),
          ),
          perimeters: c.perimeters ?? { known: false, projects: [] },
          params: { ...paramsForCel(set.params), ...(c.params ?? {}) },
          now: c.now ?? TABLE_NOW,
          relatedKnown: c.relatedKnown ?? pair.compiled.def.related,
          related: (c.related ?? []).map((a, j) =>
            AssetSchema.parse({ name: `//test/related/${j}`, ancestors: [], ...a }),
          ),
        };
        const ctx = evaluationContext(asset, evalEnv);
        const got = verdictKind(pair.compiled.evaluateContext(ctx));
        const exact = verdictKind(pair.exact.evaluateContext(ctx));
        const want = verdictKind(pair.interpreted.evaluateContext(ctx));
        cases++;
        if (got !== want)
          mismatches.push(`${table.policy} / ${c.name}: compiled ${got}, interpreter ${want}`);
        if (exact !== want)
          mismatches.push(`${table.policy} / ${c.name}: exact code ${exact}, interpreter ${want}`);
      }
    }
    const fallbacks = celCompilerStats.fallbacks - before;
    console.log(
      `cel-compiler: ${cases} table cases, ${mismatches.length} mismatches, ${fallbacks} fallbacks`,
    );
    expect(mismatches).toEqual([]);
    expect(cases).toBeGreaterThan(200);
  });

  it('gives the interpreter verdict on every landing-zone asset, and on 2,000+ mutations of them', async () => {
    const { set, pairs } = await policyPairs();
    const inventory = await loadInventory([LANDING_ZONE]);
    expect(inventory.assets.length).toBeGreaterThan(50);
    const byName = new Map(inventory.assets.map((a) => [a.name.replace(/^\/\/[^/]+\//, ''), a]));
    const params = paramsForCel(set.params);
    const stats = { evaluations: 0, mismatches: [] as string[], verdicts: {} as Record<string, number> };

    const check = (asset: Asset, label: string): void => {
      const ancestry = asset.ancestors.map((a) => byName.get(a)).filter((a): a is Asset => !!a);
      for (const p of set.policies) {
        if (!p.def.assetTypes.includes(asset.assetType)) continue;
        const pair = pairs.get(p.def.id)!;
        const related = inventory.assets.filter((a) => p.def.related.includes(a.assetType));
        const ctx = evaluationContext(asset, {
          ancestry,
          perimeters: { known: true, projects: [] },
          params,
          now: TABLE_NOW,
          related,
          relatedKnown: p.def.related,
        });
        const got = verdictKind(pair.compiled.evaluateContext(ctx));
        const exact = verdictKind(pair.exact.evaluateContext(ctx));
        const want = verdictKind(pair.interpreted.evaluateContext(ctx));
        stats.evaluations++;
        const kind = want.split(' ')[0]!;
        stats.verdicts[kind] = (stats.verdicts[kind] ?? 0) + 1;
        if (got !== want) stats.mismatches.push(`${label} ${p.def.id}: compiled ${got}, interpreter ${want}`);
        if (exact !== want)
          stats.mismatches.push(`${label} ${p.def.id}: exact code ${exact}, interpreter ${want}`);
      }
    };

    const before = celCompilerStats.fallbacks;
    for (const asset of inventory.assets) check(asset, asset.name);
    const plain = {
      evaluations: stats.evaluations,
      verdicts: { ...stats.verdicts },
      mismatches: stats.mismatches.length,
    };
    const plainFallbacks = celCompilerStats.fallbacks - before;

    // Mutations: fields deleted, or replaced with null, other scalar types, empty or odd containers.
    const random = mulberry32(20260101);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const replacements = MUTATION_REPLACEMENTS;
    let mutated = 0;
    const before2 = celCompilerStats.fallbacks;
    while (mutated < 2500) {
      const original = pick(inventory.assets);
      const asset = deepClone(original) as Asset;
      const roots = [asset.resource?.data, asset.iamPolicy, asset.resource].filter(
        (r): r is Record<string, unknown> => !!r && typeof r === 'object',
      );
      if (roots.length === 0) continue;
      const edits = 1 + Math.floor(random() * 3);
      for (let e = 0; e < edits; e++) mutate(pick(roots), random, () => pick(replacements)());
      check(asset, `mutation ${mutated} of ${original.name}`);
      mutated++;
    }
    const mutationFallbacks = celCompilerStats.fallbacks - before2;
    console.log(
      `cel-compiler: landing zone ${inventory.assets.length} assets, ${plain.evaluations} evaluations ` +
        `(${JSON.stringify(plain.verdicts)}), ${plain.mismatches} mismatches, ${plainFallbacks} fallbacks; ` +
        `${mutated} mutated assets, ${stats.evaluations - plain.evaluations} evaluations ` +
        `(all: ${JSON.stringify(stats.verdicts)}), ${stats.mismatches.length - plain.mismatches} mismatches, ` +
        `${mutationFallbacks} fallbacks`,
    );
    expect(stats.mismatches.slice(0, 20)).toEqual([]);
    expect(plainFallbacks).toBe(0);
    expect(mutated).toBeGreaterThanOrEqual(2000);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Expression-level semantics: compiled closure vs interpreter on a matrix of values.

type Outcome = { kind: 'value'; value: unknown } | { kind: 'error' } | { kind: 'fallback' };

function interpret(expr: string, ctx: Record<string, unknown>): Outcome {
  try {
    return { kind: 'value', value: env.parse(expr)(ctx) };
  } catch {
    return { kind: 'error' };
  }
}

/** The compiled code as it runs (fast code, then the exact code when it leaves), or the exact code alone. */
type Mode = 'fast' | 'exact';
const MODES: readonly Mode[] = ['fast', 'exact'];

const compiledCache = new Map<string, (ctx: Record<string, unknown>) => unknown>();
function compiled(expr: string, ctx: Record<string, unknown>, mode: Mode = 'fast'): Outcome {
  let fn = compiledCache.get(`${mode} ${expr}`);
  if (!fn) {
    const c = compileCondition(env, expr, { exactOnly: mode === 'exact' });
    if (!c) throw new Error(`does not compile: ${expr}`);
    fn = c;
    compiledCache.set(`${mode} ${expr}`, fn);
  }
  try {
    return { kind: 'value', value: fn(ctx) };
  } catch (err) {
    return err === CEL_FALLBACK ? { kind: 'fallback' } : { kind: 'error' };
  }
}

function show(o: Outcome): string {
  return o.kind === 'value' ? `value ${typeof o.value} ${JSON.stringify(o.value, bigintJson)}` : o.kind;
}

describe('compiled CEL expression semantics', () => {
  it.each(MODES)('matches the interpreter on every value (unary matrix, %s code)', (mode) => {
    const mismatches: string[] = [];
    let n = 0;
    let fallbacks = 0;
    for (const expr of UNARY) {
      for (const [name, a] of Object.entries(VALUES)) {
        const ctx = { a };
        const got = compiled(expr, ctx, mode);
        n++;
        if (got.kind === 'fallback') {
          fallbacks++;
          continue;
        }
        const want = interpret(expr, ctx);
        if (show(got) !== show(want))
          mismatches.push(`${expr} with a=${name}: ${show(got)} != ${show(want)}`);
      }
    }
    console.log(
      `cel-compiler: unary matrix (${mode}) ${n} evaluations, ${fallbacks} fallbacks, ${mismatches.length} mismatches`,
    );
    expect(mismatches).toEqual([]);
  });

  it.each(MODES)('matches the interpreter on every pair of values (binary matrix, %s code)', (mode) => {
    const mismatches: string[] = [];
    let n = 0;
    let fallbacks = 0;
    for (const expr of BINARY) {
      for (const [na, a] of Object.entries(VALUES)) {
        for (const [nb, b] of Object.entries(VALUES)) {
          const ctx = { a, b };
          const got = compiled(expr, ctx, mode);
          n++;
          if (got.kind === 'fallback') {
            fallbacks++;
            continue;
          }
          const want = interpret(expr, ctx);
          if (show(got) !== show(want))
            mismatches.push(`${expr} with a=${na} b=${nb}: ${show(got)} != ${show(want)}`);
        }
      }
    }
    console.log(
      `cel-compiler: binary matrix (${mode}) ${n} evaluations, ${fallbacks} fallbacks, ${mismatches.length} mismatches`,
    );
    expect(mismatches.slice(0, 30)).toEqual([]);
  });

  // Chains of && and || (compiled as one block each) and their nesting, with every operand a bool, an
  // error, or a value that is not a bool, in every position.
  const OPERANDS: Record<string, string> = {
    t: 'm.t',
    f: 'm.f',
    e: 'm.missing',
    s: 'm.s',
    n: 'm.n',
    x: 'm.l.exists(v, v.a == 1)',
    y: 'm.l.all(v, v.a == 1)',
  };
  const CHAIN_CTX = { m: { t: true, f: false, s: 'str', n: null, l: [{ a: 2 }, {}, { a: 1 }] } };
  const CHAIN_SHAPES = [
    (a: string, b: string) => `${a} && ${b}`,
    (a: string, b: string) => `${a} || ${b}`,
    (a: string, b: string, c: string) => `${a} && ${b} && ${c}`,
    (a: string, b: string, c: string) => `${a} || ${b} || ${c}`,
    (a: string, b: string, c: string) => `${a} && ${b} || ${c}`,
    (a: string, b: string, c: string) => `${a} || ${b} && ${c}`,
    (a: string, b: string, c: string) => `(${a} || ${b}) && ${c}`,
    (a: string, b: string, c: string) => `${a} && (${b} || ${c})`,
    (a: string, b: string, c: string) => `!(${a} && ${b}) || ${c}`,
    (a: string, b: string, c: string) => `${a} ? ${b} : ${c}`,
    (a: string, b: string, c: string) => `[1, 2].exists(i, ${a} && (${b} || ${c}))`,
    (a: string, b: string, c: string) => `[1, 2].all(i, ${a} || ${b} && ${c})`,
    (a: string, b: string, c: string, d: string) => `${a} && ${b} && ${c} && ${d}`,
    (a: string, b: string, c: string, d: string) => `${a} || ${b} || ${c} || ${d}`,
  ];

  it.each(MODES)('matches the interpreter on chains of && and || (%s code)', (mode) => {
    const mismatches: string[] = [];
    let n = 0;
    for (const shape of CHAIN_SHAPES) {
      // Four-operand chains with the plain operands only: the comprehensions are covered by the others.
      const names = shape.length < 4 ? Object.keys(OPERANDS) : ['t', 'f', 'e', 's', 'n'];
      const combos = (k: number): string[][] =>
        k === 0 ? [[]] : combos(k - 1).flatMap((c) => names.map((x) => [...c, x]));
      for (const combo of combos(shape.length)) {
        const expr = (shape as (...xs: string[]) => string)(...combo.map((x) => OPERANDS[x]!));
        const got = compiled(expr, CHAIN_CTX, mode);
        const want = interpret(expr, CHAIN_CTX);
        n++;
        if (show(got) !== show(want)) mismatches.push(`${expr}: ${show(got)} != ${show(want)}`);
      }
    }
    console.log(`cel-compiler: chain matrix (${mode}) ${n} expressions, ${mismatches.length} mismatches`);
    expect(mismatches.slice(0, 30)).toEqual([]);
    expect(n).toBeGreaterThan(3000);
  });

  it('runs the exact code when the fast code meets an error, and absorbs it as cel-js does', () => {
    const before = celExactStats.runs;
    expect(compiled('m.missing == 1 || m.t', CHAIN_CTX)).toEqual({ kind: 'value', value: true });
    expect(compiled('m.t && m.missing == 1', CHAIN_CTX)).toEqual({ kind: 'error' });
    expect(celExactStats.runs - before).toBe(2);
    expect(compiled('m.t && m.f', CHAIN_CTX)).toEqual({ kind: 'value', value: false });
    expect(celExactStats.runs - before).toBe(2);
  });

  it('reuses a subexpression several conditions share only on the same context', () => {
    // Conditions sharing subexpressions (an error among them), evaluated on contexts with ids in
    // different orders, two contexts interleaved: every result is the interpreter's.
    const conditions = [
      'size(m.l) > 0 && m.l.exists(x, x == "a")',
      'size(m.l) > 0 || m.?k.orValue("") == "v"',
      '!(size(m.l) > 0) && m.?k.orValue("") == ""',
      'm.?k.orValue("") == "" && size(m.l) > 0',
      'm.l.exists(x, x == "a") || lower(m.?k.orValue("")) == "v"',
    ];
    const values: unknown[] = [['a'], ['b', 'c'], [], { a: 1 }, 'str', null, undefined];
    const contexts = values.flatMap((l) =>
      ['v', undefined].map((k) => {
        const m: Record<string, unknown> = {};
        if (l !== undefined) m['l'] = l;
        if (k !== undefined) m['k'] = k;
        return { m };
      }),
    );
    const mismatches: string[] = [];
    for (const order of [conditions, [...conditions].reverse()]) {
      for (let i = 0; i < contexts.length; i++) {
        const a = { [CEL_CONTEXT_ID]: newCelContextId(), ...contexts[i]! };
        const b = { [CEL_CONTEXT_ID]: newCelContextId(), ...contexts[(i + 1) % contexts.length]! };
        for (const expr of order) {
          for (const ctx of [a, b]) {
            for (const mode of MODES) {
              const got = compiled(expr, ctx, mode);
              const want = interpret(expr, ctx);
              if (show(got) !== show(want))
                mismatches.push(`${expr} (${mode}) on ${JSON.stringify(ctx)}: ${show(got)} != ${show(want)}`);
            }
          }
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  const cases: Array<[string, Record<string, unknown>, unknown]> = [
    // && and || absorb an error on either side when the other side decides alone.
    ['m.missing == 1 && false', { m: {} }, false],
    ['false && m.missing == 1', { m: {} }, false],
    ['m.missing == 1 || true', { m: {} }, true],
    ['true || m.missing == 1', { m: {} }, true],
    ['m.missing == 1 && true', { m: {} }, 'error'],
    ['true && m.missing == 1', { m: {} }, 'error'],
    ['m.missing == 1 || false', { m: {} }, 'error'],
    ['m.a.b == 1 || m.c.d == 1', { m: {} }, 'error'],
    ['m.s && false', { m: { s: 's' } }, false],
    ['m.s && true', { m: { s: 's' } }, 'error'],
    ['m.s || m.t', { m: { s: 's', t: true } }, true],
    ['m.s || m.t', { m: { s: 's', t: false } }, 'error'],
    // Optional chaining.
    ['m.?a.?b.orValue(5)', { m: { a: { b: 2n } } }, 2n],
    ['m.?a.?b.orValue(5)', { m: { a: null } }, 5n],
    ['m.?a.b.orValue(5)', { m: { a: 'str' } }, 5n],
    ['m.?a.hasValue()', { m: { a: null } }, true],
    ['m[?"a-b"].orValue(1)', { m: { 'a-b': 'x' } }, 'x'],
    ['m.a.?b.orValue(1)', { m: {} }, 'error'],
    // int/double.
    ['m.port == 22', { m: { port: 22 } }, true],
    ['m.port > 21', { m: { port: 22 } }, true],
    ['m.port + 1', { m: { port: 22 } }, 'error'],
    ['m.n + 1', { m: { n: 9223372036854775807n } }, 'error'],
    ['double(m.s) > 1.0', { m: { s: ' 2' } }, 'error'],
    ['double(m.s) > 1.0', { m: { s: '2e3' } }, true],
    ['string(m.d)', { m: { d: 1e21 } }, '1e+21'],
    // in.
    ['"a" in m', { m: { a: 1 } }, true],
    ['"b" in m', { m: { a: 1 } }, false],
    ['m.x in ["a", "b"]', { m: { x: 'b' } }, true],
    ['m.x in ["a", "b"]', { m: { x: null } }, false],
    ['"a" in m.l', { m: { l: ['a'] } }, true],
    ['"a" in m.s', { m: { s: 'abc' } }, 'error'],
    // Macros.
    ['m.l.exists(x, x.a == 1)', { m: { l: [{}, { a: 1 }] } }, true],
    ['m.l.exists(x, x.a == 1)', { m: { l: [{}, { a: 2 }] } }, 'error'],
    ['m.l.all(x, x.a == 1)', { m: { l: [{}, { a: 2 }] } }, false],
    ['m.l.all(x, x.a == 1)', { m: { l: [{}, { a: 1 }] } }, 'error'],
    ['m.l.exists_one(x, x == 1)', { m: { l: [1, 2, 1] } }, false],
    ['m.l.map(x, x + "!").size() == 2', { m: { l: ['a', 'b'] } }, true],
    ['m.l.filter(x, x.startsWith("a"))[0]', { m: { l: ['b', 'ab'] } }, 'ab'],
    ['m.l.exists(x, x == "k")', { m: { l: { k: 1 } } }, true],
    ['m.l.exists(x, m.l.exists(x, x == 2))', { m: { l: [1, 2] } }, true],
    // Missing keys, null values, conversions.
    ['m.a', { m: {} }, 'error'],
    ['m.a == null', { m: { a: null } }, true],
    ['m.a.b', { m: { a: null } }, 'error'],
    ['has(m.a)', { m: { a: null } }, true],
    ['has(m.a.b)', { m: {} }, 'error'],
    ['has(m.a.b)', { m: { a: 'str' } }, false],
    ['string(m.a)', { m: { a: null } }, 'error'],
    ['lower(m.a)', { m: { a: null } }, 'error'],
    ['size(m.a)', { m: { a: 'héllo😀' } }, 6n],
    ['unknown == 1', {}, 'error'],
  ];

  it('declines what it does not reproduce (the interpreter then runs the policy)', () => {
    for (const expr of ['{"k": a}.k', 'a / 2', 'a % 2', 'int(a) == 1', 'a.split(",").size() == 2']) {
      expect(compileCondition(env, expr)).toBeNull();
    }
  });

  it.each(cases)('%s on %j', (expr, ctx, want) => {
    const interpreted = interpret(expr, ctx);
    for (const mode of MODES) {
      const got = compiled(expr, ctx, mode);
      expect(got.kind).not.toBe('fallback');
      expect(show(got)).toBe(show(interpreted));
      expect(got.kind === 'error' ? 'error' : (got as { value: unknown }).value).toEqual(want);
    }
  });
});
