import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MemoryParts } from './memory-parts.js';
import type { PartRow, PartRows } from './part-rows.js';
import { SqliteParts } from './sqlite-parts.js';

/*
 * What pass 1 of a scan keeps for pass 2: the non-RESOURCE parts of every asset (IAM_POLICY, ORG_POLICY,
 * ACCESS_POLICY content), every part of the hierarchy assets (organizations, folders, projects: the ancestry
 * conditions read), and the projects inside VPC Service Controls perimeters. Pass 2 joins by name. They are
 * kept in memory up to a budget, then in a temporary SQLite file (deleted on close), so that memory stays
 * flat however large the inventory.
 */

export interface StoredPart {
  json: string;
  file: string;
  line: number;
}

/**
 * Characters of names and part text kept in memory (about 8 MB; an inventory of 100,000 assets needs
 * about half); beyond, every part moves to the SQLite file.
 */
const MEMORY_BUDGET = 8 * 1024 * 1024;
/**
 * SQLite stores text as UTF-8, which has no lone surrogates, and orders it by code point where JavaScript
 * orders UTF-16 code units: a string with a surrogate sends the parts to SQLite so that nothing differs.
 */
const SURROGATE = /[\ud800-\udfff]/;

export class SideStore {
  private readonly dir: string;
  /** Set while the parts are in memory. */
  private memory: MemoryParts | undefined;
  private store: PartRows;
  /**
   * Which part rows pass 2 has joined to a RESOURCE part, one bit per row id (parts are only added in pass
   * 1, so the row ids are final then): a kilobyte per 8,000 parts, where a table of resolved names cost a
   * write per asset.
   */
  private resolvedRows: Uint8Array | undefined;
  /** Names with stored parts; 0 lets pass 2 skip every lookup. */
  partCount = 0;

  constructor(
    parentDir = tmpdir(),
    /** Characters of part text kept in memory before the parts move to SQLite (tests lower it). */
    private readonly memoryBudget = MEMORY_BUDGET,
  ) {
    this.dir = mkdtempSync(path.join(parentDir, 'warden-scan-'));
    this.memory = new MemoryParts();
    this.store = this.memory;
  }

  /** Memory must not hold more, or cannot hold `text` exactly: every part moves to the SQLite file. */
  private toDisk(): void {
    const memory = this.memory!;
    this.memory = undefined;
    this.store = new SqliteParts(this.dir);
    memory.copyTo(this.store);
  }

  private fits(text: string, size: number): boolean {
    return this.memory!.chars + size <= this.memoryBudget && !SURROGATE.test(text);
  }

  /** Ends the open write batch; reads see every write either way. */
  commit(): void {
    this.store.commit();
  }

  addPart(name: string, assetType: string, json: string, file: string, line: number): void {
    if (this.memory && !this.fits(name, name.length + json.length)) this.toDisk();
    this.store.add(name, assetType, json, file, line);
    this.partCount++;
  }

  addPerimeterProject(project: string): void {
    if (this.memory && !this.fits(project, 0)) this.toDisk();
    this.store.addPerimeterProject(project);
  }

  private rows(name: string): PartRow[] {
    return this.store.rows(name);
  }

  parts(name: string): StoredPart[] {
    return this.rows(name).map(([json, file, line]) => ({ json, file, line }));
  }

  /**
   * The parts of an asset evaluated with its RESOURCE part, marked so that the end-of-scan sweep of
   * part-only assets skips it.
   */
  resolve(name: string): StoredPart[] {
    const rows = this.rows(name);
    if (rows.length === 0) return [];
    this.resolvedRows ??= new Uint8Array((this.partCount >>> 3) + 1);
    return rows.map(([json, file, line, rowid]) => {
      // Row ids count from 1 and only grow; a row beyond the bitset (none in a scan) grows it.
      if (rowid >>> 3 >= this.resolvedRows!.length) this.growResolved(rowid);
      this.resolvedRows![rowid >>> 3]! |= 1 << (rowid & 7);
      return { json, file, line };
    });
  }

  private growResolved(rowid: number): void {
    const grown = new Uint8Array(Math.max((rowid >>> 3) + 1, this.resolvedRows!.length * 2));
    grown.set(this.resolvedRows!);
    this.resolvedRows = grown;
  }

  private isResolved(rowid: number): boolean {
    const bits = this.resolvedRows;
    return bits !== undefined && rowid >>> 3 < bits.length && (bits[rowid >>> 3]! & (1 << (rowid & 7))) !== 0;
  }

  perimeterProjects(): string[] {
    return this.store.perimeterProjects();
  }

  /**
   * Assets known only by parts other than RESOURCE (e.g. an IAM policy whose resource was not exported), of
   * the given types, by name. All the rows of a resolved name are marked, so its first row says.
   */
  *unresolved(assetTypes: ReadonlySet<string>): Generator<string> {
    for (const [name, type, first] of this.store.partNames())
      if (!this.isResolved(first) && assetTypes.has(type)) yield name;
  }

  close(): void {
    try {
      this.store.close();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
