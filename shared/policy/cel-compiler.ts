/**
 * Compiles a type-checked cel-js AST to a tree of JavaScript closures: the same verdicts as the cel-js
 * interpreter, several times faster, because every node's dispatch, overload lookup and context overlay is
 * resolved once at compile time instead of on every evaluation.
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
type Frame = unknown[];
type Fn = (c: Ctx, f: Frame) => unknown;

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

/** `in` against a constant list of strings (the catalog's most common shape). */
function stringSetIn(set: ReadonlySet<string>, list: readonly unknown[]): (a: unknown) => boolean {
  return (a) => {
    if (typeof a === 'string') return set.has(a);
    return celIn(a, list);
  };
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
// Compiler

class Unsupported extends Error {}
const unsupported = (what: string): never => {
  throw new Unsupported(what);
};

interface Scope {
  readonly vars: ReadonlyMap<string, number>;
}

class Compiler {
  slots = 0;
  constructor(private readonly overrides: CelFunctions) {}

  compile(node: CelAstNode, scope: Scope): Fn {
    if (!node.checkedType) unsupported('unchecked node');
    const alt = node.meta.alternate;
    switch (node.op) {
      case 'value':
        return this.literal(node.args);
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
      case '-_':
        return this.unary(node, scope);
      case '?:': {
        const [c, l, r] = (node.args as CelAstNode[]).map((a) => this.compile(a, scope)) as [Fn, Fn, Fn];
        return (x, f) => (asBool(c(x, f), 'Ternary condition must be bool') ? l(x, f) : r(x, f));
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

  literal(v: unknown): Fn {
    switch (typeof v) {
      case 'string':
      case 'bigint':
      case 'number':
      case 'boolean':
        return () => v;
      case 'object':
        if (v === null) return () => null;
        if (registerTypeValue(v)) return () => v;
    }
    return unsupported('literal');
  }

  identifier(node: CelAstNode, scope: Scope): Fn {
    const name = node.args as string;
    const alt = node.meta.alternate;
    if (alt) {
      if (alt.op === 'value' && registerTypeValue(alt.args)) return () => alt.args;
      return unsupported(`constant ${name}`);
    }
    const slot = scope.vars.get(name);
    if (slot !== undefined) return (_c, f) => f[slot];
    return (c) => {
      const v = c[name];
      if (v === undefined) throw celError(`Unknown variable: ${name}`);
      return checkValue(v);
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

  access(node: CelAstNode, scope: Scope): Fn {
    const [leftNode, rightArg] = node.args as [CelAstNode, unknown];
    if (this.isOptional(leftNode)) return this.optAccess(node, scope);
    if (!this.isDyn(leftNode)) return unsupported(`access on ${leftNode.checkedType?.name}`);
    if (node.op === '.') {
      const key = rightArg as string;
      // Flatten a chain of plain field accesses from a variable: resource.data.x.y
      const keys: string[] = [key];
      let base = leftNode;
      while (base.op === '.') {
        const [inner, innerKey] = base.args as [CelAstNode, string];
        if (!this.isDyn(inner)) break;
        keys.unshift(innerKey);
        base = inner;
      }
      const b = this.compile(base, scope);
      switch (keys.length) {
        case 1:
          return (c, f) => getField(b(c, f), key);
        case 2: {
          const [k0, k1] = keys as [string, string];
          return (c, f) => getField(getField(b(c, f), k0), k1);
        }
        case 3: {
          const [k0, k1, k2] = keys as [string, string, string];
          return (c, f) => getField(getField(getField(b(c, f), k0), k1), k2);
        }
        default:
          return (c, f) => {
            let o = b(c, f);
            for (let i = 0; i < keys.length; i++) o = getField(o, keys[i]!);
            return o;
          };
      }
    }
    const l = this.compile(leftNode, scope);
    const r = this.compile(rightArg as CelAstNode, scope);
    return (c, f) => {
      const o = l(c, f);
      return getIndex(o, r(c, f));
    };
  }

  optAccess(node: CelAstNode, scope: Scope): Fn {
    const [leftNode, rightArg] = node.args as [CelAstNode, unknown];
    const l = this.compile(leftNode, scope);
    if (node.op === '.' || node.op === '.?') {
      const key = rightArg as string;
      return (c, f) => optField(l(c, f), key);
    }
    const r = this.compile(rightArg as CelAstNode, scope);
    return (c, f) => {
      const o = l(c, f);
      return optIndex(o, r(c, f));
    };
  }

  /**
   * A chain of optional accesses read straight to its value (no optional allocated per step), or null if
   * `node` is not one: base (not optional-typed), then `.`/`.?`/`[?]` steps with constant string keys.
   * Returns a function giving the value or undefined when the optional is empty.
   */
  optChain(node: CelAstNode, scope: Scope): Fn | null {
    const steps: Array<{ key: string; optional: boolean }> = [];
    let n = node;
    for (;;) {
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
    const plain = steps.slice(0, first).map((s) => s.key);
    const opt = steps.slice(first).map((s) => s.key);
    return (c, f) => {
      let o = base(c, f);
      for (let i = 0; i < plain.length; i++) o = getField(o, plain[i]!);
      for (let i = 0; i < opt.length; i++) {
        o = rawOptField(o, opt[i]!);
        if (o === undefined) return undefined;
      }
      return o;
    };
  }

  logical(node: CelAstNode, scope: Scope): Fn {
    const [ln, rn] = node.args as [CelAstNode, CelAstNode];
    const l = this.compile(ln, scope);
    const r = this.compile(rn, scope);
    const absorbing = node.op === '||'; // the value that decides alone: true for ||, false for &&
    return (c, f) => {
      let left: unknown;
      let leftErr: unknown;
      try {
        left = l(c, f);
      } catch (e) {
        if (e === CEL_FALLBACK) throw e;
        leftErr = e;
      }
      if (leftErr === undefined) {
        if (left === absorbing) return absorbing;
        if (left === !absorbing) {
          const right = r(c, f);
          if (right === true || right === false) return right;
          throw logicalOperand(right);
        }
      }
      const right = r(c, f);
      if (right === absorbing) return absorbing;
      if (right === !absorbing) throw leftErr ?? logicalOperand(left);
      throw logicalOperand(right);
    };
  }

  unary(node: CelAstNode, scope: Scope): Fn {
    const a = this.compile(node.args as CelAstNode, scope);
    if (node.op === '!_') {
      return (c, f) => {
        const v = a(c, f);
        if (v === true) return false;
        if (v === false) return true;
        knownKind(v);
        throw noOverload(`!${KIND_NAMES[kindOf(v)]}`);
      };
    }
    return (c, f) => {
      const v = a(c, f);
      if (typeof v === 'bigint') return -v;
      if (typeof v === 'number') return -v;
      knownKind(v);
      throw noOverload(`-${KIND_NAMES[kindOf(v)]}`);
    };
  }

  binary(node: CelAstNode, scope: Scope): Fn {
    const [ln, rn] = node.args as [CelAstNode, CelAstNode];
    const op = node.op;
    const l = this.compile(ln, scope);
    // Comparisons against a constant string: the most common shape of a condition.
    if ((op === '==' || op === '!=') && rn.op === 'value' && typeof rn.args === 'string') {
      const s = rn.args;
      const eq = op === '==';
      return (c, f) => {
        const v = l(c, f);
        if (typeof v === 'string') return (v === s) === eq;
        return celEquals(v, s) === eq;
      };
    }
    if (op === 'in' && rn.op === 'list') {
      const items = rn.args as CelAstNode[];
      if (items.length > 0 && items.every((i) => i.op === 'value' && typeof i.args === 'string')) {
        const list = Object.freeze(items.map((i) => i.args as string));
        const test = stringSetIn(new Set(list), list);
        return (c, f) => test(l(c, f));
      }
    }
    const r = this.compile(rn, scope);
    switch (op) {
      case '==':
        return (c, f) => {
          const a = l(c, f);
          return celEquals(a, r(c, f));
        };
      case '!=':
        return (c, f) => {
          const a = l(c, f);
          return !celEquals(a, r(c, f));
        };
      case 'in':
        return (c, f) => {
          const a = l(c, f);
          return celIn(a, r(c, f));
        };
      case '<':
      case '<=':
      case '>':
      case '>=':
        return (c, f) => {
          const a = l(c, f);
          return celCompare(a, r(c, f), op);
        };
      default:
        return (c, f) => {
          const a = l(c, f);
          return celArith(a, r(c, f), op);
        };
    }
  }

  list(items: CelAstNode[], scope: Scope): Fn {
    if (items.every((i) => i.op === 'value')) {
      for (const i of items) this.literal(i.args);
      const constant = Object.freeze(items.map((i) => i.args));
      return () => constant;
    }
    const fns = items.map((i) => this.compile(i, scope));
    return (c, f) => {
      const out = new Array<unknown>(fns.length);
      for (let i = 0; i < fns.length; i++) out[i] = fns[i]!(c, f);
      return out;
    };
  }

  map(entries: Array<[CelAstNode, CelAstNode]>, scope: Scope): Fn {
    const keys: string[] = [];
    for (const [k] of entries) {
      if (k.op !== 'value' || typeof k.args !== 'string') return unsupported('map literal key');
      if (k.args === '__proto__' || k.args === 'constructor' || k.args === 'prototype')
        return unsupported('map literal key');
      keys.push(k.args);
    }
    if (new Set(keys).size !== keys.length) return unsupported('duplicate map key');
    if (entries.length === 0) {
      const empty = Object.freeze({});
      return () => empty;
    }
    const values = entries.map(([, v]) => this.compile(v, scope));
    return (c, f) => {
      const out: Ctx = {};
      for (let i = 0; i < keys.length; i++) out[keys[i]!] = values[i]!(c, f);
      return out;
    };
  }

  /** The declaration the checker found, when there is exactly one candidate. */
  soleDeclaration(node: CelAstNode): CelDeclaration {
    const decls = node.candidates?.declarations ?? [];
    if (decls.length !== 1) return unsupported(`overloaded function`);
    return decls[0]!;
  }

  call(node: CelAstNode, scope: Scope): Fn {
    const [name, argNodes] = node.args as [string, CelAstNode[]];
    const args = argNodes.map((a) => this.compile(a, scope));
    const one = (fn: (v: unknown) => unknown): Fn => {
      if (args.length !== 1) return unsupported(`${name}/${args.length}`);
      const a = args[0]!;
      return (c, f) => fn(a(c, f));
    };
    switch (name) {
      case 'size':
        return one((v) => celSize(v, false));
      case 'string':
        return one(celString);
      case 'double':
        return one(celDouble);
      case 'dyn':
        return one((v) => v);
      case 'type':
        return this.typeCall(node, args);
    }
    return this.customCall(node, name, args);
  }

  typeCall(node: CelAstNode, args: Fn[]): Fn {
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
    const a = args[0]!;
    return (c, f) => table[knownKind(a(c, f))];
  }

  /** A function registered in the environment (internetSource, lower, daysSince...). */
  customCall(node: CelAstNode, name: string, args: Fn[]): Fn {
    const decl = this.soleDeclaration(node);
    if (decl.macro || decl.receiverType || decl.name !== name || decl.argTypes.length !== args.length)
      return unsupported(`function ${name}`);
    const checks = decl.argTypes.map((t) => paramCheck(t.name, name));
    const impl = (this.overrides[name] as ((...a: unknown[]) => unknown) | undefined) ?? decl.handler;
    if (args.length === 1) {
      const [a] = args as [Fn];
      const [ca] = checks as [(v: unknown) => void];
      return (c, f) => {
        const x = a(c, f);
        ca(x);
        return checkResult(impl(x));
      };
    }
    if (args.length === 2) {
      const [a, b] = args as [Fn, Fn];
      const [ca, cb] = checks as [(v: unknown) => void, (v: unknown) => void];
      return (c, f) => {
        const x = a(c, f);
        const y = b(c, f);
        ca(x);
        cb(y);
        return checkResult(impl(x, y));
      };
    }
    return (c, f) => {
      const vals = args.map((a) => a(c, f));
      vals.forEach((v, i) => checks[i]!(v));
      return checkResult(impl(...vals));
    };
  }

  rcall(node: CelAstNode, scope: Scope): Fn {
    const [name, recvNode, argNodes] = node.args as [string, CelAstNode, CelAstNode[]];
    if (this.isOptional(recvNode) || (recvNode.op === 'id' && recvNode.meta.alternate)) {
      return this.optionalMethod(node, name, recvNode, argNodes, scope);
    }
    const recv = this.compile(recvNode, scope);
    const args = argNodes.map((a) => this.compile(a, scope));
    const str = (fn: (s: string) => unknown): Fn => {
      if (args.length !== 0) return unsupported(`${name}/${args.length}`);
      return (c, f) => fn(requireString(recv(c, f), `${name}()`));
    };
    const str2 = (fn: (s: string, t: string) => unknown): Fn => {
      if (args.length !== 1) return unsupported(`${name}/${args.length}`);
      const a = args[0]!;
      return (c, f) => {
        const s = recv(c, f);
        const t = a(c, f);
        return fn(requireString(s, `${name}()`), requireString(t, `${name}()`));
      };
    };
    switch (name) {
      case 'size':
        if (args.length !== 0) return unsupported('size/n');
        return (c, f) => celSize(recv(c, f), true);
      case 'contains':
        return str2((s, t) => s.includes(t));
      case 'startsWith':
        return str2((s, t) => s.startsWith(t));
      case 'endsWith':
        return str2((s, t) => s.endsWith(t));
      case 'trim':
        return str((s) => s.trim());
      case 'lowerAscii':
        return str((s) => s.toLowerCase());
      case 'upperAscii':
        return str((s) => s.toUpperCase());
      case 'matches': {
        const patNode = argNodes[0];
        if (args.length === 1 && patNode?.op === 'value' && typeof patNode.args === 'string') {
          let re: RegExp | undefined;
          try {
            re = new RegExp(patNode.args);
          } catch {
            re = undefined;
          }
          const pattern = patNode.args;
          return (c, f) => {
            const s = requireString(recv(c, f), 'matches()');
            if (!re) throw celError(`Invalid regular expression: ${pattern}`);
            return re.test(s);
          };
        }
        return str2((s, p) => {
          let re: RegExp;
          try {
            re = new RegExp(p);
          } catch {
            throw celError(`Invalid regular expression: ${p}`);
          }
          return re.test(s);
        });
      }
      case 'hasValue':
      case 'value':
        // On a dyn receiver these only accept optionals at run time; compiled optionals are always typed.
        return (c, f) => {
          const o = recv(c, f);
          if (!(o instanceof Opt)) {
            knownKind(o);
            throw celError(`found no matching overload for '${KIND_NAMES[kindOf(o)]}.${name}()'`);
          }
          return optMethod(o, name);
        };
    }
    return unsupported(`method ${name}`);
  }

  optionalMethod(
    node: CelAstNode,
    name: string,
    recvNode: CelAstNode,
    argNodes: CelAstNode[],
    scope: Scope,
  ): Fn {
    if (recvNode.op === 'id') {
      // optional.none() / optional.of(x): the `optional` namespace constant.
      const ns = recvNode.meta.alternate?.args as object | undefined;
      if (recvNode.args !== 'optional' || ns?.constructor?.name !== 'OptionalNamespace')
        return unsupported(`${String(recvNode.args)}.${name}`);
      if (name === 'none' && argNodes.length === 0) return () => NONE;
      if (name === 'of' && argNodes.length === 1) {
        const v = this.compile(argNodes[0]!, scope);
        return (c, f) => some(v(c, f));
      }
      return unsupported(`optional.${name}`);
    }
    if ((name === 'hasValue' || name === 'value') && argNodes.length === 0) {
      const chain = this.optChain(recvNode, scope);
      if (chain && name === 'hasValue') return (c, f) => chain(c, f) !== undefined;
      const recv = this.compile(recvNode, scope);
      return (c, f) => {
        const o = recv(c, f);
        if (!(o instanceof Opt)) throw CEL_FALLBACK;
        return optMethod(o, name);
      };
    }
    return unsupported(`optional method ${name}`);
  }

  callMacro(node: CelAstNode, scope: Scope): Fn {
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
    const last = keys.length - 1;
    return (c, f) => {
      let o = base(c, f);
      for (let i = 0; i <= last; i++) {
        o = lazyField(o, keys[i]!);
        if (o === undefined) {
          if (i < last) throw noSuchKey(keys[i]);
          return false;
        }
      }
      return true;
    };
  }

  rcallMacro(node: CelAstNode, scope: Scope): Fn {
    const [name, recvNode, argNodes] = node.args as [string, CelAstNode, CelAstNode[]];
    const alt = node.meta.alternate;
    if (alt) {
      if (alt.op !== 'comprehension') return unsupported('macro expansion');
      return this.comprehension(name, recvNode, argNodes, scope);
    }
    if (name === 'orValue' && argNodes.length === 1) {
      const dflt = this.compile(argNodes[0]!, scope);
      const chain = this.optChain(recvNode, scope);
      if (chain) {
        return (c, f) => {
          const v = chain(c, f);
          return v === undefined ? dflt(c, f) : v;
        };
      }
      const recv = this.compile(recvNode, scope);
      return (c, f) => {
        const o = recv(c, f);
        if (!(o instanceof Opt)) {
          knownKind(o);
          throw celError('optional.orValue(value) receiver must be optional');
        }
        return o.v === undefined ? dflt(c, f) : o.v;
      };
    }
    if (name === 'or' && argNodes.length === 1) {
      const recv = this.compile(recvNode, scope);
      const other = this.compile(argNodes[0]!, scope);
      return (c, f) => {
        const o = recv(c, f);
        if (!(o instanceof Opt)) {
          knownKind(o);
          throw celError('optional.or(optional) receiver must be optional');
        }
        if (o.v !== undefined) return o;
        const p = other(c, f);
        if (!(p instanceof Opt)) {
          knownKind(p);
          throw celError('optional.or(optional) argument must be optional');
        }
        return p;
      };
    }
    if (
      name === 'bind' &&
      recvNode.op === 'id' &&
      recvNode.args === 'cel' &&
      argNodes.length === 3 &&
      argNodes[0]!.op === 'id'
    ) {
      const v = argNodes[0]!.args as string;
      const init = this.compile(argNodes[1]!, scope);
      const slot = this.slots++;
      const body = this.compile(argNodes[2]!, { vars: new Map(scope.vars).set(v, slot) });
      return (c, f) => {
        f[slot] = init(c, f);
        return body(c, f);
      };
    }
    return unsupported(`macro ${name}`);
  }

  comprehension(name: string, recvNode: CelAstNode, argNodes: CelAstNode[], scope: Scope): Fn {
    const varNode = argNodes[0];
    if (!varNode || varNode.op !== 'id') return unsupported('comprehension variable');
    const iterable = this.compile(recvNode, scope);
    const slot = this.slots++;
    const inner: Scope = { vars: new Map(scope.vars).set(varNode.args as string, slot) };
    const body = argNodes.slice(1).map((a) => this.compile(a, inner));
    // exists and all are one loop: stop at the first predicate result equal to `decisive` (true for exists,
    // false for all); an error only counts if nothing decisive came, as in cel-js.
    const quantifier = (decisive: boolean, label: string): Fn => {
      const pred = body[0]!;
      return (c, f) => {
        const items = toIterable(iterable(c, f));
        let err: unknown;
        for (let i = 0; i < items.length; i++) {
          f[slot] = checkValue(items[i]);
          let r: unknown;
          try {
            r = pred(c, f);
          } catch (e) {
            if (e === CEL_FALLBACK) throw e;
            err ??= e;
            continue;
          }
          if (r === decisive) return decisive;
          if (r !== !decisive) err ??= predicateError(r, label);
        }
        if (err !== undefined) throw err;
        return !decisive;
      };
    };
    if (name === 'exists' && body.length === 1)
      return quantifier(true, 'exists(var, predicate) predicate must return bool');
    if (name === 'all' && body.length === 1)
      return quantifier(false, 'all(var, predicate) predicate must return bool');
    if (name === 'exists_one' && body.length === 1) {
      const pred = body[0]!;
      const label = 'exists_one(var, predicate) predicate must return bool';
      return (c, f) => {
        const items = toIterable(iterable(c, f));
        let n = 0;
        for (let i = 0; i < items.length; i++) {
          f[slot] = checkValue(items[i]);
          if (asBool(pred(c, f), label)) n++;
        }
        return n === 1;
      };
    }
    if (name === 'filter' && body.length === 1) {
      const pred = body[0]!;
      const label = 'filter(var, predicate) predicate must return bool';
      return (c, f) => {
        const items = toIterable(iterable(c, f));
        const out: unknown[] = [];
        for (let i = 0; i < items.length; i++) {
          f[slot] = checkValue(items[i]);
          if (asBool(pred(c, f), label)) out.push(f[slot]);
        }
        return out;
      };
    }
    if (name === 'map' && body.length === 1) {
      const transform = body[0]!;
      return (c, f) => {
        const items = toIterable(iterable(c, f));
        const out: unknown[] = [];
        for (let i = 0; i < items.length; i++) {
          f[slot] = checkValue(items[i]);
          out.push(transform(c, f));
        }
        return out;
      };
    }
    if (name === 'map' && body.length === 2) {
      const [pred, transform] = body as [Fn, Fn];
      const label = 'map(var, filter, transform) filter predicate must return bool';
      return (c, f) => {
        const items = toIterable(iterable(c, f));
        const out: unknown[] = [];
        for (let i = 0; i < items.length; i++) {
          f[slot] = checkValue(items[i]);
          if (asBool(pred(c, f), label)) out.push(transform(c, f));
        }
        return out;
      };
    }
    return unsupported(`comprehension ${name}`);
  }
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

/**
 * Compiles a cel-js AST that `check()` has typed (every node carries `checkedType`) to a closure with the
 * interpreter's semantics; null when it uses something this compiler does not reproduce. The closure may
 * throw `CEL_FALLBACK`: the caller must then evaluate with the interpreter.
 */
export function compileCel(ast: CelAstNode, functions: CelFunctions = {}): ((ctx: Ctx) => unknown) | null {
  const compiler = new Compiler(functions);
  let fn: Fn;
  try {
    fn = compiler.compile(ast, { vars: new Map() });
  } catch (err) {
    if (err instanceof Unsupported) return null;
    throw err;
  }
  const slots = compiler.slots;
  const empty: Frame = [];
  if (slots === 0) {
    return (ctx) => {
      const v = fn(ctx, empty);
      if (v instanceof Opt) throw CEL_FALLBACK;
      return v;
    };
  }
  return (ctx) => {
    const v = fn(ctx, new Array<unknown>(slots));
    if (v instanceof Opt) throw CEL_FALLBACK;
    return v;
  };
}

/** Why compileCel returned null for an AST (diagnostics and tests). */
export function explainCelCompile(ast: CelAstNode): string | null {
  try {
    new Compiler({}).compile(ast, { vars: new Map() });
    return null;
  } catch (err) {
    if (err instanceof Unsupported) return err.message;
    throw err;
  }
}
