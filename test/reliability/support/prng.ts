/**
 * The suite's seed: CHANGEPROOF_RELIABILITY_SEED, or a fixed default so every run tries the same
 * points. A failure message carries the seed; rerun with it to reproduce.
 */
export const SEED = Number(process.env.CHANGEPROOF_RELIABILITY_SEED ?? 20261203);

/** A small seeded PRNG (mulberry32): the same seed gives the same kill points on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [min, max] from `random`. */
export function between(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}
