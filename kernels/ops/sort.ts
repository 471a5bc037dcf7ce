// Worker side of ops.sort and ops.argsort (src/ops/sort.ts): whole lanes,
// the runs of one long lane, and merge rounds over those runs.
import { defineKernels } from "../../src/engine/define.js";
import type { KernelContext } from "../../src/engine/define.js";
import type { NumberTypedArray } from "../../src/memory/dtypes.js";
import type { KeyKind } from "./sort-keys.js";
import { sortLanes, type LanesJob } from "./sort-lanes.js";
import { mergeShare, type MergeRound } from "./sort-merge.js";
import { sortRun, type Dest } from "./sort-run.js";

export interface RunsJob {
  kind: KeyKind;
  src: NumberTypedArray;
  /** The lane: element i at src[off + i * stride]. */
  off: number;
  stride: number;
  /** Run r is lane elements [bounds[r], bounds[r + 1]). */
  bounds: number[];
  /** Where run r's sorted values / indices go: at bounds[r] in these. */
  vals: Dest | null;
  idx: Dest<Int32Array> | null;
}

export interface MergeJob extends MergeRound {
  /** Lane length; chunk c of `shares` writes outputs [c * len / shares, (c + 1) * len / shares). */
  len: number;
  shares: number;
}

/** Share c of n items split in `parts` (the same split everywhere). */
export function shareBound(n: number, parts: number, c: number): number {
  return Math.floor((n * c) / parts);
}

function at<T extends NumberTypedArray>(d: Dest<T> | null, k: number): Dest<T> | null {
  return d ? { data: d.data, off: d.off + k * d.stride, stride: d.stride } : null;
}

export default defineKernels({
  "sabre.ops.sortLanes"({ start, end }: KernelContext, job: LanesJob) {
    sortLanes(job, start, end);
  },
  "sabre.ops.sortRuns"({ chunk }: KernelContext, job: RunsJob): number {
    const a = job.bounds[chunk]!;
    const b = job.bounds[chunk + 1]!;
    return sortRun(job.kind, job.src, job.off + a * job.stride, job.stride, b - a, at(job.vals, a), at(job.idx, a), a).nan;
  },
  "sabre.ops.sortMerge"({ chunk }: KernelContext, job: MergeJob) {
    mergeShare(job, shareBound(job.len, job.shares, chunk), shareBound(job.len, job.shares, chunk + 1));
  },
});
