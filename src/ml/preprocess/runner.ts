// Where a preprocessing call runs its kernels: on an engine's workers, or on
// the calling thread for small inputs and while the default engine starts.
// Both run the same kernel functions over the same chunks (a kernel's chunking
// never changes its bits: statistics are per fixed row block and merged in
// block order, transforms are element-wise), so the result is the same either
// way; only the wall time differs.
import { defaultEngineIfReady, getDefaultEngine } from "../../engine/default-engine.js";
import type { KernelContext } from "../../engine/define.js";
import type { Engine } from "../../engine/engine.js";
import { AbortError } from "../../errors.js";
import { COLD_INLINE_MAX } from "../../ops/options.js";
import builtins from "../../../kernels/preprocess/kernels.js";

/** What the preprocessing code needs of an engine: its thread count and parallelFor. */
export interface Runner {
  readonly threads: number;
  parallelFor(n: number, kernel: string, args?: Record<string, unknown>, options?: { chunk?: number; signal?: AbortSignal }): Promise<unknown[]>;
}

/**
 * The calling thread as a one-thread engine: each chunk in order, the
 * signal checked before each, as a worker checks it between chunks.
 */
export const callingThread: Runner = {
  threads: 1,
  parallelFor(n, kernel, args = {}, options = {}) {
    try {
      const fn = builtins.kernels[kernel as keyof typeof builtins.kernels] as ((ctx: KernelContext, a: unknown) => unknown) | undefined;
      if (!fn) throw new RangeError(`no preprocessing kernel "${kernel}"`);
      const size = options.chunk ?? Math.max(1, n);
      const nChunks = Math.ceil(n / size);
      const out: unknown[] = new Array<unknown>(nChunks);
      for (let c = 0; c < nChunks; c++) {
        if (options.signal?.aborted) throw new AbortError(`the call of kernel "${kernel}"`, options.signal.reason);
        const start = c * size;
        out[c] = fn({ start, end: Math.min(n, start + size), chunk: c, nChunks, threadId: 0, threads: 1, kernel }, args);
      }
      return Promise.resolve(out);
    } catch (err) {
      return Promise.reject(err);
    }
  },
};

/**
 * Limits, in elements read (rows x columns of the input; a gather counts the
 * elements it copies). Mutable only so tests can force either path on the
 * same data (test/ml/preprocess-paths.test.ts); nothing else writes them.
 */
export const inlineLimits = {
  /**
   * At or below this a call runs on the calling thread even when an engine
   * is given: the workers' dispatch (args posted, a new output's buffer sent,
   * wake-ups) costs more than the work. Measured on the 2-core machine:
   * see README.md, "Small inputs and first calls".
   */
  small: 1 << 19,
  /**
   * With no engine given and the default engine still starting (150-350 ms
   * on 2 cores, more under load), calls up to this size run on the calling
   * thread instead of waiting for it (the start is set off, so later calls
   * find it). The reductions' limit: even KBinsDiscretizer's quantile fit
   * of 2^25 float32 elements finished sooner on the calling thread than by
   * waiting for the workers (README.md).
   */
  cold: COLD_INLINE_MAX,
};

/**
 * The runner of a call: the calling thread when it is small or when waiting
 * for the default engine would cost more; else the call's engine, the
 * estimator's, or the default one. `elements`: the input's; `output`: the
 * output's, when it is wider than the input (one-hot): the cold limit was
 * measured with outputs the input's size, and one thread writing a fresh
 * output many times larger would lose to two workers started late.
 */
export function runnerFor(call: Engine | undefined, own: Engine | undefined, elements: number, output = elements): Runner | Promise<Runner> {
  if (elements <= inlineLimits.small) return callingThread;
  const e = call ?? own;
  if (e) return e;
  if (Math.max(elements, output) <= inlineLimits.cold && defaultEngineIfReady() === undefined) {
    getDefaultEngine().catch(() => undefined); // a failed start is reported by the call that next awaits it
    return callingThread;
  }
  return defaultEngineIfReady() ?? getDefaultEngine();
}
