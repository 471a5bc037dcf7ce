// Stratified train/test splits as scikit-learn's StratifiedShuffleSplit
// draws them: per-class counts from _approximate_mode (floor of each class's
// share, the remaining draws to the largest remainders, ties broken at
// random), a random subset of each class, then each side in random order.
// The random numbers are sabre's (src/random), so the index sets differ from
// scikit-learn's; the per-class counts follow the same rule.
//
// Everything after the class codes runs on the runner's workers
// (kernels/preprocess/stratify.ts), in pieces whose bounds depend only on
// the data, each with its own stream under the seed, combined in a fixed
// order, so a seed gives the same split on any thread count:
//   1. rows grouped by class (a stable counting sort in blocks of rows:
//      per-block counts, prefix sums here, a parallel scatter), by the
//      labels' values when they are integers of a small range, else by
//      class codes made here (the same grouping either way);
//   2. per class, with rng(seed, 1, class): a partial Fisher-Yates that
//      draws the smaller side (or both when they do not take the whole
//      class), its train rows then copied to the train range of a pool,
//      its test rows to the test range;
//   3. each side put in uniform random order by random buckets: each
//      position of a block of 65,536 draws one of 2^bits buckets (bytes of
//      rng(seed, 2, side, block)), rows scattered bucket by bucket (buckets
//      in order, blocks in order within a bucket), then each bucket
//      Fisher-Yates shuffled with rng(seed, 3, side, bucket) (16-bit
//      draws, permute.ts shuffleHalves) and its rows
//      gathered into the outputs at once. iid uniform buckets, each
//      shuffled uniformly, give a uniform permutation whatever the input
//      order: the chance of an output order sums over the bucket sizes the
//      same terms for every order.
// rng(seed) itself breaks _approximate_mode's ties, on the calling thread.
import { SabreTypeError } from "../../errors.js";
import { isNdArray } from "../../memory/ndarray-type.js";
import { rng, type Rng } from "../../random/rng.js";
import { describe } from "../../validate.js";
import { sharedTypedArray } from "../../memory/shared.js";
import { CONSTRUCTORS, type DTypeMap } from "../../memory/dtypes.js";
import type { GatherPart } from "../../../kernels/preprocess/gather.js";
import type { BucketJob, ClassJob, GroupValues, SelectJob, Side } from "../../../kernels/preprocess/stratify.js";
import { callingThread, type Runner } from "./runner.js";

/** Class code (0..k-1, classes sorted as numpy's unique) of every sample, and the count of each class. */
export interface ClassCodes {
  codes: Int32Array;
  counts: Float64Array;
  classes: Array<number | string>;
}

/** Allocates a split's scratch arrays: shared when workers read them, plain (cheaper to make) when the split runs on the calling thread. */
export type Scratch = <D extends "int32" | "uint32" | "uint8" | "float64">(dtype: D, length: number) => DTypeMap[D];

const plain: Scratch = (dtype, length) => new CONSTRUCTORS[dtype](length);

/** The scratch allocator for a split run by `run` (or by an engine still starting). */
export function scratchFor(run: Runner | Promise<Runner>): Scratch {
  return run === callingThread ? plain : sharedTypedArray;
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
function intCodes(a: IntArray, alloc: Scratch): ClassCodes | null {
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
  const codes = alloc("int32", n);
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

export function classCodes(y: unknown, alloc: Scratch = sharedTypedArray): ClassCodes {
  const ints = intLabels(y);
  const fast = ints && intCodes(ints, alloc);
  if (fast) return fast;
  const view = numericView(y);
  if (view) return numericCodes(view.get, view.n, alloc);
  if (!Array.isArray(y)) throw new SabreTypeError(`trainTestSplit: stratify must be an array of labels, got ${describe(y)}`);
  const strings = y.length > 0 && typeof y[0] === "string";
  for (let i = 0; i < y.length; i++) {
    const v: unknown = y[i];
    if (strings ? typeof v !== "string" : typeof v !== "number") {
      throw new SabreTypeError(`trainTestSplit: stratify[${i}] is ${describe(v)}; labels must be all numbers or all strings`);
    }
  }
  if (!strings) return numericCodes((i) => y[i] as number, y.length, alloc);
  return mappedCodes(y as string[], y.length, (a, b) => (a < b ? -1 : a > b ? 1 : 0), alloc);
}

function numericCodes(get: (i: number) => number, n: number, alloc: Scratch): ClassCodes {
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
    return mappedCodes(values, n, (a, b) => (a !== a ? (b !== b ? 0 : 1) : b !== b ? -1 : a - b), alloc);
  }
  const table = new Int32Array(max - min + 1);
  for (let i = 0; i < n; i++) table[get(i) - min]! += 1;
  const { classes, countList } = tableToCodes(table, min);
  const codes = alloc("int32", n);
  for (let i = 0; i < n; i++) codes[i] = table[get(i) - min]!;
  return { codes, counts: Float64Array.from(countList), classes };
}

function mappedCodes<T extends number | string>(values: T[], n: number, cmp: (a: T, b: T) => number, alloc: Scratch): ClassCodes {
  const index = new Map<T, number>();
  for (let i = 0; i < n; i++) if (!index.has(values[i]!)) index.set(values[i]!, 0);
  const classes = [...index.keys()].sort(cmp);
  classes.forEach((c, k) => index.set(c, k));
  const codes = alloc("int32", n);
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

/** Rows per block of the class grouping and of the bucket draws: fixed, so the streams do not depend on the thread count. */
const BLOCK = 1 << 16;
/** The class grouping's (block, class) table is kept under this many entries (larger blocks for many classes). */
const CLASS_TABLE_MAX = 1 << 22;
/** A side's buckets hold about this many rows or fewer (at most 256 buckets): their shuffle runs in cache. */
const BUCKET_ROWS = 8192;

/** scikit-learn's errors for classes too small to stratify on, or more classes than rows on a side. */
export function checkStratifiable(counts: Float64Array, nTrain: number, nTest: number): void {
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
}

/** Chunks of about 8 per thread: the pieces' results do not depend on the chunking, only the balance does. */
function chunkOf(run: Runner, pieces: number): number {
  return Math.max(1, Math.ceil(pieces / (run.threads * 8)));
}

/** Integer labels spanning at most this many values are grouped by value on the workers, without class codes. */
const RAW_SPAN_MAX = 1 << 12;

/** Stratify labels as the split groups them: integer labels by value, anything else by class code. */
export type SplitLabels = { raw: GroupValues; min: number; span: number } | { codes: ClassCodes };

/**
 * The labels of a stratified split of n rows. A contiguous integer array
 * (shared, unless the split runs on the calling thread) spanning at most
 * RAW_SPAN_MAX values is grouped by value on the workers: the calling
 * thread only finds its range. Other labels are coded here (classCodes).
 */
export function splitLabels(y: unknown, n: number, run: Runner | Promise<Runner>): SplitLabels {
  const ints = intLabels(y);
  if (ints && ints.length === n && n > 0 && (run === callingThread || ints.buffer instanceof SharedArrayBuffer)) {
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = ints[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (max - min < RAW_SPAN_MAX) return { raw: ints, min, span: max - min + 1 };
  }
  const codes = classCodes(y, scratchFor(run));
  if (codes.codes.length !== n) {
    throw new SabreTypeError(`trainTestSplit: found input variables with inconsistent numbers of samples: [${n}, ${codes.codes.length}] (stratify)`);
  }
  return { codes };
}

/** Step 1, first half: each block's count of each value. */
async function countValues(run: Runner, values: GroupValues, min: number, width: number, signal: AbortSignal | undefined): Promise<{ job: ClassJob; nBlocks: number }> {
  const alloc = scratchFor(run);
  const n = values.length;
  const block = Math.max(BLOCK, Math.ceil((n * width) / CLASS_TABLE_MAX));
  const nBlocks = Math.ceil(n / block);
  const job: ClassJob = { values, min, width, block, at: alloc("int32", nBlocks * width), byClass: alloc("uint32", n) };
  await run.parallelFor(nBlocks, "sabre.preprocess.classCount", { ...job }, { signal, chunk: chunkOf(run, nBlocks) });
  return { job, nBlocks };
}

/** Step 1, second half: rows grouped by value, row order kept within a value (value v's rows start at valueStart[v]). */
async function scatterValues(run: Runner, g: { job: ClassJob; nBlocks: number }, valueStart: Float64Array, signal: AbortSignal | undefined): Promise<Uint32Array> {
  const { job, nBlocks } = g;
  const { at, width } = job;
  for (let v = 0; v < width; v++) {
    let pos = valueStart[v]!;
    for (let b = 0; b < nBlocks; b++) {
      const t = at[b * width + v]!;
      at[b * width + v] = pos;
      pos += t;
    }
  }
  await run.parallelFor(nBlocks, "sabre.preprocess.classScatter", { ...job }, { signal, chunk: chunkOf(run, nBlocks) });
  return job.byClass;
}

/**
 * Splits the rows stratified on the labels: makes the outputs (`parts`,
 * once the class counts are known to allow the split) and gathers train
 * rows (in random order) into each part's `first` and test rows into its
 * `second`. See the top of this file for the steps and the streams.
 */
export async function stratifiedSplit(run: Runner, labels: SplitLabels, nTrain: number, nTest: number, seed: number, makeParts: () => GatherPart[], signal?: AbortSignal): Promise<GatherPart[]> {
  const alloc = scratchFor(run);
  let counts: Float64Array;
  let valueStart: Float64Array;
  let g: { job: ClassJob; nBlocks: number };
  if ("raw" in labels) {
    g = await countValues(run, labels.raw, labels.min, labels.span, signal);
    // The classes are the values present, in increasing order: a value's total, and where its rows start.
    const totals = new Float64Array(labels.span);
    const { at } = g.job;
    for (let b = 0; b < g.nBlocks; b++) for (let v = 0; v < labels.span; v++) totals[v]! += at[b * labels.span + v]!;
    valueStart = new Float64Array(labels.span);
    const present: number[] = [];
    let pos = 0;
    for (let v = 0; v < labels.span; v++) {
      valueStart[v] = pos;
      pos += totals[v]!;
      if (totals[v]! > 0) present.push(totals[v]!);
    }
    counts = Float64Array.from(present);
  } else {
    counts = labels.codes.counts;
    g = await countValues(run, labels.codes.codes, 0, counts.length, signal);
    valueStart = new Float64Array(counts.length);
    for (let c = 1; c < counts.length; c++) valueStart[c] = valueStart[c - 1]! + counts[c - 1]!;
  }
  const k = counts.length;
  checkStratifiable(counts, nTrain, nTest);
  const parts = makeParts();
  const r = rng(seed);
  const nTrainOf = approximateMode(counts, nTrain, r);
  const nTestOf = approximateMode(counts.map((c, i) => c - nTrainOf[i]!), nTest, r);
  const classStart = alloc("float64", k + 1);
  const trainAt = alloc("float64", k);
  const testAt = alloc("float64", k);
  let tr = 0;
  let te = nTrain;
  for (let c = 0; c < k; c++) {
    classStart[c + 1] = classStart[c]! + counts[c]!;
    trainAt[c] = tr;
    testAt[c] = te;
    tr += nTrainOf[c]!;
    te += nTestOf[c]!;
  }
  const byClass = await scatterValues(run, g, valueStart, signal);
  const m = nTrain + nTest;
  const select: SelectJob = {
    seed,
    byClass,
    classStart,
    nTrainOf: alloc("float64", k),
    nTestOf: alloc("float64", k),
    trainAt,
    testAt,
    pool: alloc("uint32", m),
  };
  select.nTrainOf.set(nTrainOf);
  select.nTestOf.set(nTestOf);
  await run.parallelFor(k, "sabre.preprocess.classSelect", { ...select }, { signal, chunk: chunkOf(run, k) });
  await bucketShuffle(run, seed, select.pool, [[0, nTrain], [nTrain, nTest]], nTrain, parts, signal);
  return parts;
}

/** Step 3: each [start, length) side of pool in uniform random order into idx, then gathered. */
async function bucketShuffle(run: Runner, seed: number, pool: Uint32Array, ranges: Array<[number, number]>, cut: number, parts: GatherPart[], signal: AbortSignal | undefined): Promise<void> {
  const alloc = scratchFor(run);
  const sides: Side[] = [];
  let blocks = 0;
  let buckets = 0;
  let table = 0;
  const atStart = alloc("float64", ranges.length);
  ranges.forEach(([start, length], s) => {
    const bits = Math.min(8, Math.max(0, Math.ceil(Math.log2(length / BUCKET_ROWS))));
    const nBlocks = Math.ceil(length / BLOCK);
    sides.push({ start, length, bits, firstBlock: blocks, firstBucket: buckets });
    atStart[s] = table;
    blocks += nBlocks;
    buckets += 1 << bits;
    table += nBlocks << bits;
  });
  const job: BucketJob = {
    seed,
    sides,
    block: BLOCK,
    pool,
    tags: alloc("uint8", pool.length),
    at: alloc("int32", table),
    atStart,
    bucketStart: alloc("float64", buckets + sides.length),
    idx: alloc("uint32", pool.length),
    cut,
    parts,
  };
  await run.parallelFor(blocks, "sabre.preprocess.bucketCount", { ...job }, { signal, chunk: chunkOf(run, blocks) });
  // Bucket-major, block-minor: where each (block, bucket) run of rows starts in idx.
  const { at, bucketStart } = job;
  sides.forEach((side, s) => {
    const nBlocks = Math.ceil(side.length / BLOCK);
    const nb = 1 << side.bits;
    let pos = side.start;
    for (let b = 0; b < nb; b++) {
      bucketStart[side.firstBucket + s + b] = pos;
      for (let j = 0; j < nBlocks; j++) {
        const e = atStart[s]! + (j << side.bits) + b;
        const t = at[e]!;
        at[e] = pos;
        pos += t;
      }
    }
    bucketStart[side.firstBucket + s + nb] = pos;
  });
  await run.parallelFor(blocks, "sabre.preprocess.bucketScatter", { ...job }, { signal, chunk: chunkOf(run, blocks) });
  await run.parallelFor(buckets, "sabre.preprocess.bucketShuffleGather", { ...job }, { signal, chunk: chunkOf(run, buckets) });
}
