/**
 * A 64-bit digest of a string, as two unsigned 32-bit halves: two multiply-xorshift lanes over
 * the UTF-16 code units (cyrb53's mixing, both lanes kept whole). Not cryptographic: it names
 * texts for duplicate detection and the split, where 2^-64 collisions are noise. Pure
 * JavaScript, so the value never depends on the platform or a library version.
 */
export interface Digest {
  readonly hi: number;
  readonly lo: number;
}

export function digest64(text: string, seed = 0): Digest {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return { hi: h1 >>> 0, lo: h2 >>> 0 };
}

/** The digest as a signed 64-bit decimal string, as a PostgreSQL `bigint` column stores it. */
export function digestToInt64(d: Digest): string {
  return BigInt.asIntN(64, (BigInt(d.hi) << 32n) | BigInt(d.lo)).toString();
}

/** A uniform fraction in [0, 1) taken from the digest's high half. */
export const digestFraction = (d: Digest): number => d.hi / 2 ** 32;

/**
 * A set of 64-bit digests in open addressing over one Uint32Array: 8 bytes per slot, at most
 * three quarters full, so a million distinct texts cost 11–21 MiB however long the texts are (a
 * Set of strings would hold every text).
 */
export class DigestSet {
  private slots: Uint32Array;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = 1024) {
    let capacity = 16;
    while (capacity * 3 < initialCapacity * 4) capacity *= 2;
    this.slots = new Uint32Array(capacity * 2);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Adds the digest; false when it was already there. */
  add(d: Digest): boolean {
    // (0, 0) marks an empty slot; a digest that is (0, 0) is stored as (0, 1).
    const hi = d.hi;
    const lo = d.hi === 0 && d.lo === 0 ? 1 : d.lo;
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const sh = this.slots[2 * i]!;
      const sl = this.slots[2 * i + 1]!;
      if (sh === 0 && sl === 0) break;
      if (sh === hi && sl === lo) return false;
      i = (i + 1) & this.mask;
    }
    this.slots[2 * i] = hi;
    this.slots[2 * i + 1] = lo;
    this.count++;
    if (this.count * 4 > (this.mask + 1) * 3) this.grow();
    return true;
  }

  has(d: Digest): boolean {
    const hi = d.hi;
    const lo = d.hi === 0 && d.lo === 0 ? 1 : d.lo;
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const sh = this.slots[2 * i]!;
      const sl = this.slots[2 * i + 1]!;
      if (sh === 0 && sl === 0) return false;
      if (sh === hi && sl === lo) return true;
      i = (i + 1) & this.mask;
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    this.mask = old.length - 1;
    this.count = 0;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] !== 0 || old[i + 1] !== 0) this.add({ hi: old[i]!, lo: old[i + 1]! });
    }
  }
}

/** The inverse of digestToInt64. */
export function digestFromInt64(value: string | bigint): Digest {
  const n = BigInt.asUintN(64, BigInt(value));
  return { hi: Number(n >> 32n), lo: Number(n & 0xffffffffn) };
}
