import { FormatError, SabreTypeError } from "../../errors.js";
import { readOnly } from "../../engine/clauses.js";
import { getDefaultEngine } from "../../engine/default-engine.js";
import type { Engine } from "../../engine/engine.js";
import { isNdArray, ndarray, type NdArray } from "../../memory/ndarray-type.js";
import { sharedTypedArray, toShared } from "../../memory/shared.js";
import { checkMatrix, type BinMapper } from "../../../kernels/forest/bins.js";
import { checkKnownKeys, describe } from "../../validate.js";
import type { GrowArgs, WireParams } from "../../../kernels/forest/kernels.js";
import { Board, makeBoard } from "../../../kernels/forest/board.js";
import { forestTuning } from "../../../kernels/forest/grow.js";
import { resolveParams, type ForestData, type TreeParams } from "../../../kernels/forest/params.js";
import { forestFeatureImportances } from "../../../kernels/forest/predict.js";
import type { FlatTree } from "../../../kernels/forest/tree.js";
import { checkOptions, type FitOptions, type StoredOptions } from "./options.js";
import { binOnEngine, unwrapInputErrors } from "./binning.js";
import { treesFromBinary } from "./model-json.js";
import { isForestCluster, type ForestCluster, type ForestGrowData, type GrownTrees } from "./remote.js";

/**
 * Rows per chunk of row-parallel prediction: two chunks per worker. Each
 * chunk walks every tree over its rows, and a deep tree (60k nodes, 2 MB)
 * falls out of cache between chunks, so on a 300k x 20 table 8 chunks on 2
 * workers took 1.3x the time of 4; two per worker still balance a slow core.
 */
function predictChunk(n: number, threads: number): number {
  return Math.max(256, Math.ceil(n / (threads * 2)));
}

/**
 * How a forest predicts. Tree-parallel (each worker walks whole trees over a
 * block of rows and writes the leaves, then the rows add their leaves'
 * values in tree order) reads every tree once per block, which pays when
 * trees do not fit in cache: a cold first predict of 20,000 rows x 10
 * regression trees of 126k nodes took 98-121 ms split by rows, 71-87 ms by
 * trees; 60,000 rows x 20 trees of 61k nodes 287 -> 252 ms (bench/forest).
 * With small trees it does not: 10,000 rows x 100 Fashion-MNIST trees of
 * 10k nodes (10 classes) took 253 ms by rows, 327 by trees (10 such trees:
 * 65 against 98 ms CPU, medians of 12 alternating calls). make_friedman1's
 * 20 regression trees of 31.6k nodes, 5,000 rows: the same CPU either way
 * (42 and 44 ms), less wall time by trees (minimum of 12 calls 68 against
 * 94 ms, at load 19). So it is used from MIN_TREE_NODES nodes per tree
 * (256 KB of walk records) and with enough trees per worker to balance.
 * Both give bit-identical results.
 * (Writing leaf values, trees x rows x outputs float64, instead of leaves
 * was slower: 109-116 ms on the regression case.)
 */
const MIN_TREES_PER_THREAD = 4;
const MIN_TREE_NODES = 16_384;
/** How often a fit with onProgress reads the number of finished trees. */
const PROGRESS_MS = 50;
/** Bounds the int32 leaf buffer of tree-parallel prediction (16 MB). */
const MAX_LEAVES_PER_BLOCK = 1 << 22;

/** What a fit leaves behind, shared by the classifier and the regressor. */
export interface FittedForest {
  trees: FlatTree[];
  nFeatures: number;
  /**
   * Filled on first use (featureImportances, toJSON): computed at the end of
   * fit, its loop over every node was compiled by V8 on a background thread
   * that competed with the first predict's workers.
   */
  featureImportances: Float64Array | null;
}




/** Options of predict and predictProba. */
export interface PredictOptions {
  /** Predict on a cluster's hosts (src/cluster's Cluster): rows split over them, the same result as a local predict. */
  cluster?: ForestCluster;
}

function checkCluster(c: unknown): ForestCluster {
  if (!isForestCluster(c)) throw new SabreTypeError(`cluster must be a Cluster (await Cluster.connect({ redis })), got ${describe(c)}`);
  return c;
}

/**
 * The machinery both forests share: options, binning, growing trees on the
 * engine, parallel prediction. Subclasses add labels and scores.
 */
export abstract class BaseForest {
  /** The seed every tree's randomness derives from (given, or drawn at construction). */
  readonly seed: number;
  /** The number of trees. */
  readonly nEstimators: number;
  protected readonly options: StoredOptions;
  protected readonly engineOption: Engine | undefined;
  protected readonly maxBins: number;
  protected fitted: FittedForest | undefined;
  /** The public class's name for messages (esbuild renames classes, so constructor.name may read _RandomForestClassifier). */
  protected readonly estimatorName: "RandomForestClassifier" | "RandomForestRegressor";

  protected constructor(options: unknown, classifier: boolean) {
    this.estimatorName = classifier ? "RandomForestClassifier" : "RandomForestRegressor";
    const checked = checkOptions(options, classifier);
    this.options = checked.stored;
    this.engineOption = checked.engine;
    this.seed = checked.seed;
    this.nEstimators = checked.nEstimators;
    this.maxBins = checked.maxBins;
  }

  /** Impurity-based feature importances (mean decrease in impurity), normalized to sum 1. */
  get featureImportances(): Float64Array {
    return this.importances().slice();
  }

  /** The fitted forest's importances, computed once. */
  protected importances(): Float64Array {
    const f = this.requireFitted();
    return (f.featureImportances ??= forestFeatureImportances(f.trees, f.nFeatures));
  }

  /** Number of features seen by fit. */
  get nFeatures(): number {
    return this.requireFitted().nFeatures;
  }

  /**
   * The fitted trees (flat arrays in shared memory).
   * @internal their layout belongs to the kernels and may change; use toJSON() to keep a model.
   */
  get trees(): readonly FlatTree[] {
    return this.requireFitted().trees;
  }

  protected requireFitted(): FittedForest {
    if (!this.fitted) throw new SabreTypeError(`this ${this.estimatorName} is not fitted yet: call fit(X, y) first`);
    return this.fitted;
  }

  protected engine(): Promise<Engine> {
    return this.engineOption ? Promise.resolve(this.engineOption) : getDefaultEngine();
  }

  /** X as a shared 2-D ndarray with n >= 1 rows and (when fitted) the right number of columns. */
  protected matrix(X: unknown, forFit: boolean): NdArray {
    if (X === undefined || X === null) throw new SabreTypeError(`X must be a 2-D ndarray or an array of rows, got ${X}`);
    if (isNdArray(X) && X.shape.length !== 2) {
      throw new SabreTypeError(`X must be 2-D [samples, features], got shape [${X.shape.join(", ")}]${X.shape.length === 1 ? " (reshape a single feature to [n, 1])" : ""}`);
    }
    const Xs = toShared(X, "X");
    const [n, d] = checkMatrix(Xs);
    if (n === 0) throw new SabreTypeError("X has no rows: there is nothing to fit or predict");
    if (d === 0) throw new SabreTypeError("X has no columns (features)");
    if (!forFit && d !== this.requireFitted().nFeatures) {
      throw new SabreTypeError(`X has ${d} features, but this forest was fitted with ${this.requireFitted().nFeatures}`);
    }
    return Xs;
  }

  /**
   * Sample weights as shared float64, checked: any form y takes (number[],
   * a typed array, a 1-D or [n, 1] ndarray, shared or not, of any numeric dtype).
   */
  protected sampleWeight(w: unknown, n: number): Float64Array | null {
    if (w === undefined) return null;
    let length: number;
    let at: (i: number) => unknown;
    if (isNdArray(w)) {
      if (w.shape.length !== 1 && !(w.shape.length === 2 && w.shape[1] === 1)) {
        throw new SabreTypeError(`sampleWeight must be 1-D (one weight per sample), got shape [${w.shape.join(", ")}]`);
      }
      length = w.shape[0]!;
      const { data, offset } = w;
      const s = w.stride[0]!;
      at = (i) => data[offset + i * s];
    } else if (ArrayBuffer.isView(w) && !(w instanceof DataView)) {
      const a = w as unknown as ArrayLike<unknown>;
      length = a.length;
      at = (i) => a[i];
    } else if (Array.isArray(w)) {
      if (w.length > 0 && Array.isArray(w[0])) throw new SabreTypeError("sampleWeight must be 1-D (one weight per sample), got a nested array");
      length = w.length;
      at = (i) => w[i];
    } else {
      throw new SabreTypeError(`sampleWeight must be an array, a typed array or a 1-D ndarray of numbers, one per sample, got ${describe(w)}`);
    }
    if (length !== n) throw new SabreTypeError(`sampleWeight has ${length} weights, X has ${n} rows`);
    const out = sharedTypedArray("float64", n);
    for (let i = 0; i < n; i++) {
      const raw = at(i);
      const v = typeof raw === "bigint" ? Number(raw) : raw;
      if (typeof v !== "number" || !(v >= 0) || v === Infinity) {
        throw new SabreTypeError(`sampleWeight[${i}] must be a finite number >= 0, got ${describe(raw)}`);
      }
      out[i] = v;
    }
    return out;
  }

  /**
   * Bins X once (features split across workers), then grows every tree on
   * the engine over that one shared copy of the codes.
   */
  protected async fitTrees(
    X: NdArray,
    y: Int32Array | Float64Array,
    nClasses: number,
    treeParams: TreeParams,
    fit: FitOptions,
    oob: { scale: number } | null,
  ): Promise<{ trees: FlatTree[]; oob: { votes: Float64Array; counts: Float64Array; threads: number } | null }> {
    const engine = await this.engine();
    const [n, d] = checkMatrix(X);
    // fit(X, y, 5) or { onProgres } used to fit as if no options were given.
    if (typeof fit !== "object" || fit === null) throw new SabreTypeError(`fit options must be an object, got ${describe(fit)}`);
    checkKnownKeys("fit options", fit, ["onProgress", "sampleWeight", "signal", "cluster"]);
    const sampleWeight = this.sampleWeight(fit.sampleWeight, n);
    if (fit.onProgress !== undefined && typeof fit.onProgress !== "function") {
      throw new SabreTypeError("onProgress must be a function (done, total) => void");
    }
    // Validates every tree option against the data before any work starts.
    const probe: ForestData = { nSamples: n, nFeatures: d, codes: new Uint8Array(0), bins: undefined as unknown as BinMapper, y, nClasses, sampleWeight };
    const params = resolveParams(treeParams, probe);

    // A cluster fit ships only the sample-major codes: the feature-major ones would be made here for nothing.
    const { bins, codes, rowCodes } = await binOnEngine(engine, X, this.maxBins, this.seed, fit.cluster === undefined);

    const C = nClasses > 0 ? nClasses : 1;
    const oobBuffers = oob
      ? { votes: sharedTypedArray("float64", engine.threads * n * C), counts: sharedTypedArray("float64", engine.threads * n), scale: oob.scale }
      : null;
    const wire: WireParams = { ...params, classWeight: params.classWeight ? Array.from(params.classWeight) : null };
    if (fit.cluster !== undefined) {
      const trees = await this.growOnCluster(checkCluster(fit.cluster), { nSamples: n, nFeatures: d, rowCodes, bins, y, nClasses, sampleWeight, params: wire, seed: this.seed }, fit, oob !== null);
      this.fitted = { trees, nFeatures: d, featureImportances: null };
      return { trees, oob: null };
    }
    const trees = await this.growOnEngine(engine, { X, nSamples: n, codes, rowCodes, bins, y, nClasses, sampleWeight, params: wire, seed: this.seed, oob: oobBuffers }, fit);
    this.fitted = { trees, nFeatures: d, featureImportances: null };
    return { trees, oob: oobBuffers ? { votes: oobBuffers.votes, counts: oobBuffers.counts, threads: engine.threads } : null };
  }

  /**
   * Grows every tree as one SPMD call over a shared task board
   * (kernels/forest/parallel.md): workers take whole trees while any are
   * left and then help grow the others' large subtrees, so few trees still
   * use every core; the trees are the same for any number of threads.
   * Whatever ends the call early (a kernel error, an abort, a crashed worker)
   * stops the board, so no worker is left waiting for a task.
   */
  private async growOnEngine(engine: Engine, args: GrowArgs, fit: FitOptions): Promise<FlatTree[]> {
    const total = this.nEstimators;
    const alloc = { i32: (len: number) => sharedTypedArray("int32", len), f64: (len: number) => sharedTypedArray("float64", len) };
    const boardArrays = makeBoard(args.nSamples, args.bins.nFeatures, args.nClasses, engine.threads, total, forestTuning.taskMin, alloc, forestTuning.failAtTask, forestTuning.taskConsts);
    const board = new Board(boardArrays);
    // (0, total) when growth starts, as the engine's own progress reports did: the bench times binning by it.
    let reported = -1;
    const report = (): void => {
      const done = board.treesDone();
      if (done === reported) return;
      reported = done;
      try {
        fit.onProgress?.(done, total);
      } catch {
        // A throwing progress callback must not wedge the fit.
      }
    };
    report();
    const timer = fit.onProgress ? setInterval(report, PROGRESS_MS) : undefined;
    let results: unknown[];
    try {
      const call = { ...args, board: boardArrays } as unknown as Record<string, unknown>;
      results = await engine.broadcast("sabre.forest.growTrees", call, fit.signal ? { signal: fit.signal } : {});
    } catch (err) {
      board.stop();
      throw err;
    } finally {
      if (timer !== undefined) clearInterval(timer);
    }
    const trees = new Array<FlatTree>(total);
    for (const part of results as Array<Array<[number, FlatTree]>>) for (const [k, tree] of part) trees[k] = tree;
    report();
    return trees;
  }

  /**
   * Grows the trees on a cluster's hosts (remote.ts): each job's trees come
   * back in the binary form and are decoded and checked (checkTreeArrays, as
   * a loaded model's) as they arrive, while the hosts grow the others.
   */
  private async growOnCluster(cluster: ForestCluster, data: ForestGrowData, fit: FitOptions, oob: boolean): Promise<FlatTree[]> {
    if (oob) throw new SabreTypeError("oobScore is not available for a fit on a cluster (the out-of-bag votes would have to cross hosts); fit locally for it");
    const total = this.nEstimators;
    const trees = new Array<FlatTree | undefined>(total).fill(undefined);
    const expect = { nFeatures: data.nFeatures, nOutputs: data.nClasses > 0 ? data.nClasses : 1, classification: data.nClasses > 0 };
    const accept = ({ first, count, bytes, host }: GrownTrees): void => {
      const where = `trees [${first}, ${first + count}) from host ${host}`;
      if (!(Number.isInteger(first) && Number.isInteger(count) && first >= 0 && count >= 1 && first + count <= total)) {
        throw new FormatError(`${where}: not a range of the ${total} trees`);
      }
      const got = treesFromBinary(bytes, expect, where);
      if (got.length !== count) throw new FormatError(`${where}: ${got.length} trees came back, expected ${count}`);
      for (let k = 0; k < count; k++) {
        if (trees[first + k] !== undefined) throw new FormatError(`${where}: tree ${first + k} came back twice`);
        trees[first + k] = got[k];
      }
    };
    await cluster.growForest(data, total, { onProgress: fit.onProgress, signal: fit.signal, accept });
    const missing = trees.findIndex((t) => t === undefined);
    if (missing >= 0) throw new FormatError(`the cluster finished without tree ${missing} of ${total}`);
    return trees as FlatTree[];
  }

  /**
   * The forest's mean leaf values for every row of X: probabilities
   * (classifier) or predictions (regressor). With `argmax`, also each row's
   * most probable class (`ids`), found by the workers as they finish the
   * rows (a cluster predict leaves it to the caller: no `ids`).
   */
  protected async meanOutputs(X: unknown, options: PredictOptions = {}, argmax = false): Promise<{ out: Float64Array; n: number; C: number; ids?: Int32Array }> {
    const { trees } = this.requireFitted();
    const Xs = this.matrix(X, false);
    const n = Xs.shape[0]!;
    const C = trees[0]!.nOutputs;
    const out = sharedTypedArray("float64", n * C);
    if (typeof options !== "object" || options === null) throw new SabreTypeError(`predict options must be an object, got ${describe(options)}`);
    checkKnownKeys("predict options", options, ["cluster"]);
    if (options.cluster !== undefined) {
      const remote = await checkCluster(options.cluster).predictForest(Xs, trees, {});
      if (!(remote instanceof Float64Array) || remote.length !== n * C) throw new SabreTypeError(`the cluster returned ${describe(remote)} predictions, expected ${n * C} float64`);
      out.set(remote);
      return { out, n, C };
    }
    const engine = await this.engine();
    const scale = 1 / trees.length;
    const ids = argmax ? sharedTypedArray("int32", n) : null;
    const T = trees.length;
    const meanNodes = trees.reduce((s, t) => s + t.nodeCount, 0) / T;
    if (T < MIN_TREES_PER_THREAD * engine.threads || meanNodes < MIN_TREE_NODES) {
      await unwrapInputErrors(engine.parallelFor(n, "sabre.forest.predict", { X: readOnly(Xs), trees, out, scale, ids }, { chunk: predictChunk(n, engine.threads) }));
      return ids ? { out, n, C, ids } : { out, n, C };
    }
    if (C === 1) {
      // One output: the walks write leaf values (the walk records carry them), so the
      // gather reads them in order instead of a cache miss into each tree's values.
      const block = Math.max(1, Math.min(n, Math.floor(MAX_LEAVES_PER_BLOCK / 2 / T)));
      const vals = sharedTypedArray("float64", T * block);
      for (let r0 = 0; r0 < n; r0 += block) {
        const r1 = Math.min(n, r0 + block);
        const args = { X: readOnly(Xs), trees, vals, r0, r1 };
        await unwrapInputErrors(engine.parallelFor(T, "sabre.forest.leafValues", args, { chunk: 1, schedule: "dynamic" }));
        await unwrapInputErrors(
          engine.parallelFor(r1 - r0, "sabre.forest.gatherValues", { ...args, out, scale }, { chunk: predictChunk(r1 - r0, engine.threads) }),
        );
      }
      return { out, n, C };
    }
    const block = Math.max(1, Math.min(n, Math.floor(MAX_LEAVES_PER_BLOCK / T)));
    const leaves = sharedTypedArray("int32", T * block);
    for (let r0 = 0; r0 < n; r0 += block) {
      const r1 = Math.min(n, r0 + block);
      const args = { X: readOnly(Xs), trees, leaves, r0, r1 };
      await unwrapInputErrors(engine.parallelFor(T, "sabre.forest.leaves", args, { chunk: 1, schedule: "dynamic" }));
      await unwrapInputErrors(
        engine.parallelFor(r1 - r0, "sabre.forest.gather", { ...args, out, scale, ids }, { chunk: predictChunk(r1 - r0, engine.threads) }),
      );
    }
    return ids ? { out, n, C, ids } : { out, n, C };
  }

  /** Helper for subclasses: an [n, C] shared ndarray over a flat buffer. */
  protected static asMatrix(out: Float64Array, n: number, C: number): NdArray<Float64Array> {
    return ndarray(out, [n, C]);
  }
}
