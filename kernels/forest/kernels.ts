// The forest's engine kernels: each step of a fit or a prediction split over
// workers, all of them reading ONE shared copy of the data.
import { defineKernels } from "../../src/engine/define.js";
import type { NdArray } from "../../src/memory/ndarray-type.js";
import { deserialize, serialize } from "../../src/memory/serialize.js";
import { sharedTypedArray } from "../../src/memory/shared.js";
import { binAll, encodeBlock, quantileBins, scanColumns, transposeCodes8, type BinEncoder, type BinMapper, type ColumnSummary, type FeatureBins, type IdRemap, type QuantileJob } from "./bins.js";
import { Board, StoppedError, type BoardArrays } from "./board.js";
import { bootstrapCounts, growForest } from "./grow.js";
import type { ForestData, ResolvedParams } from "./params.js";
import { accumulateOob, accumulatePredictions, argmaxRows, gatherLeafValues, gatherLeaves, treeLeafValues, treeLeaves } from "./predict.js";
import type { FlatTree } from "./tree.js";

/** ResolvedParams as they travel: classWeight as a plain array (args must not hold non-shared typed arrays). */
export type WireParams = Omit<ResolvedParams, "classWeight"> & { classWeight: number[] | null };

export interface GrowArgs {
  X: NdArray;
  nSamples: number;
  codes: Uint8Array;
  rowCodes: Uint8Array;
  bins: BinMapper;
  y: Int32Array | Float64Array;
  nClasses: number;
  sampleWeight: Float64Array | null;
  params: WireParams;
  seed: number;
  /**
   * When the OOB score is wanted: per-worker accumulators [threads][n * nOutputs]
   * and [threads][n]. Each worker adds only into its own slice, in fixed point
   * (`scale` units per 1.0, chosen so every sum stays an exact integer below
   * 2^53), so the sum over workers is exact and the score does not depend on
   * which worker grew which tree.
   */
  oob: { votes: Float64Array; counts: Float64Array; scale: number } | null;
  /** Tree k of the board is tree firstTree + k of the forest (a cluster host grows a range); default 0. */
  firstTree?: number;
}

/** Training rows each grown tree predicts to warm the predict code (see warmPredict). */
const WARM_ROWS = 256;
/** A scale as predict passes one (1 / nTrees, a double: a small integer would be other type feedback). */
const WARM_SCALE = 0.5;
let warmOut: Float64Array = new Float64Array(0);
let warmLeaves: Int32Array = new Int32Array(0);
let warmVals: Float64Array = new Float64Array(0);
let warmIds: Int32Array = new Int32Array(0);
const ARGMAX_WARM_ROUNDS = 8;

/**
 * Walks the first training rows through the tree just grown with the
 * predict kernel's own code, so V8 has optimized it for this X's dtype by
 * the time the user predicts (a fraction of a millisecond per tree). The
 * first predict after a 10-tree Fashion-MNIST fit (10,000 rows, 2 workers)
 * went from 68-81 to 50-62 ms; later calls take 18-40 ms either way. (It
 * does not help where the first call is slow because big trees are not yet
 * in cache: that is what tree-parallel predict is for.)
 *
 * The call has the predict kernel's argument types: the tree as it arrives
 * in a predict call (an object revived by deserialize has another hidden
 * class than the one assemble built), in an array, a shared output and a
 * fractional scale. With the tree as assembled, the first real predict
 * deoptimized accumulatePredictions ("wrong map") and ran while V8
 * compiled it again (50-300 ms of compile per worker under load).
 */
function warmPredict(tree: FlatTree, X: NdArray): void {
  const rows = Math.min(WARM_ROWS, X.shape[0]!);
  if (warmOut.length < rows * tree.nOutputs) warmOut = sharedTypedArray("float64", rows * tree.nOutputs);
  const list = deserialize<FlatTree[]>(serialize([tree]));
  accumulatePredictions(list, X, 0, rows, warmOut, WARM_SCALE);
  if (tree.nOutputs > 1) {
    if (warmIds.length < rows) warmIds = sharedTypedArray("int32", rows);
    // A few rounds: a first predict's argmax then finds optimized code (~0.1 ms).
    for (let i = 0; i < ARGMAX_WARM_ROUNDS; i++) argmaxRows(warmOut, tree.nOutputs, 0, rows, warmIds);
  }
  // Tree-parallel predict's two steps too (forests of large trees take that path).
  if (warmLeaves.length < rows) warmLeaves = sharedTypedArray("int32", rows);
  if (tree.nOutputs === 1) {
    if (warmVals.length < rows) warmVals = sharedTypedArray("float64", rows);
    treeLeafValues(list, X, 0, 1, 0, rows, warmVals);
    gatherLeafValues(list, X, warmVals, 0, rows, 0, rows, warmOut, WARM_SCALE);
    return;
  }
  treeLeaves(list, X, 0, 1, 0, rows, warmLeaves);
  gatherLeaves(list, X, warmLeaves, 0, rows, 0, rows, warmOut, WARM_SCALE);
}

/** Per-worker scratch for the OOB pass, reused across trees. */
let oobScratch: { inBag: Int32Array; out: Float64Array; counts: Int32Array } | null = null;

/** Adds tree `k`'s out-of-bag votes to this worker's slice of the accumulators (fixed point: exact in any order). */
function addOob(tree: FlatTree, data: ForestData, params: ResolvedParams, a: GrowArgs, k: number, threadId: number): void {
  const oob = a.oob!;
  const n = data.nSamples;
  const C = tree.nOutputs;
  if (!oobScratch || oobScratch.inBag.length !== n || oobScratch.out.length !== n * C) {
    oobScratch = { inBag: new Int32Array(n), out: new Float64Array(n * C), counts: new Int32Array(n) };
  }
  const { inBag, out, counts } = oobScratch;
  bootstrapCounts(n, params.nDraws, a.seed, k, inBag);
  out.fill(0);
  counts.fill(0);
  accumulateOob(tree, a.X, 0, n, inBag, out, counts);
  const votes = oob.votes.subarray(threadId * n * C, (threadId + 1) * n * C);
  const seen = oob.counts.subarray(threadId * n, (threadId + 1) * n);
  for (let r = 0; r < n; r++) {
    if (counts[r] === 0) continue;
    seen[r]! += 1;
    for (let c = 0; c < C; c++) votes[r * C + c]! += Math.round(out[r * C + c]! * oob.scale);
  }
}

export default defineKernels({
  /**
   * Binning pass 1: what rows [start, end) say about every feature (distinct
   * values, integers, range); ids of the values of features with at most
   * maxBins of them go to rowCodes (encodeBlock turns them into codes).
   */
  "sabre.forest.scanBins"({ start, end }, { X, maxBins, rowCodes, codes }: { X: NdArray; maxBins: number; rowCodes: Uint8Array; codes: Uint8Array }): ColumnSummary {
    return scanColumns(X, start, end, maxBins, 0, X.shape[1]!, rowCodes, codes);
  },

  /** All of binning for a small table, on one worker (binAll): returns the bins, fills both code layouts. */
  "sabre.forest.binAll"(
    _ctx,
    a: { X: NdArray; maxBins: number; seed: number; codes: Uint8Array; rowCodes: Uint8Array },
  ): BinMapper {
    return binAll(a.X, a.maxBins, a.seed, a.codes, a.rowCodes);
  },

  /** Binning pass 2: quantile bins of the job's features [start, end) (positions in job.features). */
  "sabre.forest.quantileBins"({ start, end }, { X, job }: { X: NdArray; job: QuantileJob }): FeatureBins[] {
    return quantileBins(X, job, start, end);
  },

  /** Binning pass 3: both code layouts for rows [start, end), one chunk of pass 1 (its ids remapped, other features coded from X). */
  "sabre.forest.applyBins"(
    { start, end },
    a: { X: NdArray; bins: BinMapper; encoder: BinEncoder; codes: Uint8Array; rowCodes: Uint8Array; ids: IdRemap },
  ): void {
    encodeBlock(a.X, a.bins, a.encoder, a.codes, a.rowCodes, start, end, 0, a.X.shape[1]!, a.ids);
  },

  /** Feature-major codes of rows [start, end) of 8-bit X under identity bins (X is its own sample-major layout). */
  "sabre.forest.transposeCodes8"({ start, end }, { X, codes }: { X: NdArray; codes: Uint8Array }): void {
    transposeCodes8(X, codes, start, end);
  },

  /**
   * SPMD (broadcast): this worker's part of growing all the fit's trees over
   * the shared task board (parallel.md): whole trees while any are left,
   * subtree tasks of the others' trees when not. Returns the trees this
   * worker assembled, as [tree number, tree]; adds their out-of-bag votes
   * to its own accumulators when asked.
   */
  "sabre.forest.growTrees"({ threadId }, a: GrowArgs & { board: BoardArrays }): Array<[number, FlatTree]> {
    const data: ForestData = {
      nSamples: a.nSamples,
      nFeatures: a.bins.nFeatures,
      codes: a.codes,
      rowCodes: a.rowCodes,
      bins: a.bins,
      y: a.y,
      nClasses: a.nClasses,
      sampleWeight: a.sampleWeight,
    };
    const params: ResolvedParams = {
      ...a.params,
      classWeight: a.params.classWeight ? Float64Array.from(a.params.classWeight) : null,
    };
    const board = new Board(a.board);
    const out: Array<[number, FlatTree]> = [];
    const onTree = (k: number, tree: FlatTree): void => {
      warmPredict(tree, a.X);
      if (a.oob) addOob(tree, data, params, a, k, threadId);
      out.push([k, tree]);
    };
    try {
      growForest(board, { data, params, seed: a.seed, firstTree: a.firstTree ?? 0, shared: true, walk: true, canWait: true, onTree });
    } catch (err) {
      // Stopped: the call already failed elsewhere (a worker's error, an abort, a crash), which is what it reports.
      if (err instanceof StoppedError) return out;
      board.stop();
      throw err;
    }
    return out;
  },

  /** Tree-parallel predict, step 1: the leaves of rows [r0, r1) in trees [start, end) (a chunk is some trees). */
  "sabre.forest.leaves"(
    { start, end },
    { X, trees, leaves, r0, r1 }: { X: NdArray; trees: FlatTree[]; leaves: Int32Array; r0: number; r1: number },
  ): void {
    treeLeaves(trees, X, start, end, r0, r1, leaves);
  },

  /** Tree-parallel predict, step 2: rows [start, end) of the block [r0, r1) add scale x their leaves' values, trees in order. */
  "sabre.forest.gather"(
    { start, end },
    a: { X: NdArray; trees: FlatTree[]; leaves: Int32Array; r0: number; r1: number; out: Float64Array; scale: number; ids?: Int32Array | null },
  ): void {
    gatherLeaves(a.trees, a.X, a.leaves, a.r0, a.r1, a.r0 + start, a.r0 + end, a.out, a.scale);
    if (a.ids) argmaxRows(a.out, a.trees[0]!.nOutputs, a.r0 + start, a.r0 + end, a.ids);
  },

  /** Tree-parallel predict of one-output trees, step 1: the leaf values of rows [r0, r1) in trees [start, end). */
  "sabre.forest.leafValues"(
    { start, end },
    { X, trees, vals, r0, r1 }: { X: NdArray; trees: FlatTree[]; vals: Float64Array; r0: number; r1: number },
  ): void {
    treeLeafValues(trees, X, start, end, r0, r1, vals);
  },

  /** Tree-parallel predict of one-output trees, step 2: rows [start, end) of the block [r0, r1) add scale x their leaf values, trees in order. */
  "sabre.forest.gatherValues"(
    { start, end },
    a: { X: NdArray; trees: FlatTree[]; vals: Float64Array; r0: number; r1: number; out: Float64Array; scale: number },
  ): void {
    gatherLeafValues(a.trees, a.X, a.vals, a.r0, a.r1, a.r0 + start, a.r0 + end, a.out, a.scale);
  },

  /**
   * Adds scale x every tree's leaf values for rows [start, end) into out
   * (rows x outputs); with `ids`, then each row's most probable class into it.
   */
  "sabre.forest.predict"(
    { start, end },
    { X, trees, out, scale, ids }: { X: NdArray; trees: FlatTree[]; out: Float64Array; scale: number; ids?: Int32Array | null },
  ): void {
    accumulatePredictions(trees, X, start, end, out, scale);
    if (ids && trees.length > 0) argmaxRows(out, trees[0]!.nOutputs, start, end, ids);
  },
});
