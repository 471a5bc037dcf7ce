// Bins: fitting them (bin-scan.ts), coding values (bin-encode.ts), and the
// 8-bit identity path. This file is the entry point the rest of the forest
// uses; the arithmetic lives in bin-math.ts.
import { SabreTypeError } from "../../src/errors.js";
import { dtypeOf } from "../../src/memory/dtypes.js";
import type { NdArray } from "../../src/memory/ndarray-type.js";
import { sharedTypedArray } from "../../src/memory/shared.js";
import { describe } from "../../src/validate.js";
import { checkMatrix, checkMaxBins, type BinMapper, type FeatureBins } from "./bin-math.js";
import { encodeBlock, makeEncoder, type BinEncoder } from "./bin-encode.js";
import { assembleBins, mergeSummaries, quantileBins, quantileJob, scanColumns } from "./bin-scan.js";

export { checkMatrix, checkMaxBins, codeOf, type BinMapper, type FeatureBins } from "./bin-math.js";
export { BIN_SUBSAMPLE, FINAL, assembleBins, mergeSummaries, quantileBins, quantileJob, scanColumns, type ColumnSummary, type MergedScan, type QuantileJob } from "./bin-scan.js";
export { encodeBlock, makeEncoder, type BinEncoder, type IdRemap } from "./bin-encode.js";

/**
 * Bins of features [featureStart, featureEnd) of X, unpacked: exact (one
 * bin per distinct value, thresholds at the midpoints) when a feature has at
 * most maxBins distinct values in X, else quantile bins whose edges sit
 * between adjacent distinct values, fitted on all rows up to BIN_SUBSAMPLE,
 * else on that many rows drawn with `seed`. -0 and 0 are one value. NaN or
 * Infinity anywhere in X is a SabreTypeError (missing values are not supported).
 */
export function fitFeatureRange(X: NdArray, featureStart: number, featureEnd: number, maxBins = 256, seed = 0): FeatureBins[] {
  const [n] = checkMatrix(X);
  checkMaxBins(maxBins);
  if (n === 0) throw new SabreTypeError("X has no rows: bins need at least one sample");
  // Merged even alone: the merge is what gives values k / 255 their lattice bins.
  const { summary } = mergeSummaries([scanColumns(X, 0, n, maxBins, featureStart, featureEnd)]);
  const job = quantileJob(summary, n, seed);
  return assembleBins(summary, job, quantileBins(X, job));
}

/** Bins of column f of X (see fitFeatureRange). */
export function fitFeatureBins(X: NdArray, f: number, maxBins = 256, seed = 0): FeatureBins {
  const [, d] = checkMatrix(X);
  if (!Number.isInteger(f) || f < 0 || f >= d) throw new SabreTypeError(`feature ${describe(f)} is out of range [0, ${d})`);
  return fitFeatureRange(X, f, f + 1, maxBins, seed)[0]!;
}

/**
 * Fits bins for every feature of X, a 2-D ndarray of any numeric dtype and
 * any strides (see fitFeatureRange). The engine's fit computes the same bins
 * with the rows and features split over workers.
 *
 * ```ts
 * const bins = fitBins(X, 256);
 * const codes = new Uint8Array(new SharedArrayBuffer(n * d));
 * applyBins(X, bins, codes);            // feature-major: feature f at codes[f * n .. (f + 1) * n)
 * ```
 */
export function fitBins(X: NdArray, maxBins = 256, seed = 0): BinMapper {
  const [, d] = checkMatrix(X);
  return packBins(fitFeatureRange(X, 0, d, maxBins, seed), maxBins);
}

/**
 * All of binning on one thread: the engine's three passes (scan writing
 * ids to rowCodes, quantiles, codes from the ids) with a single row chunk.
 * Returns the bins (in shared memory) and fills both layouts: the same bins
 * and codes as fitBins + applyBinsBoth, and as the passes split over
 * workers. The engine runs it on one worker for small tables
 * (src/ml/forest/binning.ts).
 */
export function binAll(X: NdArray, maxBins: number, seed: number, codes: Uint8Array, rowCodes: Uint8Array): BinMapper {
  const [n, d] = checkMatrix(X);
  checkMaxBins(maxBins);
  if (n === 0) throw new SabreTypeError("X has no rows: bins need at least one sample");
  if (!(codes instanceof Uint8Array) || codes.length < n * d) throw new SabreTypeError(`codes must be a Uint8Array of at least ${n * d} elements, got ${describe(codes)}`);
  const { summary, remapStart, remap } = mergeSummaries([scanColumns(X, 0, n, maxBins, 0, d, rowCodes, codes)]);
  const job = quantileJob(summary, n, seed);
  const bins = packBins(assembleBins(summary, job, quantileBins(X, job)), maxBins);
  encodeBlock(X, bins, makeEncoder(bins), codes, rowCodes, 0, n, 0, d, { remapStart, remap, chunkRows: n });
  return bins;
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

/**
 * Writes the uint8 codes of features [featureStart, featureEnd) of X into
 * `out`, feature-major (feature f's codes at out[f * n .. (f + 1) * n)), so
 * workers can bin disjoint feature ranges of one shared output in parallel.
 * NaN or Infinity in X is a SabreTypeError.
 */
export function applyBins(X: NdArray, bins: BinMapper, out: Uint8Array, featureStart = 0, featureEnd?: number): Uint8Array {
  const [n, d] = checkApply(X, bins, out, "out");
  const fEnd = featureEnd ?? d;
  if (!Number.isInteger(featureStart) || !Number.isInteger(fEnd) || featureStart < 0 || fEnd > d || featureStart > fEnd) {
    throw new SabreTypeError(`feature range [${describe(featureStart)}, ${describe(featureEnd)}) must lie within [0, ${d}]`);
  }
  encodeBlock(X, bins, makeEncoder(bins), out, null, 0, n, featureStart, fEnd);
  return out;
}

/**
 * Writes the uint8 codes of rows [rowStart, rowEnd) of X into `out`
 * sample-major (row i's codes at out[i * d .. (i + 1) * d)): the layout
 * growTree reads for small nodes (ForestData.rowCodes). Workers can split
 * rows. NaN or Infinity in X is a SabreTypeError.
 */
export function applyBinsRows(X: NdArray, bins: BinMapper, out: Uint8Array, rowStart = 0, rowEnd?: number): Uint8Array {
  const [n, d] = checkApply(X, bins, out, "out");
  const rEnd = checkRows(n, rowStart, rowEnd);
  encodeBlock(X, bins, makeEncoder(bins), null, out, rowStart, rEnd, 0, d);
  return out;
}

/**
 * Both layouts in one pass over rows [rowStart, rowEnd) of X: sample-major
 * codes into rowCodes and feature-major into codes (a block of rows is
 * coded, then transposed while it is in cache). Workers can split rows:
 * each writes only its rows' bytes of both arrays. `encoder`: the tables
 * made once by makeEncoder(bins) (made here when not given).
 */
export function applyBinsBoth(X: NdArray, bins: BinMapper, codes: Uint8Array, rowCodes: Uint8Array, rowStart = 0, rowEnd?: number, encoder?: BinEncoder): void {
  const [n, d] = checkApply(X, bins, codes, "codes");
  checkApply(X, bins, rowCodes, "rowCodes");
  const rEnd = checkRows(n, rowStart, rowEnd);
  encodeBlock(X, bins, encoder ?? makeEncoder(bins), codes, rowCodes, rowStart, rEnd, 0, d);
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
