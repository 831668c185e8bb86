/** A source of uniform numbers in [0, 1). Seeded, so training runs and tests are reproducible. */
export type Rng = () => number;

/**
 * mulberry32: a tiny 32-bit PRNG (one multiply-xorshift chain per draw). Plenty for weight
 * initialization and shuffling; not for anything security-related.
 */
export function mulberry32(seed: number): Rng {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
