// Stratified train/test indices as scikit-learn's StratifiedShuffleSplit
// draws them: per-class counts from _approximate_mode (floor of each class's
// share, the remaining draws to the largest remainders, ties broken at
// random), a random subset of each class, then each side shuffled. The
// random numbers are sabre's (src/random), so the index sets differ from
// scikit-learn's; the per-class counts follow the same rule.
import { SabreTypeError } from "../../errors.js";
import { isNdArray } from "../../memory/ndarray-type.js";
import type { Rng } from "../../random/rng.js";
import { describe } from "../../validate.js";
import { permuteInPlace } from "./permute.js";

/** Class code (0..k-1, classes sorted as numpy's unique) of every sample, and the count of each class. */
export interface ClassCodes {
  codes: Int32Array;
  counts: Float64Array;
  classes: Array<number | string>;
}

/** Integral labels spanning fewer values than this are counted in a dense table. */
const DENSE_SPAN = 1 << 20;

function numericView(y: unknown): { get: (i: number) => number; n: number } | null {
  if (isNdArray(y)) {
    if (y.shape.length !== 1 && !(y.shape.length === 2 && y.shape[1] === 1)) {
      throw new SabreTypeError(`trainTestSplit: stratify must be 1-D (one label per sample), got shape [${y.shape.join(", ")}]`);
    }
    const { data, offset } = y;
    const s = y.stride[0]!;
    return { get: (i) => Number(data[offset + i * s]!), n: y.shape[0]! };
  }
  if (ArrayBuffer.isView(y) && !(y instanceof DataView)) {
    const a = y as unknown as ArrayLike<number | bigint>;
    return { get: (i) => Number(a[i]!), n: a.length };
  }
  return null;
}

type IntArray = Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array;

function isIntArray(a: unknown): a is IntArray {
  return (
    a instanceof Int32Array || a instanceof Uint8Array || a instanceof Int8Array || a instanceof Int16Array ||
    a instanceof Uint16Array || a instanceof Uint32Array || a instanceof Uint8ClampedArray
  );
}

/** The labels as one contiguous integer typed array, when they are one (a 1-D contiguous int ndarray or a typed array): no per-label call or integer test. */
function intLabels(y: unknown): IntArray | null {
  if (isNdArray(y)) {
    const n = y.shape[0]!;
    if (!isIntArray(y.data) || (y.shape.length !== 1 && !(y.shape.length === 2 && y.shape[1] === 1)) || (n > 1 && y.stride[0] !== 1)) return null;
    return y.data.subarray(y.offset, y.offset + n);
  }
  return isIntArray(y) ? y : null;
}

/** Class codes of integer labels spanning fewer than DENSE_SPAN values, in two tight loops over the array; null when the span is wider. */
function intCodes(a: IntArray): ClassCodes | null {
  const n = a.length;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = a[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (n === 0 || max - min >= DENSE_SPAN) return null;
  const table = new Int32Array(max - min + 1);
  for (let i = 0; i < n; i++) table[a[i]! - min]!++;
  const { classes, countList } = tableToCodes(table, min);
  const codes = new Int32Array(n);
  for (let i = 0; i < n; i++) codes[i] = table[a[i]! - min]!;
  return { codes, counts: Float64Array.from(countList), classes };
}

/**
 * Turns a dense count table (table[v - min] = how many labels equal v) into
 * the sorted classes present and their counts, and rewrites each nonzero
 * entry in place to its class code, so a second pass codes the labels.
 */
function tableToCodes(table: Int32Array, min: number): { classes: number[]; countList: number[] } {
  const classes: number[] = [];
  const countList: number[] = [];
  for (let v = 0; v < table.length; v++) {
    if (table[v] === 0) continue;
    countList.push(table[v]!);
    table[v] = classes.length;
    classes.push(v + min);
  }
  return { classes, countList };
}

export function classCodes(y: unknown): ClassCodes {
  const ints = intLabels(y);
  const fast = ints && intCodes(ints);
  if (fast) return fast;
  const view = numericView(y);
  if (view) return numericCodes(view.get, view.n);
  if (!Array.isArray(y)) throw new SabreTypeError(`trainTestSplit: stratify must be an array of labels, got ${describe(y)}`);
  const strings = y.length > 0 && typeof y[0] === "string";
  for (let i = 0; i < y.length; i++) {
    const v: unknown = y[i];
    if (strings ? typeof v !== "string" : typeof v !== "number") {
      throw new SabreTypeError(`trainTestSplit: stratify[${i}] is ${describe(v)}; labels must be all numbers or all strings`);
    }
  }
  if (!strings) return numericCodes((i) => y[i] as number, y.length);
  return mappedCodes(y as string[], y.length, (a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function numericCodes(get: (i: number) => number, n: number): ClassCodes {
  let min = Infinity;
  let max = -Infinity;
  let integral = true;
  for (let i = 0; i < n; i++) {
    const v = get(i);
    if (v < min) min = v;
    if (v > max) max = v;
    if (!Number.isInteger(v)) integral = false;
  }
  if (!integral || max - min >= DENSE_SPAN) {
    const values = new Array<number>(n);
    for (let i = 0; i < n; i++) values[i] = get(i);
    // numpy's unique sorts NaN last.
    return mappedCodes(values, n, (a, b) => (a !== a ? (b !== b ? 0 : 1) : b !== b ? -1 : a - b));
  }
  const table = new Int32Array(max - min + 1);
  for (let i = 0; i < n; i++) table[get(i) - min]! += 1;
  const { classes, countList } = tableToCodes(table, min);
  const codes = new Int32Array(n);
  for (let i = 0; i < n; i++) codes[i] = table[get(i) - min]!;
  return { codes, counts: Float64Array.from(countList), classes };
}

function mappedCodes<T extends number | string>(values: T[], n: number, cmp: (a: T, b: T) => number): ClassCodes {
  const index = new Map<T, number>();
  for (let i = 0; i < n; i++) if (!index.has(values[i]!)) index.set(values[i]!, 0);
  const classes = [...index.keys()].sort(cmp);
  classes.forEach((c, k) => index.set(c, k));
  const codes = new Int32Array(n);
  const counts = new Float64Array(classes.length);
  for (let i = 0; i < n; i++) {
    const k = index.get(values[i]!)!;
    codes[i] = k;
    counts[k]! += 1;
  }
  return { codes, counts, classes };
}

/**
 * scikit-learn's _approximate_mode: nDraws spread over the classes in
 * proportion to their counts, the floors first, then one more to the
 * classes with the largest remainders (random among equal remainders).
 */
export function approximateMode(counts: Float64Array, nDraws: number, r: Rng): Float64Array {
  let total = 0;
  for (let k = 0; k < counts.length; k++) total += counts[k]!;
  const floored = new Float64Array(counts.length);
  const remainder = new Float64Array(counts.length);
  let sum = 0;
  for (let k = 0; k < counts.length; k++) {
    const c = (counts[k]! / total) * nDraws;
    floored[k] = Math.floor(c);
    remainder[k] = c - floored[k]!;
    sum += floored[k]!;
  }
  let need = nDraws - sum;
  const values = [...new Set(remainder)].sort((a, b) => b - a);
  for (const value of values) {
    if (need <= 0) break;
    const inds: number[] = [];
    for (let k = 0; k < remainder.length; k++) if (remainder[k] === value) inds.push(k);
    const addNow = Math.min(inds.length, need);
    const picks = r.sample(inds.length, addNow);
    for (let j = 0; j < addNow; j++) floored[inds[picks[j]!]!]! += 1;
    need -= addNow;
  }
  return floored;
}

/**
 * Train indices then test indices (each in random order) into `out`
 * (length nTrain + nTest), stratified on the class codes.
 */
export function stratifiedIndices(cc: ClassCodes, nTrain: number, nTest: number, r: Rng, out: Uint32Array): void {
  const { codes, counts } = cc;
  const k = counts.length;
  let minCount = Infinity;
  for (let c = 0; c < k; c++) minCount = Math.min(minCount, counts[c]!);
  if (minCount < 2) {
    throw new SabreTypeError(
      "trainTestSplit: the least populated class in stratify has only 1 member, which is too few. The minimum number of groups for any class cannot be less than 2.",
    );
  }
  if (nTrain < k) throw new SabreTypeError(`trainTestSplit: the train size = ${nTrain} should be greater or equal to the number of classes = ${k}`);
  if (nTest < k) throw new SabreTypeError(`trainTestSplit: the test size = ${nTest} should be greater or equal to the number of classes = ${k}`);
  const nTrainOf = approximateMode(counts, nTrain, r);
  const left = counts.map((c, i) => c - nTrainOf[i]!);
  const nTestOf = approximateMode(left, nTest, r);
  // Stable counting sort: the samples of each class, in index order.
  const starts = new Float64Array(k + 1);
  for (let c = 0; c < k; c++) starts[c + 1] = starts[c]! + counts[c]!;
  const fill = starts.slice(0, k);
  const byClass = new Uint32Array(codes.length);
  for (let i = 0; i < codes.length; i++) byClass[fill[codes[i]!]!++] = i;
  let tr = 0;
  let te = nTrain;
  for (let c = 0; c < k; c++) {
    const block = byClass.subarray(starts[c]!, starts[c + 1]!);
    const nTr = nTrainOf[c]!;
    const nTe = nTestOf[c]!;
    // Each side only needs to be a uniform random subset of the class: both
    // sides are shuffled below. When the two sides take the whole class, a
    // partial Fisher-Yates draws the smaller side to the front and leaves
    // the other behind it; else it draws both, train first. For a 2M-row
    // split with testSize 0.25 that is 2.5M draws in all instead of 4M.
    if (nTr + nTe === block.length && nTe <= nTr) {
      permuteInPlace(r, block, nTe);
      out.set(block.subarray(nTe), tr);
      out.set(block.subarray(0, nTe), te);
    } else if (nTr + nTe === block.length) {
      permuteInPlace(r, block, nTr);
      out.set(block.subarray(0, nTr), tr);
      out.set(block.subarray(nTr), te);
    } else {
      permuteInPlace(r, block, nTr + nTe);
      out.set(block.subarray(0, nTr), tr);
      out.set(block.subarray(nTr, nTr + nTe), te);
    }
    tr += nTr;
    te += nTe;
  }
  permuteInPlace(r, out.subarray(0, nTrain));
  permuteInPlace(r, out.subarray(nTrain, nTrain + nTest));
}
