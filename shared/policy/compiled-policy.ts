import type { Environment } from '@marcbachmann/cel-js';
import type { Asset } from '../model/asset.js';
import { labelsOf, projectOf } from '../model/asset.js';
import type { RemediationRef } from '../model/finding.js';
import {
  CEL_CONTEXT_ID,
  CEL_FALLBACK,
  celCompilerStats,
  compileCel,
  newCelContextId,
  type CelAstNode,
} from './cel-compiler.js';
import type { PolicyFile } from './policy-schema.js';

type CompiledExpression = ReturnType<Environment['parse']>;

/** What a condition may see beyond the asset itself. */
export interface EvaluationEnv {
  /** The asset's known ancestors (project, folders, organization), nearest first; may be incomplete. */
  ancestry: Asset[];
  /** Projects ("projects/NUMBER") inside any VPC Service Controls perimeter, if perimeters are known. */
  perimeters: { known: boolean; projects: string[] };
  /** policies/params.yaml, camelCased. */
  params: Record<string, unknown>;
  /** RFC 3339: "now" for age rules, injected so that verdicts are reproducible. */
  now: string;
  /** Assets of the types the asset's policies declare as `related`, in its project or under it. */
  related?: Asset[];
  /**
   * Related asset types whose absence means something: the inventory was listed for them (an export
   * filtered to other types says nothing about log metrics, so rules must stay silent then).
   */
  relatedKnown?: string[];
}

export interface CompiledPolicy {
  readonly def: PolicyFile;
  readonly file: string;
  readonly remediation: RemediationRef;
  /** Team rules apply only under these folders or projects; undefined means everywhere. */
  readonly scope: readonly string[] | undefined;
  /** Whether the condition runs compiled (cel-compiler.ts) rather than in the cel-js interpreter. */
  readonly compiled: boolean;
  /**
   * The type-checked condition its fast code is compiled from, when it has fast code: a policy set compiles
   * those of one asset type together (compileCelGroup).
   */
  readonly groupable?: CelAstNode;
  evaluate(asset: Asset, env: EvaluationEnv): Verdict;
  /**
   * The same verdict on a context `evaluationContext` already built: a set of policies evaluating one asset
   * builds it once instead of once per policy (the scan's hot path).
   */
  evaluateContext(ctx: Record<string, unknown>): Verdict;
  /** The verdict on `ctx` once the condition is known to have evaluated to `violated` on it. */
  verdictFor(violated: boolean, ctx: Record<string, unknown>): Verdict;
}

export type Verdict =
  | { kind: 'pass' }
  | { kind: 'violation'; evidence: Record<string, unknown> }
  /** The condition could not be evaluated on this asset (bad data or a policy bug): neither pass nor finding. */
  | { kind: 'error'; message: string };

function assetView(asset: Asset): Record<string, unknown> {
  return {
    name: asset.name,
    assetType: asset.assetType,
    ancestors: asset.ancestors,
    project: projectOf(asset) ?? '',
    labels: labelsOf(asset),
  };
}

function ancestorView(a: Asset): Record<string, unknown> {
  return {
    ...assetView(a),
    resource: a.resource ?? { data: {} },
    iamPolicy: a.iamPolicy ?? { bindings: [] },
    orgPolicy: a.orgPolicy ?? [],
  };
}

/**
 * Views of an ancestry array, kept per array: a scan passes the same (never mutated) array for every asset
 * under the same projects and folders. Callers building a fresh array per evaluation never hit it.
 */
const ancestryViews = new WeakMap<readonly Asset[], Array<Record<string, unknown>>>();

function ancestryView(ancestry: readonly Asset[]): Array<Record<string, unknown>> {
  let views = ancestryViews.get(ancestry);
  if (!views) {
    views = ancestry.map(ancestorView);
    ancestryViews.set(ancestry, views);
  }
  return views;
}

/**
 * The variables a condition sees (documented for policy authors in policies/README.md). The context is a
 * snapshot: it must not be changed once built (compiled conditions evaluated on it reuse what they computed
 * on it, by its id); build a new one for changed inputs.
 */
export function evaluationContext(asset: Asset, env: EvaluationEnv): Record<string, unknown> {
  return {
    [CEL_CONTEXT_ID]: newCelContextId(),
    resource: asset.resource ?? { data: {} },
    iamPolicy: asset.iamPolicy ?? { bindings: [] },
    orgPolicy: asset.orgPolicy ?? [],
    accessPolicy: asset.accessPolicy ?? {},
    servicePerimeter: asset.servicePerimeter ?? {},
    asset: assetView(asset),
    ancestry: ancestryView(env.ancestry),
    perimeters: env.perimeters,
    params: env.params,
    now: env.now,
    related: env.related ? env.related.map(ancestorView) : [],
    relatedKnown: env.relatedKnown ?? [],
  };
}

/** Frozen: one shared pass verdict instead of an allocation per evaluation. */
const PASS: Verdict = Object.freeze({ kind: 'pass' });

function pick(ctx: Record<string, unknown>, path: readonly string[]): unknown {
  let cur: unknown = ctx;
  for (const key of path) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** `WARDEN_CEL=interpreter` evaluates every condition with the cel-js interpreter (debugging, differential tests). */
export function celCompilerEnabled(): boolean {
  return process.env['WARDEN_CEL'] !== 'interpreter';
}

/**
 * The condition compiled to JavaScript (shared/policy/cel-compiler.ts), or null when it uses a construct
 * the compiler does not reproduce. It is compiled from its own parse, type-checked up front: the interpreter's
 * AST is left exactly as cel-js leaves it.
 */
export function compileCondition(
  env: Environment,
  condition: string,
  options: { exactOnly?: boolean } = {},
): ((ctx: Record<string, unknown>) => unknown) | null {
  return compileTyped(env, condition, options)?.run ?? null;
}

function compileTyped(
  env: Environment,
  condition: string,
  options: { exactOnly?: boolean },
): { run: (ctx: Record<string, unknown>) => unknown; ast: CelAstNode } | null {
  const typed = env.parse(condition);
  if (!typed.check().valid) return null;
  const ast = typed.ast as unknown as CelAstNode;
  const run = compileCel(ast, {}, options);
  return run ? { run, ast } : null;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

export function compilePolicy(
  env: Environment,
  def: PolicyFile,
  file: string,
  scope?: readonly string[],
  /** `exactOnly`: compiled without its fast code (tests compare both against the interpreter). */
  options: { compile?: boolean; exactOnly?: boolean } = {},
): CompiledPolicy {
  const expr: CompiledExpression = env.parse(def.condition);
  const exactOnly = options.exactOnly ?? false;
  const typed =
    (options.compile ?? celCompilerEnabled()) ? compileTyped(env, def.condition, { exactOnly }) : null;
  const compiled = typed?.run ?? null;
  const remediation: RemediationRef =
    'action' in def.remediation
      ? { kind: 'action', action: def.remediation.action, risk: def.remediation.risk }
      : { kind: 'recommendation', text: def.remediation.recommendation };
  const evidencePaths = def.evidence.map((p) => [p, p.split('.')] as const);
  const interpret = (ctx: Record<string, unknown>): unknown => expr(ctx);
  // The compiled closure; anything outside its fast paths (and any non-bool result) goes to the interpreter.
  const run = compiled
    ? (ctx: Record<string, unknown>): unknown => {
        let r: unknown;
        try {
          r = compiled(ctx);
        } catch (err) {
          if (err !== CEL_FALLBACK) throw err;
          celCompilerStats.fallbacks++;
          return expr(ctx);
        }
        if (r === true || r === false) return r;
        celCompilerStats.fallbacks++;
        return expr(ctx);
      }
    : interpret;
  const evaluateContext = (ctx: Record<string, unknown>): Verdict => {
    let result: unknown;
    try {
      result = run(ctx);
    } catch (err) {
      return { kind: 'error', message: errorMessage(err) };
    }
    if (result !== true && result !== false) {
      return { kind: 'error', message: `condition returned ${typeof result}, not bool` };
    }
    return verdictFor(result, ctx);
  };
  const verdictFor = (violated: boolean, ctx: Record<string, unknown>): Verdict => {
    if (!violated) return PASS;
    const evidence: Record<string, unknown> = {};
    for (const [path, keys] of evidencePaths) evidence[path] = pick(ctx, keys) ?? null;
    return { kind: 'violation', evidence };
  };
  return {
    def,
    file,
    remediation,
    scope,
    compiled: compiled !== null,
    // Code that only runs the exact code is for tests comparing it: never grouped into fast code.
    groupable: typed && !exactOnly ? typed.ast : undefined,
    evaluate: (asset: Asset, evalEnv: EvaluationEnv): Verdict =>
      evaluateContext(evaluationContext(asset, evalEnv)),
    evaluateContext,
    verdictFor,
  };
}
