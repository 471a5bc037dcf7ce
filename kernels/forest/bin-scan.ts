// Fitting bins in two passes that workers can split (see README.md, "Binning
// data that is not 8-bit"): scanColumns reads every value once, by blocks of
// rows, and learns per feature its distinct values (while there are at most
// maxBins), whether all values are integers, and the range; summaries of row
// ranges merge in any order to the same result. Only features with more
// distinct values than maxBins need quantiles, and those come from a fixed
// sample of rows (quantileBins), so a feature never costs a sort of all n.
import { SabreTypeError } from "../../src/errors.js";
import { dtypeOf, isBigIntDType } from "../../src/memory/dtypes.js";
import type { NdArray } from "../../src/memory/ndarray-type.js";
import { sharedTypedArray } from "../../src/memory/shared.js";
import { rng } from "../../src/random/rng.js";
import { describe } from "../../src/validate.js";
import { binsFromCounts, checkMatrix, checkMaxBins, exactBins, fromDense, nonFinite, type FeatureBins } from "./bin-math.js";

/** Above this many rows the quantiles come from a sample of this many (as scikit-learn's histogram binning). */
export const BIN_SUBSAMPLE = 200_000;

/** The RNG stream of the quantile sample: rng(seed, BIN_STREAM); trees use rng(seed, tree, k), two ids. */
const BIN_STREAM = 0x62696e73;

/**
 * What one pass over some rows learns about features [featureStart,
 * featureEnd) of X. scanColumns numbers a feature's distinct values in the
 * order it first meets them (the ids it writes); `order` maps those ids to
 * positions in the sorted list.
 */
export interface ColumnSummary {
  readonly featureStart: number;
  readonly maxBins: number;
  /** The number of distinct values of each feature if at most maxBins, else -1. */
  readonly distinct: Int32Array;
  /** Feature j's distinct values, ascending, at values[offset[j] .. offset[j] + distinct[j]) (-0 is 0). */
  readonly offset: Int32Array;
  readonly values: Float64Array;
  /** Id q of feature j is the value at values[offset[j] + order[offset[j] + q]]. */
  readonly order: Uint8Array;
  /** 1 when every value of the feature is an integer. */
  readonly integer: Uint8Array;
  readonly min: Float64Array;
  readonly max: Float64Array;
  /**
   * 1 where the feature's ids are lattice indices instead of first-met
   * order: id q stands for the value q / `latticeScale` (as X's dtype rounds
   * it), q in [0, 256). mergeSummaries maps those ids through a 256-entry
   * table per part; `order` is not used for them.
   */
  readonly lattice: Uint8Array;
  /** 255 (values k / 255), 1 (integers 0..255) or 0 (no feature on a lattice). */
  readonly latticeScale: number;
  /** 32 or 64 for float32 or float64 X (how its values round k / 255), 0 for integer dtypes. */
  readonly floatBits: number;
  /** True when the lattice features' ids were also written to the feature-major codes. */
  readonly wroteCodes: boolean;
}

/**
 * Features per pass over a row range: their hash tables (~10 KB each at
 * maxBins 256) and the block's share of X stay in the 1 MB L2 cache. Wider
 * blocks, or every feature at once, measured slower (tables fall out of cache).
 */
const FEATURE_BLOCK = 64;
/** Rows per block (the block's rows of this feature block are read before the next block of rows). */
const ROW_BLOCK = 256;

/** Slots of a feature's table: a power of two at least 4x the values it may hold, so most lookups hit the first slot. */
function hashCapacity(entries: number): number {
  let cap = 4;
  while (cap < 4 * entries) cap *= 2;
  return cap;
}

let scratch: { cap: number; keys: Int32Array; keys2: Int32Array; ids: Int16Array; slotIds: Uint8Array; vals: Float64Array } | null = null;

/** Two words of one float64, for hashing values by their bits. */
const bitsF = new Float64Array(1);
const bitsW = new Int32Array(bitsF.buffer);

const INT_MIN = -2147483648;

/**
 * Reads rows [rowStart, rowEnd) of features [featureStart, featureEnd) of X
 * once and summarizes each feature (see ColumnSummary). While a feature has
 * at most maxBins distinct values, each value's id (its position in the
 * summary's list) is written to `ids` (sample-major, row i at ids[i * d ..],
 * as the forest's rowCodes), so the codes can later be made from ids alone
 * (encodeBlock with a remap) instead of looking every value up again.
 * NaN or Infinity is a SabreTypeError naming the first one met.
 *
 * Values are hashed by their bits: float32 by its one word, float64 by its
 * two, integer dtypes by the value; -0 counts as 0. Float features whose
 * values all lie on a lattice (k / 255, or integers 0..255) skip the hash:
 * the id is k (see scanLattice), also written to `codes` (feature-major,
 * feature f's rows at codes[f * n ..]) when given, for the merge may find
 * them final (mergeSummaries).
 */
export function scanColumns(
  X: NdArray,
  rowStart: number,
  rowEnd: number,
  maxBins: number,
  featureStart = 0,
  featureEnd?: number,
  ids: Uint8Array | null = null,
  codes: Uint8Array | null = null,
): ColumnSummary {
  const [n, d] = checkMatrix(X);
  checkMaxBins(maxBins);
  const fs = featureStart;
  const fe = featureEnd ?? d;
  if (!Number.isInteger(fs) || !Number.isInteger(fe) || fs < 0 || fe > d || fs > fe) {
    throw new SabreTypeError(`feature range [${describe(featureStart)}, ${describe(featureEnd)}) must lie within [0, ${d}]`);
  }
  if (!Number.isInteger(rowStart) || !Number.isInteger(rowEnd) || rowStart < 0 || rowEnd > n || rowStart > rowEnd) {
    throw new SabreTypeError(`row range [${describe(rowStart)}, ${describe(rowEnd)}) must lie within [0, ${n}]`);
  }
  if (ids !== null && !(ids instanceof Uint8Array && ids.length >= n * d)) {
    throw new SabreTypeError(`ids must be a Uint8Array of at least ${n * d} elements, got ${describe(ids)}`);
  }
  if (codes !== null && !(ids !== null && codes instanceof Uint8Array && codes.length >= n * d)) {
    throw new SabreTypeError(`codes must be a Uint8Array of at least ${n * d} elements (with ids), got ${describe(codes)}`);
  }
  const nf = fe - fs;
  const distinct = new Int32Array(nf);
  const integer = new Uint8Array(nf).fill(1);
  const min = new Float64Array(nf).fill(Infinity);
  const max = new Float64Array(nf).fill(-Infinity);
  const cap = hashCapacity(maxBins + 1);
  const mask = cap - 1;
  const shift = Math.clz32(cap) + 1;
  const vcap = maxBins + 1;
  if (scratch === null || scratch.cap !== cap) {
    scratch = {
      cap,
      keys: new Int32Array(FEATURE_BLOCK * cap),
      keys2: new Int32Array(FEATURE_BLOCK * cap),
      ids: new Int16Array(FEATURE_BLOCK * cap),
      slotIds: new Uint8Array(FEATURE_BLOCK * cap),
      vals: new Float64Array(FEATURE_BLOCK * vcap),
    };
  }
  const { keys, keys2, ids: tid, slotIds, vals } = scratch;
  const dtype = dtypeOf(X.data)!;
  const big = isBigIntDType(dtype);
  const f32 = dtype === "float32";
  // 32-bit keys: float32's bits (read through an int32 view of its memory) or the value of a <= 32-bit integer dtype.
  const wide = big || dtype === "float64";
  const data = X.data as Float64Array;
  const bigData = X.data as unknown as BigInt64Array;
  const src = f32 ? new Int32Array(data.buffer, data.byteOffset, data.length) : (data as unknown as Int32Array);
  const s0 = X.stride[0]!;
  const s1 = X.stride[1]!;
  const found: Float64Array[] = [];
  const foundOrder: Uint8Array[] = [];
  // Features whose values all lie on a lattice (k / 255 or integers 0..255) write k as the id, with no hashing (see scanLattice).
  const scale = maxBins >= LATTICE && (f32 || dtype === "float64") ? pickLattice(data, X.offset, s0, s1, rowStart, Math.min(rowEnd, rowStart + 64), fs, fe) : 0;
  const tab = scale === 0 ? null : latticeTable(scale, f32);
  const lattice = new Uint8Array(nf).fill(scale === 0 ? 0 : 1);
  // 1 for a feature that just left the lattice: its rows from rowStart on are scanned again by value.
  const rescan = new Uint8Array(nf);
  if (latticeSeen.length < FEATURE_BLOCK * LATTICE) latticeSeen = new Uint8Array(FEATURE_BLOCK * LATTICE);
  const seen = latticeSeen;
  for (let b0 = fs; b0 < fe; b0 += FEATURE_BLOCK) {
    const b1 = Math.min(fe, b0 + FEATURE_BLOCK);
    if (f32) keys.fill(-1, 0, (b1 - b0) * cap);
    else tid.fill(-1, 0, (b1 - b0) * cap);
    if (tab !== null) seen.fill(0, 0, (b1 - b0) * LATTICE);
    for (let r0 = rowStart; r0 < rowEnd; r0 += ROW_BLOCK) {
      const r1 = Math.min(rowEnd, r0 + ROW_BLOCK);
      if (tab !== null) latticeRows(data, X.offset, s0, s1, r0, r1, b0, b1, fs, d, n, scale, tab, seen, lattice, rescan, ids, codes);
      // The by-value loop below only when some feature of the block is off the lattice (pixels / 255: none).
      if (tab !== null && allOn(lattice, b0 - fs, b1 - fs)) continue;
      for (let f = b0; f < b1; f++) {
        const j = f - fs;
        if (lattice[j] === 1) continue;
        let k = distinct[j]!;
        // A feature that left the lattice in this block: all its rows so far again, by value (their ids rewritten).
        const first = rescan[j] === 1 ? rowStart : r0;
        rescan[j] = 0;
        let i = first;
        let p = X.offset + first * s0 + f * s1;
        const o = first * d + f;
        if (k >= 0) {
          const st = (f - b0) * cap;
          const vb = (f - b0) * vcap;
          k = wide
            ? scan64(data, bigData, big, p, s0, i, r1, o, d, f, k, maxBins, st, shift, mask, keys, keys2, tid, vals, vb, ids)
            : f32
              ? scanF32(src, data, p, s0, i, r1, o, d, f, k, maxBins, st, shift, mask, keys, slotIds, vals, vb, ids)
              : scan32(src, data, p, s0, i, r1, o, d, f, k, maxBins, st, shift, mask, keys, tid, vals, vb, ids);
          if (k < 0) {
            // More than maxBins values from row stoppedAt on: the range of those seen so far, then the rest below.
            rangeOf(vals, vb, maxBins, j, integer, min, max);
            p += (stoppedAt - i) * s0;
            i = stoppedAt;
          }
          distinct[j] = k;
        }
        if (k < 0 && i < r1) scanMany(data, bigData, big, p, s0, i, r1, f, j, integer, min, max);
      }
    }
    for (let f = b0; f < b1; f++) {
      const j = f - fs;
      let k = distinct[j]!;
      if (k < 0) continue;
      const vb = (f - b0) * vcap;
      if (lattice[j] === 1) {
        const sb = (f - b0) * LATTICE;
        for (let q = 0; q < LATTICE; q++) if (seen[sb + q] === 1) vals[vb + k++] = tab![q]!;
        distinct[j] = k;
        rangeOf(vals, vb, k, j, integer, min, max);
        // Read off the bitmap in lattice order, so already ascending, each id its own rank: no sort, no search
        // (the sort and the rank searches were ~40 ms of each worker's scan of Fashion-MNIST / 255, JIT cold).
        found.push(vals.slice(vb, vb + k));
        foundOrder.push(identityOrder(k));
        continue;
      }
      rangeOf(vals, vb, k, j, integer, min, max);
      // Sorted here, in the worker, so the merge on the main thread only walks sorted lists.
      const sorted = vals.slice(vb, vb + k).sort();
      const ord = new Uint8Array(k);
      for (let q = 0; q < k; q++) ord[q] = rankOf(sorted, vals[vb + q]!);
      found.push(sorted);
      foundOrder.push(ord);
    }
  }
  const offset = new Int32Array(nf + 1);
  for (let j = 0; j < nf; j++) offset[j + 1] = offset[j]! + Math.max(0, distinct[j]!);
  const values = new Float64Array(offset[nf]!);
  let at = 0;
  const order = new Uint8Array(offset[nf]!);
  for (let j = 0; j < nf; j++) {
    if (distinct[j]! < 0) continue;
    order.set(foundOrder[at]!, offset[j]!);
    values.set(found[at++]!, offset[j]!);
  }
  return { featureStart: fs, maxBins, distinct, offset, values, order, integer, min, max, lattice, latticeScale: scale, floatBits: f32 ? 32 : dtype === "float64" ? 64 : 0, wroteCodes: codes !== null };
}

/**
 * The lattice features of block [b0, b1) over rows [r0, r1), in groups of 4
 * (or 2) adjacent ones per pass: their values share cache lines and one loop
 * serves them all (Fashion-MNIST / 255, one thread: scan 343 ms one feature
 * at a time, 236 by pairs, 178 by 4). Where a group meets a value off the
 * lattice, its features go on one at a time from that row, and each that
 * leaves the lattice is marked (lattice 0, rescan 1) for the by-value scan.
 * A function of its own, called once per block of rows, so V8 optimizes this
 * small loop rather than OSR-compiling all of scanColumns with it inlined on
 * every worker (the compile ran on the same 2 cores as the scans).
 */
function latticeRows(
  data: Float64Array,
  offset: number,
  s0: number,
  s1: number,
  r0: number,
  r1: number,
  b0: number,
  b1: number,
  fs: number,
  d: number,
  n: number,
  scale: number,
  tab: Float64Array,
  seen: Uint8Array,
  lattice: Uint8Array,
  rescan: Uint8Array,
  ids: Uint8Array | null,
  codes: Uint8Array | null,
): void {
  for (let f = b0; f < b1; ) {
    const j = f - fs;
    if (lattice[j] !== 1) {
      f++;
      continue;
    }
    let g = 1;
    if (ids !== null && codes !== null) while (g < 4 && f + g < b1 && lattice[j + g] === 1) g++;
    if (g === 3) g = 2;
    let from = r0;
    const p = offset + r0 * s0 + f * s1;
    if (g === 4) from = scanLattice4(data, p, s0, s1, r0, r1, r0 * d + f, d, scale, tab, seen, (f - b0) * LATTICE, ids!, codes!, f * n, n);
    else if (g === 2) from = scanLattice2(data, p, s0, s1, r0, r1, r0 * d + f, d, scale, tab, seen, (f - b0) * LATTICE, ids!, codes!, f * n, n);
    for (let h = 0; h < g && from < r1; h++) {
      const fh = f + h;
      const off = scanLattice(data, offset + from * s0 + fh * s1, s0, from, r1, from * d + fh, d, scale, tab, seen, (fh - b0) * LATTICE, ids, codes, fh * n);
      if (off !== r1) {
        lattice[j + h] = 0;
        rescan[j + h] = 1;
      }
    }
    f += g;
  }
}

/** 0, 1, .., k - 1. */
function identityOrder(k: number): Uint8Array {
  const ord = new Uint8Array(k);
  for (let q = 0; q < k; q++) ord[q] = q;
  return ord;
}

/** True when lattice[j0 .. j1) are all 1. */
function allOn(lattice: Uint8Array, j0: number, j1: number): boolean {
  for (let j = j0; j < j1; j++) if (lattice[j] !== 1) return false;
  return true;
}

/** remapStart's mark for a part's feature whose ids in rowCodes and codes are already the codes. */
export const FINAL = -2;

/**
 * True when the distinct values (ascending) are all k / 255 as X's dtype
 * rounds it and not all integers (a feature of only 0 and 1 keeps exact
 * bins, as the same values as integers get).
 */
function onLattice255(values: Float64Array, f32: boolean): boolean {
  const tab = latticeTable(255, f32);
  let fraction = false;
  for (let q = 0; q < values.length; q++) {
    const v = values[q]!;
    const k = Math.round(v * 255);
    if (!(k >= 0 && k < LATTICE && tab[k] === v)) return false;
    if (v !== 0 && v !== 1) fraction = true;
  }
  return fraction;
}

/** Lattice points: ids 0..255. */
const LATTICE = 256;
let latticeSeen = new Uint8Array(0);
const latticeTables = new Map<string, Float64Array>();

/** The lattice's values as X's dtype holds them: k / 255 (rounded to float32 for float32 X, as numpy's x / 255 rounds it) or k. */
function latticeTable(scale: number, f32: boolean): Float64Array {
  const key = `${scale} ${f32}`;
  let tab = latticeTables.get(key);
  if (tab === undefined) {
    tab = new Float64Array(LATTICE);
    for (let q = 0; q < LATTICE; q++) tab[q] = f32 ? Math.fround(q / scale) : q / scale;
    latticeTables.set(key, tab);
  }
  return tab;
}

/**
 * Which lattice the first rows of a float chunk suggest: 255 when more of
 * their values are k / 255 than integers (pixels / 255), 1 when integers
 * 0..255 lead (pixels kept as floats), 0 when most values are on neither
 * (continuous features: no lattice tried). Only a guess for speed: a feature
 * off the lattice is scanned by value, so bins and codes never depend on it.
 */
function pickLattice(data: Float64Array, offset: number, s0: number, s1: number, r0: number, r1: number, fs: number, fe: number): number {
  const t255 = latticeTable(255, data instanceof Float32Array);
  let on255 = 0;
  let onInt = 0;
  let both = 0;
  for (let i = r0; i < r1; i++) {
    for (let f = fs; f < fe; f++) {
      const v = data[offset + i * s0 + f * s1]!;
      if (v === 0 || v === 1) both++;
      else if (v === Math.floor(v) && v > 1 && v < LATTICE) onInt++;
      else {
        const q = Math.round(v * 255);
        if (q >= 0 && q < LATTICE && t255[q] === v) on255++;
      }
    }
  }
  const seen = (r1 - r0) * (fe - fs);
  if (2 * (on255 + onInt + both) < seen) return 0;
  return on255 > onInt ? 255 : 1;
}


/** The row at which the last scan32/scan64 call met value maxBins + 1 (it returned -1). */
let stoppedAt = 0;

/**
 * scan32 for float32 values, keyed by their bits: an empty slot holds -1 (a
 * NaN's bits, never a key once NaN is refused), so a lookup that hits its
 * first slot reads one key and one code.
 */
function scanF32(
  src: Int32Array,
  data: Float64Array,
  p: number,
  s0: number,
  i: number,
  r1: number,
  o: number,
  d: number,
  f: number,
  k: number,
  maxBins: number,
  st: number,
  shift: number,
  mask: number,
  keys: Int32Array,
  slotIds: Uint8Array,
  vals: Float64Array,
  vb: number,
  ids: Uint8Array | null,
): number {
  for (; i < r1; i++, p += s0, o += d) {
    let key = src[p]! | 0;
    if ((key & 0x7f800000) === 0x7f800000) throw nonFinite(i, f, data[p]!);
    if (key === INT_MIN) key = 0;
    let h = st + (Math.imul(key, 0x9e3779b1) >>> shift);
    let at = keys[h]!;
    while (at !== key) {
      if (at === -1) {
        if (k === maxBins) {
          stoppedAt = i;
          return -1;
        }
        keys[h] = key;
        slotIds[h] = k;
        vals[vb + k] = data[p]! + 0;
        k++;
        break;
      }
      h = st + ((h - st + 1) & mask);
      at = keys[h]!;
    }
    if (ids !== null) ids[o] = slotIds[h]!;
  }
  return k;
}

/**
 * Feature f over rows [i, r1) of an integer dtype of at most 32 bits, keyed
 * by the value (see scanColumns): looks each
 * value up in the feature's table at st (adding new ones, their value to
 * vals[vb + id]), writes its id to ids[o ..] and returns the number of
 * values, or -1 (and stoppedAt) when there are more than maxBins. A function
 * of its own, called per block, so V8 optimizes it whole (not on loop entry).
 */
function scan32(
  src: Int32Array,
  data: Float64Array,
  p: number,
  s0: number,
  i: number,
  r1: number,
  o: number,
  d: number,
  f: number,
  k: number,
  maxBins: number,
  st: number,
  shift: number,
  mask: number,
  keys: Int32Array,
  tid: Int16Array,
  vals: Float64Array,
  vb: number,
  ids: Uint8Array | null,
): number {
  for (; i < r1; i++, p += s0, o += d) {
    const key = src[p]! | 0;
    let h = st + (Math.imul(key, 0x9e3779b1) >>> shift);
    let id = tid[h]!;
    while (id >= 0 && keys[h] !== key) {
      h = st + ((h - st + 1) & mask);
      id = tid[h]!;
    }
    if (id < 0) {
      if (k === maxBins) {
        stoppedAt = i;
        return -1;
      }
      id = k++;
      keys[h] = key;
      tid[h] = id;
      vals[vb + id] = data[p]! + 0;
    }
    if (ids !== null) ids[o] = id;
  }
  return k;
}

/** scan32 for float64 (and bigint) values: keyed by the two words of the float64. */
function scan64(
  data: Float64Array,
  bigData: BigInt64Array,
  big: boolean,
  p: number,
  s0: number,
  i: number,
  r1: number,
  o: number,
  d: number,
  f: number,
  k: number,
  maxBins: number,
  st: number,
  shift: number,
  mask: number,
  keys: Int32Array,
  keys2: Int32Array,
  tid: Int16Array,
  vals: Float64Array,
  vb: number,
  ids: Uint8Array | null,
): number {
  for (; i < r1; i++, p += s0, o += d) {
    const v = (big ? Number(bigData[p]!) : data[p]!) + 0;
    if (v - v !== 0) throw nonFinite(i, f, v);
    bitsF[0] = v;
    const lo = bitsW[0]!;
    const hi = bitsW[1]!;
    let h = st + (Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> shift);
    let id = tid[h]!;
    while (id >= 0 && (keys[h] !== lo || keys2[h] !== hi)) {
      h = st + ((h - st + 1) & mask);
      id = tid[h]!;
    }
    if (id < 0) {
      if (k === maxBins) {
        stoppedAt = i;
        return -1;
      }
      id = k++;
      keys[h] = lo;
      keys2[h] = hi;
      tid[h] = id;
      vals[vb + id] = v;
    }
    if (ids !== null) ids[o] = id;
  }
  return k;
}

/** A feature with more than maxBins values, rows [i, r1): only finiteness, the range and integrality are left to learn. */
function scanMany(
  data: Float64Array,
  bigData: BigInt64Array,
  big: boolean,
  p: number,
  s0: number,
  i: number,
  r1: number,
  f: number,
  j: number,
  integer: Uint8Array,
  min: Float64Array,
  max: Float64Array,
): void {
  let lo = min[j]!;
  let hi = max[j]!;
  let isInt = integer[j]!;
  for (; i < r1; i++, p += s0) {
    const v = big ? Number(bigData[p]!) : data[p]!;
    if (v - v !== 0) throw nonFinite(i, f, v);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (isInt === 1 && Math.floor(v) !== v) isInt = 0;
  }
  min[j] = lo;
  max[j] = hi;
  integer[j] = isInt;
}

/** Range and integrality of k listed values (vals[vb ..]) into feature j's summary. */
function rangeOf(vals: Float64Array, vb: number, k: number, j: number, integer: Uint8Array, min: Float64Array, max: Float64Array): void {
  let lo = Infinity;
  let hi = -Infinity;
  let isInt = 1;
  for (let q = vb; q < vb + k; q++) {
    const v = vals[q]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (Math.floor(v) !== v) isInt = 0;
  }
  min[j] = lo;
  max[j] = hi;
  integer[j] = isInt;
}

/** The sorted union of two ascending lists of distinct numbers. */
function unionSorted(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x < y) {
      out[k++] = x;
      i++;
    } else if (y < x) {
      out[k++] = y;
      j++;
    } else {
      out[k++] = x;
      i++;
      j++;
    }
  }
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out.subarray(0, k);
}

/**
 * Summaries of row ranges joined: `summary` covers all their rows, with
 * every exact feature's values in ascending order (so a value's id is its
 * code). `remap` turns the ids part c wrote into codes: feature j's id q
 * (from part c) has code remap[remapStart[c * nf + j] + q], where
 * remapStart is -1 for features that are not exact over all rows.
 * Unions, minima and "all integers" do not depend on the order or on how the
 * rows were split, so neither do the bins nor the codes.
 */
export interface MergedScan {
  readonly summary: ColumnSummary;
  readonly remapStart: Int32Array;
  readonly remap: Uint8Array;
}

export function mergeSummaries(parts: readonly ColumnSummary[], shared = false): MergedScan {
  if (parts.length === 0) throw new SabreTypeError("mergeSummaries needs at least one summary");
  const first = parts[0]!;
  const nf = first.distinct.length;
  const maxBins = first.maxBins;
  let room = 0;
  for (const p of parts) {
    if (p.distinct.length !== nf || p.maxBins !== maxBins || p.featureStart !== first.featureStart) {
      throw new SabreTypeError("mergeSummaries: the summaries cover different features or maxBins");
    }
    room += p.values.length;
    for (let j = 0; j < nf; j++) if (p.lattice[j] === 1) room += LATTICE;
  }
  const distinct = new Int32Array(nf);
  const integer = new Uint8Array(nf);
  const min = new Float64Array(nf);
  const max = new Float64Array(nf);
  const remapStart = shared ? sharedTypedArray("int32", parts.length * nf) : new Int32Array(parts.length * nf);
  remapStart.fill(-1);
  const remap = shared ? sharedTypedArray("uint8", room) : new Uint8Array(room);
  const rankOfSorted = new Uint8Array(maxBins);
  // 1 where the joined feature's bins are the 256 lattice points (its codes are lattice indices; assembleBins shares their bins).
  const latticeBinned = new Uint8Array(nf);
  let used = 0;
  const lists: Float64Array[] = [];
  for (let j = 0; j < nf; j++) {
    let isInt = 1;
    let lo = Infinity;
    let hi = -Infinity;
    let many = false;
    for (const p of parts) {
      isInt &= p.integer[j]!;
      if (p.min[j]! < lo) lo = p.min[j]!;
      if (p.max[j]! > hi) hi = p.max[j]!;
      if (p.distinct[j]! < 0) many = true;
    }
    integer[j] = isInt;
    min[j] = lo;
    max[j] = hi;
    // Pixels / 255 in every part: the union is the whole lattice, each part's ids are already its codes (no walks).
    if (!many && latticeFinal(parts, j, maxBins)) {
      const tab = latticeTable(255, first.floatBits === 32);
      distinct[j] = LATTICE;
      latticeBinned[j] = 1;
      lists.push(tab);
      for (let c = 0; c < parts.length; c++) {
        const p = parts[c]!;
        if (p.wroteCodes) {
          remapStart[c * nf + j] = FINAL;
          continue;
        }
        // Only rowCodes holds the ids: the codes pass copies them to the feature-major layout through an identity table.
        remapStart[c * nf + j] = used;
        for (let q = 0; q < LATTICE; q++) remap[used + q] = q;
        used += LATTICE;
      }
      continue;
    }
    let all: Float64Array | null = null;
    if (!many) {
      for (const p of parts) {
        const own = p.values.subarray(p.offset[j]!, p.offset[j]! + p.distinct[j]!);
        all = all === null ? own : unionSorted(all, own);
        if (all.length > maxBins) {
          all = null;
          break;
        }
      }
    }
    // Values k / 255 (pixels / 255) get all 256 lattice points as bins, empty ones included, as 8-bit pixels get
    // identityBins8: the same trees, and the scan's lattice ids are then the codes themselves (no codes pass).
    if (all !== null && maxBins === LATTICE && first.floatBits !== 0 && onLattice255(all, first.floatBits === 32)) all = latticeTable(255, first.floatBits === 32);
    distinct[j] = all === null ? -1 : all.length;
    if (all === null) continue;
    lists.push(all);
    const union = all;
    parts.forEach((p, c) => {
      // Both lists ascending: one walk gives each of the part's values its rank in the union.
      const k = p.distinct[j]!;
      const off = p.offset[j]!;
      let r = 0;
      for (let q = 0; q < k; q++) {
        const v = p.values[off + q]!;
        while (union[r]! < v) r++;
        rankOfSorted[q] = r;
      }
      remapStart[c * nf + j] = used;
      if (p.lattice[j] === 1) {
        // The part's ids are lattice indices: a 256-entry table, index round(v x scale) -> rank.
        let same = true;
        for (let q = 0; q < k; q++) {
          const id = Math.round(p.values[off + q]! * p.latticeScale);
          remap[used + id] = rankOfSorted[q]!;
          if (id !== rankOfSorted[q]) same = false;
        }
        // Ids that are already the codes, in both layouts: nothing to redo (encodeBlock skips the feature).
        if (same && p.wroteCodes) remapStart[c * nf + j] = FINAL;
        used += LATTICE;
        return;
      }
      for (let q = 0; q < k; q++) remap[used + q] = rankOfSorted[p.order[off + q]!]!;
      used += k;
    });
  }
  const offset = new Int32Array(nf + 1);
  for (let j = 0; j < nf; j++) offset[j + 1] = offset[j]! + Math.max(0, distinct[j]!);
  const values = new Float64Array(offset[nf]!);
  let at = 0;
  for (let j = 0; j < nf; j++) if (distinct[j]! >= 0) values.set(lists[at++]!, offset[j]!);
  // In the joined summary a value's id is its rank.
  const order = new Uint8Array(offset[nf]!);
  for (let j = 0; j < nf; j++) for (let q = 0; q < Math.max(0, distinct[j]!); q++) order[offset[j]! + q] = q;
  return { summary: { featureStart: first.featureStart, maxBins, distinct, offset, values, order, integer, min, max, lattice: latticeBinned, latticeScale: latticeBinned.includes(1) ? 255 : 0, floatBits: first.floatBits, wroteCodes: false }, remapStart, remap };
}

/**
 * True when feature j of every part was scanned on the k / 255 lattice (ids
 * are k) and the parts together hold a value other than 0 and 1: the
 * general walk would find the union all on the lattice (onLattice255) and
 * give it the 256 lattice points, with each part's ids unchanged. Decided
 * from each part's count and extreme values alone (its values are distinct
 * points of [0, 1], so more than two of them include a fraction), where the
 * walk costs a union and a rank search per feature and part (~55 ms of the
 * main thread's serial time on Fashion-MNIST, JIT cold).
 */
function latticeFinal(parts: readonly ColumnSummary[], j: number, maxBins: number): boolean {
  const bits = parts[0]!.floatBits;
  if (maxBins !== LATTICE || bits === 0) return false;
  let fraction = false;
  for (const p of parts) {
    if (p.lattice[j] !== 1 || p.latticeScale !== 255 || p.floatBits !== bits) return false;
    const k = p.distinct[j]!;
    const off = p.offset[j]!;
    if (k > 2) fraction = true;
    else for (let q = 0; q < k; q++) if (p.values[off + q] !== 0 && p.values[off + q] !== 1) fraction = true;
  }
  return fraction;
}

/** The position of v in the ascending list (v is in it). */
function rankOf(list: Float64Array, v: number): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The features that need quantile bins (more distinct values than maxBins),
 * with what their fit needs, and the rows they are fitted on: all rows up to
 * BIN_SUBSAMPLE, else that many drawn without replacement from
 * rng(seed, BIN_STREAM), sorted (the same rows for a seed, whoever draws them).
 * `shared`: in shared memory, to travel to the engine's workers.
 */
export interface QuantileJob {
  /** Absolute feature indices. */
  readonly features: Int32Array;
  readonly integer: Uint8Array;
  readonly min: Float64Array;
  readonly max: Float64Array;
  readonly rows: Uint32Array | null;
  readonly maxBins: number;
}

export function quantileJob(summary: ColumnSummary, n: number, seed: number, shared = false): QuantileJob {
  const many: number[] = [];
  for (let j = 0; j < summary.distinct.length; j++) if (summary.distinct[j]! < 0) many.push(j);
  const m = many.length;
  const features = shared ? sharedTypedArray("int32", m) : new Int32Array(m);
  const integer = shared ? sharedTypedArray("uint8", m) : new Uint8Array(m);
  const min = shared ? sharedTypedArray("float64", m) : new Float64Array(m);
  const max = shared ? sharedTypedArray("float64", m) : new Float64Array(m);
  many.forEach((j, i) => {
    features[i] = summary.featureStart + j;
    integer[i] = summary.integer[j]!;
    min[i] = summary.min[j]!;
    max[i] = summary.max[j]!;
  });
  let rows: Uint32Array | null = null;
  if (m > 0 && n > BIN_SUBSAMPLE) {
    const drawn = rng(seed, BIN_STREAM).sample(n, BIN_SUBSAMPLE).sort();
    rows = shared ? sharedTypedArray("uint32", drawn.length) : drawn;
    if (shared) rows.set(drawn);
  }
  return { features, integer, min, max, rows, maxBins: summary.maxBins };
}

/** Floats gathered per block of features: one pass over the sample rows serves the block (<= 16 features, <= 8 MB). */
const GATHER_VALUES = 1 << 20;

// Scratch of one quantileBins call (up to 8 MB of gathered values): dropped when the call ends, so a worker does not keep it through the fit.
let gatherScratch = new Float64Array(0);
let countScratch = new Float64Array(0);

/** Zeroed scratch for counts (reused: a fresh array per feature is garbage the size of the sample). */
function zeroCounts(length: number): Float64Array {
  if (countScratch.length < length) countScratch = new Float64Array(Math.max(length, countScratch.length * 2));
  const c = countScratch.subarray(0, length);
  c.fill(0);
  return c;
}

// quantileBins' loops, each a function of its own with the loop its last
// statement: quantileBins runs once per fit, each loop long enough to be
// compiled on entry (OSR), and the code around a loop that had not run when
// it was compiled deoptimized it (quantileBins was compiled 4 times and
// deoptimized 3-4 times in a 25,000 x 10 fit; each small function is
// compiled once, from its first calls' feedback).

/** cols[(q - q0) * m + i] = X[row i, feature features[q]] for q in [q0, q1), a number dtype. */
function gatherNum(
  data: Float64Array, offset: number, s0: number, s1: number, rows: Uint32Array | null, m: number,
  features: Int32Array, q0: number, q1: number, cols: Float64Array,
): void {
  for (let i = 0; i < m; i++) {
    const r = rows === null ? i : rows[i]!;
    const base = offset + r * s0;
    for (let q = q0; q < q1; q++) cols[(q - q0) * m + i] = data[base + features[q]! * s1]!;
  }
}

/** gatherNum for the 64-bit integer dtypes. */
function gatherBig(
  data: BigInt64Array, offset: number, s0: number, s1: number, rows: Uint32Array | null, m: number,
  features: Int32Array, q0: number, q1: number, cols: Float64Array,
): void {
  for (let i = 0; i < m; i++) {
    const r = rows === null ? i : rows[i]!;
    const base = offset + r * s0;
    for (let q = q0; q < q1; q++) cols[(q - q0) * m + i] = Number(data[base + features[q]! * s1]!);
  }
}

/** counts[v - lo] += 1 for each of the m integer values of col. */
function countInts(col: Float64Array, m: number, lo: number, counts: Float64Array): void {
  for (let i = 0; i < m; i++) counts[col[i]! - lo]!++;
}

/** One value for -0 and 0 (adding +0 turns -0 into 0). */
function unsignZeros(col: Float64Array, m: number): void {
  for (let i = 0; i < m; i++) col[i] = col[i]! + 0;
}

/** Sorted col[0 .. m) to its distinct values in place, their counts in counts; returns how many. */
function runLength(col: Float64Array, m: number, counts: Float64Array): number {
  let k = 0;
  for (let i = 0; i < m; i++) {
    const v = col[i]!;
    if (k > 0 && col[k - 1] === v) counts[k - 1]!++;
    else {
      col[k] = v;
      counts[k++] = 1;
    }
  }
  return k;
}

/**
 * Quantile bins of the job's features [start, end) (positions in
 * job.features), from the job's rows. Integer features of a modest range
 * are counted, others sorted.
 */
export function quantileBins(X: NdArray, job: QuantileJob, start = 0, end = job.features.length): FeatureBins[] {
  const [n, d] = checkMatrix(X);
  const rows = job.rows;
  const m = rows === null ? n : rows.length;
  const per = Math.max(1, Math.min(16, end - start, Math.floor(GATHER_VALUES / Math.max(m, 1))));
  if (gatherScratch.length < per * m) gatherScratch = new Float64Array(per * m);
  const cols = gatherScratch;
  const big = isBigIntDType(dtypeOf(X.data)!);
  const data = X.data as Float64Array;
  const bigData = X.data as unknown as BigInt64Array;
  const s0 = X.stride[0]!;
  const s1 = X.stride[1]!;
  const out: FeatureBins[] = [];
  for (let q0 = start; q0 < end; q0 += per) {
    const q1 = Math.min(end, q0 + per);
    for (let q = q0; q < q1; q++) {
      const f = job.features[q]!;
      if (!(f >= 0 && f < d)) throw new SabreTypeError(`quantile job feature ${f} is out of range [0, ${d})`);
    }
    // Row by row, so each row's values of the block come from one or two cache lines.
    if (big) gatherBig(bigData, X.offset, s0, s1, rows, m, job.features, q0, q1, cols);
    else gatherNum(data, X.offset, s0, s1, rows, m, job.features, q0, q1, cols);
    for (let q = q0; q < q1; q++) {
      const col = cols.subarray((q - q0) * m, (q - q0 + 1) * m);
      const lo = job.min[q]!;
      const span = job.max[q]! - lo;
      if (job.integer[q] === 1 && span < 65536) {
        const counts = zeroCounts(span + 1);
        countInts(col, m, lo, counts);
        out.push(fromDense(counts, lo, job.maxBins));
        continue;
      }
      unsignZeros(col, m);
      col.sort();
      // Run-length encode the sorted values in place: distinct values and their counts.
      const counts = zeroCounts(m);
      const k = runLength(col, m, counts);
      out.push(binsFromCounts(col, counts, k, job.maxBins));
    }
  }
  gatherScratch = new Float64Array(0);
  countScratch = new Float64Array(0);
  return out;
}

/**
 * Every feature's bins from the summary (exact ones) and the quantile bins
 * of the job's features, in feature order.
 */
export function assembleBins(summary: ColumnSummary, job: QuantileJob, quantiles: readonly FeatureBins[]): FeatureBins[] {
  if (quantiles.length !== job.features.length) {
    throw new SabreTypeError(`assembleBins: ${quantiles.length} quantile bins for ${job.features.length} features`);
  }
  const out: FeatureBins[] = [];
  let q = 0;
  // Every feature binned on the lattice has the same bins: made once (784 calls of exactBins were ~25 ms cold on Fashion-MNIST).
  let onLattice: FeatureBins | null = null;
  for (let j = 0; j < summary.distinct.length; j++) {
    const k = summary.distinct[j]!;
    if (k === LATTICE && summary.lattice[j] === 1 && summary.latticeScale === 255) {
      onLattice ??= exactBins(latticeTable(255, summary.floatBits === 32), LATTICE);
      out.push(onLattice);
    } else if (k >= 0) out.push(exactBins(summary.values.subarray(summary.offset[j]!, summary.offset[j]! + k), k));
    else out.push(quantiles[q++]!);
  }
  return out;
}

/**
 * Feature f over rows [i, r1) while its values lie on the lattice tab (tab[q],
 * q in [0, 256)): q is the value's id, written to ids[o ..] (stride d) and,
 * when codes is given, to codes[c + i] (feature-major: where the merge finds
 * the lattice's ids are the codes, no pass is left to make them), and marked
 * in seen[sb + q]. Returns the row of the first value off the lattice (NaN
 * and Infinity are), or r1. A multiply and a compare per value where the
 * hash scan probes a 2048-slot table: 288 against 382 ms on Fashion-MNIST
 * / 255 (one thread, warm); by rows instead of by feature was slower (354).
 * scanLattice2 and scanLattice4 do the same for adjacent features at once.
 */
function scanLattice(
  data: Float64Array,
  p: number,
  s0: number,
  i: number,
  r1: number,
  o: number,
  d: number,
  scale: number,
  tab: Float64Array,
  seen: Uint8Array,
  sb: number,
  ids: Uint8Array | null,
  codes: Uint8Array | null,
  c: number,
): number {
  for (; i < r1; i++, p += s0, o += d) {
    const v = data[p]!;
    const q = (v * scale + 0.5) | 0;
    if ((q & ~0xff) !== 0 || tab[q] !== v) return i;
    seen[sb + q] = 1;
    if (ids !== null) ids[o] = q;
    if (codes !== null) codes[c + i] = q;
  }
  return r1;
}

/** scanLattice for features f and f + 1 together (ids and codes given): returns the first row where either leaves the lattice, or r1. */
function scanLattice2(
  data: Float64Array,
  p: number,
  s0: number,
  s1: number,
  i: number,
  r1: number,
  o: number,
  d: number,
  scale: number,
  tab: Float64Array,
  seen: Uint8Array,
  sb: number,
  ids: Uint8Array,
  codes: Uint8Array,
  c: number,
  n: number,
): number {
  for (; i < r1; i++, p += s0, o += d) {
    const v0 = data[p]!;
    const v1 = data[p + s1]!;
    const q0 = (v0 * scale + 0.5) | 0;
    const q1 = (v1 * scale + 0.5) | 0;
    if (((q0 | q1) & ~0xff) !== 0 || tab[q0] !== v0 || tab[q1] !== v1) return i;
    seen[sb + q0] = 1;
    seen[sb + LATTICE + q1] = 1;
    ids[o] = q0;
    ids[o + 1] = q1;
    codes[c + i] = q0;
    codes[c + n + i] = q1;
  }
  return r1;
}

/** scanLattice2 for features f .. f + 3. */
function scanLattice4(
  data: Float64Array,
  p: number,
  s0: number,
  s1: number,
  i: number,
  r1: number,
  o: number,
  d: number,
  scale: number,
  tab: Float64Array,
  seen: Uint8Array,
  sb: number,
  ids: Uint8Array,
  codes: Uint8Array,
  c: number,
  n: number,
): number {
  const c1 = c + n;
  const c2 = c1 + n;
  const c3 = c2 + n;
  for (; i < r1; i++, p += s0, o += d) {
    const v0 = data[p]!;
    const v1 = data[p + s1]!;
    const v2 = data[p + 2 * s1]!;
    const v3 = data[p + 3 * s1]!;
    const q0 = (v0 * scale + 0.5) | 0;
    const q1 = (v1 * scale + 0.5) | 0;
    const q2 = (v2 * scale + 0.5) | 0;
    const q3 = (v3 * scale + 0.5) | 0;
    if (((q0 | q1 | q2 | q3) & ~0xff) !== 0 || tab[q0] !== v0 || tab[q1] !== v1 || tab[q2] !== v2 || tab[q3] !== v3) return i;
    seen[sb + q0] = 1;
    seen[sb + LATTICE + q1] = 1;
    seen[sb + 2 * LATTICE + q2] = 1;
    seen[sb + 3 * LATTICE + q3] = 1;
    ids[o] = q0;
    ids[o + 1] = q1;
    ids[o + 2] = q2;
    ids[o + 3] = q3;
    codes[c + i] = q0;
    codes[c1 + i] = q1;
    codes[c2 + i] = q2;
    codes[c3 + i] = q3;
  }
  return r1;
}
