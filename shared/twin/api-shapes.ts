import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  PROTO_INTS as INTS,
  PROTO_LONGS as LONGS,
  PROTO_WRAPPERS as WRAPPERS,
  protoRoot,
  readProtoJson,
  resolveProtoType,
  type ProtoField,
  type ProtoMethod,
  type ProtoNode,
} from '../cloud/proto-descriptors.js';
import { IAM_ADMIN_PATH } from './iam-admin-api.js';

/**
 * Google's published shapes of the gax-served APIs, read from the protos.json each official client ships
 * (the same descriptors the clients serialize requests from): every method's HTTP rule (verb, path template,
 * body field) and every message's fields. The twin checks each request against them, so a twin route can
 * only accept a request that names a real method with real field names and types.
 */

interface HttpBinding {
  verb: string;
  template: string;
  body?: string;
}

/** A message or enum found in a package, with the namespace it lives in (for resolving its field types). */
interface Resolved {
  node: ProtoNode;
  ns: string[];
  fullName: string;
  pkg: ProtoPackage;
}

export interface ApiRule {
  /** e.g. google.cloud.sql.v1.SqlInstancesService.Patch */
  method: string;
  verb: string;
  template: string;
  regex: RegExp;
  /** Request field paths bound by the path template, in camelCase. */
  pathFields: string[];
  /** '*', a request field (camelCase), or undefined when the call has no body. */
  body: string | undefined;
  request: Resolved;
  pkg: ProtoPackage;
}

/** The client packages whose protos describe the APIs the twin serves; compute's is loaded only for /compute/ paths. */
const PACKAGES = [
  '@google-cloud/sql',
  '@google-cloud/kms',
  '@google-cloud/secret-manager',
  '@google-cloud/container',
  '@google-cloud/resource-manager',
  '@google-cloud/service-usage',
  '@google-cloud/asset',
] as const;
const COMPUTE = '@google-cloud/compute';

const MIXIN_SERVICES = new Set([
  'google.iam.v1.IAMPolicy',
  'google.longrunning.Operations',
  'google.cloud.location.Locations',
]);

/** Query parameters every Google REST API takes besides the request's own fields (system parameters). */
const SYSTEM_PARAMS = new Set([
  '$alt',
  'alt',
  'prettyPrint',
  '$prettyPrint',
  'fields',
  '$fields',
  'key',
  'quotaUser',
]);

function camel(snake: string): string {
  return snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

class ProtoPackage {
  readonly rules: ApiRule[] = [];

  constructor(
    readonly name: string,
    private readonly root: ProtoNode,
    ownRules = true,
  ) {
    if (ownRules) this.collect(root, []);
  }

  /** Adds the rule a client configures for a mixin method (IAM, long-running operations) it serves. */
  addMixinRule(selector: string, rule: Record<string, unknown>): boolean {
    const path = selector.split('.');
    let node: ProtoNode | undefined = this.root;
    for (const p of path.slice(0, -1)) node = node?.nested?.[p];
    const m = node?.methods?.[path[path.length - 1] ?? ''];
    if (!m) return false;
    this.addMethod(path.slice(0, -1), path[path.length - 1] ?? '', {
      ...m,
      parsedOptions: [{ '(google.api.http)': rule }],
    });
    return true;
  }

  /** Resolves a type reference the way protoc does: innermost enclosing namespace first. */
  resolve(ref: string, ns: string[]): Resolved | undefined {
    const r = resolveProtoType(this.root, ref, ns);
    return r ? { node: r.node, ns: r.path, fullName: r.path.join('.'), pkg: this } : undefined;
  }

  private collect(node: ProtoNode, ns: string[]): void {
    for (const [name, child] of Object.entries(node.nested ?? {})) {
      const path = [...ns, name];
      // Mixin services come bundled with their generic rules (POST /v1/{resource=**}:getIamPolicy), which
      // no service publishes as such: their real rules are added from the client's config (mixinRules).
      if (child.methods && !MIXIN_SERVICES.has(path.join('.'))) {
        for (const [mname, m] of Object.entries(child.methods)) this.addMethod(path, mname, m);
      }
      this.collect(child, path);
    }
  }

  private addMethod(servicePath: string[], name: string, m: ProtoMethod): void {
    const http = m.parsedOptions?.find((o) => '(google.api.http)' in o)?.['(google.api.http)'] as
      Record<string, unknown> | undefined;
    if (!http) return;
    const request = this.resolve(m.requestType, servicePath.slice(0, -1));
    if (!request) return;
    const extra = http['additional_bindings'];
    const bindings = [http, ...(Array.isArray(extra) ? extra : extra ? [extra] : [])] as Array<
      Record<string, unknown>
    >;
    for (const b of bindings) {
      const binding = httpBinding(b);
      if (!binding) continue;
      const { regex, fields } = templateRegex(binding.template);
      this.rules.push({
        method: [...servicePath, name].join('.'),
        verb: binding.verb,
        template: binding.template,
        regex,
        pathFields: fields,
        body:
          binding.body === undefined || binding.body === ''
            ? undefined
            : binding.body === '*'
              ? '*'
              : camel(binding.body),
        request,
        pkg: this,
      });
    }
  }
}

function httpBinding(b: Record<string, unknown>): HttpBinding | undefined {
  for (const verb of ['get', 'post', 'put', 'patch', 'delete']) {
    const template = b[verb];
    if (typeof template === 'string') {
      const body = b['body'];
      return { verb: verb.toUpperCase(), template, ...(typeof body === 'string' ? { body } : {}) };
    }
  }
  return undefined;
}

/** `/v1/{name=projects/*\/locations/*}:get` → a regex over the decoded path, and the fields it binds. */
export function templateRegex(template: string): { regex: RegExp; fields: string[] } {
  const fields: string[] = [];
  let out = '';
  let i = 0;
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const segPattern = (pattern: string): string =>
    pattern
      .split('/')
      .map((seg) => (seg === '**' ? '.+' : seg === '*' ? '[^/]+' : esc(seg).replace(/\\\*/g, '[^/]+')))
      .join('/');
  while (i < template.length) {
    const open = template.indexOf('{', i);
    if (open < 0) {
      out += esc(template.slice(i));
      break;
    }
    out += esc(template.slice(i, open));
    const close = template.indexOf('}', open);
    const inner = template.slice(open + 1, close);
    const eq = inner.indexOf('=');
    fields.push(
      camel(eq < 0 ? inner : inner.slice(0, eq))
        .split('.')
        .map(camel)
        .join('.'),
    );
    out += `(${eq < 0 ? '[^/]+' : segPattern(inner.slice(eq + 1))})`;
    i = close + 1;
  }
  return { regex: new RegExp(`^${out}$`), fields };
}

let packages: ProtoPackage[] | undefined;
let computePackage: ProtoPackage | undefined;
const req = createRequire(import.meta.url);

function load(pkg: string): ProtoPackage {
  return new ProtoPackage(pkg, protoRoot(pkg));
}

/**
 * The HTTP rules a generated client configures for the mixin services it serves (google.iam.v1.IAMPolicy,
 * google.longrunning.Operations, google.cloud.location.Locations): they live in the service's API config,
 * not in its protos, and the client carries them as a literal (`lroOptions.httpRules = [...]`). These are
 * the rules the service publishes; gax's own generic ones (e.g. POST …:getIamPolicy for every service) are
 * not, which is how the KMS client's REST getIamPolicy goes wrong (googleapis/gax-nodejs#1462).
 */
function mixinRules(pkg: string): Array<Record<string, unknown>> {
  const dir = path.dirname(req.resolve(pkg));
  const out: Array<Record<string, unknown>> = [];
  for (const version of readdirSync(dir, { withFileTypes: true })) {
    if (!version.isDirectory()) continue;
    for (const file of readdirSync(path.join(dir, version.name))) {
      if (!file.endsWith('_client.js')) continue;
      const text = readFileSync(path.join(dir, version.name, file), 'utf8');
      const start = text.indexOf('lroOptions.httpRules = [');
      if (start < 0) continue;
      const open = text.indexOf('[', start);
      const literal = text.slice(open, closingBracket(text, open) + 1);
      // A literal of string values only: quote the keys, swap the quotes, drop trailing commas.
      const json = literal
        .replace(/([{,]\s*)(\w+):/g, '$1"$2":')
        .replace(/'/g, '"')
        .replace(/,(\s*[}\]])/g, '$1');
      out.push(...(JSON.parse(json) as Array<Record<string, unknown>>));
    }
  }
  return out;
}

/** The index of the `]` closing the `[` at `open`, skipping quoted strings. */
function closingBracket(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '"') {
      i = text.indexOf(c, i + 1);
      continue;
    }
    if (c === '[') depth++;
    if (c === ']' && --depth === 0) return i;
  }
  throw new Error('unbalanced httpRules literal');
}

function loadAll(): ProtoPackage[] {
  // google-gax exports no package.json; its main module lives in build/src.
  const gaxProtos = path.join(path.dirname(req.resolve('google-gax')), '..', 'protos');
  const mixins = ['iam_service.json', 'operations.json', 'locations.json'].map(
    (f) => new ProtoPackage(`google-gax/${f}`, readProtoJson(path.join(gaxProtos, f)), false),
  );
  const own = PACKAGES.map(load);
  for (const [i, pkg] of PACKAGES.entries()) {
    for (const rule of mixinRules(pkg)) {
      const selector = String(rule['selector']);
      // The package's own copy of the mixin's messages, else another package's (google.iam.v1 is one API;
      // KMS bundles none): gax's iam_service.json predates SetIamPolicyRequest.update_mask, which KMS documents.
      if (own[i]?.addMixinRule(selector, rule)) continue;
      if (own.some((o) => o.addMixinRule(selector, rule))) continue;
      for (const m of mixins) m.addMixinRule(selector, rule);
    }
  }
  return [...own, ...mixins];
}

function rulesFor(urlPath: string): ApiRule[] {
  if (urlPath.startsWith('/compute/')) {
    computePackage ??= load(COMPUTE);
    return computePackage.rules;
  }
  packages ??= loadAll();
  return packages.flatMap((p) => p.rules);
}

/**
 * Whether the twin serves this path from a published gax API. The others validate their bodies with zod
 * schemas written from their REST references: Storage, BigQuery and DNS (JSON APIs), and IAM Admin v1
 * (no installed client ships its protos).
 */
export function isGaxPath(path: string): boolean {
  return !/^\/(storage|bigquery|dns|upload)\//.test(path) && !IAM_ADMIN_PATH.test(path);
}

/** Checks one proto3-JSON value against a field type; returns the first problem, or null. */
function checkValue(pkg: ProtoPackage, type: string, ns: string[], v: unknown, at: string): string | null {
  if (v === null) return null; // proto3 JSON: null is the field's default
  const scalar = WRAPPERS[type] ?? WRAPPERS[`google.protobuf.${type}`] ?? type;
  if (scalar === 'string')
    return typeof v === 'string' ? null : `${at}: expected a string, got ${JSON.stringify(v)}`;
  if (scalar === 'bytes') return typeof v === 'string' ? null : `${at}: expected base64 bytes`;
  if (scalar === 'bool')
    return typeof v === 'boolean' ? null : `${at}: expected a boolean, got ${JSON.stringify(v)}`;
  if (INTS.has(scalar) || LONGS.has(scalar)) {
    const ok = (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v));
    return ok ? null : `${at}: expected an integer, got ${JSON.stringify(v)}`;
  }
  if (scalar === 'double' || scalar === 'float') {
    const ok = typeof v === 'number' || (typeof v === 'string' && v !== '' && !Number.isNaN(Number(v)));
    return ok ? null : `${at}: expected a number, got ${JSON.stringify(v)}`;
  }
  const resolved = pkg.resolve(type, ns);
  const full = resolved?.fullName ?? type;
  switch (full) {
    case 'google.protobuf.Timestamp':
      return typeof v === 'string' && !Number.isNaN(Date.parse(v))
        ? null
        : `${at}: expected an RFC 3339 timestamp`;
    case 'google.protobuf.Duration':
      return typeof v === 'string' && /^-?\d+(\.\d+)?s$/.test(v)
        ? null
        : `${at}: expected a duration like "3.5s"`;
    case 'google.protobuf.FieldMask':
      return typeof v === 'string' ? null : `${at}: expected a field mask string`;
    case 'google.protobuf.Struct':
      return typeof v === 'object' && !Array.isArray(v) ? null : `${at}: expected an object`;
    case 'google.protobuf.Value':
      return null;
    case 'google.protobuf.ListValue':
      return Array.isArray(v) ? null : `${at}: expected a list`;
    case 'google.protobuf.Any':
      return typeof v === 'object' && v !== null && '@type' in v ? null : `${at}: expected an Any with @type`;
    case 'google.protobuf.Empty':
      return typeof v === 'object' && v !== null && Object.keys(v).length === 0 ? null : `${at}: expected {}`;
  }
  if (!resolved) return `${at}: unknown type ${type}`;
  if (resolved.node.values) {
    const values = resolved.node.values;
    if (typeof v === 'string' && v in values) return null;
    if (typeof v === 'number' && Object.values(values).includes(v)) return null;
    // enum-encoding=int sends enums as numbers, which a query string carries as text.
    if (typeof v === 'string' && /^\d+$/.test(v) && Object.values(values).includes(Number(v))) return null;
    return `${at}: ${JSON.stringify(v)} is not a value of enum ${full}`;
  }
  return checkMessage(resolved, v, at, new Set());
}

function fieldsByName(msg: Resolved): Map<string, ProtoField> {
  const out = new Map<string, ProtoField>();
  for (const [name, f] of Object.entries(msg.node.fields ?? {})) {
    out.set(name, f);
    // proto3 JSON parsers accept the original snake_case name too.
    out.set(
      name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      f,
    );
  }
  return out;
}

function checkField(msg: Resolved, f: ProtoField, v: unknown, at: string): string | null {
  const pkg = msg.pkg;
  if (f.keyType) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${at}: expected a map object`;
    for (const [k, val] of Object.entries(v)) {
      const e = checkValue(pkg, f.type, msg.ns.slice(0, -1), val, `${at}.${k}`);
      if (e) return e;
    }
    return null;
  }
  if (f.rule === 'repeated') {
    if (!Array.isArray(v)) return `${at}: expected a list, got ${JSON.stringify(v)}`;
    for (const [i, item] of v.entries()) {
      const e = checkValue(pkg, f.type, msg.ns.slice(0, -1), item, `${at}[${i}]`);
      if (e) return e;
    }
    return null;
  }
  // A message's field types resolve from inside the message (nested types) outwards.
  return checkValue(pkg, f.type, msg.ns, v, at);
}

function checkMessage(msg: Resolved, v: unknown, at: string, skip: Set<string>): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return `${at}: expected an object (${msg.fullName})`;
  const fields = fieldsByName(msg);
  for (const [k, val] of Object.entries(v)) {
    if (skip.has(k)) continue;
    const f = fields.get(k);
    if (!f) return `${at}: unknown field "${k}" in ${msg.fullName}`;
    const e = checkField(msg, f, val, `${at}.${k}`);
    if (e) return e;
  }
  return null;
}

/** The request field a dotted query parameter names (e.g. `options.requestedPolicyVersion`), if any. */
function queryField(rule: ApiRule, name: string): { msg: Resolved; field: ProtoField } | undefined {
  let msg: Resolved | undefined = rule.request;
  const parts = name.split('.');
  for (const [i, part] of parts.entries()) {
    if (!msg) return undefined;
    const f = fieldsByName(msg).get(part);
    if (!f) return undefined;
    if (i === parts.length - 1) return { msg, field: f };
    msg = rule.pkg.resolve(f.type, msg.ns);
  }
  return undefined;
}

export interface ShapeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
}

export type ShapeVerdict =
  | { ok: true; rule: string }
  /** No published method has this verb and path (Google's front end answers 404), or the request is malformed (400). */
  | { ok: false; unknownMethod: boolean; reason: string };

/** Checks a request against the published HTTP rules and message types of the gax APIs. */
export function checkGaxRequest(req: ShapeRequest): ShapeVerdict {
  const path = decodeURIComponent(req.path);
  const candidates = rulesFor(req.path).filter((r) => r.verb === req.method && r.regex.test(path));
  if (candidates.length === 0)
    return {
      ok: false,
      unknownMethod: true,
      reason: `no published Google API method is ${req.method} ${req.path}`,
    };
  let first: string | undefined;
  // A custom verb (`…:getIamPolicy`) also matches a plain `{name=…/*}` template; the rule naming it goes first.
  candidates.sort((a, b) => Number(b.template.includes('}:')) - Number(a.template.includes('}:')));
  for (const rule of candidates) {
    const problem = checkAgainst(rule, req);
    if (!problem) return { ok: true, rule: rule.method };
    first ??= `${rule.method}: ${problem}`;
  }
  return { ok: false, unknownMethod: false, reason: first ?? 'invalid request' };
}

function checkAgainst(rule: ApiRule, req: ShapeRequest): string | null {
  const bound = new Set(rule.pathFields.map((f) => f.split('.')[0] ?? f));
  const isEmpty =
    req.body === undefined ||
    req.body === '' ||
    (typeof req.body === 'object' && req.body !== null && Object.keys(req.body).length === 0);
  if (rule.body === undefined) {
    if (!isEmpty) return 'this method takes no request body';
  } else if (rule.body === '*') {
    const e = checkMessage(rule.request, req.body ?? {}, 'body', bound);
    if (e) return e;
  } else {
    const f = fieldsByName(rule.request).get(rule.body);
    if (!f) return `body field ${rule.body} is not in ${rule.request.fullName}`;
    if (!isEmpty || f.rule === 'repeated') {
      const e = checkField(rule.request, f, req.body ?? {}, 'body');
      if (e) return e;
    }
  }
  for (const [name, value] of req.query) {
    if (SYSTEM_PARAMS.has(name)) continue;
    if (rule.body === '*') return `query parameter "${name}": the whole request is in the body`;
    const q = queryField(rule, name);
    if (!q || q.field.keyType) return `unknown query parameter "${name}" for ${rule.request.fullName}`;
    // Query values are strings: booleans are spelled true/false, numbers and enums as text.
    const type = WRAPPERS[q.field.type] ?? q.field.type;
    const target = rule.pkg.resolve(q.field.type, q.msg.ns);
    const wellKnown = target?.fullName.startsWith('google.protobuf.') ?? false;
    if (target && !target.node.values && !wellKnown) return `query parameter "${name}" names a message field`;
    const decoded = type === 'bool' && (value === 'true' || value === 'false') ? value === 'true' : value;
    const e = checkValue(rule.pkg, q.field.type, q.msg.ns, decoded, `query.${name}`);
    if (e) return e;
  }
  return null;
}
