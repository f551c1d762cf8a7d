/** One stored part as the store reads it back: its JSON, where it was read, and its row id (from 1). */
export type PartRow = [json: string, file: string, line: number, rowid: number];

/** A name with stored parts: the greatest of their asset types, and the row id of its first part. */
export type PartName = [name: string, assetType: string, firstRowid: number];

/**
 * Where the side store keeps parts: in memory, or in a SQLite file. Row ids count from 1 in the order parts
 * were added; names and projects come back in the order of their code points (SQLite's BINARY collation).
 */
export interface PartRows {
  add(name: string, assetType: string, json: string, file: string, line: number): void;
  addPerimeterProject(project: string): void;
  /** The parts of a name, by row id. */
  rows(name: string): PartRow[];
  perimeterProjects(): string[];
  /** Every name with parts, in order. */
  partNames(): Iterable<PartName>;
  commit(): void;
  close(): void;
}
