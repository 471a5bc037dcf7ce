// Worker side of ops.histogram and ops.bincount (src/ops/histogram.ts):
// a scan for the data range (or bincount's validity), then counts into a
// private partial per chunk, which the caller folds in chunk order.
import { defineKernels } from "../../src/engine/define.js";
import type { KernelContext } from "../../src/engine/define.js";
import type { NumberTypedArray } from "../../src/memory/dtypes.js";
import { binOf, type BinSpec } from "./histogram-bins.js";

/** A flat view: element k of the (raveled) input is data[off + k * stride]. */
export interface Flat {
  data: NumberTypedArray;
  off: number;
  stride: number;
}

/**
 * Elements per block. numpy's histogram loops over blocks of 65,536 and
 * adds each block's weighted bincount to the total; folding per-block
 * partials in block order gives its float sums bit for bit.
 */
export const BLOCK = 65_536;

export interface CountJob {
  x: Flat;
  weights: Flat | null;
  n: number;
  spec: BinSpec;
  /** Partial p (chunk p of the call) is partials[p * nb, (p + 1) * nb). */
  partials: Int32Array | Float64Array;
}

export interface ScanJob {
  x: Flat;
  n: number;
}

/** A chunk's range: min and max (NaN if any element is NaN). */
export interface RangeScan {
  min: number;
  max: number;
}

/** A chunk's bincount check: its largest value and the first bad element's index (-1 if none). */
export interface IntScan {
  max: number;
  bad: number;
}

export function scanRange(x: Flat, k0: number, k1: number): RangeScan {
  const { data, off, stride } = x;
  let min = Infinity;
  let max = -Infinity;
  for (let k = k0, p = off + k0 * stride; k < k1; k++, p += stride) {
    const v = data[p]!;
    if (v < min) min = v;
    if (v > max) max = v;
    if (v !== v) return { min: NaN, max: NaN };
  }
  return { min, max };
}

export function scanInts(x: Flat, k0: number, k1: number): IntScan {
  const { data, off, stride } = x;
  let max = -1;
  for (let k = k0, p = off + k0 * stride; k < k1; k++, p += stride) {
    const v = data[p]!;
    if (!(v >= 0 && Math.floor(v) === v && v < 2 ** 31)) return { max, bad: k };
    if (v > max) max = v;
  }
  return { max, bad: -1 };
}

/** Counts elements [k0, k1) into partial `part`. */
export function countRange(job: CountJob, k0: number, k1: number, part: number): void {
  const { spec, weights, partials } = job;
  const { data, off, stride } = job.x;
  const base = part * spec.nb;
  if (weights) {
    const w = weights.data;
    for (let k = k0, p = off + k0 * stride, q = weights.off + k0 * weights.stride; k < k1; k++, p += stride, q += weights.stride) {
      const b = binOf(spec, data[p]!);
      if (b >= 0) partials[base + b] = partials[base + b]! + w[q]!;
    }
  } else if (spec.mode === "uniform64" && data instanceof Float64Array && partials instanceof Int32Array) {
    countUniform64(data, off + k0 * stride, stride, k1 - k0, spec, partials, base);
  } else {
    for (let k = k0, p = off + k0 * stride; k < k1; k++, p += stride) {
      const b = binOf(spec, data[p]!);
      if (b >= 0) partials[base + b] = partials[base + b]! + 1;
    }
  }
}

/**
 * binOf's "uniform64" case inlined into the loop over float64 data, the
 * common histogram: one monomorphic loop, no per-element mode dispatch
 * (40M float64, 100 bins: 1.26 GB/s through binOf on 2 workers, below a
 * one-thread plain loop's 2.24). Same arithmetic, so the same bins.
 */
function countUniform64(data: Float64Array, p: number, stride: number, n: number, spec: BinSpec, counts: Int32Array, base: number): void {
  const { nb, edges, lo, hi, norm } = spec;
  const last = nb - 1;
  if (local.length < nb) local = new Int32Array(nb);
  else local.fill(0, 0, nb);
  const c = local;
  for (let k = 0; k < n; k++, p += stride) {
    const v = data[p]!;
    if (!(v >= lo && v <= hi)) continue;
    let i = Math.trunc((v - lo) * norm);
    if (i === nb) i--;
    if (v < edges[i]!) i--;
    else if (i !== last && v >= edges[i + 1]!) i++;
    c[i]!++;
  }
  for (let b = 0; b < nb; b++) counts[base + b]! += c[b]!;
}

/** countUniform64's counts, private to this thread while it counts (reused). */
let local = new Int32Array(0);

export default defineKernels({
  "sabre.ops.histogramRange"({ start, end }: KernelContext, job: ScanJob): RangeScan {
    return scanRange(job.x, start * BLOCK, Math.min(job.n, end * BLOCK));
  },
  "sabre.ops.bincountScan"({ start, end }: KernelContext, job: ScanJob): IntScan {
    return scanInts(job.x, start * BLOCK, Math.min(job.n, end * BLOCK));
  },
  "sabre.ops.histogramCount"({ start, end, chunk }: KernelContext, job: CountJob) {
    countRange(job, start * BLOCK, Math.min(job.n, end * BLOCK), chunk);
  },
});
