// ops.kmeans: Lloyd's algorithm with scikit-learn's greedy k-means++, as one
// SPMD kernel per call (kernels/ops/kmeans.md says how the workers meet).
import { AbortError, SabreTypeError } from "../errors.js";
import type { NdArrayOf } from "../memory/ndarray-type.js";
import { ndarray } from "../memory/ndarray-type.js";
import { Barrier } from "../sync/barrier.js";
import type { OpArray } from "./input.js";
import { kmeansJob } from "./kmeans-job.js";
import { NOT_FINITE, STOP, STOPPED } from "./kmeans-layout.js";
import { breakBarrier, kmeansSpmd } from "./kmeans-spmd.js";
import { engineFor, type OpOptions } from "./options.js";

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
  const { job, signal } = kmeansJob(X, options);
  const { n, d, k } = job;
  let statuses: number[];
  // nInit counts too: the calling thread cannot be aborted or time out, so { nInit: 1e9 } on a
  // tiny X used to block the event loop for good; the workers run it where a signal stops it.
  if (n * k * d * job.nInit <= MAIN_THREAD_WORK) {
    statuses = [kmeansSpmd(0, 1, job)];
  } else {
    const engine = await engineFor(options);
    job.barrier = new Barrier(engine.threads);
    try {
      statuses = (await engine.broadcast("sabre.ops.kmeans", { ...job }, { signal })) as number[];
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
  if (statuses.includes(STOPPED)) throw new AbortError("ops.kmeans", signal?.reason);
  return {
    centers: ndarray(job.centers, [k, d], [d, 1], 0),
    labels: ndarray(job.labels, [n], [1], 0),
    inertia: job.info[0]!,
    iterations: job.info[1]!,
  };
}

