/*
 * Values, expressions and mutations the compiled-CEL tests share: the compiler's own tests and those of
 * groups of conditions (cel-group.test.ts) judge both against the cel-js interpreter on the same inputs.
 */

/** Replacements a mutation puts in place of a field: null, other scalar types, empty or odd containers. */
export const MUTATION_REPLACEMENTS: ReadonlyArray<() => unknown> = [
  () => null,
  () => true,
  () => false,
  () => 0,
  () => 22,
  () => 1.5,
  () => 7n,
  () => '',
  () => 'TRUE',
  () => '0.0.0.0/0',
  () => 'allUsers',
  () => [],
  () => ['0.0.0.0/0'],
  () => [null],
  () => [{}],
  () => ({}),
  () => ({ enabled: 'true' }),
  () => ({ items: [{ key: 'enable-oslogin', value: 'FALSE' }] }),
];

/** A deep copy made in this realm (structuredClone's objects come from another one under Jest's VM). */
export function deepClone(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(deepClone);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = deepClone(x);
    return out;
  }
  return v;
}

/** Deletes or replaces one field somewhere under `root` (walking into objects and arrays at random). */
export function mutate(
  root: Record<string, unknown>,
  random: () => number,
  replacement: () => unknown,
): void {
  let node: unknown = root;
  for (let depth = 0; depth < 6; depth++) {
    const container = node as Record<string, unknown> | unknown[];
    const keys = Array.isArray(container) ? container.map((_, i) => i) : Object.keys(container);
    if (keys.length === 0) return;
    const key = keys[Math.floor(random() * keys.length)]!;
    const child = (container as Record<string | number, unknown>)[key];
    const descend = child !== null && typeof child === 'object' && random() < 0.6;
    if (descend) {
      node = child;
      continue;
    }
    if (!Array.isArray(container) && random() < 0.3) delete container[key as string];
    else (container as Record<string | number, unknown>)[key] = replacement();
    return;
  }
}

export function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const VALUES: Record<string, unknown> = {
  null: null,
  true: true,
  false: false,
  'str x': 'x',
  'str empty': '',
  'str mixed': 'X y',
  'int 1': 1n,
  'int 0': 0n,
  'int -1': -1n,
  'int max': 9223372036854775807n,
  'double 1': 1,
  'double 1.5': 1.5,
  'double 0': 0,
  'double 22': 22,
  'list [x]': ['x'],
  'list [1]': [1],
  'list [1n]': [1n],
  'list []': [],
  'list [x, null]': ['x', null],
  'list [{y:1}]': [{ y: 1 }],
  'list [true]': [true],
  'map {x:y}': { x: 'y' },
  'map {}': {},
  'map {x:{y:1}}': { x: { y: 1 } },
  'map {x:null}': { x: null },
  'map firewall': { IPProtocol: 'tcp', ports: ['20-25'] },
  'map metadata': { items: [{ key: 'k', value: 'TRUE' }] },
};

export const UNARY = [
  '!a',
  '-a',
  'a ? 1 : 2',
  'a == "x"',
  'a != "x"',
  'a == 1',
  'a == 1.0',
  'a == null',
  'a == true',
  'a == []',
  'a == {}',
  'a == ["x"]',
  'a == {"x": "y"}',
  'a in ["x", "y"]',
  'a in ["x", 1]',
  'a in ["", null]',
  'a in []',
  '"x" in a',
  '1 in a',
  'a > 1',
  'a > 1.0',
  'a <= 1.5',
  'a < "y"',
  'a + 1',
  'a + "s"',
  'a + [1]',
  'a * 2',
  'a * 2.0',
  'size(a)',
  'a.size()',
  'size(a) > 0',
  'string(a)',
  'double(a)',
  'double(string(a)) > 0.5',
  'type(a) == string',
  'type(a) == map',
  'type(a) == list',
  'type(a) == int',
  'type(a) == double',
  'type(a) == bool',
  'lower(a)',
  'lower(string(a)) == "x"',
  'a.contains("x")',
  '"xyz".contains(a)',
  'a.startsWith("x")',
  'a.endsWith("x")',
  'a.matches("^x")',
  '"x".matches(a)',
  'a.trim()',
  'a.exists(x, x == "x")',
  'a.exists(x, x)',
  'a.exists(x, x.y == 1)',
  'a.all(x, x == "x")',
  'a.all(x, x)',
  'a.all(x, x.y == 1)',
  'a.exists_one(x, x == "x")',
  'a.exists_one(x, x)',
  'a.map(x, x)',
  'a.map(x, x == "x", x)',
  'a.filter(x, x == "x")',
  'a.filter(x, x)',
  'a.map(x, x).size()',
  'a.filter(x, true)[0]',
  'a.x',
  'a.x.y',
  'a.x == "y"',
  'a["x"]',
  'a[0]',
  'a[1]',
  'a.?x.orValue("d")',
  'a.?x.?y.orValue("d")',
  'a.?x.y.orValue("d")',
  'a.?x.hasValue()',
  'a.?x.?y.hasValue()',
  'a[?"x"].orValue(1)',
  'a.?x.orValue({}).?y.orValue(2)',
  'a.?x.or(optional.none()).orValue(3)',
  'optional.of(a).orValue(4)',
  'optional.of(a).hasValue()',
  'has(a.x)',
  'has(a.x.y)',
  'a.orValue(1)',
  'internetSource(a)',
  'allowsTcpPort(a, 22)',
  'allowsTcpPort([a], 22)',
  'allowsTcpPort([{"IPProtocol": "tcp"}], a)',
  'metadataTrue(a, "k")',
  'metadataValue(a, "k") == "TRUE"',
  'metadataTrue({"items": [{"key": "k", "value": "yes"}]}, a)',
  'logFilterCovers(a, ["x"])',
  'logFilterCovers("x", a)',
  'durationSeconds(a) > 10.0',
  'daysSince(a, "2026-01-01T00:00:00Z") > 1.0',
  'daysSince("2025-01-01T00:00:00Z", a) > 1.0',
  'cel.bind(v, a, v == "x" || v == 1)',
  'cel.bind(v, a, v.x)',
  '[a] + [a]',
  '[a, 1] == [a, 1]',
  '{"k": a} == {"k": a}',
  'a.x == "y" && true',
  'a.x == "y" && false',
  'false && a.x == "y"',
  'true && a.x == "y"',
  'a.x == "y" || true',
  'a.x == "y" || false',
  'true || a.x == "y"',
  'false || a.x == "y"',
  'a && false',
  'a || true',
  'false && a',
  'true || a',
  'a && a.x == "y"',
  '!(a.?x.orValue(false) == true)',
];

export const BINARY = [
  'a == b',
  'a != b',
  'a < b',
  'a <= b',
  'a > b',
  'a >= b',
  'a in b',
  'a + b',
  'a - b',
  'a * b',
  'a && b',
  'a || b',
  'a ? b : 2',
  'b.exists(x, x == a)',
  'b.all(x, x != a)',
  'a.x == b || b.x == a',
  'a.x == b && b.x == a',
  '[a, b]',
  '[a] == [b]',
  '{"k": a} == {"k": b}',
  'a.startsWith(b)',
  'a.matches(b)',
];
