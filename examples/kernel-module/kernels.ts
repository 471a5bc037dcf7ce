// A user kernel module in TypeScript: the functions here run inside sabre's
// worker threads, on shared memory, with the three ways workers cooperate:
//   - a reduction clause (each chunk folds into a private accumulator that
//     the engine combines in chunk order: no lock, same result on any
//     number of threads),
//   - a Mutex (a record of two fields -- the largest value and where it is --
//     that must change together),
//   - a Barrier (SPMD: every worker computes a partial, waits for the
//     others, then uses all the partials).
// Built and run by run.mjs; see README.md beside it.
import { defineKernels, type Barrier, type Mutex, type NdArray } from "sabre/worker";

type F64 = NdArray<Float64Array>;

/** The histogram's bins: `bins` equal bins over [lo, hi). */
export interface HistArgs {
  x: F64;
  lo: number;
  hi: number;
  /** A scalar reduction arrives as a `{ value }` box private to this chunk. */
  total: { value: number };
  /** An elementwise reduction arrives as a Float64Array private to this chunk. */
  counts: Float64Array;
}

export interface ArgmaxArgs {
  x: F64;
  lock: Mutex;
  /** [best value, its index], shared by every worker, guarded by `lock`. */
  best: Float64Array;
}

export interface CenterArgs {
  x: F64;
  barrier: Barrier;
  /** One slot per worker: its partial sum. */
  partials: Float64Array;
}

export default defineKernels({
  /** Sum of x and a histogram of x over [start, end). */
  "km.stats"({ start, end }, { x, lo, hi, total, counts }: HistArgs) {
    const nBins = counts.length;
    const width = (hi - lo) / nBins;
    let s = 0;
    for (let i = start; i < end; i++) {
      const v = x.get(i);
      s += v;
      const b = Math.floor((v - lo) / width);
      counts[b < 0 ? 0 : b >= nBins ? nBins - 1 : b]! += 1;
    }
    total.value += s;
  },

  /** The largest x and its index: each chunk finds its own, then merges it into the shared record under the mutex. */
  "km.argmax"({ start, end }, { x, lock, best }: ArgmaxArgs) {
    let v = -Infinity;
    let at = -1;
    for (let i = start; i < end; i++) {
      const xi = x.get(i);
      if (xi > v) [v, at] = [xi, i];
    }
    // Without the lock two chunks could interleave their two writes and leave
    // one chunk's value beside the other's index. Ties go to the lower index,
    // so the answer does not depend on which chunk got there first.
    lock.withLock(() => {
      if (v > best[0]! || (v === best[0]! && at < best[1]!)) {
        best[0] = v;
        best[1] = at;
      }
    });
  },

  /** SPMD (engine.broadcast): subtract the mean of x from every element, in place. */
  "km.center"({ threadId, threads }, { x, barrier, partials }: CenterArgs) {
    const n = x.shape[0]!;
    const lo = Math.floor((n * threadId) / threads);
    const hi = Math.floor((n * (threadId + 1)) / threads);
    let s = 0;
    for (let i = lo; i < hi; i++) s += x.get(i);
    partials[threadId] = s;
    // Nobody reads the partials before every worker has written its own.
    const { leader } = barrier.wait(30_000);
    let sum = 0;
    for (const p of partials) sum += p;
    const mean = sum / n;
    // Every worker has read the partials before any of them changes x.
    barrier.wait(30_000);
    for (let i = lo; i < hi; i++) x.set(i, x.get(i) - mean);
    return { threadId, leader, mean };
  },
});
