import { SabreTypeError } from "../errors.js";
import { describe } from "../validate.js";

/** Element types, named as scijs ndarray names them. */
export interface DTypeMap {
  float32: Float32Array;
  float64: Float64Array;
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  uint8: Uint8Array;
  uint16: Uint16Array;
  uint32: Uint32Array;
  uint8_clamped: Uint8ClampedArray;
  bigint64: BigInt64Array;
  biguint64: BigUint64Array;
}
export type DType = keyof DTypeMap;
export type TypedArray = DTypeMap[DType];
/** The dtypes whose elements are JS numbers (everything but the 64-bit integer ones). */
export type NumberDType = Exclude<DType, "bigint64" | "biguint64">;
export type NumberTypedArray = DTypeMap[NumberDType];

type TypedArrayConstructor<T extends TypedArray> = {
  new (length: number): T;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
};

export const CONSTRUCTORS: { readonly [D in DType]: TypedArrayConstructor<DTypeMap[D]> } = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint8_clamped: Uint8ClampedArray,
  bigint64: BigInt64Array,
  biguint64: BigUint64Array,
};

export const DTYPES = Object.keys(CONSTRUCTORS) as readonly DType[];

/**
 * The most elements one shared array may have. ndarray computes view offsets
 * with `|0`, so beyond 2^31 - 1 elements its views would silently wrap.
 */
export const MAX_ELEMENTS = 2 ** 31 - 1;

export function isDType(value: unknown): value is DType {
  return typeof value === "string" && Object.hasOwn(CONSTRUCTORS, value);
}

export function checkDType(value: unknown, name = "dtype"): DType {
  if (!isDType(value)) {
    throw new SabreTypeError(`${name} must be one of ${DTYPES.join(", ")}; got ${describe(value)}`);
  }
  return value;
}

export function isBigIntDType(dtype: DType): dtype is "bigint64" | "biguint64" {
  return dtype === "bigint64" || dtype === "biguint64";
}

export function bytesPerElement(dtype: DType): number {
  return CONSTRUCTORS[dtype].BYTES_PER_ELEMENT;
}

/** The dtype of a typed array, or undefined for anything else (DataView, Float16Array, plain arrays). */
export function dtypeOf(value: unknown): DType | undefined {
  if (!ArrayBuffer.isView(value)) return undefined;
  for (const dtype of DTYPES) {
    if (value.constructor === CONSTRUCTORS[dtype]) return dtype;
  }
  return undefined;
}

export function isTypedArray(value: unknown): value is TypedArray {
  return dtypeOf(value) !== undefined;
}
