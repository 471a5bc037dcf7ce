// Shared driver of ops.histogram and ops.bincount: flat views of the input,
// the counting pass (on the calling thread for small inputs, else in chunks
// of whole 65,536-element blocks) and the fold of the per-chunk partials in
// chunk order, so the result does not depend on the thread count.
import type { Engine } from "../engine/engine.js";
import type { NumberTypedArray } from "../memory/dtypes.js";
import type { NdArray } from "../memory/ndarray-type.js";
import { rowMajorStrides, sharedTypedArray, shared } from "../memory/shared.js";
import type { BinSpec } from "../../kernels/ops/histogram-bins.js";
import { BLOCK, countRange, type CountJob, type Flat } from "../../kernels/ops/histogram.js";

/**
 * Inputs up to this many elements (one block) are counted on the calling
 * thread. Measured in one run (loaded 2-core machine): a 2-chunk dispatch
 * 268 us; binning 32,768 float64 into 10 bins 216 us, 65,536 468 us, so
 * two workers (dispatch + half) break even near one block.
 */
export const COUNT_LOCAL_MAX = BLOCK;
/** The most partial-count slots one call allocates (8 bytes each at most). */
const PARTIALS_MAX = 2 ** 24;
/** Unweighted counts (exact integers, any order) need no more chunks than this. */
const INT_CHUNKS = 64;

/** x raveled in row-major order as a flat view; copied once if its strides do not allow one. */
export function flatOf(a: NdArray): Flat {
  const data = a.data as NumberTypedArray;
  if (a.shape.length <= 1) return { data, off: a.offset, stride: a.shape.length === 1 ? a.stride[0]! : 1 };
  const rm = rowMajorStrides(a.shape);
  if (a.shape.every((d, i) => d <= 1 || a.stride[i] === rm[i])) return { data, off: a.offset, stride: 1 };
  return { data: shared.from(a).data as NumberTypedArray, off: 0, stride: 1 };
}

/** The one partial's or the folded counts: int32 without weights, float64 with. */
export async function countBins(
  engine: Engine | null,
  x: Flat,
  weights: Flat | null,
  n: number,
  spec: BinSpec,
  signal: AbortSignal | undefined,
): Promise<Int32Array | Float64Array> {
  const nb = spec.nb;
  const make = (len: number): Int32Array | Float64Array => (weights ? sharedTypedArray("float64", len) : sharedTypedArray("int32", len));
  if (engine === null || n <= COUNT_LOCAL_MAX) {
    const partials = make(nb);
    countRange({ x, weights, n, spec, partials }, 0, n, 0);
    return partials;
  }
  const blocks = Math.ceil(n / BLOCK);
  // Weighted sums fold one partial per block, as numpy's loop adds them; counts are exact in any grouping.
  const memGroup = Math.ceil((blocks * nb) / PARTIALS_MAX);
  const group = Math.max(1, memGroup, weights ? 1 : Math.ceil(blocks / INT_CHUNKS));
  const parts = Math.ceil(blocks / group);
  const partials = make(parts * nb);
  const job: CountJob = { x, weights, n, spec, partials };
  await engine.parallelForLocal(blocks, "sabre.ops.histogramCount", { ...job }, { chunk: group, signal }, (b0, b1, chunk) => {
    countRange(job, b0 * BLOCK, Math.min(n, b1 * BLOCK), chunk);
    return undefined;
  });
  if (parts === 1) return partials;
  const out = make(nb);
  for (let p = 0; p < parts; p++) {
    const base = p * nb;
    for (let b = 0; b < nb; b++) out[b] = out[b]! + partials[base + b]!;
  }
  return out;
}

/**
 * numpy's sum of a contiguous float64 array: pairwise (8 accumulators up to
 * 128 elements, halves above), so density normalises with numpy's total bit
 * for bit (checked against numpy 1.24 up to 5,000 elements).
 */
export function numpySum(a: ArrayLike<number>): number {
  return pairwise(a, 0, a.length);
}

function pairwise(a: ArrayLike<number>, lo: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[lo + i]!;
    return res;
  }
  if (n <= 128) {
    const r = [a[lo]!, a[lo + 1]!, a[lo + 2]!, a[lo + 3]!, a[lo + 4]!, a[lo + 5]!, a[lo + 6]!, a[lo + 7]!];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] = r[j]! + a[lo + i + j]!;
    let res = r[0]! + r[1]! + (r[2]! + r[3]!) + (r[4]! + r[5]! + (r[6]! + r[7]!));
    for (; i < n; i++) res += a[lo + i]!;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwise(a, lo, n2) + pairwise(a, lo + n2, n - n2);
}
