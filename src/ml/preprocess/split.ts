// trainTestSplit and shuffle (scikit-learn's train_test_split and
// utils.shuffle). Unstratified, the permutation is drawn on the calling
// thread from rng(seed) and the rows are then gathered into new shared
// arrays in parallel (kernels/preprocess/gather.ts); stratified, the draws
// run on the workers too (split-stratify.ts). Either way a seed gives the
// same split whatever the thread count.
import type { Engine } from "../../engine/engine.js";
import { AbortError, SabreTypeError } from "../../errors.js";
import type { NdArray } from "../../memory/ndarray-type.js";
import { isNdArray, ndarray } from "../../memory/ndarray-type.js";
import { isShared, sharedTypedArray, toShared } from "../../memory/shared.js";
import type { DType } from "../../memory/dtypes.js";
import { rng } from "../../random/rng.js";
import { checkKnownKeys, checkSignal, describe } from "../../validate.js";
import type { GatherJob, GatherPart } from "../../../kernels/preprocess/gather.js";
import { permutation } from "./permute.js";
import { runnerFor, type Runner } from "./runner.js";
import { splitSizes } from "./split-sizes.js";
import { splitLabels, stratifiedSplit } from "./split-stratify.js";

/** An array whose rows (first axis) are split: an ndarray (1-D or 2-D, any dtype), a typed array, number[] or number[][]. */
export type SplitArray = NdArray | ArrayLike<number> | readonly (readonly number[])[];

/** Options of {@link shuffle}. */
export interface ShuffleOptions {
  /** The random seed (an integer); a random one when absent. */
  seed?: number;
  /** Only the first nSamples rows of the shuffled arrays (scikit-learn's n_samples). */
  nSamples?: number;
  /** The engine the copies run on (default: the default engine). */
  engine?: Engine;
  /** Aborts the call: it rejects with AbortError. */
  signal?: AbortSignal;
}

/** Options of {@link trainTestSplit}. */
export interface TrainTestSplitOptions {
  /** A fraction in (0, 1) or a row count; 0.25 when neither size is given. */
  testSize?: number;
  /** A fraction in (0, 1) or a row count; the rest when absent. */
  trainSize?: number;
  /** The random seed (an integer); a random one when absent. */
  seed?: number;
  /** Shuffle before splitting (default true); false takes the first rows for train. */
  shuffle?: boolean;
  /** Class labels (numbers or strings, one per row): the split keeps their proportions. */
  stratify?: ArrayLike<number> | readonly string[] | NdArray;
  /** The engine the copies run on (default: the default engine). */
  engine?: Engine;
  /** Aborts the call: it rejects with AbortError. */
  signal?: AbortSignal;
}

function isOptions(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v) && !isNdArray(v);
}

function splitArgs<O>(who: string, args: unknown[], allowed: readonly string[]): { arrays: NdArray[]; options: O } {
  let options: Record<string, unknown> = {};
  let arrays = args;
  if (args.length > 0 && isOptions(args[args.length - 1])) {
    options = args[args.length - 1] as Record<string, unknown>;
    arrays = args.slice(0, -1);
  }
  checkKnownKeys(who, options, [...allowed, "engine", "signal"]);
  checkSignal(options.signal as AbortSignal | undefined);
  if (arrays.length === 0) throw new SabreTypeError(`${who}: at least one array required as input`);
  const out = arrays.map((a, i) => {
    if (!isNdArray(a) && !ArrayBuffer.isView(a) && !Array.isArray(a)) {
      throw new SabreTypeError(`${who}: array ${i} must be an ndarray, a typed array or a number array, got ${describe(a)}`);
    }
    if (a instanceof DataView) throw new SabreTypeError(`${who}: array ${i} must be a typed array, not a DataView`);
    const arr = isNdArray(a) && isShared(a) ? a : toShared(a, `${who}: array ${i}`);
    if (arr.shape.length !== 1 && arr.shape.length !== 2) {
      throw new SabreTypeError(`${who}: array ${i} must be 1-D or 2-D, got shape [${arr.shape.join(", ")}]`);
    }
    return arr;
  });
  const lengths = out.map((a) => a.shape[0]!);
  if (lengths.some((n) => n !== lengths[0])) {
    throw new SabreTypeError(`${who}: found input variables with inconsistent numbers of samples: [${lengths.join(", ")}]`);
  }
  return { arrays: out, options: options as O };
}

function seedOf(who: string, seed: unknown): number {
  if (seed === undefined) return Math.floor(Math.random() * 2 ** 32);
  if (typeof seed !== "number" || !Number.isInteger(seed) || seed < 0 || seed > Number.MAX_SAFE_INTEGER) {
    throw new SabreTypeError(`${who}: seed must be a non-negative integer, got ${describe(seed)}`);
  }
  return seed;
}

function rowsLike(src: NdArray, rows: number): NdArray {
  const d = src.shape.length === 2 ? src.shape[1]! : 1;
  const data = sharedTypedArray(src.dtype as DType, rows * d);
  return src.shape.length === 2 ? ndarray(data, [rows, d]) : ndarray(data, [rows]);
}

/** The gather's parts: each array's outputs of `first` rows and (unless null) `second` rows. */
function partsFor(arrays: NdArray[], first: number, second: number | null): GatherPart[] {
  return arrays.map((src) => ({ src, first: rowsLike(src, first), second: second === null ? null : rowsLike(src, second) }));
}

/** Where a split of `rows` rows of these arrays runs: by the elements it copies. */
function runnerOf(arrays: NdArray[], rows: number, engine: Engine | undefined): Runner | Promise<Runner> {
  let width = 0;
  for (const a of arrays) width += a.shape.length === 2 ? a.shape[1]! : 1;
  return runnerFor(engine, undefined, rows * width);
}

function outputs(parts: GatherPart[]): NdArray[] {
  return parts.flatMap((p) => (p.second ? [p.first, p.second] : [p.first]));
}

/** Gathers rows idx[0, cut) into new arrays and (with `split`) idx[cut, end) into others. */
async function gather(arrays: NdArray[], idx: Uint32Array, cut: number, split: boolean, engine: Engine | undefined, signal: AbortSignal | undefined): Promise<NdArray[]> {
  const parts = partsFor(arrays, cut, split ? idx.length - cut : null);
  const job: GatherJob = { idx, cut, parts };
  if (signal?.aborted) throw new AbortError("gather", signal.reason);
  const e = await runnerOf(arrays, idx.length, engine);
  await e.parallelFor(idx.length, "sabre.preprocess.gatherRows", { ...job }, { signal });
  return outputs(parts);
}

/**
 * Splits arrays into random train and test subsets, as scikit-learn's
 * train_test_split: `[aTrain, aTest, bTrain, bTest, ...]`, new shared
 * arrays of the inputs' dtypes. The last argument may be the options.
 *
 * The split depends only on the seed, never on the thread count. With
 * `stratify`, each class's train and test counts follow scikit-learn's
 * StratifiedShuffleSplit (the same counts wherever its rule has no ties),
 * but the rows drawn are sabre's: per-class streams rng(seed, 1, class)
 * pick them and per-bucket streams rng(seed, 2 | 3, side, ...) order each
 * side, all on the workers (src/ml/preprocess/README.md). This mapping
 * from seed to split differs from earlier sabre versions, which drew
 * every number from one stream on the calling thread.
 *
 * @example
 * ```ts
 * const [XTrain, XTest, yTrain, yTest] = await trainTestSplit(X, y, { testSize: 0.25, seed: 0, stratify: y });
 * ```
 */
export async function trainTestSplit(...args: Array<SplitArray | TrainTestSplitOptions>): Promise<NdArray[]> {
  const who = "trainTestSplit";
  const { arrays, options: o } = splitArgs<TrainTestSplitOptions>(who, args, ["testSize", "trainSize", "seed", "shuffle", "stratify"]);
  const n = arrays[0]!.shape[0]!;
  if (o.shuffle !== undefined && typeof o.shuffle !== "boolean") throw new SabreTypeError(`${who}: shuffle must be a boolean, got ${describe(o.shuffle)}`);
  const [nTrain, nTest] = splitSizes(n, o.testSize, o.trainSize);
  const stratify = o.stratify !== undefined && o.stratify !== null;
  if (o.shuffle === false && stratify) {
    throw new SabreTypeError(`${who}: stratified train/test split is not implemented for shuffle=false`);
  }
  if (stratify) {
    const seed = seedOf(who, o.seed);
    // The runner first: on the calling thread the scratch arrays need not be shared. A start that fails is reported by the await below.
    const run = runnerOf(arrays, nTrain + nTest, o.engine);
    if (run instanceof Promise) run.catch(() => undefined);
    const labels = splitLabels(o.stratify, n, run);
    if (o.signal?.aborted) throw new AbortError("trainTestSplit", o.signal.reason);
    const parts = await stratifiedSplit(await run, labels, nTrain, nTest, seed, () => partsFor(arrays, nTrain, nTest), o.signal);
    return outputs(parts);
  }
  const idx = sharedTypedArray("uint32", nTrain + nTest);
  if (o.shuffle === false) {
    for (let i = 0; i < idx.length; i++) idx[i] = i;
  } else {
    // scikit-learn's ShuffleSplit: test = perm[:nTest], train = perm[nTest:nTest + nTrain].
    const perm = permutation(rng(seedOf(who, o.seed)), n);
    idx.set(perm.subarray(nTest, nTest + nTrain), 0);
    idx.set(perm.subarray(0, nTest), nTrain);
  }
  return gather(arrays, idx, nTrain, true, o.engine, o.signal);
}

/**
 * Shuffles arrays consistently (the same permutation of rows for each), as
 * scikit-learn's utils.shuffle: new shared arrays; one array in gives one
 * array back in a one-element list. The last argument may be the options.
 */
export async function shuffle(...args: Array<SplitArray | ShuffleOptions>): Promise<NdArray[]> {
  const who = "shuffle";
  const { arrays, options: o } = splitArgs<ShuffleOptions>(who, args, ["seed", "nSamples"]);
  const n = arrays[0]!.shape[0]!;
  let take = n;
  if (o.nSamples !== undefined) {
    if (typeof o.nSamples !== "number" || !Number.isInteger(o.nSamples) || o.nSamples < 1) {
      throw new SabreTypeError(`${who}: nSamples must be a positive integer, got ${describe(o.nSamples)}`);
    }
    if (o.nSamples > n) throw new SabreTypeError(`${who}: cannot sample ${o.nSamples} out of arrays with dim ${n} when replace is false`);
    take = o.nSamples;
  }
  const perm = permutation(rng(seedOf(who, o.seed)), n);
  const idx = sharedTypedArray("uint32", take);
  idx.set(perm.subarray(0, take));
  return gather(arrays, idx, take, false, o.engine, o.signal);
}
