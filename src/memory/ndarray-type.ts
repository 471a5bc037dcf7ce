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
  readonly data: T;
  readonly shape: number[];
  readonly stride: number[];
  readonly offset: number;
  readonly dtype: DType;
  readonly size: number;
  readonly order: number[];
  readonly dimension: number;
  get(...index: number[]): Element<T>;
  set(...indexThenValue: Array<number | bigint>): Element<T>;
  index(...index: number[]): number;
  lo(...index: Array<number | null | undefined>): NdArray<T>;
  hi(...index: Array<number | null | undefined>): NdArray<T>;
  step(...step: Array<number | null | undefined>): NdArray<T>;
  transpose(...axes: number[]): NdArray<T>;
  pick(...index: Array<number | null | undefined>): NdArray<T>;
}
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
