// One round of pairwise merges of sorted runs, split by output position so
// that every worker merges an equal share (merge path: a binary search finds
// where a share's first output comes from in each of the two runs). Runs
// keep their NaNs as a tail (sort-run.ts); a merge orders the numbers with
// `<=` (left first on ties: stable, -0 == 0) and then appends the left
// run's NaNs and the right run's, which is the stable order of NaN-last.
import type { NumberTypedArray } from "../../src/memory/dtypes.js";
import type { Dest } from "./sort-run.js";

export interface MergeRound {
  /** Sorted runs, back to back (contiguous). */
  vals: NumberTypedArray;
  /** Their indices, for argsort. */
  idx: Int32Array | null;
  /** Run r is [bounds[r], bounds[r + 1]). */
  bounds: readonly number[];
  /** NaNs at the end of each run. */
  nans: readonly number[];
  outVals: Dest | null;
  outIdx: Dest<Int32Array> | null;
}

/** The run bounds and NaN counts after a round merged runs pairwise. */
export function nextRuns(bounds: readonly number[], nans: readonly number[]): { bounds: number[]; nans: number[] } {
  const b: number[] = [];
  const z: number[] = [];
  for (let r = 0; r < nans.length; r += 2) {
    b.push(bounds[r]!);
    z.push(nans[r]! + (r + 1 < nans.length ? nans[r + 1]! : 0));
  }
  b.push(bounds[bounds.length - 1]!);
  return { bounds: b, nans: z };
}

/** Writes output positions [p, q) of the round. */
export function mergeShare(round: MergeRound, p: number, q: number): void {
  const { bounds, nans } = round;
  for (let r = 0; r < nans.length; r += 2) {
    const s0 = bounds[r]!;
    const s1 = bounds[r + 1]!;
    const s2 = r + 1 < nans.length ? bounds[r + 2]! : s1;
    const lo = Math.max(p, s0);
    const hi = Math.min(q, s2);
    if (lo >= hi) continue;
    const nanL = nans[r]!;
    const nanR = r + 1 < nans.length ? nans[r + 1]! : 0;
    mergePair(round, s0, s1, s2, nanL, nanR, lo - s0, hi - s0);
  }
}

/**
 * Output positions [from, to) (relative to s0) of merging runs [s0, s1) and
 * [s1, s2), whose last nanL and nanR elements are NaN.
 */
function mergePair(round: MergeRound, s0: number, s1: number, s2: number, nanL: number, nanR: number, from: number, to: number): void {
  const nl = s1 - s0 - nanL;
  const nr = s2 - s1 - nanR;
  const merged = nl + nr;
  const { vals, idx, outVals, outIdx } = round;
  // The numbers.
  if (from < merged) {
    const end = Math.min(to, merged);
    const i = mergePath(vals, s0, nl, s1, nr, from);
    const a = s0 + i;
    const b = s1 + (from - i);
    const count = end - from;
    if (outVals && outIdx) mergeBoth(vals, idx!, a, s0 + nl, b, s1 + nr, count, outVals, outIdx, s0 + from);
    else if (outVals) mergeVals(vals, a, s0 + nl, b, s1 + nr, count, outVals.data, outVals.off + (s0 + from) * outVals.stride, outVals.stride);
    else mergeIdx(vals, idx!, a, s0 + nl, b, s1 + nr, count, outIdx!.data, outIdx!.off + (s0 + from) * outIdx!.stride, outIdx!.stride);
  }
  // The NaN tails, left run's first.
  for (let k = Math.max(from, merged); k < to; k++) {
    const t = k - merged;
    const src = t < nanL ? s0 + nl + t : s1 + nr + (t - nanL);
    if (outVals) outVals.data[outVals.off + (s0 + k) * outVals.stride] = vals[src]!;
    if (outIdx) outIdx.data[outIdx.off + (s0 + k) * outIdx.stride] = idx![src]!;
  }
}

/**
 * How many of the first d outputs of the stable merge come from the left
 * run [a, a + nl) (the rest from [b, b + nr)): the smallest i with
 * left[i] > right[d - 1 - i], searched in [max(0, d - nr), min(d, nl)].
 */
function mergePath(v: NumberTypedArray, a: number, nl: number, b: number, nr: number, d: number): number {
  let lo = Math.max(0, d - nr);
  let hi = Math.min(d, nl);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (v[a + mid]! <= v[b + d - 1 - mid]!) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// The merge loops, one per output shape so each stays tight: take the left
// element on ties (stable) while both runs last, then copy what is left.

function mergeVals(v: NumberTypedArray, a: number, aEnd: number, b: number, bEnd: number, count: number, out: NumberTypedArray, p: number, st: number): void {
  const stop = p + count * st;
  while (p !== stop && a < aEnd && b < bEnd) {
    const x = v[a]!;
    const y = v[b]!;
    if (x <= y) {
      out[p] = x;
      a++;
    } else {
      out[p] = y;
      b++;
    }
    p += st;
  }
  for (; p !== stop && a < aEnd; p += st) out[p] = v[a++]!;
  for (; p !== stop; p += st) out[p] = v[b++]!;
}

function mergeIdx(v: NumberTypedArray, ix: Int32Array, a: number, aEnd: number, b: number, bEnd: number, count: number, out: Int32Array, p: number, st: number): void {
  const stop = p + count * st;
  while (p !== stop && a < aEnd && b < bEnd) {
    if (v[a]! <= v[b]!) out[p] = ix[a++]!;
    else out[p] = ix[b++]!;
    p += st;
  }
  for (; p !== stop && a < aEnd; p += st) out[p] = ix[a++]!;
  for (; p !== stop; p += st) out[p] = ix[b++]!;
}

function mergeBoth(v: NumberTypedArray, ix: Int32Array, a: number, aEnd: number, b: number, bEnd: number, count: number, outV: Dest, outI: Dest<Int32Array>, k: number): void {
  const ov = outV.data;
  const oi = outI.data;
  const sv = outV.stride;
  const si = outI.stride;
  let pv = outV.off + k * sv;
  let pi = outI.off + k * si;
  for (let c = 0; c < count; c++, pv += sv, pi += si) {
    const src = a < aEnd && (b >= bEnd || v[a]! <= v[b]!) ? a++ : b++;
    ov[pv] = v[src]!;
    oi[pi] = ix[src]!;
  }
}
