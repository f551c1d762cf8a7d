/**
 * Faults the twin injects into matching calls, so that retries, conflicts and failed operations are
 * exercised through the real clients.
 */
export interface FaultRule {
  /** Both parts must match; an absent part matches anything. A string pattern matches as a substring of the path. */
  match: { method?: string; pathPattern?: RegExp | string };
  /** Delay before the call is handled (real time). */
  latencyMs?: number;
  /** Probability (0..1) that a matched call fails with errorStatus; default 1 when errorStatus is set. */
  errorRate?: number;
  errorStatus?: 429 | 503 | 500;
  /** A matched call that starts a long-running operation gets an operation that ends DONE with an error. */
  failOperation?: boolean;
  /**
   * Just before the matched call is handled, someone else changes the resource it addresses (new
   * metageneration/etag, a changed field), so a precondition taken from an earlier read fails.
   */
  concurrentModification?: boolean;
  /** How many matched calls the rule affects; unlimited when absent. */
  times?: number;
}

/** What the matched rules decided for one call. */
export interface FaultEffects {
  latencyMs: number;
  errorStatus?: 429 | 503 | 500;
  failOperation: boolean;
  concurrentModification: boolean;
}

export { seededRng } from '../util/seeded-random.js';

export function ruleMatches(rule: FaultRule, method: string, path: string): boolean {
  if (rule.times !== undefined && rule.times <= 0) return false;
  if (rule.match.method !== undefined && rule.match.method.toUpperCase() !== method.toUpperCase())
    return false;
  const p = rule.match.pathPattern;
  if (p === undefined) return true;
  if (typeof p === 'string') return path.includes(p);
  p.lastIndex = 0; // a /g or /y pattern keeps state between test() calls
  return p.test(path);
}

/** Applies every live rule matching the call (in order), consuming one of each rule's `times`. */
export function decideFaults(
  rules: FaultRule[],
  method: string,
  path: string,
  rng: () => number,
): FaultEffects {
  const effects: FaultEffects = { latencyMs: 0, failOperation: false, concurrentModification: false };
  for (const rule of rules) {
    if (!ruleMatches(rule, method, path)) continue;
    if (rule.times !== undefined) rule.times -= 1;
    effects.latencyMs += rule.latencyMs ?? 0;
    if (rule.failOperation) effects.failOperation = true;
    if (rule.concurrentModification) effects.concurrentModification = true;
    if (rule.errorStatus !== undefined && effects.errorStatus === undefined) {
      if (rng() < (rule.errorRate ?? 1)) effects.errorStatus = rule.errorStatus;
    }
  }
  return effects;
}
