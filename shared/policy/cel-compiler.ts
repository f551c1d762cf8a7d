/**
 * Compiles a type-checked cel-js AST to JavaScript source, one function per condition (`new Function`,
 * with the runtime helpers below passed in): the same verdicts as the cel-js interpreter, several times
 * faster, because every node's dispatch, overload lookup and context overlay is resolved once at compile
 * time, and V8 compiles each condition as straight-line code (a tree of closures made every call site
 * megamorphic).
 *
 * Each condition has two versions, generated on first use:
 * - the fast code, with no error handling at all: it assumes the common case (every operand of && and ||
 *   a bool, nothing raising an error) and leaves at the first sign of anything else;
 * - the exact code, which absorbs errors in &&, ||, exists and all exactly as cel-js does; it evaluates
 *   the condition again whenever the fast code left. Evaluation has no side effects, so that is exact.
 * Subexpressions that several conditions hold are computed once per evaluation context (see
 * `newCelContextId`), and those a condition holds twice once per evaluation. A policy set runs the fast
 * code of an asset type's conditions as one function (`compileCelGroup`), and a condition's own functions
 * only when that code does not decide.
 *
 * Two escape hatches keep it exactly equivalent to cel-js:
 * - `compileCel` returns null for any construct it does not know (the caller keeps the interpreter);
 * - at run time, a value outside the fast paths (a Map, a Set, a class instance, an optional where a plain
 *   value was expected, an operand combination not reproduced here) throws `CEL_FALLBACK`, and the caller
 *   evaluates the whole expression again with the interpreter. `CEL_FALLBACK` is never absorbed by `&&`,
 *   `||`, `exists` or `all` the way evaluation errors are.
 *
 * Values are those cel-js uses: bigint for int, number for double, string, boolean, null, arrays for lists,
 * plain objects for maps. Optionals are this module's own `Opt`, which never leaves compiled code (a custom
 * function or the final result receiving one falls back).
 */

/** Thrown when compiled code meets a value it does not model: re-evaluate with the interpreter. */
export class CelFallback extends Error {}
export const CEL_FALLBACK = new CelFallback('CEL fallback to the interpreter');

/** An evaluation error (cel-js would raise one too); created without a stack trace, which costs more than the evaluation. */
export class CelEvalError extends Error {}

function celError(message: string): Error {
  const e = Object.create(CelEvalError.prototype) as CelEvalError;
  e.message = message;
  return e;
}

/** How often compiled code handed an evaluation to the interpreter (tests and diagnostics). */
export const celCompilerStats = { fallbacks: 0 };

/** The subset of cel-js AST nodes this compiler reads (after `check()`, which sets `checkedType`). */
export interface CelAstNode {
  op: string;
  args: unknown;
  checkedType?: { kind: string; name: string };
  readonly meta: { alternate?: CelAstNode; macro?: Record<string, unknown> };
  candidates?: { declarations: CelDeclaration[] };
}

interface CelDeclaration {
  name: string;
  receiverType: { name: string } | null;
  argTypes: Array<{ name: string }>;
  macro: boolean;
  handler: (...args: unknown[]) => unknown;
}

/** Overrides of custom function implementations by name; by default the environment's registered handler runs. */
export type CelFunctions = Readonly<Record<string, (...args: never[]) => unknown>>;

type Ctx = Record<string, unknown>;

class Opt {
  constructor(readonly v: unknown) {}
}
const NONE = new Opt(undefined);
const some = (v: unknown): Opt => (v === undefined ? NONE : new Opt(v));

const hasOwn = Object.hasOwn;

// ---------------------------------------------------------------------------------------------------------
// Runtime kinds

const K_NULL = 0;
const K_BOOL = 1;
const K_INT = 2;
const K_DOUBLE = 3;
const K_STRING = 4;
const K_LIST = 5;
const K_MAP = 6;
const K_OTHER = 7;
const KIND_NAMES = ['null', 'bool', 'int', 'double', 'string', 'list', 'map', 'other'];

function kindOf(v: unknown): number {
  switch (typeof v) {
    case 'string':
      return K_STRING;
    case 'number':
      return K_DOUBLE;
    case 'boolean':
      return K_BOOL;
    case 'bigint':
      return K_INT;
    case 'object': {
      if (v === null) return K_NULL;
      const c = (v as object).constructor;
      if (c === Object || c === undefined) return K_MAP;
      if (c === Array) return K_LIST;
      return K_OTHER;
    }
    default:
      return K_OTHER;
  }
}

/** A kind this module models, else fall back (Opt, Map, Set, Date, class instances, functions...). */
function knownKind(v: unknown): number {
  const k = kindOf(v);
  if (k === K_OTHER) throw CEL_FALLBACK;
  return k;
}

const noSuchKey = (key: unknown): Error => celError(`No such key: ${String(key)}`);
const noOverload = (what: string): Error => celError(`no such overload: ${what}`);

/** cel-js runs debugType on a value read from a map: unknown object types raise there. */
function checkValue(v: unknown): unknown {
  if (typeof v === 'object') {
    if (v !== null) {
      const c = (v as object).constructor;
      if (c !== Object && c !== Array && c !== undefined) throw CEL_FALLBACK;
    }
  } else if (typeof v === 'function' || typeof v === 'symbol' || v === undefined) {
    throw CEL_FALLBACK;
  }
  return v;
}

/** `o.key` on a dyn operand (cel-js fieldAccess). */
function getField(o: unknown, key: string): unknown {
  if (typeof o === 'object') {
    if (o === null) throw noSuchKey(key);
    const c = (o as object).constructor;
    if (c === Object || c === undefined) {
      if (hasOwn(o, key)) {
        const v = (o as Ctx)[key];
        if (v !== undefined) return checkValue(v);
      }
      throw noSuchKey(key);
    }
    if (c === Array) throw noSuchKey(key);
    throw CEL_FALLBACK;
  }
  if (typeof o === 'function' || typeof o === 'symbol' || o === undefined) throw CEL_FALLBACK;
  throw noSuchKey(key);
}

/** `o[key]` on a dyn operand. */
function getIndex(o: unknown, key: unknown): unknown {
  if (typeof key === 'string') return getField(o, key);
  if ((typeof key === 'bigint' || typeof key === 'number') && kindOf(o) === K_LIST) {
    const list = o as unknown[];
    const v = list[Number(key)];
    if (v === undefined) throw noSuchKey(key);
    return checkValue(v);
  }
  throw CEL_FALLBACK;
}

/** The value of an optional field access on a plain value; undefined when absent (cel-js getOptionalField). */
function rawOptField(o: unknown, key: string): unknown {
  switch (typeof o) {
    case 'object': {
      if (o === null) return undefined;
      const c = (o as object).constructor;
      if (c === Object || c === undefined) return hasOwn(o, key) ? checkOptValue((o as Ctx)[key]) : undefined;
      if (c === Array) return undefined;
      throw CEL_FALLBACK;
    }
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
      return undefined;
    default:
      throw CEL_FALLBACK;
  }
}

/** A map value read by an optional access: cel-js turns a value of an unknown type into an empty optional. */
function checkOptValue(v: unknown): unknown {
  if (typeof v === 'object' && v !== null) {
    const c = (v as object).constructor;
    if (c !== Object && c !== Array && c !== undefined) throw CEL_FALLBACK;
  } else if (typeof v === 'function' || typeof v === 'symbol') {
    throw CEL_FALLBACK;
  }
  return v;
}

/** `.?key` (or `.key` on an optional): unwraps an optional operand, returns an optional. */
function optField(o: unknown, key: string): Opt {
  if (o instanceof Opt) {
    if (o.v === undefined) return NONE;
    o = o.v;
  }
  return some(rawOptField(o, key));
}

function optIndex(o: unknown, key: unknown): Opt {
  if (typeof key === 'string') return optField(o, key);
  throw CEL_FALLBACK;
}

// ---------------------------------------------------------------------------------------------------------
// Operators

function isPrimitiveKind(k: number): boolean {
  return k <= K_STRING;
}

/** cel-js isEqual (element equality inside lists, maps and `in`). */
function isEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const ka = knownKind(a);
  const kb = knownKind(b);
  if (ka === K_INT || ka === K_DOUBLE) return (kb === K_INT || kb === K_DOUBLE) && a == b;
  if (ka === K_STRING || ka === K_BOOL) return false;
  if (kb <= K_STRING && kb !== K_NULL) return false;
  // Both objects (null, list or map).
  if (ka !== kb) return false;
  if (ka === K_LIST) return listEquals(a as unknown[], b as unknown[]);
  if (ka === K_MAP) return mapEquals(a as Ctx, b as Ctx);
  return false;
}

function listEquals(a: unknown[], b: unknown[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!isEqual(a[i], b[i])) return false;
  return true;
}

function mapEquals(a: Ctx, b: Ctx): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const key of ka) {
    if (!hasOwn(b, key)) {
      if (key in b) throw CEL_FALLBACK;
      return false;
    }
    if (!isEqual(a[key], b[key])) return false;
  }
  return true;
}

/** `==` between dyn operands: heterogeneous equality, never an error. */
function celEquals(a: unknown, b: unknown): boolean {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka === K_OTHER || kb === K_OTHER) {
    if (isTypeValue(a) && isTypeValue(b)) return a === b;
    throw CEL_FALLBACK;
  }
  if (ka === kb) {
    if (isPrimitiveKind(ka)) return a === b;
    if (ka === K_LIST) return listEquals(a as unknown[], b as unknown[]);
    return mapEquals(a as Ctx, b as Ctx);
  }
  if ((ka === K_INT && kb === K_DOUBLE) || (ka === K_DOUBLE && kb === K_INT)) return a == b;
  return false;
}

function celCompare(a: unknown, b: unknown, op: string): boolean {
  const ta = typeof a;
  const tb = typeof b;
  if (
    ((ta === 'bigint' || ta === 'number') && (tb === 'bigint' || tb === 'number')) ||
    (ta === 'string' && tb === 'string') ||
    (ta === 'boolean' && tb === 'boolean')
  ) {
    const x = a as number;
    const y = b as number;
    switch (op) {
      case '<':
        return x < y;
      case '<=':
        return x <= y;
      case '>':
        return x > y;
      default:
        return x >= y;
    }
  }
  knownKind(a);
  knownKind(b);
  throw noOverload(`${KIND_NAMES[kindOf(a)]} ${op} ${KIND_NAMES[kindOf(b)]}`);
}

const MAX_INT = 9223372036854775807n;
const MIN_INT = -9223372036854775808n;

function checkInt(v: bigint): bigint {
  if (v <= MAX_INT && v >= MIN_INT) return v;
  throw celError(`integer overflow: ${v}`);
}

function celArith(a: unknown, b: unknown, op: string): unknown {
  const ka = knownKind(a);
  const kb = knownKind(b);
  if (ka === kb) {
    if (ka === K_INT) {
      const x = a as bigint;
      const y = b as bigint;
      if (op === '+') return checkInt(x + y);
      if (op === '-') return checkInt(x - y);
      if (op === '*') return checkInt(x * y);
    } else if (ka === K_DOUBLE) {
      const x = a as number;
      const y = b as number;
      if (op === '+') return x + y;
      if (op === '-') return x - y;
      if (op === '*') return x * y;
    } else if (op === '+') {
      if (ka === K_STRING) return (a as string) + (b as string);
      if (ka === K_LIST) return [...(a as unknown[]), ...(b as unknown[])];
    }
  }
  throw noOverload(`${KIND_NAMES[ka]} ${op} ${KIND_NAMES[kb]}`);
}

/** Element of a list matches a primitive (cel-js listIncludes with isEqual). */
function celIn(a: unknown, b: unknown): boolean {
  const kb = knownKind(b);
  if (kb === K_LIST) {
    const list = b as unknown[];
    const ka = knownKind(a);
    if (!isPrimitiveKind(ka)) throw CEL_FALLBACK;
    for (let i = 0; i < list.length; i++) {
      const e = list[i];
      if (e === a) return true;
      const ke = knownKind(e);
      if ((ka === K_INT && ke === K_DOUBLE) || (ka === K_DOUBLE && ke === K_INT)) {
        if (a == e) return true;
      }
    }
    return false;
  }
  if (kb === K_MAP) {
    if (typeof a !== 'string') throw CEL_FALLBACK;
    return hasOwn(b as object, a) && (b as Ctx)[a] !== undefined;
  }
  knownKind(a);
  throw noOverload(`${KIND_NAMES[kindOf(a)]} in ${KIND_NAMES[kb]}`);
}

// ---------------------------------------------------------------------------------------------------------
// Built-in functions

function stringSize(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A surrogate pair counts once, as cel-js counts code points.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

function celSize(v: unknown, method: boolean): bigint {
  switch (knownKind(v)) {
    case K_STRING:
      return BigInt(stringSize(v as string));
    case K_LIST:
      return BigInt((v as unknown[]).length);
    case K_MAP:
      return BigInt(Object.keys(v as object).length);
    default:
      throw celError(
        method
          ? `found no matching overload for '${KIND_NAMES[kindOf(v)]}.size()'`
          : `found no matching overload for 'size(${KIND_NAMES[kindOf(v)]})'`,
      );
  }
}

function celString(v: unknown): string {
  switch (knownKind(v)) {
    case K_STRING:
      return v as string;
    case K_BOOL:
    case K_INT:
      return `${v as boolean}`;
    case K_DOUBLE:
      if (v === Infinity) return '+Inf';
      if (v === -Infinity) return '-Inf';
      return `${v as number}`;
    default:
      throw celError(`found no matching overload for 'string(${KIND_NAMES[kindOf(v)]})'`);
  }
}

function celDouble(v: unknown): number {
  switch (knownKind(v)) {
    case K_DOUBLE:
      return v as number;
    case K_INT:
      return Number(v);
    case K_STRING: {
      const s = v as string;
      if (!s || s !== s.trim()) throw celError('double() type error: cannot convert to double');
      switch (s.toLowerCase()) {
        case 'inf':
        case '+inf':
        case 'infinity':
        case '+infinity':
          return Number.POSITIVE_INFINITY;
        case '-inf':
        case '-infinity':
          return Number.NEGATIVE_INFINITY;
        case 'nan':
          return Number.NaN;
        default: {
          const parsed = Number(s);
          if (!Number.isNaN(parsed)) return parsed;
          throw celError('double() type error: cannot convert to double');
        }
      }
    }
    default:
      throw celError(`found no matching overload for 'double(${KIND_NAMES[kindOf(v)]})'`);
  }
}

/** cel-js `Type` values (what `type(x)` returns and identifiers such as `string` denote); the class is not exported. */
const typeClasses = new Set<unknown>();

function isTypeValue(v: unknown): boolean {
  return v !== null && typeof v === 'object' && typeClasses.has((v as object).constructor);
}

/** Whether `v` is a cel-js Type (recognised by its class name and text), remembering its class. */
function registerTypeValue(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return false;
  const c = (v as object).constructor as { name?: string } | undefined;
  if (!c || c.name !== 'Type' || !/^Type<.*>$/.test(String(v))) return false;
  typeClasses.add(c);
  return true;
}

function requireString(v: unknown, what: string): string {
  if (typeof v === 'string') return v;
  knownKind(v);
  throw celError(`found no matching overload for '${what}' with ${KIND_NAMES[kindOf(v)]}`);
}

function toIterable(v: unknown): readonly unknown[] {
  const k = knownKind(v);
  if (k === K_LIST) return v as unknown[];
  if (k === K_MAP) return Object.keys(v as object);
  throw celError(
    `Expression of type '${KIND_NAMES[k]}' cannot be range of a comprehension (must be list, map, or dynamic).`,
  );
}

function asBool(v: unknown, label: string): boolean {
  if (v === true || v === false) return v;
  if (v instanceof Opt || kindOf(v) === K_OTHER) throw CEL_FALLBACK;
  throw celError(`${label}, got '${KIND_NAMES[kindOf(v)]}'`);
}

// ---------------------------------------------------------------------------------------------------------
// Code generation

class Unsupported extends Error {}
const unsupported = (what: string): never => {
  throw new Unsupported(what);
};

/** `x.hasValue()` / `x.value()` on a dyn receiver: only optionals have them. */
function dynOptMethod(o: unknown, name: string): unknown {
  if (!(o instanceof Opt)) {
    knownKind(o);
    throw celError(`found no matching overload for '${KIND_NAMES[kindOf(o)]}.${name}()'`);
  }
  return optMethod(o, name);
}

/** The same on an optional-typed receiver: anything else is outside what compiled code models. */
function strictOptMethod(o: unknown, name: string): unknown {
  if (!(o instanceof Opt)) throw CEL_FALLBACK;
  return optMethod(o, name);
}

/** The receiver (or argument) of orValue / or, which must be an optional. */
function optOperand(o: unknown, message: string): Opt {
  if (!(o instanceof Opt)) {
    knownKind(o);
    throw celError(message);
  }
  return o;
}

function unknownVariable(name: string): never {
  throw celError(`Unknown variable: ${name}`);
}

function celNot(v: unknown): boolean {
  if (v === true) return false;
  if (v === false) return true;
  knownKind(v);
  throw noOverload(`!${KIND_NAMES[kindOf(v)]}`);
}

function celNeg(v: unknown): unknown {
  if (typeof v === 'bigint') return -v;
  if (typeof v === 'number') return -v;
  knownKind(v);
  throw noOverload(`-${KIND_NAMES[kindOf(v)]}`);
}

function strContains(s: unknown, t: unknown): boolean {
  return requireString(s, 'contains()').includes(requireString(t, 'contains()'));
}

function strStartsWith(s: unknown, t: unknown): boolean {
  return requireString(s, 'startsWith()').startsWith(requireString(t, 'startsWith()'));
}

function strEndsWith(s: unknown, t: unknown): boolean {
  return requireString(s, 'endsWith()').endsWith(requireString(t, 'endsWith()'));
}

function matchesDynamic(s: unknown, p: unknown): boolean {
  const str = requireString(s, 'matches()');
  const pattern = requireString(p, 'matches()');
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch {
    throw celError(`Invalid regular expression: ${pattern}`);
  }
  return re.test(str);
}

function matchesInvalid(s: unknown, pattern: string): never {
  requireString(s, 'matches()');
  throw celError(`Invalid regular expression: ${pattern}`);
}

/** has(a.b.c) from the value of `a`: the steps b, c (cel-js fieldLazy). */
function hasPath(o: unknown, keys: readonly string[]): boolean {
  const last = keys.length - 1;
  for (let i = 0; i <= last; i++) {
    o = lazyField(o, keys[i]!);
    if (o === undefined) {
      if (i < last) throw noSuchKey(keys[i]);
      return false;
    }
  }
  return true;
}

function celLess(a: unknown, b: unknown): boolean {
  return celCompare(a, b, '<');
}
function celLessEq(a: unknown, b: unknown): boolean {
  return celCompare(a, b, '<=');
}
function celGreater(a: unknown, b: unknown): boolean {
  return celCompare(a, b, '>');
}
function celGreaterEq(a: unknown, b: unknown): boolean {
  return celCompare(a, b, '>=');
}

/**
 * A pending operand of a chain of && (or ||): an error it raised (`e`), or, for the first operand only, a
 * value that is not a bool (`x`). A later operand equal to the deciding value drops it; cel-js's nested
 * operators raise it otherwise: `a && b` with `a` failing and `b` true raises a's error.
 */
class LogicalPending {
  constructor(
    readonly e: unknown,
    readonly x: unknown,
  ) {}
}

function logicalCatch(e: unknown): LogicalPending {
  if (e === CEL_FALLBACK) throw e;
  return new LogicalPending(e, undefined);
}

/** An operand that is neither bool (possibly a caught error): the chain's new pending state. */
function logicalPending(y: unknown, first: boolean): LogicalPending {
  if (y instanceof LogicalPending) return y;
  return first ? new LogicalPending(undefined, y) : new LogicalPending(logicalOperand(y), undefined);
}

/** The non-deciding bool after a pending operand: the pending error stands (as the nested operator raises). */
function logicalResolve(p: LogicalPending): LogicalPending {
  return new LogicalPending(p.e ?? logicalOperand(p.x), undefined);
}

/** The value of a context variable (a condition naming one the context lacks fails). */
function contextVariable(v: unknown, name: string): unknown {
  if (v === undefined) unknownVariable(name);
  return checkValue(v);
}

/** Stores a shared subexpression's value for the context `g` (none without an id) and returns it. */
function share(slot: number, g: unknown, v: unknown): unknown {
  if (g !== undefined) {
    shared.ids[slot] = g;
    shared.values[slot] = v;
  }
  return v;
}

/** `v == s` for a constant string `s`: the common case in place, the rest as `==` does it. */
function equalsString(v: unknown, s: string): boolean {
  return typeof v === 'string' ? v === s : celEquals(v, s);
}

/** `v in [...]` for a constant list of strings (the catalog's most common shape). */
function inStrings(v: unknown, set: ReadonlySet<string>, list: readonly string[]): boolean {
  return typeof v === 'string' ? set.has(v) : celIn(v, list);
}

/** The fast code of a chain of && met an operand that is not true: false ends it, anything else is slow. */
function andStop(y: unknown): false {
  if (y === false) return false;
  return celSlow();
}

/** The same for ||: true ends it. */
function orStop(y: unknown): true {
  if (y === true) return true;
  return celSlow();
}

/** The final value: an optional never leaves compiled code. */
function celResult(v: unknown): unknown {
  if (v instanceof Opt) throw CEL_FALLBACK;
  return v;
}

/**
 * Subexpressions several conditions share (`size(resource.data) > 0`, the GKE-node exclusion of the compute
 * rules, the Cloud SQL preamble...): their value is kept per evaluation context (see `newCelContextId`), so
 * that the policies evaluating one asset compute it once. Registered when a condition is compiled; the
 * conditions' code is generated on their first evaluation, when every condition of the policy set has been
 * registered.
 */
interface SharedEntry {
  /** Distinct conditions holding the subexpression. */
  conditions: number;
  /** Its slot in `shared.ids` / `shared.values`, given when code first uses it. */
  slot?: number;
}
const shared = {
  entries: new Map<string, SharedEntry>(),
  roots: new Set<string>(),
  /** Per slot: the context id the value was computed for, and the value. */
  ids: [] as unknown[],
  values: [] as unknown[],
};

/**
 * Thrown by the fast code of a condition when it meets what only the exact code handles (an error, or an
 * operand of && or || that is not a bool): the condition is then evaluated again by its exact code.
 */
const CEL_SLOW = Object.freeze({ celSlow: true });

function celSlow(): never {
  throw CEL_SLOW;
}

/** What a group function says of one of its conditions (see compileCelGroup). */
export const GROUP_FALSE = 0;
export const GROUP_TRUE = 1;
/** The fast code did not decide: the condition must be evaluated on its own (exact code, interpreter). */
export const GROUP_UNDECIDED = 2;

/** How often a condition's fast code handed an evaluation to its exact code (tests and diagnostics). */
export const celExactStats = { runs: 0 };

/** Where an evaluation context carries its id: values of shared subexpressions are kept per id. */
export const CEL_CONTEXT_ID: unique symbol = Symbol('cel context id');
let contextIds = 0;

/**
 * A new id for an evaluation context. A context with an id must not change while it is evaluated (the
 * values of subexpressions computed on it are reused by every condition evaluated on it); a context without
 * one is evaluated without that reuse.
 */
export function newCelContextId(): number {
  return ++contextIds;
}

/** A subexpression is shared between conditions when it is at least this big (nodes, calls count more). */
const SHARED_MIN_COST = 3;

/** What generated code calls, by these names. */
const RUNTIME = {
  FB: CEL_FALLBACK,
  NONE,
  some,
  knownKind,
  checkValue,
  getField,
  getIndex,
  rawOptField,
  optField,
  optIndex,
  celEquals,
  celIn,
  celLess,
  celLessEq,
  celGreater,
  celGreaterEq,
  celArith,
  celNot,
  celNeg,
  celSize,
  celString,
  celDouble,
  requireString,
  toIterable,
  asBool,
  logicalCatch,
  logicalPending,
  logicalResolve,
  predicateError,
  checkResult,
  dynOptMethod,
  strictOptMethod,
  optOperand,
  strContains,
  strStartsWith,
  strEndsWith,
  matchesDynamic,
  matchesInvalid,
  hasPath,
  celResult,
  CONTEXT_ID: CEL_CONTEXT_ID,
  celSlow,
  contextVariable,
  share,
  equalsString,
  inStrings,
  andStop,
  orStop,
  SHARED_IDS: shared.ids,
  SHARED_VALUES: shared.values,
};
const RUNTIME_NAMES = Object.keys(RUNTIME);

/** Generated code for a node: statements to run first, then an expression giving the node's value. */
interface Code {
  pre: string;
  expr: string;
}

interface Scope {
  /** CEL comprehension and bind variables: the JavaScript locals holding them. */
  readonly vars: ReadonlyMap<string, string>;
}

const str = (s: string): string => JSON.stringify(s);
/** Expressions that stay valid after other code ran: locals, constants and literals. */
const STABLE =
  /^(?:[tvk]\d+|true|false|null|undefined|"(?:[^"\\]|\\.)*"|\(?-?\d+(?:\.\d+)?(?:e[+-]?\d+)?n?\)?)$/;

/**
 * Generates the JavaScript source of one condition: straight-line code over the runtime helpers above,
 * which V8 compiles and inlines as one function (a tree of closures makes every call site megamorphic).
 * Every CEL construct evaluates its operands in the interpreter's order and raises the same errors.
 */
class Generator {
  private temps = 0;
  private loopVars = 0;
  private labels = 0;
  /** Locals of the function being generated (the condition's, or a hoisted subexpression's). */
  private locals: string[] = [];
  /** Whether that function is a hoisted subexpression (its memo locals live in the condition's function). */
  private inHoisted = false;
  readonly consts: unknown[] = [];
  private readonly constNames = new Map<unknown, string>();
  /** How often each subexpression occurs (by its key); the ones occurring twice or more are hoisted. */
  private readonly occurrences = new Map<string, number>();
  private readonly keys = new WeakMap<CelAstNode, string>();
  private readonly costs = new Map<string, number>();
  private readonly hoisted = new Map<string, { fn: string; memo: string }>();
  /** Locals of subexpressions computed in place (see memoInPlace), by key. */
  private readonly memos = new Map<string, string>();
  /** Hoisted subexpressions: functions of the context, defined next to the condition's function. */
  private readonly functions: string[] = [];
  private mainLocals: string[] = [];
  /** How many conditions hold the shared subexpression being generated (0 outside any). */
  private enclosingShared = 0;
  /** The key of the whole condition, once counted. */
  private rootKey: string | undefined;

  /**
   * `share`: use (and build) the shared subexpressions (off for a trial compilation). `fast`: the code of
   * the common case, with no error handling at all: any error, or an operand of && or || that is not a
   * bool, leaves it (CEL_SLOW, or the error itself), and the exact code, which absorbs errors as cel-js
   * does, evaluates the condition again. Evaluation has no side effects, so running it twice is exact.
   */
  constructor(
    private readonly overrides: CelFunctions,
    private readonly share: boolean,
    private readonly fast: boolean,
    /** Reused subexpressions are computed in place into a local (a group's function) rather than hoisted. */
    private readonly inPlace = false,
  ) {}

  tmp(): string {
    const name = `t${this.temps++}`;
    this.locals.push(name);
    return name;
  }

  loopVar(): string {
    const name = `v${this.loopVars++}`;
    this.locals.push(name);
    return name;
  }

  /** A value the generated code reads from its closure (sets, regular expressions, functions, types...). */
  konst(v: unknown): string {
    let name = this.constNames.get(v);
    if (!name) {
      name = `k${this.consts.length}`;
      this.consts.push(v);
      this.constNames.set(v, name);
    }
    return name;
  }

  /**
   * Operands evaluated left to right: when a later operand has statements to run first, the earlier
   * operands' values are kept in locals before them, so that the evaluation order is the interpreter's.
   */
  combine(codes: Code[]): { pre: string; exprs: string[] } {
    let pre = '';
    const exprs: string[] = [];
    for (const code of codes) {
      if (code.pre !== '') {
        for (let j = 0; j < exprs.length; j++) {
          if (STABLE.test(exprs[j]!)) continue;
          const t = this.tmp();
          pre += `${t} = ${exprs[j]};\n`;
          exprs[j] = t;
        }
        pre += code.pre;
      }
      exprs.push(code.expr);
    }
    return { pre, exprs };
  }

  /** `test ? then : otherwise`, as an expression when neither branch has statements. */
  choose(pre: string, test: string, then: Code, otherwise: Code): Code {
    if (then.pre === '' && otherwise.pre === '')
      return { pre, expr: `(${test} ? ${then.expr} : ${otherwise.expr})` };
    const t = this.tmp();
    return {
      pre:
        `${pre}if (${test}) {\n${then.pre}${t} = ${then.expr};\n} else {\n${otherwise.pre}` +
        `${t} = ${otherwise.expr};\n}\n`,
      expr: t,
    };
  }

  compile(node: CelAstNode, scope: Scope): Code {
    if (!node.checkedType) unsupported('unchecked node');
    switch (this.reuse(node, scope)) {
      case 'shared':
        return this.sharedRef(this.keys.get(node)!, node);
      case 'hoisted':
        if (this.inPlace) return this.memoInPlace(this.keys.get(node)!, node);
        return this.hoist(this.keys.get(node)!, node);
      default:
        return this.compileNode(node, scope);
    }
  }

  /**
   * Whether the node's value is computed once and reused: shared with other conditions, hoisted within
   * this one, or neither. Only subexpressions without comprehension variables qualify, and never an
   * optional (chains of optional steps are read without allocating optionals, which a reused optional
   * would prevent).
   */
  reuse(node: CelAstNode, scope: Scope): 'shared' | 'hoisted' | undefined {
    const key = this.keys.get(node);
    if (key === undefined || node.checkedType?.kind === 'optional') return undefined;
    const local = (this.occurrences.get(key) ?? 0) > 1;
    // Inside a shared subexpression, a part of it is shared on its own only if more conditions hold the part
    // than the whole (else it is computed with the whole, once per context all the same).
    const across =
      this.share &&
      (shared.entries.get(key)?.conditions ?? 0) > Math.max(1, this.enclosingShared) &&
      (this.costs.get(key) ?? 0) >= SHARED_MIN_COST;
    if ((!local && !across) || this.usesScope(node, scope)) return undefined;
    return across ? 'shared' : 'hoisted';
  }

  /**
   * A subexpression the condition evaluates more than once, with no comprehension variable in it: its code
   * goes into a function of the context, called through a memo local of the condition's function, so that
   * it is computed once per evaluation. Evaluation has no side effects, so reusing the value is exact; an
   * error is not memoized and is raised again by the next use.
   */
  hoist(key: string, node: CelAstNode): Code {
    const known = this.hoisted.has(key);
    const h = this.hoistedFunction(key, node);
    if (!known) this.mainLocals.push(h.memo);
    // Inside another hoisted function the memo is out of reach: the function is called directly.
    if (this.inHoisted) return { pre: '', expr: `${h.fn}(c, g)` };
    return { pre: '', expr: `(${h.memo} !== undefined ? ${h.memo} : (${h.memo} = ${h.fn}(c, g)))` };
  }

  /** The function computing a hoisted subexpression (generated once), and the name of its memo local. */
  private hoistedFunction(key: string, node: CelAstNode): { fn: string; memo: string } {
    let h = this.hoisted.get(key);
    if (!h) {
      const n = this.hoisted.size;
      h = { fn: `h${n}`, memo: `m${n}` };
      const [locals, inHoisted] = [this.locals, this.inHoisted];
      this.locals = [];
      this.inHoisted = true;
      // Registered before its body is generated: the body compiles its own subexpressions, never itself.
      this.hoisted.set(key, h);
      const code = this.compileNode(node, { vars: new Map() });
      const decl = this.locals.length > 0 ? `let ${this.locals.join(', ')};\n` : '';
      this.functions.push(`function ${h.fn}(c, g) {\n${decl}${code.pre}return ${code.expr};\n}\n`);
      [this.locals, this.inHoisted] = [locals, inHoisted];
    }
    return h;
  }

  /**
   * In a group's function: a subexpression computed in place by its first use in the function and kept in
   * a local for the others (mostly other conditions'). Those read the local, and only call a function
   * computing it when the first use did not run (skipped, or failed: an error is not kept, the next use
   * raises it again, as with hoisted subexpressions). Copies of the computation at every use made V8's
   * compiler the largest cost of a scan's warm-up; so did a function per subexpression, each optimized
   * apart, when every use called it.
   */
  memoInPlace(key: string, node: CelAstNode): Code {
    // Inside a hoisted function the group's locals are out of reach: the function is called directly.
    if (this.inHoisted) return { pre: '', expr: `${this.hoistedFunction(key, node).fn}(c, g)` };
    const memo = this.memos.get(key);
    if (memo !== undefined) {
      const fn = this.hoistedFunction(key, node).fn;
      return { pre: '', expr: `(${memo} !== undefined ? ${memo} : (${memo} = ${fn}(c)))` };
    }
    const local = `s${this.memos.size}`;
    this.memos.set(key, local);
    this.mainLocals.push(local);
    const code = this.compileNode(node, { vars: new Map() });
    return this.choose(
      '',
      `${local} !== undefined`,
      { pre: '', expr: local },
      { pre: code.pre, expr: `(${local} = ${code.expr})` },
    );
  }

  /**
   * A subexpression other conditions hold too: its value is kept per context id `g` in its shared slot, so
   * that only the first condition evaluated on a context computes it (the value is not kept for a context
   * without an id, nor when the computation fails: the next use raises the error again).
   */
  sharedRef(key: string, node: CelAstNode): Code {
    const entry = shared.entries.get(key)!;
    if (entry.slot === undefined) {
      entry.slot = shared.ids.length;
      shared.ids.push(undefined);
      shared.values.push(undefined);
    }
    const slot = entry.slot;
    // Computed in place by whichever condition needs it first on a context; the others read the slot. (A
    // function per shared subexpression cost V8 more to optimize than the copies of its code: the copies
    // that never run are never optimized.)
    const enclosing = this.enclosingShared;
    this.enclosingShared = entry.conditions;
    const code = this.compileNode(node, { vars: new Map() });
    this.enclosingShared = enclosing;
    const compute = { pre: code.pre, expr: `share(${slot}, g, ${code.expr})` };
    return this.choose(
      '',
      `SHARED_IDS[${slot}] === g && g !== undefined`,
      { pre: '', expr: `SHARED_VALUES[${slot}]` },
      compute,
    );
  }

  /** Whether the subexpression reads a comprehension or bind variable of the scope. */
  usesScope(node: CelAstNode, scope: Scope): boolean {
    if (scope.vars.size === 0) return false;
    let uses = false;
    const walk = (v: unknown): void => {
      if (uses) return;
      if (Array.isArray(v)) {
        for (const x of v) walk(x);
      } else if (isNode(v)) {
        if (v.op === 'id' && typeof v.args === 'string' && scope.vars.has(v.args)) uses = true;
        else walk(v.args);
      }
    };
    walk(node);
    return uses;
  }

  /**
   * Keys every subexpression worth reusing, equal for subexpressions that compile to the same code (their
   * text, types, and the identity of the functions and type values they use), counting their occurrences
   * and estimating their cost. Returns the key of the whole expression.
   */
  count(node: CelAstNode): string {
    const keyOf = (v: unknown): [string, number] => {
      if (Array.isArray(v)) {
        let cost = 0;
        const parts = v.map((x) => {
          const [k, c] = keyOf(x);
          cost += c;
          return k;
        });
        return [`[${parts.join(',')}]`, cost];
      }
      if (isNode(v)) {
        const [args, argsCost] = keyOf(v.args);
        const fns = (v.candidates?.declarations ?? [])
          .map((d) => identity(this.overrides[d.name] ?? d.handler))
          .join('');
        const meta = `${v.meta.alternate ? 'A' : ''}${v.meta.macro ? 'M' : ''}`;
        const key = `${v.op}${meta}:${v.checkedType?.name ?? '?'}${fns}(${args})`;
        const constant =
          v.op === 'value' ||
          (v.op === 'id' && v.meta.alternate !== undefined) ||
          ((v.op === 'list' || v.op === 'map') && argsCost === 0);
        if (constant) return [key, 0];
        const cost = argsCost + (v.op === 'call' || v.op === 'rcall' ? 2 : 1);
        this.keys.set(v, key);
        this.costs.set(key, cost);
        this.occurrences.set(key, (this.occurrences.get(key) ?? 0) + 1);
        return [key, cost];
      }
      switch (typeof v) {
        case 'string':
          return [str(v), 0];
        case 'bigint':
          return [`${v}n`, 0];
        case 'number':
          return [Object.is(v, -0) ? '-0d' : `${v}d`, 0];
        case 'boolean':
        case 'undefined':
          return [String(v), 0];
        case 'object':
          if (v === null) return ['null', 0];
      }
      // Any other value (a cel-js type, the optional namespace) by identity.
      return [identity(v), 0];
    };
    return keyOf(node)[0];
  }

  /**
   * Registers the subexpressions of the condition this generator compiled as held by one more condition
   * (once per distinct condition).
   */
  register(): void {
    const root = this.rootKey;
    if (root === undefined || shared.roots.has(root)) return;
    shared.roots.add(root);
    for (const key of this.occurrences.keys()) {
      const entry = shared.entries.get(key);
      if (entry) entry.conditions++;
      else shared.entries.set(key, { conditions: 1 });
    }
  }

  compileNode(node: CelAstNode, scope: Scope): Code {
    const alt = node.meta.alternate;
    switch (node.op) {
      case 'value':
        return { pre: '', expr: this.literal(node.args) };
      case 'id':
        return this.identifier(node, scope);
      case '.':
      case '[]':
        return this.access(node, scope);
      case '.?':
      case '[?]':
        return this.optAccess(node, scope);
      case '&&':
      case '||':
        return this.logical(node, scope);
      case '!_':
      case '-_': {
        const a = this.compile(node.args as CelAstNode, scope);
        return { pre: a.pre, expr: `${node.op === '!_' ? 'celNot' : 'celNeg'}(${a.expr})` };
      }
      case '?:': {
        const [c, l, r] = (node.args as CelAstNode[]).map((a) => this.compile(a, scope)) as [
          Code,
          Code,
          Code,
        ];
        return this.choose(c.pre, `asBool(${c.expr}, "Ternary condition must be bool")`, l, r);
      }
      case '==':
      case '!=':
      case '<':
      case '<=':
      case '>':
      case '>=':
      case 'in':
      case '+':
      case '-':
      case '*':
        return this.binary(node, scope);
      case 'list':
        return this.list(node.args as CelAstNode[], scope);
      case 'map':
        return this.map(node.args as Array<[CelAstNode, CelAstNode]>, scope);
      case 'call':
        if (alt || node.meta.macro) return this.callMacro(node, scope);
        return this.call(node, scope);
      case 'rcall':
        if (alt || node.meta.macro) return this.rcallMacro(node, scope);
        return this.rcall(node, scope);
      default:
        return unsupported(`operator ${node.op}`);
    }
  }

  /** A literal's JavaScript expression. */
  literal(v: unknown): string {
    switch (typeof v) {
      case 'string':
        return str(v);
      case 'bigint':
        return v < 0n ? `(${v}n)` : `${v}n`;
      case 'number':
        if (Number.isFinite(v) && !Object.is(v, -0)) return v < 0 ? `(${v})` : `${v}`;
        return this.konst(v);
      case 'boolean':
        return v ? 'true' : 'false';
      case 'object':
        if (v === null) return 'null';
        if (registerTypeValue(v)) return this.konst(v);
    }
    return unsupported('literal');
  }

  identifier(node: CelAstNode, scope: Scope): Code {
    const name = node.args as string;
    const alt = node.meta.alternate;
    if (alt) {
      if (alt.op === 'value' && registerTypeValue(alt.args)) return { pre: '', expr: this.konst(alt.args) };
      return unsupported(`constant ${name}`);
    }
    const local = scope.vars.get(name);
    if (local !== undefined) return { pre: '', expr: local };
    return {
      pre: '',
      expr: `contextVariable(c[${str(name)}], ${str(name)})`,
    };
  }

  isOptional(node: CelAstNode): boolean {
    return node.checkedType?.kind === 'optional';
  }

  /** dyn, or a container of dyn (e.g. what filter() returns): field and index access behave the same. */
  isDyn(node: CelAstNode): boolean {
    const t = node.checkedType;
    return t?.kind === 'dyn' || t?.name === 'list<dyn>' || t?.name === 'map<dyn, dyn>';
  }

  /** `o.key` on a dyn value. */
  field(o: string, key: string): string {
    return `getField(${o}, ${str(key)})`;
  }

  /** The value of `o.?key` on a plain value, or undefined when absent (rawOptField). */
  optStep(o: string, key: string): string {
    return `rawOptField(${o}, ${str(key)})`;
  }

  access(node: CelAstNode, scope: Scope): Code {
    const [leftNode, rightArg] = node.args as [CelAstNode, unknown];
    if (this.isOptional(leftNode)) return this.optAccess(node, scope);
    if (!this.isDyn(leftNode)) return unsupported(`access on ${leftNode.checkedType?.name}`);
    if (node.op === '.') {
      // A chain of plain field accesses from a variable: resource.data.x.y
      const keys: string[] = [rightArg as string];
      let base = leftNode;
      while (base.op === '.' && !this.isHoisted(base, scope)) {
        const [inner, innerKey] = base.args as [CelAstNode, string];
        if (!this.isDyn(inner)) break;
        keys.unshift(innerKey);
        base = inner;
      }
      const b = this.compile(base, scope);
      let expr = b.expr;
      for (const key of keys) expr = this.field(expr, key);
      return { pre: b.pre, expr };
    }
    const { pre, exprs } = this.combine([
      this.compile(leftNode, scope),
      this.compile(rightArg as CelAstNode, scope),
    ]);
    return { pre, expr: `getIndex(${exprs[0]}, ${exprs[1]})` };
  }

  optAccess(node: CelAstNode, scope: Scope): Code {
    const [leftNode, rightArg] = node.args as [CelAstNode, unknown];
    const l = this.compile(leftNode, scope);
    if (node.op === '.' || node.op === '.?')
      return { pre: l.pre, expr: `optField(${l.expr}, ${str(rightArg as string)})` };
    const { pre, exprs } = this.combine([l, this.compile(rightArg as CelAstNode, scope)]);
    return { pre, expr: `optIndex(${exprs[0]}, ${exprs[1]})` };
  }

  /**
   * A chain of optional accesses read straight to its value (no optional allocated per step), or null if
   * `node` is not one: base (not optional-typed), then `.`/`.?`/`[?]` steps with constant string keys.
   * The expression gives the value, or undefined when the optional is empty.
   */
  optChain(node: CelAstNode, scope: Scope): Code | null {
    const steps: Array<{ key: string; optional: boolean }> = [];
    let n = node;
    for (;;) {
      if (n !== node && this.isHoisted(n, scope)) break;
      if (n.op === '.' || n.op === '.?') {
        const [left, key] = n.args as [CelAstNode, string];
        const optional = n.op === '.?' || this.isOptional(left);
        if (!optional && !this.isDyn(left)) return null;
        steps.unshift({ key, optional });
        n = left;
      } else if (n.op === '[?]') {
        const [left, keyNode] = n.args as [CelAstNode, CelAstNode];
        if (keyNode.op !== 'value' || typeof keyNode.args !== 'string') return null;
        steps.unshift({ key: keyNode.args, optional: true });
        n = left;
      } else break;
    }
    if (this.isOptional(n) || !steps.some((s) => s.optional)) return null;
    const base = this.compile(n, scope);
    const first = steps.findIndex((s) => s.optional);
    // Steps before the first optional one are plain accesses (errors propagate); after it, all are optional.
    let expr = base.expr;
    for (const s of steps.slice(0, first)) expr = this.field(expr, s.key);
    const opt = steps.slice(first).map((s) => s.key);
    const t = this.tmp();
    let chain = this.optStep(t, opt[opt.length - 1]!);
    for (let i = opt.length - 2; i >= 0; i--)
      chain = `(${t} = ${this.optStep(i === 0 ? expr : t, opt[i]!)}) === undefined ? undefined : ${chain}`;
    if (opt.length === 1) chain = this.optStep(expr, opt[0]!);
    return { pre: base.pre, expr: `(${chain})` };
  }

  /**
   * A chain `a && b && c` (or `||`), left-associated as the parser builds it, as one block. The value that
   * decides alone (false for &&, true for ||) ends the chain; an operand's error, or a first operand that is
   * not a bool, is kept pending and raised only if no later operand decides, exactly as the nested binary
   * operators of cel-js do (see LogicalPending).
   */
  logical(node: CelAstNode, scope: Scope): Code {
    const operands: CelAstNode[] = [];
    let n = node;
    do {
      const [ln, rn] = n.args as [CelAstNode, CelAstNode];
      operands.unshift(rn);
      n = ln;
    } while (n.op === node.op && !this.isHoisted(n, scope));
    operands.unshift(n);
    const decides = node.op === '||' ? 'true' : 'false';
    const other = node.op === '||' ? 'false' : 'true';
    if (this.fast) return this.fastLogical(operands, scope, decides, other);
    const [res, pending, y] = [this.tmp(), this.tmp(), this.tmp()];
    const label = `L${this.labels++}`;
    let pre = `${pending} = undefined;\n${label}: {\n`;
    operands.forEach((o, i) => {
      const code = this.compile(o, scope);
      pre +=
        `try {\n${code.pre}${y} = ${code.expr};\n} catch (e) {\n${y} = logicalCatch(e);\n}\n` +
        `if (${y} === ${decides}) {\n${res} = ${decides};\nbreak ${label};\n}\n` +
        (i === 0
          ? `if (${y} !== ${other}) ${pending} = logicalPending(${y}, true);\n`
          : `if (${y} !== ${other}) ${pending} = logicalPending(${y}, false);\n` +
            `else if (${pending} !== undefined) ${pending} = logicalResolve(${pending});\n`);
    });
    pre += `if (${pending} !== undefined) throw ${pending}.e;\n${res} = ${other};\n}\n`;
    return { pre, expr: res };
  }

  /** The fast code of a chain: every operand a bool, the first deciding one ends it; anything else is slow. */
  fastLogical(operands: CelAstNode[], scope: Scope, decides: string, other: string): Code {
    const codes = operands.map((o) => this.compile(o, scope));
    const y = this.tmp();
    if (codes.every((c) => c.pre === '')) {
      let expr = other;
      for (let i = codes.length - 1; i >= 0; i--)
        expr = `((${y} = ${codes[i]!.expr}) === ${other} ? ${expr} : ${decides === 'false' ? 'andStop' : 'orStop'}(${y}))`;
      return { pre: '', expr };
    }
    const res = this.tmp();
    const label = `L${this.labels++}`;
    let pre = `${label}: {\n`;
    for (const code of codes) {
      pre +=
        `${code.pre}${y} = ${code.expr};\n` +
        `if (${y} === ${decides}) {\n${res} = ${decides};\nbreak ${label};\n}\n` +
        `if (${y} !== ${other}) celSlow();\n`;
    }
    pre += `${res} = ${other};\n}\n`;
    return { pre, expr: res };
  }

  /** Whether compile() would reuse this node (a chain stops there: the reused part is one operand). */
  isHoisted(node: CelAstNode, scope: Scope): boolean {
    return this.reuse(node, scope) !== undefined;
  }

  binary(node: CelAstNode, scope: Scope): Code {
    const [ln, rn] = node.args as [CelAstNode, CelAstNode];
    const op = node.op;
    const l = this.compile(ln, scope);
    // Comparisons against a constant string: the most common shape of a condition.
    if ((op === '==' || op === '!=') && rn.op === 'value' && typeof rn.args === 'string') {
      const s = str(rn.args);
      return { pre: l.pre, expr: `${op === '==' ? 'equalsString' : '!equalsString'}(${l.expr}, ${s})` };
    }
    if (op === 'in' && rn.op === 'list') {
      const items = rn.args as CelAstNode[];
      if (items.length > 0 && items.every((i) => i.op === 'value' && typeof i.args === 'string')) {
        const list = Object.freeze(items.map((i) => i.args as string));
        return {
          pre: l.pre,
          expr: `inStrings(${l.expr}, ${this.konst(new Set(list))}, ${this.konst(list)})`,
        };
      }
    }
    const { pre, exprs } = this.combine([l, this.compile(rn, scope)]);
    const [a, b] = exprs as [string, string];
    switch (op) {
      case '==':
        return { pre, expr: `celEquals(${a}, ${b})` };
      case '!=':
        return { pre, expr: `!celEquals(${a}, ${b})` };
      case 'in':
        return { pre, expr: `celIn(${a}, ${b})` };
      case '<':
        return { pre, expr: `celLess(${a}, ${b})` };
      case '<=':
        return { pre, expr: `celLessEq(${a}, ${b})` };
      case '>':
        return { pre, expr: `celGreater(${a}, ${b})` };
      case '>=':
        return { pre, expr: `celGreaterEq(${a}, ${b})` };
      default:
        return { pre, expr: `celArith(${a}, ${b}, ${str(op)})` };
    }
  }

  list(items: CelAstNode[], scope: Scope): Code {
    if (items.every((i) => i.op === 'value')) {
      for (const i of items) this.literal(i.args);
      return { pre: '', expr: this.konst(Object.freeze(items.map((i) => i.args))) };
    }
    const { pre, exprs } = this.combine(items.map((i) => this.compile(i, scope)));
    return { pre, expr: `[${exprs.join(', ')}]` };
  }

  map(entries: Array<[CelAstNode, CelAstNode]>, scope: Scope): Code {
    const keys: string[] = [];
    for (const [k] of entries) {
      if (k.op !== 'value' || typeof k.args !== 'string') return unsupported('map literal key');
      if (k.args === '__proto__' || k.args === 'constructor' || k.args === 'prototype')
        return unsupported('map literal key');
      keys.push(k.args);
    }
    if (new Set(keys).size !== keys.length) return unsupported('duplicate map key');
    if (entries.length === 0) return { pre: '', expr: this.konst(Object.freeze({})) };
    const { pre, exprs } = this.combine(entries.map(([, v]) => this.compile(v, scope)));
    return { pre, expr: `({${keys.map((k, i) => `${str(k)}: ${exprs[i]}`).join(', ')}})` };
  }

  /** The declaration the checker found, when there is exactly one candidate. */
  soleDeclaration(node: CelAstNode): CelDeclaration {
    const decls = node.candidates?.declarations ?? [];
    if (decls.length !== 1) return unsupported(`overloaded function`);
    return decls[0]!;
  }

  call(node: CelAstNode, scope: Scope): Code {
    const [name, argNodes] = node.args as [string, CelAstNode[]];
    const args = argNodes.map((a) => this.compile(a, scope));
    const one = (fn: (a: string) => string): Code => {
      if (args.length !== 1) return unsupported(`${name}/${args.length}`);
      return { pre: args[0]!.pre, expr: fn(args[0]!.expr) };
    };
    switch (name) {
      case 'size':
        return one((a) => `celSize(${a}, false)`);
      case 'string':
        return one((a) => `celString(${a})`);
      case 'double':
        return one((a) => `celDouble(${a})`);
      case 'dyn':
        return one((a) => a);
      case 'type':
        return this.typeCall(node, args);
    }
    return this.customCall(node, name, args);
  }

  typeCall(node: CelAstNode, args: Code[]): Code {
    if (args.length !== 1) return unsupported('type/n');
    const byKind = new Map<string, unknown>();
    for (const d of node.candidates?.declarations ?? []) {
      const t = d.argTypes[0]?.name.replace(/<.*$/, '');
      if (t === undefined) continue;
      const v = d.handler();
      if (!registerTypeValue(v)) return unsupported('type value');
      byKind.set(t, v);
    }
    const table = KIND_NAMES.map((k) => byKind.get(k));
    if (table.slice(0, K_OTHER).some((t) => t === undefined)) return unsupported('type table');
    return { pre: args[0]!.pre, expr: `${this.konst(table)}[knownKind(${args[0]!.expr})]` };
  }

  /** A function registered in the environment (internetSource, lower, daysSince...). */
  customCall(node: CelAstNode, name: string, args: Code[]): Code {
    const decl = this.soleDeclaration(node);
    if (decl.macro || decl.receiverType || decl.name !== name || decl.argTypes.length !== args.length)
      return unsupported(`function ${name}`);
    const checks = decl.argTypes.map((t) => paramCheck(t.name, name));
    const impl = this.konst(
      (this.overrides[name] as ((...a: unknown[]) => unknown) | undefined) ?? decl.handler,
    );
    const { pre, exprs } = this.combine(args);
    // Every argument is evaluated before any is checked, as cel-js resolves the overload on all of them.
    const ts = exprs.map(() => this.tmp());
    const parts = [
      ...exprs.map((e, i) => `${ts[i]} = ${e}`),
      ...checks.map((ck, i) => `${this.konst(ck)}(${ts[i]})`),
      `checkResult(${impl}(${ts.join(', ')}))`,
    ];
    return { pre, expr: `(${parts.join(', ')})` };
  }

  rcall(node: CelAstNode, scope: Scope): Code {
    const [name, recvNode, argNodes] = node.args as [string, CelAstNode, CelAstNode[]];
    if (this.isOptional(recvNode) || (recvNode.op === 'id' && recvNode.meta.alternate)) {
      return this.optionalMethod(node, name, recvNode, argNodes, scope);
    }
    const recv = this.compile(recvNode, scope);
    const args = argNodes.map((a) => this.compile(a, scope));
    const unary = (fn: (s: string) => string): Code => {
      if (args.length !== 0) return unsupported(`${name}/${args.length}`);
      return { pre: recv.pre, expr: fn(`requireString(${recv.expr}, ${str(`${name}()`)})`) };
    };
    const binary = (helper: string): Code => {
      if (args.length !== 1) return unsupported(`${name}/${args.length}`);
      const { pre, exprs } = this.combine([recv, args[0]!]);
      return { pre, expr: `${helper}(${exprs[0]}, ${exprs[1]})` };
    };
    switch (name) {
      case 'size':
        if (args.length !== 0) return unsupported('size/n');
        return { pre: recv.pre, expr: `celSize(${recv.expr}, true)` };
      case 'contains':
        return binary('strContains');
      case 'startsWith':
        return binary('strStartsWith');
      case 'endsWith':
        return binary('strEndsWith');
      case 'trim':
        return unary((s) => `${s}.trim()`);
      case 'lowerAscii':
        return unary((s) => `${s}.toLowerCase()`);
      case 'upperAscii':
        return unary((s) => `${s}.toUpperCase()`);
      case 'matches': {
        const patNode = argNodes[0];
        if (args.length === 1 && patNode?.op === 'value' && typeof patNode.args === 'string') {
          let re: RegExp | undefined;
          try {
            re = new RegExp(patNode.args);
          } catch {
            re = undefined;
          }
          if (!re) return { pre: recv.pre, expr: `matchesInvalid(${recv.expr}, ${str(patNode.args)})` };
          return { pre: recv.pre, expr: `${this.konst(re)}.test(requireString(${recv.expr}, "matches()"))` };
        }
        return binary('matchesDynamic');
      }
      case 'hasValue':
      case 'value':
        // On a dyn receiver these only accept optionals at run time; compiled optionals are always typed.
        if (args.length !== 0) return unsupported(`${name}/${args.length}`);
        return { pre: recv.pre, expr: `dynOptMethod(${recv.expr}, ${str(name)})` };
    }
    return unsupported(`method ${name}`);
  }

  optionalMethod(
    node: CelAstNode,
    name: string,
    recvNode: CelAstNode,
    argNodes: CelAstNode[],
    scope: Scope,
  ): Code {
    if (recvNode.op === 'id') {
      // optional.none() / optional.of(x): the `optional` namespace constant.
      const ns = recvNode.meta.alternate?.args as object | undefined;
      if (recvNode.args !== 'optional' || ns?.constructor?.name !== 'OptionalNamespace')
        return unsupported(`${String(recvNode.args)}.${name}`);
      if (name === 'none' && argNodes.length === 0) return { pre: '', expr: 'NONE' };
      if (name === 'of' && argNodes.length === 1) {
        const v = this.compile(argNodes[0]!, scope);
        return { pre: v.pre, expr: `some(${v.expr})` };
      }
      return unsupported(`optional.${name}`);
    }
    if ((name === 'hasValue' || name === 'value') && argNodes.length === 0) {
      const chain = this.optChain(recvNode, scope);
      if (chain && name === 'hasValue') return { pre: chain.pre, expr: `(${chain.expr} !== undefined)` };
      const recv = this.compile(recvNode, scope);
      return { pre: recv.pre, expr: `strictOptMethod(${recv.expr}, ${str(name)})` };
    }
    return unsupported(`optional method ${name}`);
  }

  callMacro(node: CelAstNode, scope: Scope): Code {
    const [name, argNodes] = node.args as [string, CelAstNode[]];
    if (name !== 'has' || argNodes.length !== 1 || !node.meta.macro) return unsupported(`macro ${name}`);
    // has(a.b.c): the path's steps from the variable outwards.
    const keys: string[] = [];
    let n = argNodes[0]!;
    while (n.op === '.') {
      keys.unshift((n.args as [CelAstNode, string])[1]);
      n = (n.args as [CelAstNode, string])[0];
    }
    if (n.op === '.?') return unsupported('has() with optional steps');
    if (n.op !== 'id' || keys.length === 0) return unsupported('has() argument');
    const base = this.compile(n, scope);
    return { pre: base.pre, expr: `hasPath(${base.expr}, ${this.konst(Object.freeze(keys))})` };
  }

  rcallMacro(node: CelAstNode, scope: Scope): Code {
    const [name, recvNode, argNodes] = node.args as [string, CelAstNode, CelAstNode[]];
    const alt = node.meta.alternate;
    if (alt) {
      if (alt.op !== 'comprehension') return unsupported('macro expansion');
      return this.comprehension(name, recvNode, argNodes, scope);
    }
    if (name === 'orValue' && argNodes.length === 1) {
      const chain = this.optChain(recvNode, scope);
      const dflt = this.compile(argNodes[0]!, scope);
      const t = this.tmp();
      if (chain) {
        return this.choose(chain.pre, `(${t} = ${chain.expr}) === undefined`, dflt, { pre: '', expr: t });
      }
      const recv = this.compile(recvNode, scope);
      return this.choose(
        recv.pre,
        `(${t} = optOperand(${recv.expr}, "optional.orValue(value) receiver must be optional")).v === undefined`,
        dflt,
        { pre: '', expr: `${t}.v` },
      );
    }
    if (name === 'or' && argNodes.length === 1) {
      const recv = this.compile(recvNode, scope);
      const other = this.compile(argNodes[0]!, scope);
      const t = this.tmp();
      return this.choose(
        recv.pre,
        `(${t} = optOperand(${recv.expr}, "optional.or(optional) receiver must be optional")).v !== undefined`,
        { pre: '', expr: t },
        {
          pre: other.pre,
          expr: `optOperand(${other.expr}, "optional.or(optional) argument must be optional")`,
        },
      );
    }
    if (
      name === 'bind' &&
      recvNode.op === 'id' &&
      recvNode.args === 'cel' &&
      argNodes.length === 3 &&
      argNodes[0]!.op === 'id'
    ) {
      const init = this.compile(argNodes[1]!, scope);
      const v = this.loopVar();
      const body = this.compile(argNodes[2]!, {
        vars: new Map(scope.vars).set(argNodes[0]!.args as string, v),
      });
      return { pre: `${init.pre}${v} = ${init.expr};\n${body.pre}`, expr: body.expr };
    }
    return unsupported(`macro ${name}`);
  }

  comprehension(name: string, recvNode: CelAstNode, argNodes: CelAstNode[], scope: Scope): Code {
    const varNode = argNodes[0];
    if (!varNode || varNode.op !== 'id') return unsupported('comprehension variable');
    const iterable = this.compile(recvNode, scope);
    const v = this.loopVar();
    const inner: Scope = { vars: new Map(scope.vars).set(varNode.args as string, v) };
    const body = argNodes.slice(1).map((a) => this.compile(a, inner));
    const items = this.tmp();
    const res = this.tmp();
    const i = this.tmp();
    const head =
      `${iterable.pre}${items} = toIterable(${iterable.expr});\n` +
      `for (${i} = 0; ${i} < ${items}.length; ${i}++) {\n${v} = checkValue(${items}[${i}]);\n`;
    // exists and all are one loop: stop at the first predicate result equal to `decisive` (true for exists,
    // false for all); an error only counts if nothing decisive came, as in cel-js.
    const quantifier = (decisive: boolean, label: string): Code => {
      const p = body[0]!;
      const r = this.tmp();
      if (this.fast) {
        return {
          pre:
            `${res} = ${!decisive};\n${head}${p.pre}${r} = ${p.expr};\n` +
            `if (${r} === ${decisive}) {\n${res} = ${decisive};\nbreak;\n}\n` +
            `if (${r} !== ${!decisive}) celSlow();\n}\n`,
          expr: res,
        };
      }
      const err = this.tmp();
      return {
        pre:
          `${err} = undefined;\n${res} = ${!decisive};\n${head}` +
          `try {\n${p.pre}${r} = ${p.expr};\n} catch (e) {\nif (e === FB) throw e;\n${err} ??= e;\ncontinue;\n}\n` +
          `if (${r} === ${decisive}) {\n${res} = ${decisive};\nbreak;\n}\n` +
          `if (${r} !== ${!decisive}) ${err} ??= predicateError(${r}, ${str(label)});\n}\n` +
          `if (${res} === ${!decisive} && ${err} !== undefined) throw ${err};\n`,
        expr: res,
      };
    };
    if (name === 'exists' && body.length === 1)
      return quantifier(true, 'exists(var, predicate) predicate must return bool');
    if (name === 'all' && body.length === 1)
      return quantifier(false, 'all(var, predicate) predicate must return bool');
    const test = (p: Code, label: string): string => `${p.pre}if (asBool(${p.expr}, ${str(label)}))`;
    if (name === 'exists_one' && body.length === 1) {
      return {
        pre:
          `${res} = 0;\n${head}` +
          `${test(body[0]!, 'exists_one(var, predicate) predicate must return bool')} ${res}++;\n}\n`,
        expr: `(${res} === 1)`,
      };
    }
    if (name === 'filter' && body.length === 1) {
      return {
        pre: `${res} = [];\n${head}${test(body[0]!, 'filter(var, predicate) predicate must return bool')} ${res}.push(${v});\n}\n`,
        expr: res,
      };
    }
    if (name === 'map' && body.length === 1) {
      const tr = body[0]!;
      return { pre: `${res} = [];\n${head}${tr.pre}${res}.push(${tr.expr});\n}\n`, expr: res };
    }
    if (name === 'map' && body.length === 2) {
      const [p, tr] = body as [Code, Code];
      return {
        pre:
          `${res} = [];\n${head}${test(p, 'map(var, filter, transform) filter predicate must return bool')} {\n` +
          `${tr.pre}${res}.push(${tr.expr});\n}\n}\n`,
        expr: res,
      };
    }
    return unsupported(`comprehension ${name}`);
  }

  /** The source of the whole condition's function (its subexpressions counted first). */
  source(ast: CelAstNode): string {
    return this.functionSource('c', this.mainBody(ast));
  }

  /** The whole condition's function. */
  buildMain(ast: CelAstNode): (ctx: Ctx) => unknown {
    return this.build('c', this.mainBody(ast)) as (ctx: Ctx) => unknown;
  }

  /** The function of a group of conditions (see compileCelGroup). */
  buildGroup(asts: readonly CelAstNode[]): (ctx: Ctx, out: Uint8Array) => void {
    for (const ast of asts) this.count(ast);
    this.locals = this.mainLocals;
    const r = this.tmp();
    let body = '';
    asts.forEach((ast, i) => {
      const code = this.compile(ast, { vars: new Map() });
      body +=
        `try {\n${code.pre}${r} = ${code.expr};\n` +
        `o[${i}] = ${r} === true ? ${GROUP_TRUE} : ${r} === false ? ${GROUP_FALSE} : ${GROUP_UNDECIDED};\n` +
        `} catch {\no[${i}] = ${GROUP_UNDECIDED};\n}\n`;
    });
    return this.build('c, o', body, `celGroup${builds++}`) as (ctx: Ctx, out: Uint8Array) => void;
  }

  private mainBody(ast: CelAstNode): string {
    this.rootKey = this.count(ast);
    this.locals = this.mainLocals;
    const code = this.compile(ast, { vars: new Map() });
    return `const g = c[CONTEXT_ID];\n${code.pre}return celResult(${code.expr});\n`;
  }

  /** The factory's source: runtime names, constants, hoisted functions, then the function itself. */
  functionSource(params: string, body: string, name = 'celCondition'): string {
    const consts = this.consts.map((_, i) => `const k${i} = K[${i}];\n`).join('');
    const locals = this.mainLocals.length > 0 ? `let ${this.mainLocals.join(', ')};\n` : '';
    return (
      `"use strict";\nconst { ${RUNTIME_NAMES.join(', ')} } = R;\n${consts}${this.functions.join('')}` +
      `return function ${name}(${params}) {\n${locals}${body}};\n`
    );
  }

  /** Compiles generated code to a function. */
  build(params: string, body: string, name?: string): (...args: never[]) => unknown {
    const source = this.functionSource(params, body, name ?? `celCondition${builds++}`);
    // The source is generated from a type-checked AST; nothing of it comes from the evaluated data.
    const factory = new Function('R', 'K', source) as (
      runtime: typeof RUNTIME,
      consts: unknown[],
    ) => () => unknown;
    return factory(RUNTIME, this.consts);
  }
}

let builds = 0;

const identities = new WeakMap<object, number>();
let nextIdentity = 0;

/** A short name for an object or function, the same for the same one. */
function identity(v: unknown): string {
  if ((typeof v !== 'object' && typeof v !== 'function') || v === null) return `#${String(v)}`;
  let id = identities.get(v);
  if (id === undefined) identities.set(v, (id = nextIdentity++));
  return `#${id}`;
}

function isNode(v: unknown): v is CelAstNode {
  return typeof v === 'object' && v !== null && 'op' in v && 'meta' in v;
}

function optMethod(o: Opt, name: string): unknown {
  if (name === 'hasValue') return o.v !== undefined;
  if (o.v === undefined) throw celError('Optional value is not present');
  return o.v;
}

function logicalOperand(v: unknown): Error {
  if (v instanceof Opt || kindOf(v) === K_OTHER) throw CEL_FALLBACK;
  return celError(`Logical operator requires bool operands, got '${KIND_NAMES[kindOf(v)]}'`);
}

function predicateError(v: unknown, label: string): Error {
  if (v instanceof Opt || kindOf(v) === K_OTHER) throw CEL_FALLBACK;
  return celError(`${label}, got '${KIND_NAMES[kindOf(v)]}'`);
}

/** has()'s step (cel-js fieldLazy): undefined when absent, never an error. */
function lazyField(o: unknown, key: string): unknown {
  switch (knownKind(o)) {
    case K_MAP:
      return hasOwn(o as object, key) ? checkOptValue((o as Ctx)[key]) : undefined;
    default:
      return undefined;
  }
}

/** Argument check of a custom function parameter, as cel-js resolves overloads on run-time types. */
function paramCheck(type: string, fn: string): (v: unknown) => void {
  const mismatch = (v: unknown): never => {
    throw celError(`found no matching overload for '${fn}(...${KIND_NAMES[kindOf(v)]}...)'`);
  };
  const expect = (kind: number) => (v: unknown) => {
    const k = knownKind(v);
    if (k !== kind) mismatch(v);
  };
  switch (type) {
    case 'dyn':
      return (v) => void knownKind(v);
    case 'string':
      return expect(K_STRING);
    case 'int':
      return expect(K_INT);
    case 'double':
      return expect(K_DOUBLE);
    case 'bool':
      return expect(K_BOOL);
    case 'list':
    case 'list<dyn>':
      return expect(K_LIST);
    case 'map':
    case 'map<dyn, dyn>':
      return expect(K_MAP);
    default:
      return unsupported(`parameter type ${type}`);
  }
}

/** A custom function's result must be a value compiled code models (cel-js would carry anything on). */
function checkResult(v: unknown): unknown {
  if (kindOf(v) === K_OTHER) throw CEL_FALLBACK;
  return v;
}

/** Whether this process may compile generated code (`node --disallow-code-generation-from-strings` may not). */
const codeGeneration = ((): boolean => {
  try {
    return (new Function('return true') as () => boolean)();
  } catch {
    return false;
  }
})();

/**
 * Compiles a cel-js AST that `check()` has typed (every node carries `checkedType`) to a JavaScript
 * function with the interpreter's semantics; null when it uses something this compiler does not reproduce.
 * The function may throw `CEL_FALLBACK`: the caller must then evaluate with the interpreter.
 *
 * The condition is compiled once here to find out whether it compiles, and its subexpressions registered;
 * the code that runs is generated on the first evaluation, sharing subexpressions with the conditions
 * registered by then (a policy set registers all of its conditions before evaluating any).
 */
export function compileCel(
  ast: CelAstNode,
  functions: CelFunctions = {},
  options: { exactOnly?: boolean } = {},
): ((ctx: Ctx) => unknown) | null {
  if (!codeGeneration) return null;
  // The fast and the exact code differ only in how they handle errors: what one compiles, so does the other.
  const trial = new Generator(functions, false, false);
  try {
    trial.source(ast);
  } catch (err) {
    if (err instanceof Unsupported) return null;
    throw err;
  }
  trial.register();
  let exact = (ctx: Ctx): unknown => {
    exact = new Generator(functions, true, false).buildMain(ast);
    return exact(ctx);
  };
  if (options.exactOnly) return (ctx) => exact(ctx);
  let fast = (ctx: Ctx): unknown => {
    fast = new Generator(functions, true, true).buildMain(ast);
    return fast(ctx);
  };
  return (ctx) => {
    try {
      return fast(ctx);
    } catch (err) {
      if (err === CEL_FALLBACK) throw err;
      celExactStats.runs++;
      return exact(ctx);
    }
  };
}

/** Conditions evaluated together on one context; `run` writes one GROUP_* outcome per condition to `out`. */
export interface CelGroup {
  run(ctx: Ctx, out: Uint8Array): void;
}

/**
 * The fast code of several conditions that compileCel compiled, as one function: a policy set evaluates the
 * conditions of an asset's type together, in one call per asset instead of a chain of closures per
 * condition, and a subexpression several of them hold is computed once per call into a local (no context
 * id to compare). A condition whose fast code does not decide (an error, a value outside its fast paths)
 * is left to its own compiled function, which decides exactly; evaluation has no side effects, so
 * evaluating it again is exact. Null when code generation is not allowed; the function is generated on
 * its first call, so that a scan generates only those of the asset types it meets.
 */
export function compileCelGroup(asts: readonly CelAstNode[], functions: CelFunctions = {}): CelGroup | null {
  if (!codeGeneration) return null;
  const group: CelGroup = {
    run(ctx, out) {
      let built: CelGroup['run'];
      try {
        built = new Generator(functions, false, true, true).buildGroup(asts);
      } catch (err) {
        // Each condition compiled on its own already; a group that would not is left to them.
        if (!(err instanceof Unsupported)) throw err;
        built = (_ctx, o) => void o.fill(GROUP_UNDECIDED);
      }
      group.run = built;
      built(ctx, out);
    },
  };
  return group;
}

/** The JavaScript a condition compiles to (as it would now), or null when it does not compile (diagnostics). */
export function celSource(ast: CelAstNode): string | null {
  try {
    return new Generator({}, true, true).source(ast);
  } catch (err) {
    if (err instanceof Unsupported) return null;
    throw err;
  }
}

/** Why compileCel returned null for an AST (diagnostics and tests). */
export function explainCelCompile(ast: CelAstNode): string | null {
  try {
    new Generator({}, false, false).source(ast);
    return null;
  } catch (err) {
    if (err instanceof Unsupported) return err.message;
    throw err;
  }
}
