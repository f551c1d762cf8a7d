import type { PartName, PartRow, PartRows } from './part-rows.js';

/**
 * The parts in memory, as long as they fit the store's budget: a SQLite insert and lookup cost
 * microseconds each, which a small inventory's context does not need to pay. Strings with surrogates never
 * come here (see SideStore), so JavaScript's ordering of strings is SQLite's.
 */
export class MemoryParts implements PartRows {
  private readonly names: string[] = [];
  private readonly types: string[] = [];
  private readonly jsons: string[] = [];
  private readonly files: string[] = [];
  private readonly lines: number[] = [];
  /** Row ids by name, ascending. */
  private readonly byName = new Map<string, number[]>();
  private readonly projects = new Set<string>();
  /** Characters of names and part text held: what the store's budget is checked against. */
  chars = 0;

  add(name: string, assetType: string, json: string, file: string, line: number): void {
    this.names.push(name);
    this.types.push(assetType);
    this.jsons.push(json);
    this.files.push(file);
    this.lines.push(line);
    const rowid = this.jsons.length;
    const ids = this.byName.get(name);
    if (ids) ids.push(rowid);
    else this.byName.set(name, [rowid]);
    this.chars += name.length + json.length;
  }

  addPerimeterProject(project: string): void {
    this.projects.add(project);
  }

  rows(name: string): PartRow[] {
    const ids = this.byName.get(name);
    if (!ids) return [];
    return ids.map((id) => [this.jsons[id - 1]!, this.files[id - 1]!, this.lines[id - 1]!, id]);
  }

  perimeterProjects(): string[] {
    return [...this.projects].sort();
  }

  *partNames(): Generator<PartName> {
    for (const name of [...this.byName.keys()].sort()) {
      const ids = this.byName.get(name)!;
      let type = this.types[ids[0]! - 1]!;
      for (const id of ids) if (this.types[id - 1]! > type) type = this.types[id - 1]!;
      yield [name, type, ids[0]!];
    }
  }

  /** Every part (in row order) and project into another store: row ids stay the same there. */
  copyTo(target: PartRows): void {
    for (let i = 0; i < this.jsons.length; i++)
      target.add(this.names[i]!, this.types[i]!, this.jsons[i]!, this.files[i]!, this.lines[i]!);
    for (const p of this.projects) target.addPerimeterProject(p);
  }

  commit(): void {}

  close(): void {}
}
