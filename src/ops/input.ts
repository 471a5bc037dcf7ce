// How ops take user data: shared ndarrays (any dtype, any strides, views)
// are used in place; typed arrays, plain ndarrays and nested number arrays
// are copied to shared memory once.
import { SabreTypeError } from "../errors.js";
import type { NumberDType } from "../memory/dtypes.js";
import type { NdArray } from "../memory/ndarray-type.js";
import { isNdArray } from "../memory/ndarray-type.js";
import { isShared, toShared } from "../memory/shared.js";
import { describe } from "../validate.js";

/** Any array an op accepts. */
export type OpArray = NdArray | ArrayLike<number> | readonly (readonly number[])[];

/**
 * The shared ndarray an op works on. 64-bit integer dtypes are refused
 * (their elements are bigints, which the numeric kernels do not take).
 */
export function opInput(op: string, x: unknown, name = "x"): NdArray {
  if (!(isNdArray(x) && isShared(x)) && !isNdArray(x) && !ArrayBuffer.isView(x) && !Array.isArray(x)) {
    throw new SabreTypeError(`ops.${op}: ${name} must be an ndarray, a typed array or a nested number array, got ${describe(x)}`);
  }
  if (x instanceof DataView) throw new SabreTypeError(`ops.${op}: ${name} must be a typed array, not a DataView`);
  const arr = toShared(x, `ops.${op}: ${name}`);
  if (arr.dtype === "bigint64" || arr.dtype === "biguint64") {
    throw new SabreTypeError(`ops.${op}: ${name} has dtype ${arr.dtype}; ops take the number dtypes (float32, float64, int8-32, uint8-32, uint8_clamped)`);
  }
  return arr;
}

/** The dtype of an array opInput accepted. */
export function numberDType(x: NdArray): NumberDType {
  return x.dtype as NumberDType;
}
