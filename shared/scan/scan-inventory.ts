import { isRelated } from '../policy/related.js';
import { mergeAssetParts } from '../contracts/cai.js';
import type { Asset } from '../model/asset.js';
import { SEVERITIES, type Severity } from '../model/policy.js';
import type { PolicySet } from '../policy/policy-set.js';
import { readRawInventory } from './raw-inventory.js';
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

export async function scanInventory(opts: ScanOptions, hooks: ScanHooks): Promise<ScanStats> {
  const { policies, now } = opts;
  const stats = emptyStats();
  const store = new SideStore(opts.tempDir);
  try {
    // ---- pass 1: context (non-RESOURCE parts, hierarchy, perimeters) into the side store
    let sawPerimeter = false;
    // Assets some policy reads as `related` (log metrics, alert policies, essential contacts): few per
    // project, so they are kept in memory; the quoted type test keeps the check cheap on every record.
    const relatedTypes = policies.relatedAssetTypes();
    const relatedQuoted = relatedTypes.map((t) => `"${t}"`);
    const related: Asset[] = [];
    // What pass 1 learnt of each file's records, so that pass 2 neither re-runs its text test nor
    // re-parses the records it only needs to skip.
    const memos = new Map<string, Pass1Memo>();
    let memoFile: string | undefined;
    let memo: Pass1Memo | undefined;
    // A type never seen may simply not have been exported: its absence proves nothing.
    const relatedSeen = new Set<string>();
    // The records neither test matches are only counted (the reader searches whole chunks for them).
    for await (const batch of readRawInventory(opts.paths, pass1Filter(relatedQuoted))) {
      for (const r of batch) {
        if (r.kind === 'error') {
          stats.inputErrors++;
          hooks.inputError(r);
          continue;
        }
        if (r.file !== memoFile) {
          memoFile = r.file;
          memo = new Pass1Memo();
          memos.set(r.file, memo);
        }
        if (r.kind === 'skipped') {
          const before = stats.records;
          stats.records += r.count;
          memo!.records += r.count;
          if (hooks.progress)
            for (
              let n = before - (before % PROGRESS_EVERY) + PROGRESS_EVERY;
              n <= stats.records;
              n += PROGRESS_EVERY
            )
              hooks.progress({ pass: 1, records: n, total: 0 });
          continue;
        }
        stats.records++;
        if (hooks.progress && stats.records % PROGRESS_EVERY === 0)
          hooks.progress({ pass: 1, records: stats.records, total: 0 });
        const ordinal = memo!.records++;
        const inPass1 = mayNeedPass1(r.text);
        if (!inPass1 && !(relatedQuoted.length > 0 && relatedQuoted.some((q) => r.text.includes(q))))
          continue;
        const parsed = parseRecordText(r.text);
        if (!parsed.ok) {
          if (inPass1) memo!.add(ordinal, false);
          stats.inputErrors++;
          hooks.inputError({ file: r.file, line: r.line, reason: parsed.reason });
          continue;
        }
        const a = parsed.asset;
        if (inPass1) memo!.add(ordinal, a.resource !== undefined);
        if (relatedTypes.includes(a.assetType) && a.resource) {
          related.push(a);
          relatedSeen.add(a.assetType);
        }
        if (HIERARCHY_TYPES.has(a.assetType)) {
          store.addPart(a.name, a.assetType, JSON.stringify(a), r.file, r.line);
        } else if (hasSidePart(a)) {
          store.addPart(a.name, a.assetType, JSON.stringify({ ...a, resource: undefined }), r.file, r.line);
        }
        if (a.servicePerimeter) {
          sawPerimeter = true;
          for (const p of perimeterProjects(a.servicePerimeter)) store.addPerimeterProject(p);
        }
      }
    }
    store.commit();
    stats.perimetersKnown = sawPerimeter;
    const perimeters = { known: sawPerimeter, projects: sawPerimeter ? store.perimeterProjects() : [] };
    const total = stats.records;

    // ---- helpers of pass 2
    const hierarchy = new Map<string, Asset | null>();
    const ancestorAsset = (key: string): Asset | null => {
      let a = hierarchy.get(key);
      if (a !== undefined) return a;
      const parts = store.parts(HIERARCHY_PREFIX + key).map((p) => JSON.parse(p.json) as Asset);
      a = parts.length > 0 ? mergeAssetParts(parts) : null;
      if (hierarchy.size >= ANCESTRY_CACHE) hierarchy.clear();
      hierarchy.set(key, a);
      return a;
    };
    // One array per distinct ancestor chain, shared by the assets under it (never mutated).
    const ancestries = new Map<string, Asset[]>();
    // The previous asset's chain: exports list a project's assets together, so most assets repeat it and
    // skip building and hashing the key.
    let lastAncestors: readonly string[] = [];
    let lastAncestry: Asset[] | undefined;
    const sameChain = (a: readonly string[], b: readonly string[]): boolean => {
      if (a.length !== b.length) return false;
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
      return true;
    };
    const ancestryOf = (asset: Asset): Asset[] => {
      if (
        lastAncestry &&
        !asset.name.startsWith(HIERARCHY_PREFIX) &&
        sameChain(asset.ancestors, lastAncestors)
      )
        return lastAncestry;
      const out = chainOf(asset);
      if (!asset.name.startsWith(HIERARCHY_PREFIX)) {
        lastAncestors = asset.ancestors;
        lastAncestry = out;
      }
      return out;
    };
    const chainOf = (asset: Asset): Asset[] => {
      const key = asset.ancestors.join('|');
      const cached = ancestries.get(key);
      if (cached && !asset.name.startsWith(HIERARCHY_PREFIX)) return cached;
      const out: Asset[] = [];
      for (const key of asset.ancestors) {
        if (HIERARCHY_PREFIX + key === asset.name) continue;
        const a = ancestorAsset(key);
        if (a) out.push(a);
      }
      if (asset.name.startsWith(HIERARCHY_PREFIX)) return out;
      if (ancestries.size >= ANCESTRY_CACHE) ancestries.clear();
      ancestries.set(key, out);
      return out;
    };
    // Built once: the set of related types is final after pass 1, and conditions only read these.
    const relatedKnown = [...relatedSeen];
    const relatedOf = (a: Asset, types: readonly string[]): Asset[] =>
      related.filter((c) => types.includes(c.assetType) && isRelated(a, c));
    const evalInput = { ancestry: [] as Asset[], perimeters, now, related: relatedOf, relatedKnown };
    /** Synchronous unless the output asks to wait: an async call per asset costs a promise per asset. */
    // The source (file:line) is only spelt out for an asset with findings.
    const evaluate = (asset: Asset, file: string, line: number): Promise<void> | undefined => {
      let wait: Promise<void> | undefined;
      let source: string | undefined;
      evalInput.ancestry = ancestryOf(asset);
      const results = policies.evaluate(asset, evalInput);
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
          new LazyFindingContext(asset, result, ancestryOf(asset)),
        );
        if (w) wait = wait ? wait.then(() => w) : w;
      }
      return wait;
    };

    // ---- pass 2: RESOURCE parts, joined and evaluated as they stream
    let read = 0;
    memoFile = undefined;
    memo = undefined;
    for await (const batch of readRawInventory(opts.paths)) {
      for (const r of batch) {
        if (r.kind === 'error') continue; // reported by pass 1
        read++;
        if (hooks.progress && read % PROGRESS_EVERY === 0) hooks.progress({ pass: 2, records: read, total });
        if (r.file !== memoFile) {
          memoFile = r.file;
          memo = memos.get(r.file) ?? new Pass1Memo();
          memo.rewind();
        }
        // PARSED_WITHOUT_RESOURCE: pass 1 parsed it (and reported it if bad); pass 2 would only skip it.
        const seen = memo!.next();
        if (seen === PARSED_WITHOUT_RESOURCE) continue;
        const inPass1 = seen === PARSED_WITH_RESOURCE;
        if (!mayNeedPass2(r.text, inPass1)) continue;
        const parsed = parseRecordText(r.text);
        if (!parsed.ok) {
          if (!inPass1) {
            stats.inputErrors++;
            hooks.inputError({ file: r.file, line: r.line, reason: parsed.reason });
          }
          continue;
        }
        let asset = parsed.asset;
        if (asset.resource === undefined) continue;
        stats.assets++;
        if (!policies.handles(asset.assetType)) continue;
        if (store.partCount > 0) {
          const parts = store.parts(asset.name);
          if (parts.length > 0) {
            asset = mergeAssetParts([asset, ...parts.map((p) => JSON.parse(p.json) as Asset)]);
            store.markResolved(asset.name);
          }
        }
        const wait = evaluate(asset, r.file, r.line);
        if (wait) await wait;
      }
    }
    if (hooks.progress) hooks.progress({ pass: 2, records: read, total });

    // ---- assets known only by other parts (an IAM policy whose resource is not in the export)
    const handled = new Set(policies.assetTypes());
    for (const name of store.unresolved(handled)) {
      const parts = store.parts(name);
      stats.assets++;
      const asset = mergeAssetParts(parts.map((p) => JSON.parse(p.json) as Asset));
      const wait = evaluate(asset, parts[0]!.file, parts[0]!.line);
      if (wait) await wait;
    }
    return stats;
  } finally {
    store.close();
  }
}
