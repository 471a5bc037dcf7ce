import ndarrayLib from "ndarray";
import type { DType, DTypeMap, TypedArray } from "./dtypes.js";

type Element<T extends TypedArray> = T extends BigInt64Array | BigUint64Array ? bigint : number;

/**
 * A scijs ndarray over a typed array: the one view abstraction sabre builds
 * on. Shared ones have a SharedArrayBuffer behind `data`. Declared here (not
 * taken from @types/ndarray) so that typed arrays over SharedArrayBuffers type
 * check and `get` returns bigint for the 64-bit integer dtypes.
 */
export interface NdArray<T extends TypedArray = TypedArray> {
  /** The typed array holding the elements (a view may use only part of it). */
  readonly data: T;
  /** The length of each dimension. */
  readonly shape: number[];
  /** Elements to step in `data` per unit of each index. */
  readonly stride: number[];
  /** Position in `data` of element [0, 0, ...]. */
  readonly offset: number;
  /** The element type name. */
  readonly dtype: DType;
  /** The number of elements (the product of `shape`). */
  readonly size: number;
  /** The dimensions ordered from the smallest stride to the largest. */
  readonly order: number[];
  /** The number of dimensions. */
  readonly dimension: number;
  /** The element at `index` (one number per dimension). */
  get(...index: number[]): Element<T>;
  /** Writes the last argument at the index given by the others; returns it. */
  set(...indexThenValue: Array<number | bigint>): Element<T>;
  /** The position in `data` of the element at `index`. */
  index(...index: number[]): number;
  /** A view starting at `index` (null or undefined keeps a dimension whole). No copy. */
  lo(...index: Array<number | null | undefined>): NdArray<T>;
  /** A view ending before `index` (null or undefined keeps a dimension whole). No copy. */
  hi(...index: Array<number | null | undefined>): NdArray<T>;
  /** A view taking every `step`-th element of each dimension (negative reverses). No copy. */
  step(...step: Array<number | null | undefined>): NdArray<T>;
  /** A view with the dimensions permuted. No copy. */
  transpose(...axes: number[]): NdArray<T>;
  /** A view fixing the dimensions given a number (null or undefined keeps one). No copy. */
  pick(...index: Array<number | null | undefined>): NdArray<T>;
}
/** An ndarray of the dtype `D`, e.g. `NdArrayOf<"float32">`. */
export type NdArrayOf<D extends DType> = NdArray<DTypeMap[D]>;

/** scijs ndarray's constructor, typed for sabre's arrays. */
export const ndarray = ndarrayLib as unknown as <T extends TypedArray>(
  data: T,
  shape?: readonly number[],
  stride?: readonly number[],
  offset?: number,
) => NdArray<T>;

/** Duck-typed: anything with ndarray's fields over a typed array (ndarray instances from any copy of the package). */
export function isNdArray(value: unknown): value is NdArray {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Partial<NdArray>;
  return (
    ArrayBuffer.isView(v.data) &&
    Array.isArray(v.shape) &&
    Array.isArray(v.stride) &&
    typeof v.offset === "number" &&
    typeof (v as { get?: unknown }).get === "function"
  );
}
