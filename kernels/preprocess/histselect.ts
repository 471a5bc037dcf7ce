// Exact order statistics of every column without a transposed copy of the
// table: (1) a histogram of each column's non-NaN values over nbins equal
// bins of [min, max], (2) the main thread finds the bin holding each wanted
// rank, (3) a second pass copies only the values of those bins into small
// per-bin runs, (4) a selection within each run. Two reads of the table and
// no large write: the copy that a gather makes is 1x the table, and its
// first touch (page faults) costs more than the reads on a busy machine.
// The bin of a value is computed by the same expression in (1) and (3), so the
// counts and the copies agree; which worker copies a value where within a
// run is fixed by the per-chunk counts, so runs hold their values in row order.
import { defineKernels } from "../../src/engine/define.js";
import type { NdArray } from "../../src/memory/ndarray-type.js";
import { ROW_BLOCK } from "./colstats.js";
import { selectRanks, type Column } from "./select.js";

/** At most this many bins per column: 16 KiB of int32 counts, in L1/L2 while a column of a block is counted. */
export const MAX_HIST_BINS = 4096;

/** Bins per column for n rows: about n / 256 (a wanted bin then holds ~256 values on smooth data), 64 to MAX_HIST_BINS. */
export function histBins(n: number): number {
  let b = 64;
  while (b < MAX_HIST_BINS && b * 256 < n) b *= 2;
  return b;
}

export interface HistCountArgs {
  x: NdArray;
  nbins: number;
  lo: Float64Array;
  inv: Float64Array;
  /** [chunks][columns][nbins] counts: each chunk adds into its own slice. */
  hist: Int32Array;
}

function histCount(x: NdArray, nbins: number, lo: Float64Array, inv: Float64Array, hist: Int32Array, slice: number, b0: number, b1: number): void {
  const data = x.data as Float64Array;
  const [n, nf] = x.shape as [number, number];
  const [s0, s1] = x.stride as [number, number];
  for (let b = b0; b < b1; b++) {
    const r0 = b * ROW_BLOCK;
    const r1 = Math.min(n, r0 + ROW_BLOCK);
    for (let j = 0; j < nf; j++) {
      const l = lo[j]!;
      const s = inv[j]!;
      const h = (slice * nf + j) * nbins;
      for (let i = r0, p = x.offset + r0 * s0 + j * s1; i < r1; i++, p += s0) {
        const v = data[p]!;
        if (v !== v) continue;
        let k = Math.floor((v - l) * s);
        if (k >= nbins) k = nbins - 1;
        hist[h + k]!++;
      }
    }
  }
}

export interface HistCollectArgs {
  x: NdArray;
  nbins: number;
  lo: Float64Array;
  inv: Float64Array;
  /** [columns][nbins]: the run a bin's values go to, or -1. */
  runOf: Int32Array;
  /** [chunks][runs]: where this chunk's values of each run start in dst (from the per-chunk histograms). */
  chunkOffset: Float64Array;
  nRuns: number;
  dst: Float32Array | Float64Array;
}

/**
 * Copies the values of the wanted bins. Each chunk writes its values of a
 * run at the offset its own histogram counts gave, in row order, so a run
 * holds its values in row order whatever the chunking: the selection that
 * follows (and so which of -0 and 0 it returns) depends on the data only.
 */
function histCollect(args: HistCollectArgs, chunk: number, b0: number, b1: number): void {
  const { x, nbins, lo, inv, runOf, chunkOffset, nRuns, dst } = args;
  const data = x.data as Float64Array;
  const [n, nf] = x.shape as [number, number];
  const [s0, s1] = x.stride as [number, number];
  const fill = chunkOffset.slice(chunk * nRuns, (chunk + 1) * nRuns);
  for (let b = b0; b < b1; b++) {
    const r0 = b * ROW_BLOCK;
    const r1 = Math.min(n, r0 + ROW_BLOCK);
    for (let j = 0; j < nf; j++) {
      const l = lo[j]!;
      const s = inv[j]!;
      const h = j * nbins;
      for (let i = r0, p = x.offset + r0 * s0 + j * s1; i < r1; i++, p += s0) {
        const v = data[p]!;
        if (v !== v) continue;
        let k = Math.floor((v - l) * s);
        if (k >= nbins) k = nbins - 1;
        const run = runOf[h + k]!;
        if (run < 0) continue;
        dst[fill[run]!++] = v;
      }
    }
  }
}

export interface HistSelectArgs {
  dst: Float32Array | Float64Array;
  /** Per run: start in dst and length. */
  runStart: Float64Array;
  runLength: Float64Array;
  /** Per run, the wanted ranks within the run, flattened: run r's are rankAt[rankStart[r] .. rankStart[r + 1]). */
  rankStart: Int32Array;
  rankAt: Float64Array;
  /** Out: the value at each wanted rank, same indexing as rankAt. */
  values: Float64Array;
}

function histSelect(args: HistSelectArgs, r0: number, r1: number): void {
  const { dst, runStart, runLength, rankStart, rankAt, values } = args;
  for (let r = r0; r < r1; r++) {
    const s = runStart[r]!;
    const seg: Column = dst.subarray(s, s + runLength[r]!);
    const ranks: number[] = [];
    for (let k = rankStart[r]!; k < rankStart[r + 1]!; k++) ranks.push(rankAt[k]!);
    selectRanks(seg, 0, seg.length - 1, ranks);
    for (let k = rankStart[r]!; k < rankStart[r + 1]!; k++) values[k] = seg[rankAt[k]!]!;
  }
}

export default defineKernels({
  "sabre.preprocess.histCount"({ start, end, chunk }, { x, nbins, lo, inv, hist }: HistCountArgs): void {
    histCount(x, nbins, lo, inv, hist, chunk, start, end);
  },
  "sabre.preprocess.histCollect"({ start, end, chunk }, args: HistCollectArgs): void {
    histCollect(args, chunk, start, end);
  },
  "sabre.preprocess.histSelect"({ start, end }, args: HistSelectArgs): void {
    histSelect(args, start, end);
  },
});
