// The affine transforms (scale.ts) over rows whose columns are adjacent in
// memory (column stride 1 in and out, any row stride): 8 columns per step,
// unrolled, and the infinity test folded into one sum per row. The strided
// loop of scale.ts pays an increment per index, a loop test and two
// compares per value: 3.0-3.8 ns per float32 value against 1.4-1.6 ns here
// (2M x 32, one thread, same run). The arithmetic per value is the strided
// loop's exactly, so the bits are the same.

/** What an affine row pass reads and writes; positions are element indices. */
export interface AffineRowsSpec {
  src: Float64Array;
  /** Element index of row 0's first value, and the row stride. */
  p0: number;
  s0: number;
  dst: Float64Array;
  q0: number;
  t0: number;
  nf: number;
  /** 0: (x - a[j]) / b[j]; 1: x * a[j] + b[j]. */
  mode: 0 | 1;
  a: Float64Array;
  b: Float64Array;
}

/**
 * Rows [r0, r1), float32 in and out (each step rounded to float32, as
 * numpy's in-place float32 arithmetic). Returns how many infinite inputs it met.
 */
export function affineRowsF32(spec: AffineRowsSpec, r0: number, r1: number): number {
  const src = spec.src as unknown as Float32Array;
  const dst = spec.dst as unknown as Float32Array;
  const { s0, t0, nf, a, b } = spec;
  const f = Math.fround;
  const n8 = nf - (nf % 8);
  let bad = 0;
  for (let i = r0; i < r1; i++) {
    const p = spec.p0 + i * s0;
    const q = spec.q0 + i * t0;
    // 0 while every value of the row is finite; NaN once one is not (then the row is looked at closely)
    let z = 0;
    if (spec.mode === 0) {
      for (let j = 0; j < n8; j += 8) {
        const v0 = src[p + j]!, v1 = src[p + j + 1]!, v2 = src[p + j + 2]!, v3 = src[p + j + 3]!;
        const v4 = src[p + j + 4]!, v5 = src[p + j + 5]!, v6 = src[p + j + 6]!, v7 = src[p + j + 7]!;
        z += (v0 + v1 + v2 + v3 + v4 + v5 + v6 + v7) * 0;
        dst[q + j] = f(f(v0 - a[j]!) / b[j]!);
        dst[q + j + 1] = f(f(v1 - a[j + 1]!) / b[j + 1]!);
        dst[q + j + 2] = f(f(v2 - a[j + 2]!) / b[j + 2]!);
        dst[q + j + 3] = f(f(v3 - a[j + 3]!) / b[j + 3]!);
        dst[q + j + 4] = f(f(v4 - a[j + 4]!) / b[j + 4]!);
        dst[q + j + 5] = f(f(v5 - a[j + 5]!) / b[j + 5]!);
        dst[q + j + 6] = f(f(v6 - a[j + 6]!) / b[j + 6]!);
        dst[q + j + 7] = f(f(v7 - a[j + 7]!) / b[j + 7]!);
      }
      for (let j = n8; j < nf; j++) {
        const v = src[p + j]!;
        z += v * 0;
        dst[q + j] = f(f(v - a[j]!) / b[j]!);
      }
    } else {
      for (let j = 0; j < n8; j += 8) {
        const v0 = src[p + j]!, v1 = src[p + j + 1]!, v2 = src[p + j + 2]!, v3 = src[p + j + 3]!;
        const v4 = src[p + j + 4]!, v5 = src[p + j + 5]!, v6 = src[p + j + 6]!, v7 = src[p + j + 7]!;
        z += (v0 + v1 + v2 + v3 + v4 + v5 + v6 + v7) * 0;
        dst[q + j] = f(f(v0 * a[j]!) + b[j]!);
        dst[q + j + 1] = f(f(v1 * a[j + 1]!) + b[j + 1]!);
        dst[q + j + 2] = f(f(v2 * a[j + 2]!) + b[j + 2]!);
        dst[q + j + 3] = f(f(v3 * a[j + 3]!) + b[j + 3]!);
        dst[q + j + 4] = f(f(v4 * a[j + 4]!) + b[j + 4]!);
        dst[q + j + 5] = f(f(v5 * a[j + 5]!) + b[j + 5]!);
        dst[q + j + 6] = f(f(v6 * a[j + 6]!) + b[j + 6]!);
        dst[q + j + 7] = f(f(v7 * a[j + 7]!) + b[j + 7]!);
      }
      for (let j = n8; j < nf; j++) {
        const v = src[p + j]!;
        z += v * 0;
        dst[q + j] = f(f(v * a[j]!) + b[j]!);
      }
    }
    if (z !== 0) bad += infinitiesIn(src, p, nf);
  }
  return bad;
}

/** Rows [r0, r1) into float64 (input of any number dtype but float32). Returns how many infinite inputs it met. */
export function affineRowsF64(spec: AffineRowsSpec, r0: number, r1: number): number {
  const { src, dst, s0, t0, nf, a, b } = spec;
  const n8 = nf - (nf % 8);
  let bad = 0;
  for (let i = r0; i < r1; i++) {
    const p = spec.p0 + i * s0;
    const q = spec.q0 + i * t0;
    // NaN once a value of the row is not finite (8 finite float64 values may also overflow the sum: the close look settles it)
    let z = 0;
    if (spec.mode === 0) {
      for (let j = 0; j < n8; j += 8) {
        const v0 = src[p + j]!, v1 = src[p + j + 1]!, v2 = src[p + j + 2]!, v3 = src[p + j + 3]!;
        const v4 = src[p + j + 4]!, v5 = src[p + j + 5]!, v6 = src[p + j + 6]!, v7 = src[p + j + 7]!;
        z += (v0 + v1 + v2 + v3 + v4 + v5 + v6 + v7) * 0;
        dst[q + j] = (v0 - a[j]!) / b[j]!;
        dst[q + j + 1] = (v1 - a[j + 1]!) / b[j + 1]!;
        dst[q + j + 2] = (v2 - a[j + 2]!) / b[j + 2]!;
        dst[q + j + 3] = (v3 - a[j + 3]!) / b[j + 3]!;
        dst[q + j + 4] = (v4 - a[j + 4]!) / b[j + 4]!;
        dst[q + j + 5] = (v5 - a[j + 5]!) / b[j + 5]!;
        dst[q + j + 6] = (v6 - a[j + 6]!) / b[j + 6]!;
        dst[q + j + 7] = (v7 - a[j + 7]!) / b[j + 7]!;
      }
      for (let j = n8; j < nf; j++) {
        const v = src[p + j]!;
        z += v * 0;
        dst[q + j] = (v - a[j]!) / b[j]!;
      }
    } else {
      for (let j = 0; j < n8; j += 8) {
        const v0 = src[p + j]!, v1 = src[p + j + 1]!, v2 = src[p + j + 2]!, v3 = src[p + j + 3]!;
        const v4 = src[p + j + 4]!, v5 = src[p + j + 5]!, v6 = src[p + j + 6]!, v7 = src[p + j + 7]!;
        z += (v0 + v1 + v2 + v3 + v4 + v5 + v6 + v7) * 0;
        dst[q + j] = v0 * a[j]! + b[j]!;
        dst[q + j + 1] = v1 * a[j + 1]! + b[j + 1]!;
        dst[q + j + 2] = v2 * a[j + 2]! + b[j + 2]!;
        dst[q + j + 3] = v3 * a[j + 3]! + b[j + 3]!;
        dst[q + j + 4] = v4 * a[j + 4]! + b[j + 4]!;
        dst[q + j + 5] = v5 * a[j + 5]! + b[j + 5]!;
        dst[q + j + 6] = v6 * a[j + 6]! + b[j + 6]!;
        dst[q + j + 7] = v7 * a[j + 7]! + b[j + 7]!;
      }
      for (let j = n8; j < nf; j++) {
        const v = src[p + j]!;
        z += v * 0;
        dst[q + j] = v * a[j]! + b[j]!;
      }
    }
    if (z !== 0) bad += infinitiesIn(src, p, nf);
  }
  return bad;
}

function infinitiesIn(src: ArrayLike<number>, p: number, nf: number): number {
  let k = 0;
  for (let j = 0; j < nf; j++) {
    const v = src[p + j]!;
    if (v === Infinity || v === -Infinity) k++;
  }
  return k;
}
