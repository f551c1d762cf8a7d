/** Bits of the filter: 16 Mi bits (2 MiB), about 0.2% false positives at a million names. */
const FILTER_BITS = 1 << 24;
const FILTER_HASHES = 4;

/**
 * A Bloom filter of names, fixed in size: most assets of an inventory have no other part, and a query that
 * the filter answers costs nothing where a SQLite lookup costs microseconds.
 */
export class NameFilter {
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
