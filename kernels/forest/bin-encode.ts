// Turning values into bin codes: a table per feature chosen from the bins
// alone (see README.md, "Binning data that is not 8-bit"), so it is right for
// any input, training data or not:
//   dense  integer-valued bins over a modest range (counts, categories,
//          pixels as floats): code = table[v - base] for an integer v in
//          range, as 8-bit data's lookup;
//   search anything else: a binary search of the thresholds.
// A value the dense table does not cover (non-integer, out of range) falls
// back to the search, so every path gives the code codeOf would. In a fit,
// features with at most maxBins values skip both: scanColumns already wrote
// an id per value, and a remap table turns ids into codes.
import { SabreTypeError } from "../../src/errors.js";
import { dtypeOf, isBigIntDType } from "../../src/memory/dtypes.js";
import type { NdArray } from "../../src/memory/ndarray-type.js";
import { sharedTypedArray } from "../../src/memory/shared.js";
import { checkMatrix, nonFinite, type BinMapper } from "./bin-math.js";
import { FINAL } from "./bin-scan.js";

/** Per-feature code tables (in shared memory when made for workers). */
export interface BinEncoder {
  readonly nFeatures: number;
  /** Dense table entries per feature (0: search the thresholds). */
  readonly size: Int32Array;
  /** Dense: the value of the table's first entry, and where the table starts in lut. */
  readonly base: Float64Array;
  readonly start: Int32Array;
  readonly lut: Uint8Array;
}

/** Ids written by scanColumns over row chunks, and how they become codes (see MergedScan). */
export interface IdRemap {
  readonly remapStart: Int32Array;
  readonly remap: Uint8Array;
  /** Rows per chunk of the scan: rows [c * chunkRows, (c + 1) * chunkRows) were part c. */
  readonly chunkRows: number;
}

/** Dense tables span at most this many integers per feature, and this many bytes over all features. */
const DENSE_SPAN = 4096;
const LUT_BUDGET = 1 << 24;

/** The code tables for bins (`shared`: in shared memory, to pass to the engine's workers). */
export function makeEncoder(bins: BinMapper, shared = false): BinEncoder {
  const d = bins.nFeatures;
  const size = shared ? sharedTypedArray("int32", d) : new Int32Array(d);
  const base = shared ? sharedTypedArray("float64", d) : new Float64Array(d);
  const start = shared ? sharedTypedArray("int32", d) : new Int32Array(d);
  let total = 0;
  for (let f = 0; f < d; f++) {
    const s = bins.binStart[f]!;
    const nb = bins.nBins[f]!;
    let integers = true;
    for (let b = s; b < s + nb; b++) {
      if (Math.floor(bins.binMin[b]!) !== bins.binMin[b] || Math.floor(bins.binMax[b]!) !== bins.binMax[b]) integers = false;
    }
    const first = bins.binMin[s]!;
    const span = bins.binMax[s + nb - 1]! - first + 1;
    if (integers && span <= DENSE_SPAN && total + span <= LUT_BUDGET) {
      size[f] = span;
      base[f] = first;
      start[f] = total;
      total += span;
    }
  }
  const lut = shared ? sharedTypedArray("uint8", total) : new Uint8Array(total);
  for (let f = 0; f < d; f++) {
    const s = bins.binStart[f]!;
    const nt = bins.nBins[f]! - 1;
    // One walk up the thresholds: the code of base + j is the count of thresholds below it.
    let c = 0;
    for (let j = 0; j < size[f]!; j++) {
      const v = base[f]! + j;
      while (c < nt && bins.threshold[s + c]! < v) c++;
      lut[start[f]! + j] = c;
    }
  }
  return { nFeatures: d, size, base, start, lut };
}

/** Rows per block: the block's rows of X and of rowCodes stay in cache while each feature is coded. */
const ROW_BLOCK = 64;

/**
 * Codes of rows [rowStart, rowEnd) x features [featureStart, featureEnd) of
 * X: sample-major into rowCodes (row i at rowCodes[i * d ..]) and/or
 * feature-major into codes (feature f at codes[f * n ..]); either may be
 * null. With `ids`, rowCodes holds scanColumns' ids for the features it
 * remaps, replaced here by their codes (X is not read for those). NaN or
 * Infinity in X is a SabreTypeError. Arguments are checked by the callers
 * (applyBins* in bins.ts, the engine kernel).
 */
export function encodeBlock(
  X: NdArray,
  bins: BinMapper,
  enc: BinEncoder,
  codes: Uint8Array | null,
  rowCodes: Uint8Array | null,
  rowStart: number,
  rowEnd: number,
  featureStart: number,
  featureEnd: number,
  ids: IdRemap | null = null,
): void {
  const [n, d] = checkMatrix(X);
  if (enc.nFeatures !== d || bins.nFeatures !== d) throw new SabreTypeError(`X has ${d} features but the bins were fitted on ${bins.nFeatures}`);
  let chunk = -1;
  if (ids !== null) {
    chunk = Math.floor(rowStart / ids.chunkRows);
    if (rowCodes === null || rowEnd > (chunk + 1) * ids.chunkRows || ids.remapStart.length < (chunk + 1) * d) {
      throw new SabreTypeError(`rows [${rowStart}, ${rowEnd}) are not within one scanned chunk of ${ids.chunkRows} rows with ids in rowCodes`);
    }
  }
  const big = isBigIntDType(dtypeOf(X.data)!);
  const data = X.data as Float64Array;
  const bigData = X.data as unknown as BigInt64Array;
  const s0 = X.stride[0]!;
  const s1 = X.stride[1]!;
  const { size, base, start, lut } = enc;
  const { threshold, binStart, nBins } = bins;
  const toRows = rowCodes !== null;
  const toCodes = codes !== null;
  const rc = rowCodes ?? new Uint8Array(0);
  const fc = codes ?? new Uint8Array(0);
  for (let r0 = rowStart; r0 < rowEnd; r0 += ROW_BLOCK) {
    const r1 = Math.min(rowEnd, r0 + ROW_BLOCK);
    for (let f = featureStart; f < featureEnd; f++) {
      const rs = ids === null ? -1 : ids.remapStart[chunk * d + f]!;
      if (rs === FINAL) continue;
      if (rs >= 0) remapRows(rc, fc, toCodes, ids!.remap, rs, r0 * d + f, d, f * n + r0, r1 - r0);
      else {
        const s = binStart[f]!;
        codeRows(data, bigData, big, X.offset + r0 * s0 + f * s1, s0, r0, r1, f, rc, toRows, r0 * d + f, d, fc, toCodes, f * n + r0, threshold, s, nBins[f]! - 1, size[f]!, base[f]!, start[f]!, lut);
      }
    }
  }
}

/** m ids of one feature (rc[o], rc[o + d], ...) replaced by their codes, also written to fc[c ..] when toCodes. */
function remapRows(rc: Uint8Array, fc: Uint8Array, toCodes: boolean, remap: Uint8Array, rs: number, o: number, d: number, c: number, m: number): void {
  for (let q = 0; q < m; q++, o += d) {
    const code = remap[rs + rc[o]!]!;
    rc[o] = code;
    if (toCodes) fc[c + q] = code;
  }
}

/** The codes of feature f for rows [r0, r1) from X (p: row r0's value), into rc[o ..] (stride d) and fc[c ..]. */
function codeRows(
  data: Float64Array,
  bigData: BigInt64Array,
  big: boolean,
  p: number,
  s0: number,
  r0: number,
  r1: number,
  f: number,
  rc: Uint8Array,
  toRows: boolean,
  o: number,
  d: number,
  fc: Uint8Array,
  toCodes: boolean,
  c: number,
  threshold: Float64Array,
  s: number,
  nt: number,
  sz: number,
  b: number,
  st: number,
  lut: Uint8Array,
): void {
  let last = NaN;
  let lastCode = 0;
  for (let i = r0; i < r1; i++, p += s0, o += d, c++) {
    const v = big ? Number(bigData[p]!) : data[p]!;
    const j = v - b;
    let code: number;
    if (j >= 0 && j < sz && Math.floor(j) === j) code = lut[st + (j | 0)]!;
    else {
      if (v !== last) {
        if (v - v !== 0) throw nonFinite(i, f, v);
        last = v;
        lastCode = search(threshold, s, nt, v);
      }
      code = lastCode;
    }
    if (toRows) rc[o] = code;
    if (toCodes) fc[c] = code;
  }
}

/** The number of the nt thresholds at threshold[s ..] strictly below v. */
function search(threshold: Float64Array, s: number, nt: number, v: number): number {
  let lo = 0;
  let hi = nt;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (threshold[s + mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
