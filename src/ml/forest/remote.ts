// The seam between forests and anything that grows or walks their trees
// somewhere else (src/cluster): forests know this interface, never BullMQ.
// The far side grows tree ranges and predicts row ranges with the same
// kernels a local fit uses (growTreeRange, predictRows below).
import { readOnly } from "../../engine/clauses.js";
import type { Engine } from "../../engine/engine.js";
import { ndarray, type NdArray } from "../../memory/ndarray-type.js";
import { sharedTypedArray } from "../../memory/shared.js";
import type { BinMapper } from "../../../kernels/forest/bins.js";
import { Board, makeBoard } from "../../../kernels/forest/board.js";
import { forestTuning } from "../../../kernels/forest/grow.js";
import type { WireParams } from "../../../kernels/forest/kernels.js";
import type { FlatTree } from "../../../kernels/forest/tree.js";
import { unwrapInputErrors } from "./binning.js";

/**
 * What every tree of a fit reads, as the fit ships it: the sample-major codes only (feature-major is a transpose).
 * @internal
 */
export interface ForestGrowData {
  nSamples: number;
  nFeatures: number;
  /** Sample-major bin codes [nSamples * nFeatures]. */
  rowCodes: Uint8Array;
  bins: BinMapper;
  y: Int32Array | Float64Array;
  nClasses: number;
  sampleWeight: Float64Array | null;
  params: WireParams;
  seed: number;
}

/**
 * One job's trees as they come back from a host: trees [first, first + count)
 * in the binary form of model-json.ts (treesToBinary), not yet checked.
 * @internal
 */
export interface GrownTrees {
  /** The forest's number of the first tree. */
  first: number;
  /** How many trees the job grew. */
  count: number;
  /** treesToBinary's buffer, hash-checked against the blob's name, not yet decoded. */
  bytes: Uint8Array;
  /** The host that grew them (named in any error about them). */
  host: string;
}

/**
 * What a forest needs of a cluster (`fit(X, y, { cluster })`, `predict(X, { cluster })`):
 * pass a {@link Cluster} from `Cluster.connect`.
 */
export interface ForestCluster {
  /**
   * Grows trees 0 .. nTrees - 1 of the fit described by `data`, handing each
   * job's trees to `accept` as soon as they arrive (while the hosts grow the
   * rest), so the forest decodes and validates them before use without
   * waiting for the last job. An error thrown by `accept` rejects the call
   * (and removes the jobs not yet taken). Resolves when every job's trees
   * have been accepted.
   * @internal
   */
  growForest(
    data: ForestGrowData,
    nTrees: number,
    options: { onProgress?: ((done: number, total: number) => void) | undefined; signal?: AbortSignal | undefined; accept: (trees: GrownTrees) => void },
  ): Promise<void>;
  /**
   * The mean leaf values [n * nOutputs] of the trees over every row of X (float64, row-major).
   * @internal
   */
  predictForest(X: NdArray, trees: readonly FlatTree[], options: { signal?: AbortSignal | undefined }): Promise<Float64Array>;
}

/** Duck-typed: the forest accepts anything with the two methods. */
export function isForestCluster(v: unknown): v is ForestCluster {
  return typeof v === "object" && v !== null && typeof (v as ForestCluster).growForest === "function" && typeof (v as ForestCluster).predictForest === "function";
}

/** Rows per chunk of the feature-major transpose. */
function rowChunk(n: number, threads: number): number {
  return Math.max(256, Math.ceil(n / (threads * 4)));
}

/** The feature-major codes of shipped sample-major ones (what a local fit's binOnEngine makes beside them). */
export async function featureMajorCodes(engine: Engine, data: ForestGrowData): Promise<Uint8Array> {
  const { nSamples: n, nFeatures: d } = data;
  const codes = sharedTypedArray("uint8", n * d);
  const X = ndarray(data.rowCodes, [n, d], [d, 1], 0);
  await engine.parallelFor(n, "sabre.forest.transposeCodes8", { X: readOnly(X), codes }, { chunk: rowChunk(n, engine.threads) });
  return codes;
}

/**
 * Grows trees [first, first + count) of the fit on `engine`, as the local
 * fit grows all of them: one SPMD call of the same kernel over a board of
 * `count` trees, numbered from `first` for their randomness.
 */
export async function growTreeRange(engine: Engine, data: ForestGrowData, codes: Uint8Array, first: number, count: number, signal?: AbortSignal): Promise<FlatTree[]> {
  const { nSamples: n } = data;
  const alloc = { i32: (len: number) => sharedTypedArray("int32", len), f64: (len: number) => sharedTypedArray("float64", len) };
  const boardArrays = makeBoard(n, data.bins.nFeatures, data.nClasses, engine.threads, count, forestTuning.taskMin, alloc, forestTuning.failAtTask, forestTuning.taskConsts);
  // X is only read by the kernel to warm predict code; the codes stand in for it.
  const X = ndarray(data.rowCodes, [n, data.nFeatures], [data.nFeatures, 1], 0);
  const call = { X, nSamples: n, codes, rowCodes: data.rowCodes, bins: data.bins, y: data.y, nClasses: data.nClasses, sampleWeight: data.sampleWeight, params: data.params, seed: data.seed, oob: null, board: boardArrays, firstTree: first };
  let results: unknown[];
  try {
    results = await unwrapInputErrors(engine.broadcast("sabre.forest.growTrees", call as unknown as Record<string, unknown>, signal ? { signal } : {}));
  } catch (err) {
    new Board(boardArrays).stop();
    throw err;
  }
  const trees = new Array<FlatTree>(count);
  for (const part of results as Array<Array<[number, FlatTree]>>) for (const [k, tree] of part) trees[k] = tree;
  return trees;
}

/** Mean leaf values of `trees` over every row of X on `engine` (the row-parallel predict kernel a local predict uses). */
export async function predictRows(engine: Engine, X: NdArray, trees: FlatTree[]): Promise<Float64Array> {
  const n = X.shape[0]!;
  const C = trees[0]!.nOutputs;
  const out = sharedTypedArray("float64", n * C);
  const chunk = Math.max(256, Math.ceil(n / (engine.threads * 2)));
  await unwrapInputErrors(engine.parallelFor(n, "sabre.forest.predict", { X: readOnly(X), trees, out, scale: 1 / trees.length }, { chunk }));
  return out;
}
