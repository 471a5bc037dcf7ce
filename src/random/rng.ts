import { SabreTypeError } from "../errors.js";
import type { NumberTypedArray } from "../memory/dtypes.js";
import { describe } from "../validate.js";
import { philox4x32 } from "./philox.js";

/**
 * Stream identity. A stream is (key, stream words): the key is the seed, the
 * stream words are a 64-bit digest of the id path computed by Philox itself
 * under a derivation key (the seed with bit 31 of its high word set, which no
 * seed below 2^53 has). So rng(s, a, b) and rng(s, a).fork(b) are the same
 * stream, and distinct id paths collide only with probability ~2^-64.
 */
const DERIVE_FLAG = 0x80000000;
const TWO32 = 4294967296;
const TWO53 = 9007199254740992;
const INV53 = 1 / TWO53;
const INV32 = 1 / TWO32;

function checkId(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > Number.MAX_SAFE_INTEGER) {
    throw new SabreTypeError(`${name} must be an integer in [0, 2^53 - 1], got ${describe(value)}`);
  }
  return value;
}

function checkInt(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new SabreTypeError(`${name} must be a safe integer, got ${describe(value)}`);
  }
  return value;
}

function checkCount(name: string, value: unknown, max = 2 ** 32 - 1): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    throw new SabreTypeError(`${name} must be an integer in [0, ${max}], got ${describe(value)}`);
  }
  return value;
}

function checkRange(lo: unknown, hi: unknown): number {
  checkInt("int(lo, hi): lo", lo);
  checkInt("int(lo, hi): hi", hi);
  const range = (hi as number) - (lo as number);
  if (!(range >= 1) || range > TWO53) {
    throw new SabreTypeError(`int(lo, hi) needs lo < hi and hi - lo <= 2^53, got lo = ${String(lo)}, hi = ${String(hi)}`);
  }
  return range;
}

/**
 * A deterministic stream of random numbers, counter-based (Philox4x32-10).
 * What a stream yields depends only on its seed and ids, never on the thread
 * or on what other streams drew: give every tree, sample or epoch its own ids.
 *
 * A stream is not thread-safe (it is a plain object with a position); give
 * each thread its own stream rather than sharing one.
 *
 * @example
 * ```ts
 * const r = rng(42, treeIndex);       // the stream of tree `treeIndex`
 * const u = r.float();                // [0, 1), 53 random bits
 * const j = r.int(0, 10);             // unbiased in [0, 10)
 * const order = r.permutation(1000);  // Uint32Array
 * const child = r.fork(7);            // same stream as rng(42, treeIndex, 7)
 * ```
 */
export class Rng {
  /** The seed this stream was made from. */
  readonly seed: number;
  /** The id path of this stream (rng(seed, ...ids)). */
  readonly ids: readonly number[];
  private readonly k0: number;
  private readonly k1: number;
  private readonly s0: number;
  private readonly s1: number;
  /** Next block to compute (a 64-bit counter as two words). */
  private blockLo = 0;
  private blockHi = 0;
  private readonly buf = new Uint32Array(4);
  /** Index of the next unused word in buf (4 = empty). */
  private pos = 4;
  /** The second normal of the last Box-Muller pair, or NaN. */
  private spare = NaN;

  /** @internal Use rng(seed, ...ids). */
  constructor(seed: number, ids: readonly number[], s0: number, s1: number) {
    // The class is exported (for instanceof and types), so a misuse of the constructor gets the same typed
    // errors as rng(): a plain TypeError from ids.slice, or a stream keyed on NaN, would be no answer at all.
    checkId("new Rng: seed", seed);
    if (!Array.isArray(ids)) throw new SabreTypeError(`new Rng: ids must be an array of integers in [0, 2^53 - 1], got ${describe(ids)} (make streams with rng(seed, ...ids))`);
    for (let i = 0; i < ids.length; i++) checkId(`new Rng: ids[${i}]`, ids[i]);
    checkCount("new Rng: s0", s0);
    checkCount("new Rng: s1", s1);
    this.seed = seed;
    this.ids = Object.freeze(ids.slice());
    this.k0 = seed >>> 0;
    this.k1 = Math.floor(seed / TWO32) >>> 0;
    this.s0 = s0;
    this.s1 = s1;
  }

  private refill(): void {
    philox4x32(this.blockLo, this.blockHi, this.s0, this.s1, this.k0, this.k1, this.buf, 0);
    if (this.blockLo === 0xffffffff) {
      this.blockLo = 0;
      this.blockHi = (this.blockHi + 1) >>> 0;
    } else this.blockLo++;
    this.pos = 0;
  }

  /** A uniform integer in [0, 2^32). */
  uint32(): number {
    if (this.pos === 4) this.refill();
    return this.buf[this.pos++]!;
  }

  /** A uniform float in [0, 1) with 53 random bits (every multiple of 2^-53 equally likely). */
  float(): number {
    const a = this.uint32() >>> 5; // 27 bits
    const b = this.uint32() >>> 6; // 26 bits
    return (a * 67108864 + b) * INV53;
  }

  /** A uniform float in [0, 1) with 32 random bits: half the cost of float(), for when 32 bits are enough. */
  float32(): number {
    return this.uint32() * INV32;
  }

  /** A uniform integer in [lo, hi), without modulo bias. hi - lo must be in [1, 2^53]. */
  int(lo: number, hi: number): number {
    return lo + this.below(checkRange(lo, hi));
  }

  /**
   * A uniform integer in [0, range) for 1 <= range <= 2^53, unchecked (kernels'
   * hot loops). Rejection sampling: draws above the largest multiple of range
   * are redrawn, so every value is exactly equally likely.
   */
  below(range: number): number {
    if (range <= TWO32) {
      const limit = TWO32 - (TWO32 % range);
      for (;;) {
        const x = this.uint32();
        if (x < limit) return x % range;
      }
    }
    const limit = TWO53 - (TWO53 % range);
    for (;;) {
      const x = (this.uint32() >>> 5) * 67108864 + (this.uint32() >>> 6);
      if (x < limit) return x % range;
    }
  }

  /** A normal deviate (Box-Muller), mean 0 and standard deviation 1 unless given. */
  normal(mean = 0, std = 1): number {
    let z = this.spare;
    if (z === z) {
      this.spare = NaN;
    } else {
      // 1 - float() is in (0, 1], so the log is finite.
      const r = Math.sqrt(-2 * Math.log(1 - this.float()));
      const t = 2 * Math.PI * this.float();
      z = r * Math.cos(t);
      this.spare = r * Math.sin(t);
    }
    return mean + std * z;
  }

  /** True with probability p. */
  bernoulli(p = 0.5): boolean {
    return this.float() < p;
  }

  /** The numbers 0..n-1 in a uniformly random order (Fisher-Yates). */
  permutation(n: number): Uint32Array {
    checkCount("permutation(n): n", n, 2 ** 31 - 1);
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return this.shuffle(out);
  }

  /** Shuffles an array or typed array in place, uniformly (Fisher-Yates), and returns it. */
  shuffle<T extends NumberTypedArray | unknown[]>(array: T): T {
    if (!Array.isArray(array) && !ArrayBuffer.isView(array)) {
      throw new SabreTypeError(`shuffle needs an array or a typed array, got ${describe(array)}`);
    }
    const a = array as unknown as { [i: number]: unknown; length: number };
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return array;
  }

  /**
   * k distinct integers drawn uniformly from [0, n), in the order drawn (a
   * partial Fisher-Yates; for k much smaller than n it runs in O(k) memory
   * and yields exactly the same numbers).
   */
  sample(n: number, k: number): Uint32Array {
    checkCount("sample(n, k): n", n);
    checkCount("sample(n, k): k", k, 2 ** 31 - 1);
    if (k > n) throw new SabreTypeError(`sample(n, k) needs k <= n to draw without replacement, got n = ${n}, k = ${k}`);
    const out = new Uint32Array(k);
    if (k * 8 >= n) {
      const a = new Uint32Array(n);
      for (let i = 0; i < n; i++) a[i] = i;
      for (let i = 0; i < k; i++) {
        const j = i + this.below(n - i);
        const t = a[j]!;
        a[j] = a[i]!;
        a[i] = t;
        out[i] = t;
      }
    } else {
      // The same swaps on a virtual identity array: only displaced entries are stored.
      const moved = new Map<number, number>();
      for (let i = 0; i < k; i++) {
        const j = i + this.below(n - i);
        const vj = moved.get(j) ?? j;
        moved.set(j, moved.get(i) ?? i);
        out[i] = vj;
      }
    }
    return out;
  }

  /** Fills `out` with uniform 32-bit integers. */
  fillUint32(out: Uint32Array | Float64Array | Int32Array): typeof out {
    for (let i = 0; i < out.length; i++) out[i] = this.uint32();
    return out;
  }

  /** Fills `out` with uniform floats in [0, 1) (53 bits each). */
  fillFloat(out: Float64Array | Float32Array): typeof out {
    for (let i = 0; i < out.length; i++) out[i] = this.float();
    return out;
  }

  /** Fills `out` with uniform integers in [lo, hi). */
  fillInt(out: NumberTypedArray, lo: number, hi: number): typeof out {
    const range = checkRange(lo, hi);
    for (let i = 0; i < out.length; i++) out[i] = lo + this.below(range);
    return out;
  }

  /** Fills `out` with normal deviates. */
  fillNormal(out: Float64Array | Float32Array, mean = 0, std = 1): typeof out {
    for (let i = 0; i < out.length; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** A child stream: rng(seed, ...this.ids, ...ids). Independent of how much this stream has drawn. */
  fork(...ids: number[]): Rng {
    return derive(this.seed, this.k0, this.k1, this.s0, this.s1, this.ids, ids);
  }

  /** A copy at the same position: both then yield the same numbers. */
  clone(): Rng {
    const c = new Rng(this.seed, this.ids, this.s0, this.s1);
    c.blockLo = this.blockLo;
    c.blockHi = this.blockHi;
    c.buf.set(this.buf);
    c.pos = this.pos;
    c.spare = this.spare;
    return c;
  }
}

const scratch = new Uint32Array(4);

function derive(seed: number, k0: number, k1: number, s0: number, s1: number, base: readonly number[], ids: readonly number[]): Rng {
  const path = base.slice();
  for (let i = 0; i < ids.length; i++) {
    const id = checkId(`stream id ${path.length}`, ids[i]);
    philox4x32(id >>> 0, Math.floor(id / TWO32), s0, s1, k0, (k1 | DERIVE_FLAG) >>> 0, scratch, 0);
    s0 = scratch[0]!;
    s1 = scratch[1]!;
    path.push(id);
  }
  return new Rng(seed, path, s0, s1);
}

/**
 * The random stream of `seed` and the id path `ids` (integers in [0, 2^53 - 1]).
 * `rng(seed, tree)` for a tree, `rng(seed, epoch, worker)` and so on: the same
 * seed and ids always give the same numbers, in any thread.
 */
export function rng(seed: number, ...ids: number[]): Rng {
  checkId("seed", seed);
  return derive(seed, seed >>> 0, Math.floor(seed / TWO32) >>> 0, 0, 0, [], ids);
}

export { philox4x32 } from "./philox.js";
