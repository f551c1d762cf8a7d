import Database from 'better-sqlite3';
import path from 'node:path';
import { NameFilter } from './name-filter.js';
import type { PartRows, PartRow, PartName } from './part-rows.js';

/** Rows per transaction: one commit per row would make pass 1 disk-bound. */
const BATCH = 5000;

/** The parts in a SQLite file in `dir`, for inventories whose context does not fit the memory budget. */
export class SqliteParts implements PartRows {
  private readonly db: Database.Database;
  private readonly insertPart: Database.Statement<[string, string, string, string, number]>;
  private readonly selectParts: Database.Statement<[string]>;
  private readonly insertPerimeter: Database.Statement<[string]>;
  private pendingWrites = 0;
  private inTransaction = false;
  private readonly names = new NameFilter();

  constructor(dir: string) {
    this.db = new Database(path.join(dir, 'side.sqlite'));
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

  add(name: string, assetType: string, json: string, file: string, line: number): void {
    this.write();
    this.insertPart.run(name, assetType, json, file, line);
    this.names.add(name);
  }

  addPerimeterProject(project: string): void {
    this.write();
    this.insertPerimeter.run(project);
  }

  rows(name: string): PartRow[] {
    if (!this.names.mayHave(name)) return [];
    return this.selectParts.all(name) as PartRow[];
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

  /** Paged by name: a connection cannot run other statements while one iterates. */
  *partNames(): Generator<PartName> {
    this.commit();
    const page = this.db
      .prepare(
        `SELECT name, MAX(asset_type), MIN(rowid) FROM parts
         WHERE name > ? GROUP BY name ORDER BY name LIMIT 500`,
      )
      .raw();
    let after = '';
    for (;;) {
      const rows = page.all(after) as PartName[];
      if (rows.length === 0) return;
      yield* rows;
      after = rows[rows.length - 1]![0];
    }
  }

  close(): void {
    this.commit();
    this.db.close();
  }
}
