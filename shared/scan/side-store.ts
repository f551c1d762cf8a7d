import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/*
 * What pass 1 of a scan keeps for pass 2, on disk so that memory stays flat however large the inventory:
 * the non-RESOURCE parts of every asset (IAM_POLICY, ORG_POLICY, ACCESS_POLICY content), every part of the
 * hierarchy assets (organizations, folders, projects: the ancestry conditions read), and the projects inside
 * VPC Service Controls perimeters. Pass 2 joins by name. The file is temporary and deleted on close.
 */

export interface StoredPart {
  json: string;
  file: string;
  line: number;
}

/** Bits of the filter of stored names: 16 Mi bits (2 MiB), about 0.2% false positives at a million names. */
const FILTER_BITS = 1 << 24;
const FILTER_HASHES = 4;

/**
 * A Bloom filter of the names with stored parts, fixed in size: most assets of an inventory have no other
 * part, and a query that the filter answers costs nothing where a SQLite lookup costs microseconds.
 */
class NameFilter {
  private readonly bits = new Int32Array(FILTER_BITS >>> 5);

  /** Two 32-bit hashes (FNV-1a and a multiplicative one) combined by double hashing. */
  private static hashes(name: string): [number, number] {
    let h1 = 0x811c9dc5;
    let h2 = 0x9747b28c;
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 + c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    return [h1 >>> 0, (h2 | 1) >>> 0];
  }

  add(name: string): void {
    const [h1, h2] = NameFilter.hashes(name);
    for (let i = 0; i < FILTER_HASHES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & (FILTER_BITS - 1);
      this.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
  }

  mayHave(name: string): boolean {
    const [h1, h2] = NameFilter.hashes(name);
    for (let i = 0; i < FILTER_HASHES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & (FILTER_BITS - 1);
      if ((this.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/** Rows per transaction: one commit per row would make pass 1 disk-bound. */
const BATCH = 5000;

export class SideStore {
  private readonly dir: string;
  private readonly db: Database.Database;
  private readonly insertPart: Database.Statement<[string, string, string, string, number]>;
  private readonly selectParts: Database.Statement<[string]>;
  private readonly insertPerimeter: Database.Statement<[string]>;
  private pendingWrites = 0;
  private inTransaction = false;
  private readonly names = new NameFilter();
  /**
   * Which part rows pass 2 has joined to a RESOURCE part, one bit per row id (parts are only added in pass
   * 1, so the row ids are final then): a kilobyte per 8,000 parts, where a table of resolved names cost a
   * write per asset.
   */
  private resolvedRows: Uint8Array | undefined;
  /** Names with stored parts; 0 lets pass 2 skip every lookup. */
  partCount = 0;

  constructor(parentDir = tmpdir()) {
    this.dir = mkdtempSync(path.join(parentDir, 'warden-scan-'));
    this.db = new Database(path.join(this.dir, 'side.sqlite'));
    // A scratch file: durability buys nothing. The page cache is small and fixed (cache_size in KiB when
    // < 0): lookups mostly follow the export's order and the OS caches the file anyway, while a large cache
    // only made the scan's memory grow with the inventory until it was full.
    this.db.pragma('journal_mode = OFF');
    this.db.pragma('synchronous = OFF');
    this.db.pragma('cache_size = -4000');
    this.db.pragma('temp_store = FILE');
    // One connection to a private file: taking and releasing the file lock per statement is pure cost.
    this.db.pragma('locking_mode = EXCLUSIVE');
    this.db.exec(`
      CREATE TABLE parts (name TEXT NOT NULL, asset_type TEXT NOT NULL, json TEXT NOT NULL,
                          file TEXT NOT NULL, line INTEGER NOT NULL);
      CREATE INDEX parts_name ON parts (name);
      CREATE TABLE perimeter_projects (project TEXT PRIMARY KEY) WITHOUT ROWID;
    `);
    this.insertPart = this.db.prepare(
      'INSERT INTO parts (name, asset_type, json, file, line) VALUES (?, ?, ?, ?, ?)',
    );
    this.selectParts = this.db
      .prepare('SELECT json, file, line, rowid FROM parts WHERE name = ? ORDER BY rowid')
      .raw();
    this.insertPerimeter = this.db.prepare('INSERT OR IGNORE INTO perimeter_projects (project) VALUES (?)');
  }

  private write(): void {
    if (!this.inTransaction) {
      this.db.exec('BEGIN');
      this.inTransaction = true;
    }
    if (++this.pendingWrites >= BATCH) this.commit();
  }

  /** Ends the open write batch; reads see every write either way (one connection). */
  commit(): void {
    if (this.inTransaction) this.db.exec('COMMIT');
    this.inTransaction = false;
    this.pendingWrites = 0;
  }

  addPart(name: string, assetType: string, json: string, file: string, line: number): void {
    this.write();
    this.insertPart.run(name, assetType, json, file, line);
    this.names.add(name);
    this.partCount++;
  }

  addPerimeterProject(project: string): void {
    this.write();
    this.insertPerimeter.run(project);
  }

  private rows(name: string): Array<[string, string, number, number]> {
    if (!this.names.mayHave(name)) return [];
    return this.selectParts.all(name) as Array<[string, string, number, number]>;
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
    const rows = this.db
      .prepare('SELECT project FROM perimeter_projects ORDER BY project')
      .pluck()
      .all() as string[];
    // Copied into this realm's Array: the native addon's arrays fail `instanceof Array` inside a vm context
    // (jest), and CEL's `in` then cannot treat the list as a list.
    return Array.from(rows);
  }

  /**
   * Assets known only by parts other than RESOURCE (e.g. an IAM policy whose resource was not exported), of
   * the given types. Paged by name: a connection cannot run other statements while one iterates. All the
   * rows of a resolved name are marked, so its first row says.
   */
  *unresolved(assetTypes: ReadonlySet<string>): Generator<string> {
    this.commit();
    const page = this.db
      .prepare(
        `SELECT name, MAX(asset_type), MIN(rowid) FROM parts
         WHERE name > ? GROUP BY name ORDER BY name LIMIT 500`,
      )
      .raw();
    let after = '';
    for (;;) {
      const rows = page.all(after) as Array<[string, string, number]>;
      if (rows.length === 0) return;
      for (const [name, type, first] of rows) if (!this.isResolved(first) && assetTypes.has(type)) yield name;
      after = rows[rows.length - 1]![0];
    }
  }

  close(): void {
    try {
      this.commit();
      this.db.close();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
