// Vector dot products behind ops.dot's 1-D cases: a 1-D x 1-D dot summed
// in fixed blocks (partials combined in block order), and matrix-vector
// rows. Four accumulators break the add dependency chain; their order is
// fixed, so a row's bits never depend on which worker runs it.
import type { NdArray } from "../../src/memory/ndarray-type.js";

/** Elements per partial of a 1-D dot: fixed, so the sum order does not depend on the thread count. */
export const DOT_BLOCK = 4096;

/** sum_i x[xo + i*xs] * y[yo + i*ys] for i in [0, len). */
export function dotStrided(x: ArrayLike<number>, xo: number, xs: number, y: ArrayLike<number>, yo: number, ys: number, len: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let i = 0;
  if (xs === 1 && ys === 1) {
    for (; i + 3 < len; i += 4) {
      s0 += x[xo + i]! * y[yo + i]!;
      s1 += x[xo + i + 1]! * y[yo + i + 1]!;
      s2 += x[xo + i + 2]! * y[yo + i + 2]!;
      s3 += x[xo + i + 3]! * y[yo + i + 3]!;
    }
  } else {
    for (; i + 3 < len; i += 4) {
      s0 += x[xo + i * xs]! * y[yo + i * ys]!;
      s1 += x[xo + (i + 1) * xs]! * y[yo + (i + 1) * ys]!;
      s2 += x[xo + (i + 2) * xs]! * y[yo + (i + 2) * ys]!;
      s3 += x[xo + (i + 3) * xs]! * y[yo + (i + 3) * ys]!;
    }
  }
  for (; i < len; i++) s0 += x[xo + i * xs]! * y[yo + i * ys]!;
  return (s0 + s1) + (s2 + s3);
}

export interface DotArgs {
  x: NdArray;
  y: NdArray;
  /** One float64 partial per DOT_BLOCK elements. */
  partials: NdArray;
}

/** partials[blk] = the dot of block blk, for blocks [start, end). */
export function dotBlocks({ x, y, partials }: DotArgs, start: number, end: number): void {
  const n = x.shape[0]!;
  const xs = x.stride[0]!;
  const ys = y.stride[0]!;
  const pd = partials.data as Float64Array;
  for (let blk = start; blk < end; blk++) {
    const i0 = blk * DOT_BLOCK;
    const len = Math.min(DOT_BLOCK, n - i0);
    pd[partials.offset + blk] = dotStrided(x.data as ArrayLike<number>, x.offset + i0 * xs, xs, y.data as ArrayLike<number>, y.offset + i0 * ys, ys, len);
  }
}

export interface MatvecArgs {
  a: NdArray;
  v: NdArray;
  out: NdArray;
}

/** out[i] = A[i, :] . v for rows [start, end). */
export function matvecRows({ a, v, out }: MatvecArgs, start: number, end: number): void {
  const k = a.shape[1]!;
  const rs = a.stride[0]!;
  const cs = a.stride[1]!;
  const od = out.data as unknown as { [i: number]: number };
  const os = out.stride[0]!;
  for (let i = start; i < end; i++) {
    od[out.offset + i * os] = dotStrided(a.data as ArrayLike<number>, a.offset + i * rs, cs, v.data as ArrayLike<number>, v.offset, v.stride[0]!, k);
  }
}
