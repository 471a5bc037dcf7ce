import { SabreTypeError } from "../errors.js";
import { describe } from "../validate.js";

/** Element types, named as scijs ndarray names them. */
export interface DTypeMap {
  /** Float32Array. */
  float32: Float32Array;
  /** Float64Array. */
  float64: Float64Array;
  /** Int8Array. */
  int8: Int8Array;
  /** Int16Array. */
  int16: Int16Array;
  /** Int32Array. */
  int32: Int32Array;
  /** Uint8Array. */
  uint8: Uint8Array;
  /** Uint16Array. */
  uint16: Uint16Array;
  /** Uint32Array. */
  uint32: Uint32Array;
  /** Uint8ClampedArray (stores clamp to 0..255). */
  uint8_clamped: Uint8ClampedArray;
  /** BigInt64Array (elements are bigints). */
  bigint64: BigInt64Array;
  /** BigUint64Array (elements are bigints). */
  biguint64: BigUint64Array;
}
/** An element type name: "float32", "float64", "int8", "int16", "int32", "uint8", "uint16", "uint32", "uint8_clamped", "bigint64" or "biguint64". */
export type DType = keyof DTypeMap;
/** Any typed array sabre stores: one of {@link DTypeMap}'s values. */
export type TypedArray = DTypeMap[DType];
/** The dtypes whose elements are JS numbers (everything but the 64-bit integer ones). */
export type NumberDType = Exclude<DType, "bigint64" | "biguint64">;
/** A typed array whose elements are JS numbers. */
export type NumberTypedArray = DTypeMap[NumberDType];

type TypedArrayConstructor<T extends TypedArray> = {
  new (length: number): T;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
};

/** The typed-array constructor of each dtype. @internal */
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

/** Every dtype name, in a fixed order. */
export const DTYPES = Object.keys(CONSTRUCTORS) as readonly DType[];

/**
 * The most elements one shared array may have. ndarray computes view offsets
 * with `|0`, so beyond 2^31 - 1 elements its views would silently wrap.
 */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/** Whether `value` is a dtype name. */
export function isDType(value: unknown): value is DType {
  return typeof value === "string" && Object.hasOwn(CONSTRUCTORS, value);
}

/**
 * `value` as a dtype name.
 * @param name - what to call the value in the error message
 * @throws {@link SabreTypeError} (`ERR_SABRE_TYPE`) when it is not one
 */
export function checkDType(value: unknown, name = "dtype"): DType {
  if (!isDType(value)) {
    throw new SabreTypeError(`${name} must be one of ${DTYPES.join(", ")}; got ${describe(value)}`);
  }
  return value;
}

/** Whether the dtype's elements are bigints (bigint64, biguint64). */
export function isBigIntDType(dtype: DType): dtype is "bigint64" | "biguint64" {
  return dtype === "bigint64" || dtype === "biguint64";
}

/** The size of one element of the dtype, in bytes. */
export function bytesPerElement(dtype: DType): number {
  return CONSTRUCTORS[checkDType(dtype)].BYTES_PER_ELEMENT;
}

/** The dtype of a typed array, or undefined for anything else (DataView, Float16Array, plain arrays). */
export function dtypeOf(value: unknown): DType | undefined {
  if (!ArrayBuffer.isView(value)) return undefined;
  for (const dtype of DTYPES) {
    if (value.constructor === CONSTRUCTORS[dtype]) return dtype;
  }
  return undefined;
}

/** Whether `value` is a typed array of one of the dtypes (not a DataView, not a Float16Array). */
export function isTypedArray(value: unknown): value is TypedArray {
  return dtypeOf(value) !== undefined;
}
