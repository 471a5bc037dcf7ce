// ops.sort and ops.argsort: numpy's kind="stable" order (NaN last, -0 and 0
// equal and kept in input order) along an axis, default the last one.
import type { NdArray, NdArrayOf } from "../memory/ndarray-type.js";
import type { NumberTypedArray } from "../memory/dtypes.js";
import { shared } from "../memory/shared.js";
import { keyKindOf } from "../../kernels/ops/sort-keys.js";
import { laneStart, sortLanes, type LanesJob } from "../../kernels/ops/sort-lanes.js";
import { numberDType, opInput, type OpArray } from "./input.js";
import { checkAxis, checkOptions, engineFor, throwIfAborted, type OpOptions } from "./options.js";
import { RUN_MIN, sortLaneParallel } from "./sort-parallel.js";

export interface SortOptions extends OpOptions {
  /** The axis to sort along; negative counts from the end. Default -1 (the last), as numpy's. */
  axis?: number;
}

/**
 * Arrays up to this many elements are sorted on the calling thread. Measured
 * in one run on this 2-core machine (heavily loaded, so both inflated): a
 * 2-chunk dispatch 268 us, one thread sorting 4,096 float64 436 us and
 * 16,384 1,035 us; two workers only win once half the sort outweighs the
 * dispatch, around 8,192.
 * @internal
 */
export const SORT_LOCAL_MAX = 8_192;

/** A sorted copy of x along `axis` (default -1), in x's dtype: a new shared ndarray. */
export async function sort(x: OpArray, options?: SortOptions): Promise<NdArray> {
  return run("sort", x, options, false);
}

/**
 * The indices that sort x along `axis` (default -1), stably: an int32 shared
 * ndarray of x's shape (a shared array holds < 2^31 elements, so indices fit).
 */
export async function argsort(x: OpArray, options?: SortOptions): Promise<NdArrayOf<"int32">> {
  return (await run("argsort", x, options, true)) as NdArrayOf<"int32">;
}

async function run(op: string, x: OpArray, options: SortOptions | undefined, argsort: boolean): Promise<NdArray> {
  const o = checkOptions<SortOptions>(op, options, ["axis"]);
  const a = opInput(op, x);
  const axis = checkAxis(op, o.axis ?? -1, a.shape.length);
  const dtype = numberDType(a);
  const out = shared.empty(argsort ? "int32" : dtype, a.shape);
  if (a.size === 0) return out;
  const job: LanesJob = {
    kind: keyKindOf(dtype),
    src: a.data as NumberTypedArray,
    shape: a.shape.slice(),
    stride: a.stride.slice(),
    offset: a.offset,
    axis,
    out: out.data as NumberTypedArray,
    outStride: out.stride.slice(),
    argsort,
  };
  const len = a.shape[axis]!;
  const lanes = a.size / len;
  if (a.size <= SORT_LOCAL_MAX) {
    throwIfAborted(op, o.signal);
    sortLanes(job, 0, lanes);
    return out;
  }
  const engine = await engineFor(o);
  if (lanes >= engine.threads || len < 2 * RUN_MIN) {
    await engine.parallelFor(lanes, "sabre.ops.sortLanes", { ...job }, { signal: o.signal });
    return out;
  }
  // Few long lanes: each on every worker in turn.
  for (let lane = 0; lane < lanes; lane++) {
    const laneJob = {
      kind: job.kind,
      dtype,
      src: job.src,
      off: laneStart(job.shape, job.stride, job.offset, axis, lane),
      stride: job.stride[axis]!,
      len,
      out: { data: job.out, off: laneStart(job.shape, job.outStride, 0, axis, lane), stride: job.outStride[axis]! },
      argsort,
    };
    await sortLaneParallel(engine, laneJob, o.signal);
  }
  return out;
}
