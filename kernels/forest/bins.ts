import { SabreTypeError } from "../../src/errors.js";
import { dtypeOf, isBigIntDType } from "../../src/memory/dtypes.js";
import { isNdArray, type NdArray } from "../../src/memory/ndarray-type.js";
import { sharedTypedArray } from "../../src/memory/shared.js";
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

/** Above this many rows the quantiles come from an evenly strided subsample (as scikit-learn's 2e5). */
export const BIN_SUBSAMPLE = 200_000;

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

function nonFinite(X: NdArray, row: number, f: number, v: number): SabreTypeError {
  return new SabreTypeError(
    `X[${row}][${f}] is ${v}: features must be finite numbers (NaN and Infinity are not supported; impute or drop them first)`,
  );
}

function midpoint(a: number, b: number): number {
  let t = a / 2 + b / 2;
  // Rounding can land on b when a and b are adjacent doubles; b must stay above the threshold.
  if (!(t < b)) t = a;
  if (t < a) t = a;
  return t;
}

/** Exact bins: one per distinct value, thresholds at the midpoints. */
function exactBins(values: Float64Array, k: number): FeatureBins {
  const thresholds = new Float64Array(Math.max(k - 1, 0));
  for (let j = 0; j + 1 < k; j++) thresholds[j] = midpoint(values[j]!, values[j + 1]!);
  const v = values.slice(0, k);
  return { thresholds, binMin: v, binMax: v.slice() };
}

/**
 * Bins from a column's sorted distinct values and their counts: exact if
 * there are at most maxBins values, else quantile bins: the edge after
 * quantile b / maxBins goes between the value at that quantile and the next
 * distinct value, so ties never straddle an edge.
 */
function binsFromCounts(values: Float64Array, counts: Float64Array, k: number, maxBins: number): FeatureBins {
  if (k <= maxBins) return exactBins(values, k);
  let total = 0;
  for (let j = 0; j < k; j++) total += counts[j]!;
  const edges: number[] = [];
  const mins: number[] = [];
  const maxs: number[] = [];
  let cum = 0;
  let j = 0;
  let first = 0;
  for (let b = 1; b < maxBins; b++) {
    const p = Math.floor((b * total) / maxBins);
    while (j < k && cum + counts[j]! <= p) cum += counts[j++]!;
    if (j >= k - 1) break;
    const t = midpoint(values[j]!, values[j + 1]!);
    if (edges.length > 0 && t <= edges[edges.length - 1]!) continue;
    edges.push(t);
    mins.push(values[first]!);
    maxs.push(values[j]!);
    first = j + 1;
  }
  mins.push(values[first]!);
  maxs.push(values[k - 1]!);
  return { thresholds: Float64Array.from(edges), binMin: Float64Array.from(mins), binMax: Float64Array.from(maxs) };
}

/**
 * The number of distinct values of col if at most maxBins (their sorted
 * values in `out`), else -1. Keeps a small sorted array, so a continuous
 * column bails out after maxBins + 1 distinct values.
 */
function fewDistinct(col: Float64Array, n: number, maxBins: number, out: Float64Array): number {
  let k = 0;
  let last = NaN;
  for (let i = 0; i < n; i++) {
    const v = col[i]!;
    if (v === last) continue;
    last = v;
    let lo = 0;
    let hi = k;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (out[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    if (lo < k && out[lo] === v) continue;
    if (k === maxBins) return -1;
    out.copyWithin(lo + 1, lo, k);
    out[lo] = v;
    k++;
  }
  return k;
}

/** Bins of one column (n values, all finite). */
function columnBins(col: Float64Array, n: number, maxBins: number, integers: boolean): FeatureBins {
  if (integers) {
    // Integer columns of a modest range: count, no sort.
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = col[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (max - min < 65536) {
      const counts = new Float64Array(max - min + 1);
      for (let i = 0; i < n; i++) counts[col[i]! - min]!++;
      return fromDense(counts, min, maxBins);
    }
  }
  let sample = col.subarray(0, n);
  if (n > BIN_SUBSAMPLE) {
    // Exact bins must see every value; quantiles may come from an evenly strided subsample.
    const few = new Float64Array(maxBins);
    const k = fewDistinct(col, n, maxBins, few);
    if (k > 0) return exactBins(few, k);
    sample = new Float64Array(BIN_SUBSAMPLE);
    for (let i = 0; i < BIN_SUBSAMPLE; i++) sample[i] = col[Math.floor((i * n) / BIN_SUBSAMPLE)]!;
  } else sample = sample.slice();
  sample.sort();
  // Run-length encode the sorted sample into distinct values and counts (reusing its memory).
  const m = sample.length;
  const counts = new Float64Array(m);
  let k = 0;
  for (let i = 0; i < m; i++) {
    const v = sample[i]!;
    if (k > 0 && sample[k - 1] === v) counts[k - 1]!++;
    else {
      sample[k] = v;
      counts[k++] = 1;
    }
  }
  return binsFromCounts(sample, counts, k, maxBins);
}

/** Bins from counts[v - offset] of integer values. */
function fromDense(counts: Float64Array, offset: number, maxBins: number): FeatureBins {
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

function isIntegerDType(X: NdArray): boolean {
  const dtype = dtypeOf(X.data)!;
  return dtype !== "float32" && dtype !== "float64";
}

/**
 * Bins of column f of X: exact (one bin per distinct value) when the column
 * has at most maxBins distinct values, else quantile bins whose edges sit
 * midway between adjacent distinct values. -0 and 0 are one value.
 */
export function fitFeatureBins(X: NdArray, f: number, maxBins = 256): FeatureBins {
  const [n, d] = checkMatrix(X);
  checkMaxBins(maxBins);
  if (!Number.isInteger(f) || f < 0 || f >= d) throw new SabreTypeError(`feature ${describe(f)} is out of range [0, ${d})`);
  if (n === 0) throw new SabreTypeError("X has no rows: bins need at least one sample");
  const col = new Float64Array(n);
  readColumns(X, f, f + 1, [col]);
  return columnBins(col, n, maxBins, isIntegerDType(X));
}

/** Features read per pass over X's rows in fitBins: one cache line of each row serves them all. */
const COLUMN_BLOCK = 16;

/** Reads columns [f0, f1) of X into cols (numbers), a row at a time, refusing NaN and Infinity. */
function readColumns(X: NdArray, f0: number, f1: number, cols: Float64Array[]): void {
  const n = X.shape[0]!;
  const s0 = X.stride[0]!;
  const s1 = X.stride[1]!;
  const big = isBigIntDType(dtypeOf(X.data)!);
  const data = X.data as Float64Array;
  for (let i = 0; i < n; i++) {
    let p = X.offset + i * s0 + f0 * s1;
    for (let f = f0; f < f1; f++, p += s1) {
      const v = big ? Number((X.data as BigInt64Array)[p]!) : data[p]!;
      if (v - v !== 0) throw nonFinite(X, i, f, v);
      cols[f - f0]![i] = v;
    }
  }
}

/** Bins of features [f0, f1) of an 8-bit X: one pass over the rows counting every feature's values. */
function fitSmallBins(X: NdArray, f0: number, f1: number, maxBins: number): FeatureBins[] {
  const n = X.shape[0]!;
  const base = dtypeOf(X.data) === "int8" ? -128 : 0;
  const counts = new Int32Array((f1 - f0) * 256);
  const s0 = X.stride[0]!;
  const s1 = X.stride[1]!;
  const data = X.data as Uint8Array;
  for (let i = 0; i < n; i++) {
    let p = X.offset + i * s0 + f0 * s1;
    for (let f = f0, o = -base; f < f1; f++, p += s1, o += 256) counts[o + data[p]!]!++;
  }
  const out: FeatureBins[] = [];
  for (let f = 0; f < f1 - f0; f++) out.push(fromDense(Float64Array.from(counts.subarray(f * 256, f * 256 + 256)), base, maxBins));
  return out;
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

/** Packs per-feature bins (e.g. fitted by several workers over feature ranges) into one shared BinMapper. */
export function packBins(features: readonly FeatureBins[], maxBins = 256): BinMapper {
  checkMaxBins(maxBins);
  const nFeatures = features.length;
  const nBins = sharedTypedArray("int32", nFeatures);
  const binStart = sharedTypedArray("int32", nFeatures + 1);
  let total = 0;
  for (let f = 0; f < nFeatures; f++) {
    const nb = features[f]!.thresholds.length + 1;
    if (nb > maxBins) throw new SabreTypeError(`feature ${f} has ${nb} bins, more than maxBins = ${maxBins}`);
    nBins[f] = nb;
    binStart[f] = total;
    total += nb;
  }
  binStart[nFeatures] = total;
  const threshold = sharedTypedArray("float64", total);
  const binMin = sharedTypedArray("float64", total);
  const binMax = sharedTypedArray("float64", total);
  for (let f = 0; f < nFeatures; f++) {
    const fb = features[f]!;
    const s = binStart[f]!;
    threshold.set(fb.thresholds, s);
    threshold[s + fb.thresholds.length] = Infinity;
    binMin.set(fb.binMin, s);
    binMax.set(fb.binMax, s);
  }
  return { nFeatures, maxBins, nBins, binStart, threshold, binMin, binMax };
}

/**
 * Fits bins for features [featureStart, featureEnd) of X (all by default).
 * X is a 2-D ndarray of any numeric dtype and any strides. NaN or Infinity
 * anywhere in X is a SabreTypeError (missing values are not supported).
 *
 * ```ts
 * const bins = fitBins(X, 256);
 * const codes = new Uint8Array(new SharedArrayBuffer(n * d));
 * applyBins(X, bins, codes);            // feature-major: feature f at codes[f * n .. (f + 1) * n)
 * ```
 */
export function fitBins(X: NdArray, maxBins = 256): BinMapper {
  const [, d] = checkMatrix(X);
  return packBins(fitFeatureRange(X, 0, d, maxBins), maxBins);
}

/**
 * The bins of features [featureStart, featureEnd) of X, unpacked: what a
 * worker computes for its share of the features before packBins joins them.
 * Columns are read in blocks (one pass over the rows serves 16 features);
 * 8-bit data takes one counting pass over the range.
 */
export function fitFeatureRange(X: NdArray, featureStart: number, featureEnd: number, maxBins = 256): FeatureBins[] {
  const [n, d] = checkMatrix(X);
  checkMaxBins(maxBins);
  if (n === 0) throw new SabreTypeError("X has no rows: bins need at least one sample");
  if (!Number.isInteger(featureStart) || !Number.isInteger(featureEnd) || featureStart < 0 || featureEnd > d || featureStart > featureEnd) {
    throw new SabreTypeError(`feature range [${describe(featureStart)}, ${describe(featureEnd)}) must lie within [0, ${d}]`);
  }
  const dtype = dtypeOf(X.data);
  if (dtype === "uint8" || dtype === "uint8_clamped" || dtype === "int8") return fitSmallBins(X, featureStart, featureEnd, maxBins);
  const features: FeatureBins[] = [];
  const integers = isIntegerDType(X);
  const cols = Array.from({ length: Math.min(COLUMN_BLOCK, featureEnd - featureStart) }, () => new Float64Array(n));
  for (let f0 = featureStart; f0 < featureEnd; f0 += COLUMN_BLOCK) {
    const f1 = Math.min(featureEnd, f0 + COLUMN_BLOCK);
    readColumns(X, f0, f1, cols);
    for (let f = f0; f < f1; f++) features.push(columnBins(cols[f - f0]!, n, maxBins, integers));
  }
  return features;
}

/**
 * Bins for 8-bit unsigned data where the code IS the value: 256 bins per
 * feature, bin v holding exactly the value v (threshold v + 0.5). It is
 * exact binning with empty bins left in, and grows the same trees: a split
 * only ever falls between two non-empty bins of the node, at the midpoint of
 * their values. Its point: the sample-major codes are X itself, with nothing
 * to fit and nothing to copy.
 */
export function identityBins8(nFeatures: number): BinMapper {
  const nBins = sharedTypedArray("int32", nFeatures).fill(256);
  const binStart = sharedTypedArray("int32", nFeatures + 1);
  for (let f = 0; f <= nFeatures; f++) binStart[f] = f * 256;
  const threshold = sharedTypedArray("float64", nFeatures * 256);
  const binMin = sharedTypedArray("float64", nFeatures * 256);
  for (let f = 0; f < nFeatures; f++) {
    for (let v = 0; v < 256; v++) {
      threshold[f * 256 + v] = v === 255 ? Infinity : v + 0.5;
      binMin[f * 256 + v] = v;
    }
  }
  const binMax = sharedTypedArray("float64", nFeatures * 256);
  binMax.set(binMin);
  return { nFeatures, maxBins: 256, nBins, binStart, threshold, binMin, binMax };
}

/**
 * The feature-major codes of rows [rowStart, rowEnd) of 8-bit X under
 * identityBins8: a transpose. Blocks of 64 rows (50 KB of a 784-feature X)
 * stay in cache while every feature's 64 codes are written as one cache
 * line, so workers split rows and each reads only its share of X.
 */
export function transposeCodes8(X: NdArray, out: Uint8Array, rowStart: number, rowEnd: number): void {
  const [n, d] = checkMatrix(X);
  const dtype = dtypeOf(X.data);
  if (dtype !== "uint8" && dtype !== "uint8_clamped") throw new SabreTypeError(`transposeCodes8 needs uint8 X, got ${dtype}`);
  if (!(out instanceof Uint8Array) || out.length < n * d) throw new SabreTypeError(`out must be a Uint8Array of at least ${n * d} codes`);
  const rEnd = checkRows(n, rowStart, rowEnd);
  const data = X.data as Uint8Array;
  const s0 = X.stride[0]!;
  const s1 = X.stride[1]!;
  for (let r0 = rowStart; r0 < rEnd; r0 += 64) {
    const r1 = Math.min(rEnd, r0 + 64);
    for (let f = 0; f < d; f++) {
      const o = f * n;
      for (let i = r0, p = X.offset + r0 * s0 + f * s1; i < r1; i++, p += s0) out[o + i] = data[p]!;
    }
  }
}

/** Rows per block in applyBins: a block of row-major X stays in cache while every feature reads it. */
const BLOCK_ROWS = 256;

/**
 * Writes the uint8 codes of features [featureStart, featureEnd) of X into
 * `out`, feature-major (feature f's codes at out[f * n .. (f + 1) * n)), so
 * workers can bin disjoint feature ranges of one shared output in parallel.
 * NaN or Infinity in X is a SabreTypeError.
 */
export function applyBins(X: NdArray, bins: BinMapper, out: Uint8Array, featureStart = 0, featureEnd?: number): Uint8Array {
  const [n, d] = checkMatrix(X);
  if (bins.nFeatures !== d) throw new SabreTypeError(`X has ${d} features but the bins were fitted on ${bins.nFeatures}`);
  if (!(out instanceof Uint8Array)) throw new SabreTypeError(`out must be a Uint8Array, got ${describe(out)}`);
  if (out.length < n * d) throw new SabreTypeError(`out has ${out.length} elements; X needs ${n * d} (${n} rows x ${d} features)`);
  const fEnd = featureEnd ?? d;
  if (!Number.isInteger(featureStart) || !Number.isInteger(fEnd) || featureStart < 0 || fEnd > d || featureStart > fEnd) {
    throw new SabreTypeError(`feature range [${describe(featureStart)}, ${describe(featureEnd)}) must lie within [0, ${d}]`);
  }
  const dtype = dtypeOf(X.data)!;
  const big = isBigIntDType(dtype);
  const small = dtype === "uint8" || dtype === "int8" || dtype === "uint8_clamped";
  const s0 = X.stride[0]!;
  const s1 = X.stride[1]!;
  const data = X.data as Float64Array;
  // 8-bit inputs: a 256-entry lookup table per feature instead of a search per value.
  const base = dtype === "int8" ? -128 : 0;
  const luts = small ? lookupTables(bins, featureStart, fEnd, base) : new Uint8Array(0);
  for (let r0 = 0; r0 < n; r0 += BLOCK_ROWS) {
    const r1 = Math.min(n, r0 + BLOCK_ROWS);
    for (let f = featureStart; f < fEnd; f++) {
      const s = bins.binStart[f]!;
      const nt = bins.nBins[f]! - 1;
      const thr = bins.threshold.subarray(s, s + nt);
      const o = f * n;
      let p = X.offset + r0 * s0 + f * s1;
      if (small) {
        const l = (f - featureStart) * 256 - base;
        for (let i = r0; i < r1; i++, p += s0) out[o + i] = luts[l + data[p]!]!;
      } else {
        for (let i = r0; i < r1; i++, p += s0) {
          const v = big ? Number((X.data as BigInt64Array)[p]!) : data[p]!;
          if (v - v !== 0) throw nonFinite(X, i, f, v);
          out[o + i] = codeOf(thr, v);
        }
      }
    }
  }
  return out;
}

/**
 * Writes the uint8 codes of rows [rowStart, rowEnd) of X into `out`
 * sample-major (row i's codes at out[i * d .. (i + 1) * d)): the layout
 * growTree reads for small nodes (ForestData.rowCodes). Workers can split
 * rows. NaN or Infinity in X is a SabreTypeError.
 */
export function applyBinsRows(X: NdArray, bins: BinMapper, out: Uint8Array, rowStart = 0, rowEnd?: number): Uint8Array {
  const [n] = checkApply(X, bins, out, "out");
  const rEnd = checkRows(n, rowStart, rowEnd);
  binRows(X, bins, out, rowStart, rEnd, smallLookup(X, bins));
  return out;
}

/**
 * Both layouts in one pass over rows [rowStart, rowEnd) of X: sample-major
 * codes into rowCodes and feature-major into codes (a block of rows is
 * binned, then transposed while it is in cache). Workers can split rows:
 * each writes only its rows' bytes of both arrays. X is read once instead
 * of twice, which is what applyBins + applyBinsRows cost.
 */
export function applyBinsBoth(X: NdArray, bins: BinMapper, codes: Uint8Array, rowCodes: Uint8Array, rowStart = 0, rowEnd?: number): void {
  const [n, d] = checkApply(X, bins, codes, "codes");
  checkApply(X, bins, rowCodes, "rowCodes");
  const rEnd = checkRows(n, rowStart, rowEnd);
  const luts = smallLookup(X, bins);
  const B = 64;
  for (let r0 = rowStart; r0 < rEnd; r0 += B) {
    const r1 = Math.min(rEnd, r0 + B);
    binRows(X, bins, rowCodes, r0, r1, luts);
    for (let f = 0; f < d; f++) {
      const o = f * n;
      for (let i = r0, p = r0 * d + f; i < r1; i++, p += d) codes[o + i] = rowCodes[p]!;
    }
  }
}

function checkApply(X: NdArray, bins: BinMapper, out: Uint8Array, name: string): [number, number] {
  const [n, d] = checkMatrix(X);
  if (bins.nFeatures !== d) throw new SabreTypeError(`X has ${d} features but the bins were fitted on ${bins.nFeatures}`);
  if (!(out instanceof Uint8Array)) throw new SabreTypeError(`${name} must be a Uint8Array, got ${describe(out)}`);
  if (out.length < n * d) throw new SabreTypeError(`${name} has ${out.length} elements; X needs ${n * d} (${n} rows x ${d} features)`);
  return [n, d];
}

function checkRows(n: number, rowStart: unknown, rowEnd: unknown): number {
  const rEnd = rowEnd ?? n;
  if (!Number.isInteger(rowStart) || !Number.isInteger(rEnd) || (rowStart as number) < 0 || (rEnd as number) > n || (rowStart as number) > (rEnd as number)) {
    throw new SabreTypeError(`row range [${describe(rowStart)}, ${describe(rowEnd)}) must lie within [0, ${n}]`);
  }
  return rEnd as number;
}

/** Lookup tables for 8-bit dtypes (null for others), with the value offset folded in. */
function smallLookup(X: NdArray, bins: BinMapper): { luts: Uint8Array; base: number } | null {
  const dtype = dtypeOf(X.data)!;
  if (dtype !== "uint8" && dtype !== "int8" && dtype !== "uint8_clamped") return null;
  const base = dtype === "int8" ? -128 : 0;
  return { luts: lookupTables(bins, 0, bins.nFeatures, base), base };
}

function binRows(X: NdArray, bins: BinMapper, out: Uint8Array, rowStart: number, rowEnd: number, small: { luts: Uint8Array; base: number } | null): void {
  const d = X.shape[1]!;
  const big = isBigIntDType(dtypeOf(X.data)!);
  const s0 = X.stride[0]!;
  const s1 = X.stride[1]!;
  const data = X.data as Float64Array;
  if (small !== null) {
    const { luts, base } = small;
    for (let i = rowStart; i < rowEnd; i++) {
      let p = X.offset + i * s0;
      const o = i * d;
      for (let f = 0, l = -base; f < d; f++, p += s1, l += 256) out[o + f] = luts[l + data[p]!]!;
    }
    return;
  }
  for (let i = rowStart; i < rowEnd; i++) {
    let p = X.offset + i * s0;
    const o = i * d;
    for (let f = 0; f < d; f++, p += s1) {
      const v = big ? Number((X.data as BigInt64Array)[p]!) : data[p]!;
      if (v - v !== 0) throw nonFinite(X, i, f, v);
      const s = bins.binStart[f]!;
      // Inline search over this feature's thresholds (the last is +Infinity).
      let lo = 0;
      let hi = bins.nBins[f]! - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (bins.threshold[s + mid]! < v) lo = mid + 1;
        else hi = mid;
      }
      out[o + f] = lo;
    }
  }
}

/** 256-entry code tables for 8-bit inputs, feature f's at (f - fStart) * 256, indexed by value - base. */
function lookupTables(bins: BinMapper, fStart: number, fEnd: number, base: number): Uint8Array {
  const luts = new Uint8Array(256 * (fEnd - fStart));
  for (let f = fStart; f < fEnd; f++) {
    const s = bins.binStart[f]!;
    const thr = bins.threshold.subarray(s, s + bins.nBins[f]! - 1);
    for (let v = 0; v < 256; v++) luts[(f - fStart) * 256 + v] = codeOf(thr, v + base);
  }
  return luts;
}
