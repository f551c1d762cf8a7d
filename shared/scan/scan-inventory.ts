import { isRelated } from '../policy/related.js';
import { mergeAssetParts } from '../contracts/cai.js';
import type { Asset } from '../model/asset.js';
import { SEVERITIES, type Severity } from '../model/policy.js';
import type { PolicySet } from '../policy/policy-set.js';
import { readRawInventory, type FilteredRecord, type RawRecord } from './raw-inventory.js';
import { HIERARCHY_TYPES, mayNeedPass1, mayNeedPass2, pass1Filter } from './record-filter.js';
import { parseRecordText } from './parse-record.js';
import { LazyFindingContext, scanFinding, type FindingContext, type ScanFinding } from './scan-finding.js';
import { SideStore } from './side-store.js';

/*
 * The scan: two streaming passes over the inventory with flat memory.
 *
 * CAI exports deliver an asset's RESOURCE and IAM_POLICY (ORG_POLICY, ACCESS_POLICY) content as separate
 * records, often in separate files, and conditions also read the asset's ancestors and the VPC-SC
 * perimeters. Pass 1 parses only the records that may hold such context (a text test decides) and keeps
 * it in a temporary SQLite file. Pass 2 parses the records with a RESOURCE part, joins the other parts and
 * the ancestry by lookups (ancestors through a bounded cache), evaluates and hands findings on at once.
 * Assets known only by other parts are evaluated last. Each bad record is reported once, by the pass that
 * parses it first.
 */

export interface InputError {
  file: string;
  /** 1-based; 0 when the problem is the file itself. */
  line: number;
  reason: string;
}

export interface LayerTally {
  /** Verdicts reached (pass or violation). */
  checks: number;
  passed: number;
  failed: number;
  /** Violations the resource is exempt from: not passed, but never failing the scan. */
  suppressed: number;
  /** Conditions that could not be evaluated on an asset. */
  errors: number;
}

export interface ScanStats {
  /** Records read in the inventory (every content type). */
  records: number;
  /** Distinct assets seen with a RESOURCE part, plus those known only by other parts. */
  assets: number;
  evaluations: number;
  open: Record<Severity, number>;
  suppressed: number;
  inputErrors: number;
  byLayer: Map<string, LayerTally>;
  /** Per policy: how many assets its condition failed on, and the first failure. */
  evalErrors: Map<string, { count: number; message: string; resource: string }>;
  perimetersKnown: boolean;
}

export interface ScanProgress {
  pass: 1 | 2;
  records: number;
  /** Records in the inventory, known once pass 1 is done (0 during pass 1). */
  total: number;
}

export interface ScanHooks {
  /** Returns a promise only when the output wants the scan to wait (backpressure). */
  finding(finding: ScanFinding, context: FindingContext): void | Promise<void>;
  inputError(error: InputError): void;
  progress?(p: ScanProgress): void;
}

export interface ScanOptions {
  paths: readonly string[];
  policies: PolicySet;
  /** RFC 3339, one value for the whole scan so that its verdicts are consistent. */
  now: string;
  /** Where the temporary SQLite file goes (default: the OS temp dir). */
  tempDir?: string;
}

const PROGRESS_EVERY = 20_000;
/** Hierarchy assets kept parsed; a landing zone has few, and a bounded cache keeps memory flat anyway. */
const ANCESTRY_CACHE = 20_000;
const HIERARCHY_PREFIX = '//cloudresourcemanager.googleapis.com/';

const NOT_IN_PASS1 = 0;
const PARSED_WITH_RESOURCE = 1;
const PARSED_WITHOUT_RESOURCE = 2;

/**
 * Per file: the ordinals of the records pass 1's text test matched (so pass 1 parsed them), each with
 * whether it held a RESOURCE part, as ordinal * 2 + flag in ascending order. Pass 2 walks the same records
 * in the same order with a cursor. Only matched records take room (4 bytes each).
 */
class Pass1Memo {
  records = 0;
  private entries = new Int32Array(64);
  private size = 0;
  private cursor = 0;
  private ordinal = 0;

  add(ordinal: number, withResource: boolean): void {
    if (this.size === this.entries.length) {
      const grown = new Int32Array(this.entries.length * 2);
      grown.set(this.entries);
      this.entries = grown;
    }
    this.entries[this.size++] = ordinal * 2 + (withResource ? 1 : 0);
  }

  rewind(): void {
    this.cursor = 0;
    this.ordinal = 0;
  }

  /** What pass 1 made of the next record of the file. */
  next(): number {
    const ordinal = this.ordinal++;
    while (this.cursor < this.size && this.entries[this.cursor]! >> 1 < ordinal) this.cursor++;
    if (this.cursor === this.size) return NOT_IN_PASS1;
    const e = this.entries[this.cursor]!;
    if (e >> 1 !== ordinal) return NOT_IN_PASS1;
    return e & 1 ? PARSED_WITH_RESOURCE : PARSED_WITHOUT_RESOURCE;
  }
}

function emptyStats(): ScanStats {
  return {
    records: 0,
    assets: 0,
    evaluations: 0,
    open: Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>,
    suppressed: 0,
    inputErrors: 0,
    byLayer: new Map(),
    evalErrors: new Map(),
    perimetersKnown: false,
  };
}

function hasSidePart(a: Asset): boolean {
  return (
    a.iamPolicy !== undefined ||
    a.orgPolicy !== undefined ||
    a.accessPolicy !== undefined ||
    a.accessLevel !== undefined ||
    a.servicePerimeter !== undefined
  );
}

/** Projects a perimeter enforces: status only (a dry-run spec protects nothing); bridges add nothing. */
function perimeterProjects(perimeter: Record<string, unknown>): string[] {
  if (perimeter['perimeterType'] === 'PERIMETER_TYPE_BRIDGE') return [];
  const status = perimeter['status'];
  if (!status || typeof status !== 'object') return [];
  const resources = (status as Record<string, unknown>)['resources'];
  if (!Array.isArray(resources)) return [];
  return resources.filter((r): r is string => typeof r === 'string' && r.startsWith('projects/'));
}

/**
 * One scan's state and its per-record steps. The steps are small methods, each optimized once by V8; the
 * async function below only feeds them batches (a single large async function with both passes inside was
 * re-optimized whole at every change of pass).
 */
class Scan {
  readonly stats = emptyStats();
  readonly store: SideStore;
  private readonly policies: PolicySet;
  // ---- pass 1
  private sawPerimeter = false;
  /**
   * Assets some policy reads as `related` (log metrics, alert policies, essential contacts): few per
   * project, so they are kept in memory; the quoted type test keeps the check cheap on every record.
   */
  private readonly relatedTypes: string[];
  readonly relatedQuoted: string[];
  private readonly related: Asset[] = [];
  /** A type never seen may simply not have been exported: its absence proves nothing. */
  private readonly relatedSeen = new Set<string>();
  /**
   * What pass 1 learnt of each file's records, so that pass 2 neither re-runs its text test nor re-parses
   * the records it only needs to skip.
   */
  private readonly memos = new Map<string, Pass1Memo>();
  private memoFile: string | undefined;
  private memo: Pass1Memo | undefined;
  // ---- pass 2
  private read = 0;
  private total = 0;
  private readonly hierarchy = new Map<string, Asset | null>();
  /** One array per distinct ancestor chain, shared by the assets under it (never mutated). */
  private readonly ancestries = new Map<string, Asset[]>();
  /**
   * The previous asset's chain: exports list a project's assets together, so most assets repeat it and
   * skip building and hashing the key.
   */
  private lastAncestors: readonly string[] = [];
  private lastAncestry: Asset[] | undefined;
  private readonly evalInput: {
    ancestry: Asset[];
    perimeters: { known: boolean; projects: string[] };
    now: string;
    related: (a: Asset, types: readonly string[]) => Asset[];
    relatedKnown: string[];
  };

  constructor(
    opts: ScanOptions,
    private readonly hooks: ScanHooks,
  ) {
    this.policies = opts.policies;
    this.store = new SideStore(opts.tempDir);
    this.relatedTypes = this.policies.relatedAssetTypes();
    this.relatedQuoted = this.relatedTypes.map((t) => `"${t}"`);
    this.evalInput = {
      ancestry: [],
      perimeters: { known: false, projects: [] },
      now: opts.now,
      related: (a, types) => this.related.filter((c) => types.includes(c.assetType) && isRelated(a, c)),
      relatedKnown: [],
    };
  }

  /** Pass 1: context (non-RESOURCE parts, hierarchy, perimeters) into the side store. */
  pass1(r: FilteredRecord): void {
    const { stats, hooks } = this;
    if (r.kind === 'error') {
      stats.inputErrors++;
      hooks.inputError(r);
      return;
    }
    if (r.file !== this.memoFile) {
      this.memoFile = r.file;
      this.memo = new Pass1Memo();
      this.memos.set(r.file, this.memo);
    }
    const memo = this.memo!;
    // The records neither text test matches are only counted (the reader searches whole chunks for them).
    if (r.kind === 'skipped') {
      const before = stats.records;
      stats.records += r.count;
      memo.records += r.count;
      if (hooks.progress)
        for (
          let n = before - (before % PROGRESS_EVERY) + PROGRESS_EVERY;
          n <= stats.records;
          n += PROGRESS_EVERY
        )
          hooks.progress({ pass: 1, records: n, total: 0 });
      return;
    }
    stats.records++;
    if (hooks.progress && stats.records % PROGRESS_EVERY === 0)
      hooks.progress({ pass: 1, records: stats.records, total: 0 });
    const ordinal = memo.records++;
    const inPass1 = mayNeedPass1(r.text);
    const relatedQuoted = this.relatedQuoted;
    if (!inPass1 && !(relatedQuoted.length > 0 && relatedQuoted.some((q) => r.text.includes(q)))) return;
    const parsed = parseRecordText(r.text);
    if (!parsed.ok) {
      if (inPass1) memo.add(ordinal, false);
      stats.inputErrors++;
      hooks.inputError({ file: r.file, line: r.line, reason: parsed.reason });
      return;
    }
    const a = parsed.asset;
    if (inPass1) memo.add(ordinal, a.resource !== undefined);
    if (this.relatedTypes.includes(a.assetType) && a.resource) {
      this.related.push(a);
      this.relatedSeen.add(a.assetType);
    }
    const store = this.store;
    if (HIERARCHY_TYPES.has(a.assetType)) {
      store.addPart(a.name, a.assetType, JSON.stringify(a), r.file, r.line);
    } else if (hasSidePart(a)) {
      // JSON leaves out undefined values: a part-only record needs no copy without its RESOURCE part.
      const part = a.resource === undefined ? a : { ...a, resource: undefined };
      store.addPart(a.name, a.assetType, JSON.stringify(part), r.file, r.line);
    }
    if (a.servicePerimeter) {
      this.sawPerimeter = true;
      for (const p of perimeterProjects(a.servicePerimeter)) store.addPerimeterProject(p);
    }
  }

  endPass1(): void {
    const store = this.store;
    store.commit();
    this.stats.perimetersKnown = this.sawPerimeter;
    this.evalInput.perimeters = {
      known: this.sawPerimeter,
      projects: this.sawPerimeter ? store.perimeterProjects() : [],
    };
    // Built once: the set of related types is final after pass 1, and conditions only read these.
    this.evalInput.relatedKnown = [...this.relatedSeen];
    this.total = this.stats.records;
    this.memoFile = undefined;
    this.memo = undefined;
  }

  /** Pass 2: a record with a RESOURCE part, joined and evaluated; a promise when the output asks to wait. */
  pass2(r: RawRecord): Promise<void> | undefined {
    if (r.kind === 'error') return undefined; // reported by pass 1
    const hooks = this.hooks;
    this.read++;
    if (hooks.progress && this.read % PROGRESS_EVERY === 0)
      hooks.progress({ pass: 2, records: this.read, total: this.total });
    if (r.file !== this.memoFile) {
      this.memoFile = r.file;
      this.memo = this.memos.get(r.file) ?? new Pass1Memo();
      this.memo.rewind();
    }
    // PARSED_WITHOUT_RESOURCE: pass 1 parsed it (and reported it if bad); pass 2 would only skip it.
    const seen = this.memo!.next();
    if (seen === PARSED_WITHOUT_RESOURCE) return undefined;
    const inPass1 = seen === PARSED_WITH_RESOURCE;
    if (!mayNeedPass2(r.text, inPass1)) return undefined;
    return this.resourceRecord(r, inPass1);
  }

  /** A record pass 2 parses (kept apart from the skipping above, which a whole file of other parts runs). */
  private resourceRecord(r: RawRecord & { kind: 'text' }, inPass1: boolean): Promise<void> | undefined {
    const { stats, hooks } = this;
    const parsed = parseRecordText(r.text);
    if (!parsed.ok) {
      if (!inPass1) {
        stats.inputErrors++;
        hooks.inputError({ file: r.file, line: r.line, reason: parsed.reason });
      }
      return undefined;
    }
    let asset = parsed.asset;
    if (asset.resource === undefined) return undefined;
    stats.assets++;
    if (!this.policies.handles(asset.assetType)) return undefined;
    if (this.store.partCount > 0) {
      const parts = this.store.resolve(asset.name);
      if (parts.length > 0)
        asset = mergeAssetParts([asset, ...parts.map((p) => JSON.parse(p.json) as Asset)]);
    }
    return this.evaluate(asset, r.file, r.line);
  }

  endPass2(): void {
    if (this.hooks.progress) this.hooks.progress({ pass: 2, records: this.read, total: this.total });
  }

  /** An asset known only by other parts (an IAM policy whose resource is not in the export). */
  partsOnly(name: string): Promise<void> | undefined {
    const parts = this.store.parts(name);
    this.stats.assets++;
    const asset = mergeAssetParts(parts.map((p) => JSON.parse(p.json) as Asset));
    return this.evaluate(asset, parts[0]!.file, parts[0]!.line);
  }

  private ancestorAsset(key: string): Asset | null {
    let a = this.hierarchy.get(key);
    if (a !== undefined) return a;
    const parts = this.store.parts(HIERARCHY_PREFIX + key).map((p) => JSON.parse(p.json) as Asset);
    a = parts.length > 0 ? mergeAssetParts(parts) : null;
    if (this.hierarchy.size >= ANCESTRY_CACHE) this.hierarchy.clear();
    this.hierarchy.set(key, a);
    return a;
  }

  private ancestryOf(asset: Asset): Asset[] {
    if (
      this.lastAncestry &&
      !asset.name.startsWith(HIERARCHY_PREFIX) &&
      sameChain(asset.ancestors, this.lastAncestors)
    )
      return this.lastAncestry;
    const out = this.chainOf(asset);
    if (!asset.name.startsWith(HIERARCHY_PREFIX)) {
      this.lastAncestors = asset.ancestors;
      this.lastAncestry = out;
    }
    return out;
  }

  private chainOf(asset: Asset): Asset[] {
    const key = asset.ancestors.join('|');
    const cached = this.ancestries.get(key);
    if (cached && !asset.name.startsWith(HIERARCHY_PREFIX)) return cached;
    const out: Asset[] = [];
    for (const key of asset.ancestors) {
      if (HIERARCHY_PREFIX + key === asset.name) continue;
      const a = this.ancestorAsset(key);
      if (a) out.push(a);
    }
    if (asset.name.startsWith(HIERARCHY_PREFIX)) return out;
    if (this.ancestries.size >= ANCESTRY_CACHE) this.ancestries.clear();
    this.ancestries.set(key, out);
    return out;
  }

  /**
   * Synchronous unless the output asks to wait: an async call per asset costs a promise per asset. The
   * source (file:line) is only spelt out for an asset with findings.
   */
  private evaluate(asset: Asset, file: string, line: number): Promise<void> | undefined {
    const { stats, hooks } = this;
    let wait: Promise<void> | undefined;
    let source: string | undefined;
    this.evalInput.ancestry = this.ancestryOf(asset);
    const results = this.policies.evaluate(asset, this.evalInput);
    for (const result of results) {
      const layer = result.policy.def.layer;
      let tally = stats.byLayer.get(layer);
      if (!tally) {
        tally = { checks: 0, passed: 0, failed: 0, suppressed: 0, errors: 0 };
        stats.byLayer.set(layer, tally);
      }
      const v = result.verdict;
      if (v.kind === 'error') {
        tally.errors++;
        const id = result.policy.def.id;
        const seen = stats.evalErrors.get(id);
        if (seen) seen.count++;
        else stats.evalErrors.set(id, { count: 1, message: v.message, resource: asset.name });
        continue;
      }
      stats.evaluations++;
      tally.checks++;
      if (v.kind === 'pass') {
        tally.passed++;
        continue;
      }
      if (result.exemption) {
        tally.suppressed++;
        stats.suppressed++;
      } else {
        tally.failed++;
        stats.open[result.policy.def.severity]++;
      }
      source ??= `${file}:${line}`;
      const w = hooks.finding(
        scanFinding(asset, result, source),
        new LazyFindingContext(asset, result, this.ancestryOf(asset)),
      );
      if (w) wait = wait ? wait.then(() => w) : w;
    }
    return wait;
  }
}

function sameChain(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export async function scanInventory(opts: ScanOptions, hooks: ScanHooks): Promise<ScanStats> {
  const scan = new Scan(opts, hooks);
  try {
    for await (const batch of readRawInventory(opts.paths, pass1Filter(scan.relatedQuoted)))
      for (const r of batch) scan.pass1(r);
    scan.endPass1();
    for await (const batch of readRawInventory(opts.paths)) {
      for (const r of batch) {
        const wait = scan.pass2(r);
        if (wait) await wait;
      }
    }
    scan.endPass2();
    const handled = new Set(opts.policies.assetTypes());
    for (const name of scan.store.unresolved(handled)) {
      const wait = scan.partsOnly(name);
      if (wait) await wait;
    }
    return scan.stats;
  } finally {
    scan.store.close();
  }
}
