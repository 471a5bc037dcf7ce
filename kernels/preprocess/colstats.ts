// Column statistics of a 2-D table, one pass per row block: what the scalers,
// the imputer and KBinsDiscretizer fit from. A block is always ROW_BLOCK rows
// whatever the thread count, and its partial lands at its own index in
// `part`, so the merged result (src/ml/preprocess/column-stats.ts) does not
// depend on how many workers ran the blocks.
import { defineKernels } from "../../src/engine/define.js";
import type { NdArray } from "../../src/memory/ndarray-type.js";
import { kmeans1d } from "./kmeans1d.js";
import { moments4, moments8 } from "./moments.js";
import { mostFrequent } from "./select.js";

/** Rows per block: 2048 rows x 32 float32 columns is 256 KiB, in L2 for the second pass. */
export const ROW_BLOCK = 2048;
/** Blocks a group of columns goes straight to the generic pass after the lean pass left all of them. */
const SKIP_BLOCKS = 15;
/** Slots per (block, column) partial: count, mean, M2, min, max. */
export const STATS_SLOTS = 5;

export interface StatsArgs {
  x: NdArray;
  /** [blocks][columns][STATS_SLOTS], shared. */
  part: Float64Array;
  /** false: count/min/max only (no second pass). */
  moments: boolean;
  /** false: min and max are not wanted (they may come back NaN), so clean blocks take the lean pass (moments.ts). */
  extremes: boolean;
}

/**
 * Per block and column: the count of non-NaN values, their mean and sum of
 * squared deviations (two passes over the block while it sits in cache, with
 * the correction term sklearn's _incremental_mean_and_var applies), their
 * min and max (NaN when the column has no value in the block, or when
 * `extremes` is false and the block took the lean pass). Returns how many
 * infinities the blocks held (sklearn refuses them).
 */
export function blockStats(x: NdArray, part: Float64Array, moments: boolean, extremes: boolean, b0: number, b1: number): number {
  const data = x.data as Float64Array;
  const [n, nf] = x.shape as [number, number];
  const [s0, s1] = x.stride as [number, number];
  const lean = moments && !extremes;
  // per group of columns (by first column / 4): blocks still to skip the lean try, after one where it left every column
  const skip = lean ? new Int32Array(Math.ceil(nf / 4)) : null;
  let infinities = 0;
  for (let b = b0; b < b1; b++) {
    const r0 = b * ROW_BLOCK;
    const r1 = Math.min(n, r0 + ROW_BLOCK);
    let j = 0;
    if (lean) {
      // groups of columns in one sweep; a column the lean pass leaves (NaN, infinity) is redone below
      const p0 = x.offset + r0 * s0;
      for (; j + 4 <= nf; ) {
        const width = j + 8 <= nf ? 8 : 4;
        const q = (b * nf + j) * STATS_SLOTS;
        const g = j >> 2;
        let left = (1 << width) - 1;
        // columns with NaN in every block (missing values) would pay the lean sums for nothing each time: try again after SKIP_BLOCKS
        if (skip![g]! > 0) skip![g]!--;
        else {
          left = width === 8 ? moments8(data, p0 + j * s1, s0, s1, r1 - r0, part, q, STATS_SLOTS) : moments4(data, p0 + j * s1, s0, s1, r1 - r0, part, q, STATS_SLOTS);
          if (left === (1 << width) - 1) skip![g] = SKIP_BLOCKS;
        }
        for (let k = 0; k < width; k++) if (left & (1 << k)) infinities += columnBlock(x, part, true, b, j + k, r0, r1);
        j += width;
      }
    }
    // Column by column: the accumulators stay in registers, and the block
    // (ROW_BLOCK rows) stays in cache for the second pass.
    for (; j < nf; j++) infinities += columnBlock(x, part, moments, b, j, r0, r1);
  }
  return infinities;
}

/** The generic pass over column j of block b (rows [r0, r1)): every slot, NaN skipped. Returns 1 when the column holds an infinity. */
function columnBlock(x: NdArray, part: Float64Array, moments: boolean, b: number, j: number, r0: number, r1: number): number {
  const data = x.data as Float64Array;
  const nf = x.shape[1]!;
  const [s0, s1] = x.stride as [number, number];
  const p0 = x.offset + r0 * s0 + j * s1;
  let cnt = 0;
  let sum = 0;
  let mn = Infinity;
  let mx = -Infinity;
  for (let i = r0, p = p0; i < r1; i++, p += s0) {
    const v = data[p]!;
    if (v !== v) continue;
    cnt++;
    sum += v;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  const q = (b * nf + j) * STATS_SLOTS;
  part[q] = cnt;
  if (cnt === 0) {
    part[q + 1] = 0;
    part[q + 2] = 0;
    part[q + 3] = NaN;
    part[q + 4] = NaN;
    return 0;
  }
  let mean = 0;
  let m2 = 0;
  if (moments) {
    mean = sum / cnt;
    let corr = 0;
    for (let i = r0, p = p0; i < r1; i++, p += s0) {
      const v = data[p]!;
      if (v !== v) continue;
      const d = v - mean;
      corr += d;
      m2 += d * d;
    }
    m2 = Math.max(0, m2 - (corr * corr) / cnt);
  }
  part[q + 1] = mean;
  part[q + 2] = m2;
  part[q + 3] = mn;
  part[q + 4] = mx;
  return mx === Infinity || mn === -Infinity ? 1 : 0;
}

export interface GatherArgs {
  x: NdArray;
  /** Per column its values, NaN left out, in row order: column j from colStart[j]. */
  dst: Float32Array | Float64Array;
  /** [blocks][columns]: where block b's values of column j start in dst. */
  at: Float64Array;
}

/** Copies each column's non-NaN values of blocks [b0, b1) into its contiguous run of dst (a transpose, one block in cache at a time). */
export function gatherColumns(x: NdArray, dst: Float32Array | Float64Array, at: Float64Array, b0: number, b1: number): void {
  const data = x.data as Float64Array;
  const [n, nf] = x.shape as [number, number];
  const [s0, s1] = x.stride as [number, number];
  const off = x.offset;
  for (let b = b0; b < b1; b++) {
    const r0 = b * ROW_BLOCK;
    const r1 = Math.min(n, r0 + ROW_BLOCK);
    for (let j = 0; j < nf; j++) {
      let w = at[b * nf + j]!;
      let p = off + r0 * s0 + j * s1;
      for (let i = r0; i < r1; i++, p += s0) {
        const v = data[p]!;
        if (v === v) dst[w++] = v;
      }
    }
  }
}

/** What to compute from each column's gathered values. */
// (medians and percentiles read the table in place: histselect.ts)
export type SelectTask =
  | { kind: "mode" }
  /** Per column its number of clusters (< 2: the column is skipped); the column must hold two distinct values at least. */
  | { kind: "kmeans"; nBins: number[] };

export interface SelectArgs {
  dst: Float32Array | Float64Array;
  /** nf + 1 offsets: column j's values are dst[colStart[j] .. colStart[j + 1]). */
  colStart: Float64Array;
  task: SelectTask;
  /** [nf][width] results, shared. */
  out: Float64Array;
  width: number;
  f32: boolean;
}

/** Columns [j0, j1): each one's statistic from its own run of dst (reordered in place). */
export function selectColumns(args: SelectArgs, j0: number, j1: number): void {
  const { dst, colStart, task, out, width, f32 } = args;
  for (let j = j0; j < j1; j++) {
    const s = colStart[j]!;
    const n = colStart[j + 1]! - s;
    const seg = dst.subarray(s, s + n);
    switch (task.kind) {
      case "mode":
        out[j * width] = mostFrequent(seg, n);
        break;
      case "kmeans": {
        if (task.nBins[j]! < 2) break;
        seg.sort();
        const c = kmeans1d(seg, n, task.nBins[j]!, f32);
        out.set(c, j * width);
        break;
      }
    }
  }
}

export default defineKernels({
  "sabre.preprocess.colStats"({ start, end }, { x, part, moments, extremes }: StatsArgs): number {
    return blockStats(x, part, moments, extremes, start, end);
  },
  "sabre.preprocess.gatherColumns"({ start, end }, { x, dst, at }: GatherArgs): void {
    gatherColumns(x, dst, at, start, end);
  },
  "sabre.preprocess.selectColumns"({ start, end }, args: SelectArgs): void {
    selectColumns(args, start, end);
  },
});
