// Fisher-Yates over index arrays for trainTestSplit and shuffle, drawing
// from an rng stream (src/random) with Lemire's multiply-and-shift instead
// of Rng.below's two float modulos per draw: a 2M-row permutation is
// dominated by those draws.
import type { Rng } from "../../random/rng.js";

const TWO32 = 2 ** 32;
const INV32 = 2 ** -32;
/** Below this range x * range (x < 2^32) stays under 2^53, exact in a double. */
const EXACT = 2 ** 21;

/** A uniform integer in [0, range), 1 <= range <= 2^21: Lemire's method, exactly uniform (rejects the biased low products). */
function lemire(r: Rng, range: number): number {
  let m = r.uint32() * range;
  let hi = Math.floor(m * INV32);
  let lo = m - hi * TWO32;
  if (lo < range) {
    const t = (TWO32 - range) % range;
    while (lo < t) {
      m = r.uint32() * range;
      hi = Math.floor(m * INV32);
      lo = m - hi * TWO32;
    }
  }
  return hi;
}

/**
 * Shuffles the first `take` positions of `a` into a uniform random sample
 * of its elements in random order (a partial Fisher-Yates; take = a.length
 * shuffles it all).
 */
export function permuteInPlace(r: Rng, a: Uint32Array, take = a.length): void {
  const n = a.length;
  const last = Math.min(take, n - 1);
  for (let i = 0; i < last; i++) {
    const range = n - i;
    const j = i + (range <= EXACT ? lemire(r, range) : r.below(range));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

/** 0..n-1 in a uniform random order. */
export function permutation(r: Rng, n: number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  permuteInPlace(r, a);
  return a;
}
