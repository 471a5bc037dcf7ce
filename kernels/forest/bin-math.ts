// The bins' types and the arithmetic every binning path shares: argument
// checks, exact bins (one per distinct value) and quantile bins from sorted
// distinct values and their counts.
import { SabreTypeError } from "../../src/errors.js";
import { dtypeOf } from "../../src/memory/dtypes.js";
import { isNdArray, type NdArray } from "../../src/memory/ndarray-type.js";
import { describe } from "../../src/validate.js";

/**
 * Per-feature bins: feature f has nBins[f] bins, stored at binStart[f] ..
 * binStart[f + 1] of the flat arrays. A value x of feature f gets the code
 * c = the number of thresholds below x, i.e. x <= threshold[c] (the last bin
 * has threshold +Infinity). binMin/binMax are the smallest and largest
 * training value seen in each bin: a split between bins p and q < p + gap is
 * placed at the midpoint of binMax[p] and binMin[q], as scikit-learn places
 * it between the two adjacent values in the node.
 *
 * All arrays live in shared memory so one copy serves every worker.
 */
export interface BinMapper {
  readonly nFeatures: number;
  readonly maxBins: number;
  readonly nBins: Int32Array;
  readonly binStart: Int32Array;
  readonly threshold: Float64Array;
  readonly binMin: Float64Array;
  readonly binMax: Float64Array;
}

/** Bins of one feature, before they are packed into a BinMapper. */
export interface FeatureBins {
  /** Upper edge of every bin but the last (length nBins - 1), strictly increasing. */
  readonly thresholds: Float64Array;
  readonly binMin: Float64Array;
  readonly binMax: Float64Array;
}

/** Checks X is a 2-D numeric ndarray and returns [rows, cols]. */
export function checkMatrix(X: unknown, name = "X"): [number, number] {
  if (!isNdArray(X)) {
    throw new SabreTypeError(`${name} must be a 2-D ndarray (e.g. shared.from(rows)), got ${describe(X)}`);
  }
  if (X.shape.length !== 2) {
    throw new SabreTypeError(`${name} must be 2-D [samples, features], got shape [${X.shape.join(", ")}]`);
  }
  const dtype = dtypeOf(X.data);
  if (dtype === undefined) throw new SabreTypeError(`${name} must be backed by a typed array, got ${describe(X.data)}`);
  return [X.shape[0]!, X.shape[1]!];
}

export function checkMaxBins(maxBins: unknown): number {
  if (typeof maxBins !== "number" || !Number.isInteger(maxBins) || maxBins < 2 || maxBins > 256) {
    throw new SabreTypeError(`maxBins must be an integer in [2, 256] (codes are uint8), got ${describe(maxBins)}`);
  }
  return maxBins;
}

export function nonFinite(row: number, f: number, v: number): SabreTypeError {
  return new SabreTypeError(
    `X[${row}][${f}] is ${v}: features must be finite numbers (NaN and Infinity are not supported; impute or drop them first)`,
  );
}

/** True when X's dtype holds integers only (every dtype but float32 and float64). */
export function isIntegerDType(X: NdArray): boolean {
  const dtype = dtypeOf(X.data)!;
  return dtype !== "float32" && dtype !== "float64";
}

function midpoint(a: number, b: number): number {
  let t = a / 2 + b / 2;
  // Rounding can land on b when a and b are adjacent doubles; b must stay above the threshold.
  if (!(t < b)) t = a;
  if (t < a) t = a;
  return t;
}

/** Exact bins: one per distinct value (values ascending), thresholds at the midpoints. */
export function exactBins(values: Float64Array, k: number): FeatureBins {
  const thresholds = new Float64Array(Math.max(k - 1, 0));
  for (let j = 0; j + 1 < k; j++) thresholds[j] = midpoint(values[j]!, values[j + 1]!);
  const v = values.slice(0, k);
  return { thresholds, binMin: v, binMax: v.slice() };
}

/**
 * Bins from a column's sorted distinct values and their counts: exact if
 * there are at most maxBins values, else quantile bins: the edge after
 * quantile b / maxBins goes between the value at that quantile and the next
 * distinct value, so ties never straddle an edge. Keeps neither array.
 */
export function binsFromCounts(values: Float64Array, counts: Float64Array, k: number, maxBins: number): FeatureBins {
  if (k <= maxBins) return exactBins(values, k);
  if (edgeScratch.length < maxBins + 1) {
    edgeScratch = new Float64Array(maxBins + 1);
    minScratch = new Float64Array(maxBins + 1);
    maxScratch = new Float64Array(maxBins + 1);
  }
  const ne = quantileEdges(values, counts, k, sumCounts(counts, k), maxBins, edgeScratch, minScratch, maxScratch);
  return { thresholds: edgeScratch.slice(0, ne), binMin: minScratch.slice(0, ne + 1), binMax: maxScratch.slice(0, ne + 1) };
}

// binsFromCounts' loops, functions of their own with nothing after the loop
// but a return: a first call's long loop is compiled on entry (OSR), and code
// after it that had not run yet deoptimized that code. The bins go to
// float64 scratch, not number[] pushes: each array began as small integers
// and its first fractional value deoptimized the loop, one push site at a
// time (binsFromCounts and its loop were compiled 4 + 14 times binning a
// 25,000 x 10 float64 table).
let edgeScratch = new Float64Array(0);
let minScratch = new Float64Array(0);
let maxScratch = new Float64Array(0);

function sumCounts(counts: Float64Array, k: number): number {
  let total = 0;
  for (let j = 0; j < k; j++) total += counts[j]!;
  return total;
}

/**
 * Writes the quantile edges to edges[0 .. ne) and the bins' extremes to
 * mins / maxs[0 .. ne] (each bin's smallest and largest value); returns ne.
 */
function quantileEdges(values: Float64Array, counts: Float64Array, k: number, total: number, maxBins: number, edges: Float64Array, mins: Float64Array, maxs: Float64Array): number {
  let cum = 0;
  let j = 0;
  let ne = 0;
  mins[0] = values[0]!;
  maxs[0] = values[k - 1]!;
  for (let b = 1; b < maxBins; b++) {
    const p = Math.floor((b * total) / maxBins);
    while (j < k && cum + counts[j]! <= p) cum += counts[j++]!;
    if (j >= k - 1) break;
    const t = midpoint(values[j]!, values[j + 1]!);
    if (ne > 0 && t <= edges[ne - 1]!) continue;
    edges[ne] = t;
    maxs[ne] = values[j]!;
    ne++;
    // The next bin starts after j and, until another edge comes, ends at the last value.
    mins[ne] = values[j + 1]!;
    maxs[ne] = values[k - 1]!;
  }
  return ne;
}

/** Bins from counts[v - offset] of integer values (counts is not kept). */
export function fromDense(counts: Float64Array, offset: number, maxBins: number): FeatureBins {
  let k = 0;
  for (let v = 0; v < counts.length; v++) if (counts[v] !== 0) k++;
  const values = new Float64Array(k);
  const c = new Float64Array(k);
  k = 0;
  for (let v = 0; v < counts.length; v++) {
    if (counts[v] === 0) continue;
    values[k] = v + offset;
    c[k++] = counts[v]!;
  }
  return binsFromCounts(values, c, k, maxBins);
}

/** The bin of v: the number of thresholds strictly below v. */
export function codeOf(thresholds: Float64Array, v: number): number {
  let lo = 0;
  let hi = thresholds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (thresholds[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
