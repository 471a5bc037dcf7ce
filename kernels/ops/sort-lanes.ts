// Lanes: the 1-D stretches of an n-d array along the sort axis. Many short
// lanes are sorted one per task (each on one thread); a long lane is split
// into runs and merged (sort-merge.ts).
import type { NumberTypedArray } from "../../src/memory/dtypes.js";
import type { KeyKind } from "./sort-keys.js";
import { sortRun } from "./sort-run.js";

/** Where lane `lane` starts, for an array of `shape`/`stride`/`offset`, lanes running along `axis`. */
export function laneStart(shape: readonly number[], stride: readonly number[], offset: number, axis: number, lane: number): number {
  let p = offset;
  let rest = lane;
  for (let ax = shape.length - 1; ax >= 0; ax--) {
    if (ax === axis) continue;
    const n = shape[ax]!;
    p += (rest % n) * stride[ax]!;
    rest = Math.floor(rest / n);
  }
  return p;
}

export interface LanesJob {
  kind: KeyKind;
  src: NumberTypedArray;
  shape: number[];
  stride: number[];
  offset: number;
  axis: number;
  /** The result, C-contiguous with x's shape: values (sort) or int32 indices (argsort). */
  out: NumberTypedArray;
  outStride: number[];
  argsort: boolean;
}

/** Sorts lanes [start, end) of the job, each on this thread. */
export function sortLanes(job: LanesJob, start: number, end: number): void {
  const len = job.shape[job.axis]!;
  const inStride = job.stride[job.axis]!;
  const outStride = job.outStride[job.axis]!;
  for (let lane = start; lane < end; lane++) {
    const inOff = laneStart(job.shape, job.stride, job.offset, job.axis, lane);
    const dest = { data: job.out, off: laneStart(job.shape, job.outStride, 0, job.axis, lane), stride: outStride };
    if (job.argsort) sortRun(job.kind, job.src, inOff, inStride, len, null, dest as { data: Int32Array; off: number; stride: number }, 0);
    else sortRun(job.kind, job.src, inOff, inStride, len, dest, null, 0);
  }
}
