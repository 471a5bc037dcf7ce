import { SabreTypeError } from "../errors.js";
import { isNdArray, type NdArray } from "../memory/ndarray-type.js";
import { describe } from "../validate.js";

/*
 * Atomic read-modify-write on float64 / float32 elements of shared memory,
 * which Atomics does not offer for floats. Each operation is a
 * compare-and-swap loop on the element's bits through an integer view
 * (BigInt64Array / Int32Array) over the same SharedArrayBuffer, so it is
 * atomic with respect to every other sabre float atomic on that element
 * (plain, non-atomic writes to the same element may be lost, as usual).
 *
 * Targets: a Float64Array (Float32Array) over a SharedArrayBuffer, or a
 * shared ndarray of dtype float64 (float32). For an ndarray, `index` is an
 * index into its `data` (what `a.index(i, j, ...)` returns), so views with
 * offsets and strides work: `atomicAddFloat64(a, a.index(i, j), v)`.
 *
 * Semantics, element by element:
 * - add: IEEE addition, as `x[i] += value` would do (float32: the sum
 *   rounded to float32). NaN is contagious; Infinity + -Infinity is NaN;
 *   -0 + -0 is -0, -0 + 0 is 0.
 * - min / max: as Math.min / Math.max: NaN in either operand gives NaN (and
 *   stays: a NaN element absorbs every later min/max), and -0 < +0.
 * - All return the element's previous value. An operation that would not
 *   change the element (max with a smaller value, add of 0 to a nonzero
 *   value, anything onto NaN) does not write it.
 *
 * @example
 * ```ts
 * const acc = shared.zeros("float64", [nClasses]);
 * // in each worker:
 * for (const row of myRows) atomicAddFloat64(acc, label[row], weight[row]);
 * const best = shared.full("float64", 1, -Infinity);
 * atomicMaxFloat64(best, 0, myScore);
 * ```
 */

/** A float64 target: a Float64Array over shared memory or a shared float64 ndarray. */
export type Float64Target = Float64Array | NdArray<Float64Array>;
/** A float32 target: a Float32Array over shared memory or a shared float32 ndarray. */
export type Float32Target = Float32Array | NdArray<Float32Array>;

const ADD = 0;
const MIN = 1;
const MAX = 2;
type Op = typeof ADD | typeof MIN | typeof MAX;

// Per-thread scratch space converting a float to its bits and back.
const f64 = new Float64Array(1);
const b64 = new BigInt64Array(f64.buffer);
const f32 = new Float32Array(1);
const b32 = new Int32Array(f32.buffer);

// One integer view per SharedArrayBuffer (created on first use, collected with the buffer).
const views64 = new WeakMap<SharedArrayBuffer, BigInt64Array>();
const views32 = new WeakMap<SharedArrayBuffer, Int32Array>();

function resolve(
  fn: string,
  target: unknown,
  index: unknown,
  Ctor: Float64ArrayConstructor | Float32ArrayConstructor,
): { data: Float64Array | Float32Array; pos: number } {
  const dtype = Ctor === Float64Array ? "float64" : "float32";
  let data: unknown = target;
  if (isNdArray(target)) data = target.data;
  else if (!ArrayBuffer.isView(target)) {
    throw new SabreTypeError(`${fn}: array must be a ${Ctor.name} or a ${dtype} ndarray over shared memory, got ${describe(target)}`);
  }
  if (!(data instanceof Ctor)) {
    throw new SabreTypeError(`${fn}: array must hold ${dtype} elements (a ${Ctor.name}), got ${describe(data)}`);
  }
  if (!(data.buffer instanceof SharedArrayBuffer)) {
    throw new SabreTypeError(
      `${fn}: array is over non-shared memory, where atomics mean nothing across threads; use shared.from(...) to put it in shared memory`,
    );
  }
  if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= data.length) {
    throw new SabreTypeError(`${fn}: index must be an integer in [0, ${data.length - 1}] (an index into the data), got ${describe(index)}`);
  }
  return { data, pos: data.byteOffset / Ctor.BYTES_PER_ELEMENT + index };
}

function checkValue(fn: string, value: unknown): number {
  if (typeof value !== "number") throw new SabreTypeError(`${fn}: value must be a number, got ${describe(value)}`);
  return value;
}

function view64(fn: string, array: unknown, index: unknown): { view: BigInt64Array; pos: number } {
  const { data, pos } = resolve(fn, array, index, Float64Array);
  const sab = data.buffer as SharedArrayBuffer;
  let view = views64.get(sab);
  if (!view || view.length <= pos) {
    view = new BigInt64Array(sab); // a growable buffer may have grown since the view was made
    views64.set(sab, view);
  }
  return { view, pos };
}

function view32(fn: string, array: unknown, index: unknown): { view: Int32Array; pos: number } {
  const { data, pos } = resolve(fn, array, index, Float32Array);
  const sab = data.buffer as SharedArrayBuffer;
  let view = views32.get(sab);
  if (!view || view.length <= pos) {
    view = new Int32Array(sab);
    views32.set(sab, view);
  }
  return { view, pos };
}

function apply(op: Op, old: number, value: number): number {
  return op === ADD ? old + value : op === MIN ? Math.min(old, value) : Math.max(old, value);
}

function update64(fn: string, op: Op, array: unknown, index: unknown, value: unknown): number {
  const v = checkValue(fn, value);
  const { view, pos } = view64(fn, array, index);
  let bits = Atomics.load(view, pos);
  for (;;) {
    b64[0] = bits;
    const old = f64[0]!;
    const next = apply(op, old, v);
    if (Object.is(next, old)) return old;
    f64[0] = next;
    const seen = Atomics.compareExchange(view, pos, bits, b64[0]!);
    if (seen === bits) return old;
    bits = seen;
  }
}

function update32(fn: string, op: Op, array: unknown, index: unknown, value: unknown): number {
  const v = checkValue(fn, value);
  const { view, pos } = view32(fn, array, index);
  let bits = Atomics.load(view, pos);
  for (;;) {
    b32[0] = bits;
    const old = f32[0]!;
    const next = Math.fround(apply(op, old, v));
    if (Object.is(next, old)) return old;
    f32[0] = next;
    const seen = Atomics.compareExchange(view, pos, bits, b32[0]!);
    if (seen === bits) return old;
    bits = seen;
  }
}

/**
 * Atomically `array[index] += value` on a float64 element; returns the
 * previous value. `array` is a Float64Array over a SharedArrayBuffer or a
 * shared float64 ndarray (then `index` indexes its data: `a.index(i, j)`).
 * IEEE semantics: NaN is contagious, -0 + 0 is 0. Friends: atomicMin/Max/
 * Load/Store/ExchangeFloat64 and the Float32 twins.
 *
 * @example
 * ```ts
 * const sums = shared.zeros("float64", [nClasses]);
 * // in each worker:
 * for (let r = start; r < end; r++) atomicAddFloat64(sums, labels[r], weights[r]);
 * ```
 */
export function atomicAddFloat64(array: Float64Target, index: number, value: number): number {
  return update64("atomicAddFloat64", ADD, array, index, value);
}

/** Atomically `array[index] = Math.min(array[index], value)` on a float64 element; returns the previous value. */
export function atomicMinFloat64(array: Float64Target, index: number, value: number): number {
  return update64("atomicMinFloat64", MIN, array, index, value);
}

/** Atomically `array[index] = Math.max(array[index], value)` on a float64 element; returns the previous value. */
export function atomicMaxFloat64(array: Float64Target, index: number, value: number): number {
  return update64("atomicMaxFloat64", MAX, array, index, value);
}

/** Reads a float64 element atomically (never a torn mix of two writes). */
export function atomicLoadFloat64(array: Float64Target, index: number): number {
  const { view, pos } = view64("atomicLoadFloat64", array, index);
  b64[0] = Atomics.load(view, pos);
  return f64[0]!;
}

/** Writes a float64 element atomically; returns the value written. */
export function atomicStoreFloat64(array: Float64Target, index: number, value: number): number {
  const v = checkValue("atomicStoreFloat64", value);
  const { view, pos } = view64("atomicStoreFloat64", array, index);
  f64[0] = v;
  Atomics.store(view, pos, b64[0]!);
  return v;
}

/** Replaces a float64 element atomically; returns the previous value. */
export function atomicExchangeFloat64(array: Float64Target, index: number, value: number): number {
  const v = checkValue("atomicExchangeFloat64", value);
  const { view, pos } = view64("atomicExchangeFloat64", array, index);
  f64[0] = v;
  b64[0] = Atomics.exchange(view, pos, b64[0]!);
  return f64[0]!;
}

/** Atomically `array[index] += value` on a float32 element (the sum rounded to float32); returns the previous value. */
export function atomicAddFloat32(array: Float32Target, index: number, value: number): number {
  return update32("atomicAddFloat32", ADD, array, index, value);
}

/** Atomically `array[index] = Math.min(array[index], value)` on a float32 element; returns the previous value. */
export function atomicMinFloat32(array: Float32Target, index: number, value: number): number {
  return update32("atomicMinFloat32", MIN, array, index, value);
}

/** Atomically `array[index] = Math.max(array[index], value)` on a float32 element; returns the previous value. */
export function atomicMaxFloat32(array: Float32Target, index: number, value: number): number {
  return update32("atomicMaxFloat32", MAX, array, index, value);
}

/** Reads a float32 element atomically. */
export function atomicLoadFloat32(array: Float32Target, index: number): number {
  const { view, pos } = view32("atomicLoadFloat32", array, index);
  b32[0] = Atomics.load(view, pos);
  return f32[0]!;
}

/** Writes a float32 element atomically (rounded to float32); returns the value stored. */
export function atomicStoreFloat32(array: Float32Target, index: number, value: number): number {
  const v = checkValue("atomicStoreFloat32", value);
  const { view, pos } = view32("atomicStoreFloat32", array, index);
  f32[0] = v;
  Atomics.store(view, pos, b32[0]!);
  return f32[0]!;
}

/** Replaces a float32 element atomically (the new value rounded to float32); returns the previous value. */
export function atomicExchangeFloat32(array: Float32Target, index: number, value: number): number {
  const v = checkValue("atomicExchangeFloat32", value);
  const { view, pos } = view32("atomicExchangeFloat32", array, index);
  f32[0] = v;
  b32[0] = Atomics.exchange(view, pos, b32[0]!);
  return f32[0]!;
}
