// ops.cumsum: cumulative sum along an axis (or of the flattened array, as
// numpy without an axis). Always float64 — integer inputs too, where numpy
// would give int64: a float64 holds every partial sum exactly up to 2^53.
// The block scheme and why the bits do not depend on the thread count:
// cumsum-run.ts and README.md, "Reductions".
import type { NumberTypedArray } from "../memory/dtypes.js";
import type { NdArray, NdArrayOf } from "../memory/ndarray-type.js";
import { rowMajorStrides, shared, sharedTypedArray } from "../memory/shared.js";
import { opInput, type OpArray } from "./input.js";
import { checkAxis, checkOptions, engineFor, throwIfAborted, type OpOptions } from "./options.js";
import { blockOffsets, cumsumUnits, cumsumUnitsRange, type CumsumArgs } from "./cumsum-run.js";
import { SMALL_REDUCTION } from "./reduce-core.js";

export interface CumsumOptions extends OpOptions {
  /** The axis to accumulate along; absent or null: the flattened array (row-major), as numpy. */
  axis?: number | null;
}

function isRowMajor(x: NdArray): boolean {
  const want = rowMajorStrides(x.shape);
  return x.shape.every((n, i) => n <= 1 || x.stride[i] === want[i]);
}

/** Cumulative sum (float64) with the shape of x, or 1-D of x.size without an axis. */
export async function cumsum(x: OpArray, options?: CumsumOptions): Promise<NdArrayOf<"float64">> {
  const o = checkOptions<CumsumOptions>("cumsum", options, ["axis"]);
  let arr = opInput("cumsum", x);
  let axis: number;
  let shape = arr.shape;
  let stride = arr.stride;
  if (o.axis === undefined || o.axis === null) {
    // Flattened in row-major order: a row-major view already is; anything else is copied once.
    if (!isRowMajor(arr)) arr = shared.from(arr);
    shape = [arr.size];
    stride = [1];
    axis = 0;
  } else {
    axis = checkAxis("cumsum", o.axis, arr.shape.length);
  }
  const out = shared.zeros("float64", shape);
  if (out.size === 0) return out;
  const outShape = shape.filter((_, i) => i !== axis);
  const lanes = outShape.reduce((p, q) => p * q, 1);
  const innerStride = Math.min(...shape.map((n, i) => (i === axis || n <= 1 ? Infinity : Math.abs(stride[i]!))));
  const a: CumsumArgs = {
    data: arr.data as NumberTypedArray,
    m: shape[axis]!,
    sa: stride[axis]!,
    so: out.stride[axis]!,
    outerX: { offset: arr.offset, shape: outShape, stride: stride.filter((_, i) => i !== axis) },
    outerOut: { offset: 0, shape: outShape, stride: out.stride.filter((_, i) => i !== axis) },
    lanes,
    rowMode: Math.abs(stride[axis]!) > innerStride,
  };
  const { blocks, units } = cumsumUnits(a);
  if (out.size <= SMALL_REDUCTION) {
    throwIfAborted("cumsum", o.signal);
    let offs: Float64Array | undefined;
    if (blocks > 1) {
      offs = new Float64Array(lanes * blocks);
      cumsumUnitsRange(a, 0, units, offs, undefined, undefined);
      blockOffsets(offs, lanes, blocks);
    }
    cumsumUnitsRange(a, 0, units, undefined, out.data, offs);
    return out;
  }
  const engine = await engineFor(o);
  let offs: Float64Array | undefined;
  if (blocks > 1) {
    offs = sharedTypedArray("float64", lanes * blocks);
    const sums = offs;
    await engine.parallelForLocal(units, "sabre.ops.cumsumSums", { ...a, sums }, { chunk: 1, signal: o.signal }, (u0, u1) => {
      cumsumUnitsRange(a, u0, u1, sums, undefined, undefined);
      return undefined;
    });
    blockOffsets(offs, lanes, blocks);
  }
  const fill = out.data;
  await engine.parallelForLocal(units, "sabre.ops.cumsumFill", { ...a, out: fill, offs }, { chunk: 1, signal: o.signal }, (u0, u1) => {
    cumsumUnitsRange(a, u0, u1, undefined, fill, offs);
    return undefined;
  });
  return out;
}
