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

const TWO16 = 65536;

/**
 * Shuffles all of `a` (Fisher-Yates) drawing ranges up to 2^16 from 16-bit
 * halves of the stream's words, two draws per word (Lemire's method on 16
 * bits, exactly uniform as on 32); larger ranges draw as permuteInPlace.
 * For the stratified split's buckets of ~8,192 rows, where the draws were a
 * third of the workers' time after the row copies.
 */
export function shuffleHalves(r: Rng, a: Uint32Array): void {
  const n = a.length;
  let half = -1;
  for (let i = 0; i < n - 1; i++) {
    const range = n - i;
    let j: number;
    if (range > TWO16) {
      j = i + (range <= EXACT ? lemire(r, range) : r.below(range));
    } else {
      for (;;) {
        let x: number;
        if (half >= 0) {
          x = half;
          half = -1;
        } else {
          const w = r.uint32();
          x = w & 0xffff;
          half = w >>> 16;
        }
        // x * range < 2^32: its high 16 bits are the draw, its low 16 bits decide the rejection.
        const m = x * range;
        if ((m & 0xffff) < range && (m & 0xffff) < (TWO16 - range) % range) continue;
        j = i + (m >>> 16);
        break;
      }
    }
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}
