// ops.kmeans: Lloyd's algorithm with scikit-learn's greedy k-means++, as one
// SPMD kernel per call (kernels/ops/kmeans.md says how the workers meet).
import { AbortError, SabreTypeError } from "../errors.js";
import type { NdArrayOf } from "../memory/ndarray-type.js";
import { ndarray } from "../memory/ndarray-type.js";
import { sharedTypedArray } from "../memory/shared.js";
import { Barrier } from "../sync/barrier.js";
import { describe } from "../validate.js";
import { opInput, type OpArray } from "./input.js";
import { blockRowsFor, NOT_FINITE, STOP, STOPPED, trialsFor, type KMeansJob } from "./kmeans-layout.js";
import { breakBarrier, kmeansSpmd } from "./kmeans-spmd.js";
import { checkOptions, engineFor, throwIfAborted, type OpOptions } from "./options.js";

export interface KMeansOptions extends OpOptions {
  /** Number of clusters: an integer in [1, n]. */
  k: number;
  /** Lloyd iterations per run at most (default 300). */
  maxIter?: number;
  /** Convergence when the squared shift of the centers is <= tol times the mean per-feature variance of X (default 1e-4, as scikit-learn). */
  tol?: number;
  /** Runs from different initial centers; the one with the lowest inertia is kept (default 1). */
  nInit?: number;
  /** Seed of the initialisation (integer in [0, 2^53)); random when absent. */
  seed?: number;
  /**
   * "k-means++" (default: scikit-learn's greedy variant, 2 + floor(ln k)
   * candidates per step), "random" (k distinct rows), or the initial centers
   * themselves as a k x d array (then a single run, as scikit-learn).
   */
  init?: "k-means++" | "random" | OpArray;
}

/** What `ops.kmeans` resolves to. */
export interface KMeansResult {
  /** Cluster centers, float64 [k, d]. */
  centers: NdArrayOf<"float64">;
  /** The cluster of each row, int32 [n], for the final centers. */
  labels: NdArrayOf<"int32">;
  /** Sum of squared distances of the rows to their centers. */
  inertia: number;
  /** Lloyd iterations of the kept run. */
  iterations: number;
}

const KNOWN = ["k", "maxIter", "tol", "nInit", "seed", "init"] as const;

/**
 * Up to this much work per Lloyd iteration (n * k * d) the calling thread
 * runs the same code itself: one iteration of it should take ~65 us on an
 * idle core (~1 ns per distance term, estimated), about what a broadcast's
 * dispatch (~0.1 ms) and a barrier round per iteration cost. Measured at a load average of ~29 on this 2-core machine
 * (10 iterations, given centers, 2 workers): 2^16 took 8-13 ms on the
 * calling thread against 48-64 ms on the workers, and the calling thread
 * stayed ahead up to 2^22 (137-215 ms against 225-240 ms), because on an
 * overloaded machine every barrier round waits for a descheduled worker.
 * The limit stays at the quiet-machine estimate; the fixtures above it run
 * on the workers.
 */
const MAIN_THREAD_WORK = 1 << 16;

function positiveInteger(name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
    throw new SabreTypeError(`ops.kmeans: ${name} must be a positive integer, got ${describe(v)}`);
  }
  return v;
}

/**
 * Clusters the rows of X (n x d, any number dtype, any strides; float32 and
 * integer data are computed in float64) into k clusters with Lloyd's
 * algorithm, with scikit-learn 1.2's semantics: greedy k-means++ init,
 * tolerance relative to the data's variance, "strict convergence" when no
 * label changes, a final E-step so labels match the final centers, empty
 * clusters moved to the farthest points. The result is the same, bit for
 * bit, for any thread count.
 *
 * ```ts
 * const { centers, labels, inertia } = await ops.kmeans(X, { k: 10, seed: 0 });
 * ```
 */
export async function kmeans(X: OpArray, options: KMeansOptions): Promise<KMeansResult> {
  if (options === undefined) throw new SabreTypeError("ops.kmeans: options with k are required, e.g. { k: 8 }");
  const o = checkOptions<KMeansOptions>("kmeans", options, KNOWN);
  const x = opInput("kmeans", X, "X");
  if (x.shape.length !== 2) {
    throw new SabreTypeError(`ops.kmeans: X must be 2-d (rows x features), got shape [${x.shape.join(", ")}]`);
  }
  const [n, d] = x.shape as [number, number];
  if (n === 0 || d === 0) throw new SabreTypeError(`ops.kmeans: X is empty (shape [${n}, ${d}])`);
  if (o.k === undefined) throw new SabreTypeError("ops.kmeans: option k (the number of clusters) is required");
  if (typeof o.k !== "number" || !Number.isSafeInteger(o.k) || o.k < 1) {
    throw new SabreTypeError(`ops.kmeans: k must be an integer >= 1, got ${describe(o.k)}`);
  }
  const k = o.k;
  if (k > n) throw new SabreTypeError(`ops.kmeans: k = ${k} clusters need at least ${k} rows, X has ${n}`);
  const maxIter = positiveInteger("maxIter", o.maxIter, 300);
  let nInit = positiveInteger("nInit", o.nInit, 1);
  const tol = o.tol ?? 1e-4;
  if (typeof tol !== "number" || !(tol >= 0) || !Number.isFinite(tol)) {
    throw new SabreTypeError(`ops.kmeans: tol must be a finite number >= 0, got ${describe(tol)}`);
  }
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 32);
  if (typeof seed !== "number" || !Number.isSafeInteger(seed) || seed < 0) {
    throw new SabreTypeError(`ops.kmeans: seed must be an integer in [0, 2^53), got ${describe(seed)}`);
  }
  let initKind = 0;
  let init: Float64Array = sharedTypedArray("float64", 0);
  if (o.init === "random") initKind = 1;
  else if (o.init !== undefined && o.init !== "k-means++") {
    if (typeof o.init === "string") {
      throw new SabreTypeError(`ops.kmeans: init must be "k-means++", "random" or a k x d array of centers, got ${describe(o.init)}`);
    }
    init = initialCenters(o.init, k, d);
    initKind = 2;
    nInit = 1; // every run would start from the same centers (scikit-learn also runs once)
  }
  throwIfAborted("kmeans", o.signal);

  const blockRows = blockRowsFor(n, k, d);
  const blocks = Math.ceil(n / blockRows);
  const trials = trialsFor(k);
  const direct = x.dtype === "float64" && (x.stride[1] === 1 || d === 1) && (x.stride[0] === d || n === 1);
  const job: KMeansJob = {
    x,
    xc: direct ? (x.data as Float64Array) : sharedTypedArray("float64", n * d),
    xOff: direct ? x.offset : 0,
    copy: !direct,
    n,
    d,
    k,
    blockRows,
    blocks,
    maxIter,
    tol,
    nInit,
    seed,
    initKind,
    trials,
    init,
    labels: sharedTypedArray("int32", n),
    centers: sharedTypedArray("float64", k * d),
    info: sharedTypedArray("float64", 2),
    work: sharedTypedArray("int32", n),
    upper: sharedTypedArray("float64", n),
    lower: sharedTypedArray("float64", n),
    dist: sharedTypedArray("float64", initKind === 0 ? (trials + 1) * n : 0),
    part: sharedTypedArray("float64", 2 * blocks * (k * d + k + 1)),
    pot: sharedTypedArray("float64", initKind === 0 ? 2 * blocks * trials : 1),
    stat: sharedTypedArray("float64", blocks * (2 * d + 1)),
    control: sharedTypedArray("int32", 2),
    barrier: new Barrier(1),
  };
  let statuses: number[];
  if (n * k * d <= MAIN_THREAD_WORK) {
    statuses = [kmeansSpmd(0, 1, job)];
  } else {
    const engine = await engineFor(o);
    job.barrier = new Barrier(engine.threads);
    try {
      statuses = (await engine.broadcast("sabre.ops.kmeans", { ...job }, { signal: o.signal })) as number[];
    } catch (err) {
      // Aborted, a worker failed or crashed: the others may be waiting at the
      // barrier or about to arrive. STOP makes them leave at their next check;
      // the broken barrier releases those already waiting (kmeans.md).
      Atomics.store(job.control, STOP, 1);
      breakBarrier(job.barrier);
      throw err;
    }
  }
  if (statuses.includes(NOT_FINITE)) throw new SabreTypeError("ops.kmeans: X contains NaN or infinity");
  if (statuses.includes(STOPPED)) throw new AbortError("ops.kmeans", o.signal?.reason);
  return {
    centers: ndarray(job.centers, [k, d], [d, 1], 0),
    labels: ndarray(job.labels, [n], [1], 0),
    inertia: job.info[0]!,
    iterations: job.info[1]!,
  };
}

/** The given initial centers as k * d float64, in shared memory. */
function initialCenters(init: OpArray, k: number, d: number): Float64Array {
  const c = opInput("kmeans", init, "init");
  if (c.shape.length !== 2 || c.shape[0] !== k || c.shape[1] !== d) {
    throw new SabreTypeError(`ops.kmeans: init must have shape [k, d] = [${k}, ${d}], got [${c.shape.join(", ")}]`);
  }
  const out = sharedTypedArray("float64", k * d);
  for (let j = 0; j < k; j++) {
    for (let f = 0; f < d; f++) {
      const v = c.get(j, f) as number;
      if (!Number.isFinite(v)) throw new SabreTypeError(`ops.kmeans: init[${j}][${f}] is ${v}; initial centers must be finite`);
      out[j * d + f] = v;
    }
  }
  return out;
}
