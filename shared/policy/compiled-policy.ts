import type { Environment } from '@marcbachmann/cel-js';
import type { Asset } from '../model/asset.js';
import { labelsOf, projectOf } from '../model/asset.js';
import type { RemediationRef } from '../model/finding.js';
import type { PolicyFile } from './policy-schema.js';

type CompiledExpression = ReturnType<Environment['parse']>;

export interface CompiledPolicy {
  readonly def: PolicyFile;
  readonly file: string;
  readonly remediation: RemediationRef;
  evaluate(asset: Asset): Verdict;
}

export type Verdict =
  | { kind: 'pass' }
  | { kind: 'violation'; evidence: Record<string, unknown> }
  /** The condition could not be evaluated on this asset (bad data or a policy bug): neither pass nor finding. */
  | { kind: 'error'; message: string };

/** The variables a condition sees. */
export function evaluationContext(asset: Asset): Record<string, unknown> {
  return {
    resource: asset.resource ?? { data: {} },
    iamPolicy: asset.iamPolicy ?? { bindings: [] },
    asset: {
      name: asset.name,
      assetType: asset.assetType,
      ancestors: asset.ancestors,
      project: projectOf(asset) ?? '',
      labels: labelsOf(asset),
    },
  };
}

function pick(ctx: Record<string, unknown>, path: string): unknown {
  let cur: unknown = ctx;
  for (const key of path.split('.')) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

export function compilePolicy(env: Environment, def: PolicyFile, file: string): CompiledPolicy {
  const expr: CompiledExpression = env.parse(def.condition);
  const remediation: RemediationRef =
    'action' in def.remediation
      ? { kind: 'action', action: def.remediation.action, risk: def.remediation.risk }
      : { kind: 'recommendation', text: def.remediation.recommendation };
  return {
    def,
    file,
    remediation,
    evaluate(asset: Asset): Verdict {
      const ctx = evaluationContext(asset);
      let result: unknown;
      try {
        result = expr(ctx);
      } catch (err) {
        return { kind: 'error', message: err instanceof Error ? err.message.split('\n')[0]! : String(err) };
      }
      if (result !== true && result !== false) {
        return { kind: 'error', message: `condition returned ${typeof result}, not bool` };
      }
      if (!result) return { kind: 'pass' };
      const evidence: Record<string, unknown> = {};
      for (const path of def.evidence) evidence[path] = pick(ctx, path) ?? null;
      return { kind: 'violation', evidence };
    },
  };
}
