// One long lane sorted on every worker: each sorts a run of it, then rounds
// of pairwise merges, each round split into equal output shares (merge
// path), so no thread ever merges alone over the whole lane.
import type { Engine } from "../engine/engine.js";
import type { NumberDType, NumberTypedArray } from "../memory/dtypes.js";
import { sharedTypedArray } from "../memory/shared.js";
import type { KeyKind } from "../../kernels/ops/sort-keys.js";
import { nextRuns } from "../../kernels/ops/sort-merge.js";
import type { Dest } from "../../kernels/ops/sort-run.js";
import { shareBound, type MergeJob, type RunsJob } from "../../kernels/ops/sort.js";

/**
 * The least elements a run gets: below it, a worker's radix passes are
 * shorter than the dispatch of a round (tens of microseconds).
 */
export const RUN_MIN = 32_768;

export interface LaneJob {
  kind: KeyKind;
  dtype: NumberDType;
  src: NumberTypedArray;
  off: number;
  stride: number;
  len: number;
  /** The result lane: values for sort, int32 indices for argsort. */
  out: Dest;
  argsort: boolean;
}

export async function sortLaneParallel(engine: Engine, job: LaneJob, signal: AbortSignal | undefined): Promise<void> {
  const { len, argsort } = job;
  const runs = Math.max(1, Math.min(engine.threads, Math.floor(len / RUN_MIN)));
  const bounds = Array.from({ length: runs + 1 }, (_, r) => shareBound(len, runs, r));
  const opts = { chunk: 1, schedule: "static" as const, signal };
  const base = { kind: job.kind, src: job.src, off: job.off, stride: job.stride, bounds };
  if (runs === 1) {
    const direct: RunsJob = { ...base, vals: argsort ? null : job.out, idx: argsort ? (job.out as Dest<Int32Array>) : null };
    await engine.parallelFor(1, "sabre.ops.sortRuns", { ...direct }, opts);
    return;
  }
  // Ping-pong buffers between rounds; the last round writes the result.
  const bufA = { vals: sharedTypedArray(job.dtype, len), idx: argsort ? sharedTypedArray("int32", len) : null };
  const rounds = Math.ceil(Math.log2(runs));
  const bufB = rounds > 1 ? { vals: sharedTypedArray(job.dtype, len), idx: argsort ? sharedTypedArray("int32", len) : null } : undefined;
  const contiguous = <T extends NumberTypedArray>(data: T | null): Dest<T> | null => (data ? { data, off: 0, stride: 1 } : null);
  const runsJob: RunsJob = { ...base, vals: contiguous(bufA.vals), idx: contiguous(bufA.idx) };
  const nans = (await engine.parallelFor(runs, "sabre.ops.sortRuns", { ...runsJob }, opts)) as number[];
  let state = { bounds, nans };
  let from = bufA;
  let to = bufB;
  for (let round = 0; round < rounds; round++) {
    const last = round === rounds - 1;
    const merge: MergeJob = {
      vals: from.vals,
      idx: from.idx,
      bounds: state.bounds,
      nans: state.nans,
      outVals: last ? (argsort ? null : job.out) : contiguous(to!.vals),
      outIdx: last ? (argsort ? (job.out as Dest<Int32Array>) : null) : contiguous(to!.idx),
      len,
      shares: runs,
    };
    await engine.parallelFor(runs, "sabre.ops.sortMerge", { ...merge }, opts);
    state = nextRuns(state.bounds, state.nans);
    if (!last) [from, to] = [to!, from];
  }
}
