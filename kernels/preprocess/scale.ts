// The row-parallel transforms of the scalers, the imputer and
// KBinsDiscretizer: each output element depends on its input element and
// fitted per-column numbers only, so any chunking gives the same bits.
// Arithmetic follows scikit-learn's in-place numpy steps: for float32 output
// every step is rounded to float32, as numpy stores after each step.
import { defineKernels } from "../../src/engine/define.js";
import type { NdArray } from "../../src/memory/ndarray-type.js";
import { affineRowsF32, affineRowsF64 } from "./affine-rows.js";

export interface AffineArgs {
  x: NdArray;
  out: NdArray;
  /** 0: (x - a[j]) / b[j]; 1: x * a[j] + b[j]. */
  mode: 0 | 1;
  a: Float64Array;
  b: Float64Array;
  /** Clip the result into [lo, hi] when clip (MinMaxScaler's clip). */
  clip: boolean;
  lo: number;
  hi: number;
  /** float32 output: round after each step, as numpy's in-place float32 arithmetic. */
  f32: boolean;
}

/** Rows [r0, r1) of an affine per-column map (rows of adjacent columns: affine-rows.ts). Returns how many infinite inputs it met. */
export function affineRows(args: AffineArgs, r0: number, r1: number): number {
  const { x, out, mode, a, b, clip, lo, hi, f32 } = args;
  const nf = x.shape[1]!;
  const [s0, s1] = x.stride as [number, number];
  const [t0, t1] = out.stride as [number, number];
  let bad = 0;
  if (s1 === 1 && t1 === 1) {
    const spec = { src: x.data as Float64Array, p0: x.offset, s0, dst: out.data as Float64Array, q0: out.offset, t0, nf, mode, a, b };
    bad = f32 ? affineRowsF32(spec, r0, r1) : affineRowsF64(spec, r0, r1);
    if (clip) clipRows(out, r0, r1, lo, hi);
    return bad;
  }
  // one loop per (mode, dtype) so each stays small and monomorphic; a row's
  // per-column numbers are read from a and b, which sit in L1
  if (f32) {
    const src = x.data as Float32Array;
    const dst = out.data as Float32Array;
    for (let i = r0; i < r1; i++) {
      let p = x.offset + i * s0;
      let q = out.offset + i * t0;
      if (mode === 0) {
        for (let j = 0; j < nf; j++, p += s1, q += t1) {
          const v = src[p]!;
          if (v === Infinity || v === -Infinity) bad++;
          dst[q] = Math.fround(Math.fround(v - a[j]!) / b[j]!);
        }
      } else {
        for (let j = 0; j < nf; j++, p += s1, q += t1) {
          const v = src[p]!;
          if (v === Infinity || v === -Infinity) bad++;
          dst[q] = Math.fround(Math.fround(v * a[j]!) + b[j]!);
        }
      }
    }
  } else {
    const src = x.data as Float64Array;
    const dst = out.data as Float64Array;
    for (let i = r0; i < r1; i++) {
      let p = x.offset + i * s0;
      let q = out.offset + i * t0;
      if (mode === 0) {
        for (let j = 0; j < nf; j++, p += s1, q += t1) {
          const v = src[p]!;
          if (v === Infinity || v === -Infinity) bad++;
          dst[q] = (v - a[j]!) / b[j]!;
        }
      } else {
        for (let j = 0; j < nf; j++, p += s1, q += t1) {
          const v = src[p]!;
          if (v === Infinity || v === -Infinity) bad++;
          dst[q] = v * a[j]! + b[j]!;
        }
      }
    }
  }
  if (clip) clipRows(out, r0, r1, lo, hi);
  return bad;
}

/** MinMaxScaler's clip, a second sweep over the rows just written (NaN stays NaN). */
function clipRows(out: NdArray, r0: number, r1: number, lo: number, hi: number): void {
  const dst = out.data as Float64Array;
  const nf = out.shape[1]!;
  const [t0, t1] = out.stride as [number, number];
  for (let i = r0; i < r1; i++) {
    let q = out.offset + i * t0;
    for (let j = 0; j < nf; j++, q += t1) {
      const r = dst[q]!;
      dst[q] = r < lo ? lo : r > hi ? hi : r;
    }
  }
}

export interface ImputeArgs {
  x: NdArray;
  out: NdArray;
  /** The input column of each output column (all-NaN columns left out). */
  cols: Int32Array;
  /** The value a NaN of each output column becomes. */
  fill: Float64Array;
}

/** Rows [r0, r1): NaN replaced by its column's statistic. Returns how many infinite inputs it met. */
export function imputeRows(args: ImputeArgs, r0: number, r1: number): number {
  const { x, out, cols, fill } = args;
  const src = x.data as Float64Array;
  const dst = out.data as Float64Array;
  const nk = cols.length;
  const [s0, s1] = x.stride as [number, number];
  const [t0, t1] = out.stride as [number, number];
  let bad = 0;
  for (let i = r0; i < r1; i++) {
    const p = x.offset + i * s0;
    let q = out.offset + i * t0;
    for (let k = 0; k < nk; k++, q += t1) {
      const v = src[p + cols[k]! * s1]!;
      if (v === Infinity || v === -Infinity) bad++;
      dst[q] = v === v ? v : fill[k]!;
    }
  }
  return bad;
}

export interface BinArgs {
  x: NdArray;
  out: NdArray;
  /** Every column's inner edges (bin_edges[j][1:-1]) one after the other. */
  edges: Float64Array;
  /** nf + 1 offsets into edges. */
  edgeStart: Int32Array;
  /** Per column, LUT_CELLS guesses of the bin (see binLookup). */
  lut: Int32Array;
  /** Per column: the first inner edge and LUT_CELLS / (last - first inner edge), 0 when fewer than two. */
  lutLo: Float64Array;
  lutScale: Float64Array;
  /** One-hot: column j's first output column (nf + 1 offsets); null for ordinal output. */
  onehot: Int32Array | null;
}

/** Cells of a column's bin lookup table. */
export const LUT_CELLS = 1024;

/**
 * Per column a table over [first, last] inner edge in LUT_CELLS equal cells:
 * the number of inner edges <= the cell's left end. A value's cell gives a
 * guess that is right unless an edge falls inside the cell; two short scans
 * correct it, so the result is searchsorted's exactly while a value costs
 * one table read instead of a branchy binary search.
 */
export function binLookup(edges: Float64Array, edgeStart: Int32Array): { lut: Int32Array; lutLo: Float64Array; lutScale: Float64Array } {
  const nf = edgeStart.length - 1;
  const lut = new Int32Array(nf * LUT_CELLS);
  const lutLo = new Float64Array(nf);
  const lutScale = new Float64Array(nf);
  for (let j = 0; j < nf; j++) {
    const e0 = edgeStart[j]!;
    const ne = edgeStart[j + 1]! - e0;
    if (ne < 2) continue;
    const lo = edges[e0]!;
    const scale = LUT_CELLS / (edges[e0 + ne - 1]! - lo);
    if (!Number.isFinite(scale)) continue;
    lutLo[j] = lo;
    lutScale[j] = scale;
    let k = 0;
    for (let c = 0; c < LUT_CELLS; c++) {
      const left = lo + c / scale;
      while (k < ne && edges[e0 + k]! <= left) k++;
      lut[j * LUT_CELLS + c] = k;
    }
  }
  return { lut, lutLo, lutScale };
}

/** Rows [r0, r1): np.searchsorted(inner edges, x, side="right"), ordinal or one-hot. Returns how many non-finite inputs it met. */
export function binRows(args: BinArgs, r0: number, r1: number): number {
  const { x, out, edges, edgeStart, lut, lutLo, lutScale, onehot } = args;
  const src = x.data as Float64Array;
  const dst = out.data as Float64Array;
  const nf = x.shape[1]!;
  const width = out.shape[1]!;
  const [s0, s1] = x.stride as [number, number];
  const [t0, t1] = out.stride as [number, number];
  let bad = 0;
  for (let i = r0; i < r1; i++) {
    const p = x.offset + i * s0;
    const q = out.offset + i * t0;
    if (onehot) for (let k = 0; k < width; k++) dst[q + k * t1] = 0;
    for (let j = 0; j < nf; j++) {
      const v = src[p + j * s1]!;
      if (v - v !== 0) bad++;
      const e0 = edgeStart[j]!;
      const ne = edgeStart[j + 1]! - e0;
      // the count of inner edges <= v, from the table's guess
      let bin = 0;
      const sc = lutScale[j]!;
      if (sc !== 0) {
        let c = Math.floor((v - lutLo[j]!) * sc);
        c = c < 0 ? 0 : c >= LUT_CELLS ? LUT_CELLS - 1 : c;
        bin = lut[j * LUT_CELLS + c]!;
      }
      while (bin < ne && edges[e0 + bin]! <= v) bin++;
      while (bin > 0 && edges[e0 + bin - 1]! > v) bin--;
      if (onehot) dst[q + (onehot[j]! + bin) * t1] = 1;
      else dst[q + j * t1] = bin;
    }
  }
  return bad;
}

export interface UnbinArgs {
  x: NdArray;
  out: NdArray;
  /** Every column's bin centres one after the other. */
  centers: Float64Array;
  /** nf + 1 offsets into centers. */
  centerStart: Int32Array;
  /** One-hot input: column j's first input column (nf + 1 offsets); null for ordinal input. */
  onehot: Int32Array | null;
}

/** Rows [r0, r1): each bin index (or one-hot group) back to its bin's centre. Returns how many entries were not a valid bin. */
export function unbinRows(args: UnbinArgs, r0: number, r1: number): number {
  const { x, out, centers, centerStart, onehot } = args;
  const src = x.data as Float64Array;
  const dst = out.data as Float64Array;
  const nf = out.shape[1]!;
  const [s0, s1] = x.stride as [number, number];
  const [t0, t1] = out.stride as [number, number];
  let bad = 0;
  for (let i = r0; i < r1; i++) {
    const p = x.offset + i * s0;
    const q = out.offset + i * t0;
    for (let j = 0; j < nf; j++) {
      const nb = centerStart[j + 1]! - centerStart[j]!;
      let bin = -1;
      if (onehot) {
        for (let k = 0; k < nb; k++) {
          if (src[p + (onehot[j]! + k) * s1] === 1) {
            bin = k;
            break;
          }
        }
      } else {
        // np.int_ truncates toward zero; a negative index counts from the end, as numpy's fancy indexing
        const v = Math.trunc(src[p + j * s1]!);
        if (v >= -nb && v < nb) bin = v < 0 ? v + nb : v;
      }
      if (bin < 0) {
        bad++;
        dst[q + j * t1] = NaN;
      } else dst[q + j * t1] = centers[centerStart[j]! + bin]!;
    }
  }
  return bad;
}

export default defineKernels({
  "sabre.preprocess.affine"({ start, end }, args: AffineArgs): number {
    return affineRows(args, start, end);
  },
  "sabre.preprocess.impute"({ start, end }, args: ImputeArgs): number {
    return imputeRows(args, start, end);
  },
  "sabre.preprocess.bin"({ start, end }, args: BinArgs): number {
    return binRows(args, start, end);
  },
  "sabre.preprocess.unbin"({ start, end }, args: UnbinArgs): number {
    return unbinRows(args, start, end);
  },
});
