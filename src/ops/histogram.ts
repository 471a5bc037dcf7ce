// ops.histogram and ops.bincount: numpy's histogram (equal bins over a range
// or explicit edges, weights, density) and bincount.
import { SabreTypeError } from "../errors.js";
import type { NdArray, NdArrayOf } from "../memory/ndarray-type.js";
import { ndarray } from "../memory/ndarray-type.js";
import { sharedTypedArray } from "../memory/shared.js";
import { describe } from "../validate.js";
import type { BinSpec } from "../../kernels/ops/histogram-bins.js";
import { BLOCK, scanRange, type Flat, type RangeScan, type ScanJob } from "../../kernels/ops/histogram.js";
import { COUNT_LOCAL_MAX, countBins, flatOf, numpySum } from "./histogram-count.js";
import { opInput, type OpArray } from "./input.js";
import { checkOptions, engineFor, type OpOptions } from "./options.js";

export { bincount, type BincountOptions } from "./histogram-bincount.js";

export interface HistogramOptions extends OpOptions {
  /** A number of equal bins (default 10) or the bin edges, non-decreasing. */
  bins?: number | OpArray;
  /** The outer edges of equal bins; default the data's [min, max]. Ignored with explicit edges, as numpy does. */
  range?: readonly [number, number];
  /** One weight per element of x (same shape): counts become weight sums. */
  weights?: OpArray;
  /** Counts divided by (total * bin width): a density that integrates to 1. */
  density?: boolean;
}

/** What `ops.histogram` resolves to. */
export interface HistogramResult {
  /**
   * Elements per bin: int32 (numpy's are int64; a shared array holds fewer
   * than 2^31 elements), float64 with weights or density.
   */
  counts: NdArray;
  /** The nb + 1 bin edges: float32 for float32 data with equal bins (as numpy), else float64. */
  edges: NdArray;
}

/**
 * numpy's `histogram`: values outside the bins and NaNs are left out, the
 * last bin is closed on the right, and a value on an edge lands in the bin
 * numpy puts it in (its arithmetic is reproduced, kernels/ops/histogram-bins.ts).
 * Without a range, the data's min and max must be finite (numpy's rule).
 */
export async function histogram(x: OpArray, options?: HistogramOptions): Promise<HistogramResult> {
  const o = checkOptions<HistogramOptions>("histogram", options, ["bins", "range", "weights", "density"]);
  const a = opInput("histogram", x);
  const flat = flatOf(a);
  const n = a.size;
  const weights = o.weights === undefined ? null : weightsFor(o.weights, a);
  if (o.density !== undefined && typeof o.density !== "boolean") {
    throw new SabreTypeError(`ops.histogram: density must be a boolean, got ${describe(o.density)}`);
  }
  const engine = n > COUNT_LOCAL_MAX ? await engineFor(o) : null;
  const bins = o.bins ?? 10;
  let spec: BinSpec;
  let edges: NdArray;
  if (typeof bins === "number") {
    if (!Number.isInteger(bins) || bins < 1 || bins > 2 ** 31 - 2) {
      throw new SabreTypeError(`ops.histogram: bins must be a positive integer or an array of edges, got ${describe(bins)}`);
    }
    const range = o.range === undefined ? undefined : checkRange(o.range);
    let first: number;
    let last: number;
    let float32Scalars = false;
    if (range) [first, last] = range;
    else if (n === 0) [first, last] = [0, 1];
    else {
      ({ min: first, max: last } = await dataRange(engine, flat, n, o.signal));
      if (!Number.isFinite(first) || !Number.isFinite(last)) {
        throw new SabreTypeError(`ops.histogram: autodetected range of [${first}, ${last}] is not finite; give a range to leave NaN and infinities out`);
      }
      float32Scalars = a.dtype === "float32";
    }
    if (first === last) {
      first -= 0.5;
      last += 0.5;
      float32Scalars = false;
    }
    spec = uniformSpec(a.dtype === "float32", bins, first, last, float32Scalars);
    edges = a.dtype === "float32" ? ndarray(sharedFrom("float32", spec.edges), [bins + 1]) : ndarray(sharedFrom("float64", spec.edges), [bins + 1]);
  } else {
    if (o.range !== undefined) checkRange(o.range);
    const e = edgesOf(bins);
    spec = { mode: "edges", nb: e.length - 1, lo: e[0]!, hi: e[e.length - 1]!, norm: 0, edges: e };
    edges = ndarray(e, [e.length]);
  }
  const counts = spec.nb === 0 ? (weights ? sharedTypedArray("float64", 0) : sharedTypedArray("int32", 0)) : await countBins(engine, flat, weights, n, spec, o.signal);
  if (o.density !== true) return { counts: ndarray(counts, [spec.nb]), edges };
  // numpy: n / db / n.sum(), with db the edge differences in the edges' dtype.
  const total = weights ? numpySum(counts) : sumInts(counts);
  const e = spec.edges;
  const dens = sharedTypedArray("float64", spec.nb);
  for (let i = 0; i < spec.nb; i++) {
    const db = spec.mode === "uniform32" ? Math.fround(e[i + 1]! - e[i]!) : e[i + 1]! - e[i]!;
    dens[i] = counts[i]! / db / total;
  }
  return { counts: ndarray(dens, [spec.nb]), edges };
}

function sumInts(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

function sharedFrom<D extends "float32" | "float64">(dtype: D, values: Float64Array): NdArrayOf<D>["data"] {
  const out = sharedTypedArray(dtype, values.length);
  out.set(values);
  return out as NdArrayOf<D>["data"];
}

function checkRange(range: unknown): [number, number] {
  if (!Array.isArray(range) || range.length !== 2 || typeof range[0] !== "number" || typeof range[1] !== "number") {
    throw new SabreTypeError(`ops.histogram: range must be [min, max], two numbers, got ${describe(range)}`);
  }
  const [lo, hi] = range as [number, number];
  if (lo > hi) throw new SabreTypeError(`ops.histogram: range [${lo}, ${hi}]: max must be larger than min`);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new SabreTypeError(`ops.histogram: supplied range of [${lo}, ${hi}] is not finite`);
  return [lo, hi];
}

function edgesOf(bins: unknown): Float64Array {
  const arr = opInput("histogram", bins, "bins");
  if (arr.shape.length !== 1) throw new SabreTypeError(`ops.histogram: bins must be 1-d when an array, got shape [${arr.shape.join(", ")}]`);
  if (arr.size < 1) throw new SabreTypeError("ops.histogram: bins must hold at least one edge");
  const e = sharedTypedArray("float64", arr.size);
  for (let i = 0; i < arr.size; i++) {
    const v = Number(arr.get(i));
    if (Number.isNaN(v)) throw new SabreTypeError(`ops.histogram: bins[${i}] is NaN`);
    if (i > 0 && v < e[i - 1]!) throw new SabreTypeError(`ops.histogram: bins must increase monotonically, but bins[${i}] = ${v} < bins[${i - 1}] = ${e[i - 1]}`);
    e[i] = v;
  }
  return e;
}

function weightsFor(w: unknown, a: NdArray): Flat {
  const arr = opInput("histogram", w, "weights");
  if (arr.shape.length !== a.shape.length || arr.shape.some((d, i) => d !== a.shape[i])) {
    throw new SabreTypeError(`ops.histogram: weights must have x's shape [${a.shape.join(", ")}], got [${arr.shape.join(", ")}]`);
  }
  return flatOf(arr);
}

/**
 * Equal bins as numpy makes them: edges from linspace (first + i * step in
 * float64, the last edge exactly `last`, cast to float32 for float32 data),
 * norm = bins / (last - first) with the subtraction in float32 when numpy's
 * min/max scalars are float32.
 */
function uniformSpec(f32: boolean, nb: number, first: number, last: number, float32Scalars: boolean): BinSpec {
  const width = float32Scalars ? Math.fround(last - first) : last - first;
  const norm = nb / width;
  const step = (last - first) / nb;
  const edges = sharedTypedArray("float64", nb + 1);
  for (let i = 0; i < nb; i++) edges[i] = first + i * step;
  edges[nb] = last;
  if (f32) {
    for (let i = 0; i <= nb; i++) edges[i] = Math.fround(edges[i]!);
    return { mode: "uniform32", nb, lo: Math.fround(first), hi: Math.fround(last), norm: Math.fround(norm), edges };
  }
  return { mode: "uniform64", nb, lo: first, hi: last, norm, edges };
}

async function dataRange(engine: import("../engine/engine.js").Engine | null, x: Flat, n: number, signal: AbortSignal | undefined): Promise<RangeScan> {
  if (engine === null) return scanRange(x, 0, n);
  const blocks = Math.ceil(n / BLOCK);
  const job: ScanJob = { x, n };
  const parts = (await engine.parallelFor(blocks, "sabre.ops.histogramRange", { ...job }, { signal })) as RangeScan[];
  let min = Infinity;
  let max = -Infinity;
  for (const p of parts) {
    if (Number.isNaN(p.min)) return { min: NaN, max: NaN };
    if (p.min < min) min = p.min;
    if (p.max > max) max = p.max;
  }
  return { min, max };
}
