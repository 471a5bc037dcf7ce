import { SabreTypeError } from "../errors.js";
import { collectGarbage } from "./collect.js";
import { describe } from "../validate.js";
import {
  CONSTRUCTORS,
  MAX_ELEMENTS,
  bytesPerElement,
  checkDType,
  dtypeOf,
  isBigIntDType,
  type DType,
  type DTypeMap,
  type NumberTypedArray,
  type TypedArray,
} from "./dtypes.js";
import { isNdArray, ndarray, type NdArray, type NdArrayOf } from "./ndarray-type.js";
import { BIGINT_RANGES, INT_RANGES, alwaysFits } from "./ranges.js";
import { eachIndex } from "./strided.js";
import { allocInSlab } from "./slab.js";
import { allocWasmMemory, memoryOf, type SharedWasmMemory } from "./wasm-memory.js";

/** A shape: a length for a 1-D array, or the length of each dimension. */
export type Shape = number | readonly number[];

/** Validates a shape and returns it as an array with its element count. @internal */
export function checkShape(shape: unknown, name = "shape"): { shape: number[]; size: number } {
  const dims = typeof shape === "number" ? [shape] : shape;
  if (!Array.isArray(dims)) {
    throw new SabreTypeError(`${name} must be a non-negative integer or an array of them, got ${describe(shape)}`);
  }
  let size = 1;
  for (let i = 0; i < dims.length; i++) {
    const d: unknown = dims[i];
    if (typeof d !== "number" || !Number.isInteger(d) || d < 0) {
      throw new SabreTypeError(`${name}[${i}] must be a non-negative integer, got ${describe(d)}`);
    }
    size *= d;
  }
  if (size > MAX_ELEMENTS) {
    throw new SabreTypeError(
      `${name} [${dims.join(", ")}] has ${size} elements; a shared array holds at most ${MAX_ELEMENTS} (2^31 - 1)`,
    );
  }
  return { shape: dims.slice() as number[], size };
}

/** Row-major strides for a shape. */
export function rowMajorStrides(shape: readonly number[]): number[] {
  const stride = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    stride[i] = s;
    s *= shape[i]!;
  }
  return stride;
}

/** Large allocations (at least LARGE_BYTES each) add up here; past NUDGE_BYTES a minor collection runs first. */
const LARGE_BYTES = 16 * 2 ** 20;
const NUDGE_BYTES = 256 * 2 ** 20;
let largeSinceNudge = 0;

/** Counts a large allocation (an array, or a slab opened: slab.ts) toward the next minor collection. */
function countLarge(bytes: number): void {
  largeSinceNudge += bytes;
  if (largeSinceNudge >= NUDGE_BYTES) {
    largeSinceNudge = 0;
    collectGarbage("minor");
  }
}

/**
 * Allocates a SharedArrayBuffer, turning the engine's RangeError into one that
 * names the size. With `wasm`, a large one is first tried as the buffer of a
 * shared WebAssembly.Memory (wasm-memory.ts; userTypedArray). After every 256 MiB of large allocations it first runs a
 * minor collection: a loop that makes a fresh output per call (a transform
 * without `out`) would otherwise keep every dropped output until V8 happened
 * to collect, which a thread allocating little rarely does (collect.ts).
 */
export function allocShared(bytes: number, wasm = false): SharedArrayBuffer {
  if (bytes >= LARGE_BYTES) countLarge(bytes);
  if (wasm) {
    const buffer = allocWasmMemory(bytes);
    if (buffer !== undefined) return buffer;
  }
  try {
    // A zero-length SAB is legal but some typed-array paths dislike it; keep 8 bytes minimum.
    return new SharedArrayBuffer(Math.max(bytes, 8));
  } catch (err) {
    throw new SabreTypeError(`cannot allocate a SharedArrayBuffer of ${bytes} bytes: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** A typed array of `length` elements over a new SharedArrayBuffer. */
export function sharedTypedArray<D extends DType>(dtype: D, length: number): DTypeMap[D] {
  const sab = allocShared(length * bytesPerElement(dtype));
  return new CONSTRUCTORS[dtype](sab, 0, length);
}

/**
 * A typed array for a user's array (shared.zeros/empty/full/from, readNpy),
 * over memory a WebAssembly kernel can read in place: from 16 MiB on, the
 * buffer of a shared WebAssembly.Memory of its own (wasm-memory.ts); from
 * 256 KiB, a region of a slab, a Memory shared with other medium arrays
 * (slab.ts, slab.md); else, or when no Memory can be made, a plain
 * SharedArrayBuffer. @internal
 */
export function userTypedArray<D extends DType>(dtype: D, length: number): DTypeMap[D] {
  const bytes = length * bytesPerElement(dtype);
  const region = allocInSlab(bytes, countLarge);
  if (region !== undefined) return new CONSTRUCTORS[dtype](region.buffer, region.byteOffset, length);
  const sab = allocShared(bytes, true);
  return new CONSTRUCTORS[dtype](sab, 0, length);
}

/**
 * True when two typed arrays share bytes. Arrays in one slab share a buffer
 * but never a byte, so an aliasing check must compare byte ranges, not
 * buffers (`a.buffer === b.buffer` refuses two distinct medium arrays). @internal
 */
export function sharesMemory(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

function make<D extends DType>(dtype: D, shape: Shape): NdArrayOf<D> {
  checkDType(dtype);
  const { shape: dims, size } = checkShape(shape);
  const data = userTypedArray(dtype, size);
  return ndarray(data, dims, rowMajorStrides(dims), 0);
}

/** True when the value (an ndarray or a typed array) lives in a SharedArrayBuffer. */
export function isShared(x: unknown): boolean {
  if (isNdArray(x)) return x.data.buffer instanceof SharedArrayBuffer;
  if (ArrayBuffer.isView(x)) return x.buffer instanceof SharedArrayBuffer;
  return x instanceof SharedArrayBuffer;
}

/**
 * Why `v` has no faithful value in a `dtype` array, or undefined when it has
 * one: a typed array would store 300 in a uint8 as 44, NaN in any integer
 * dtype as 0, and 2n ** 64n in a biguint64 as 0, so such a write is refused
 * (numpy raises for an out-of-range int and for NaN into an integer dtype)
 * rather than made. Fractions truncate, as numpy's casts do; uint8_clamped
 * clamps, which is its meaning, so only NaN is refused there.
 */
function misfit(dtype: DType, v: number | bigint): string | undefined {
  if (typeof v === "bigint") {
    if (!isBigIntDType(dtype)) return misfit(dtype, Number(v));
    const [lo, hi] = BIGINT_RANGES[dtype];
    return v < lo || v > hi ? `range [${lo}, ${hi}]` : undefined;
  }
  if (isBigIntDType(dtype)) {
    return Number.isInteger(v) ? misfit(dtype, BigInt(v)) : "it is not an integer";
  }
  if (dtype === "uint8_clamped") return Number.isNaN(v) ? "NaN has no uint8_clamped value" : undefined;
  const range = INT_RANGES[dtype];
  if (range === undefined || (v > range[0] - 1 && v < range[1] + 1)) return undefined;
  return Number.isNaN(v) ? `NaN has no integer value` : `range [${range[0]}, ${range[1]}]`;
}

function fillValue(dtype: DType, value: unknown): number | bigint {
  if (isBigIntDType(dtype)) {
    if (typeof value === "bigint") return value;
    if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
    throw new SabreTypeError(`a ${dtype} array needs a bigint (or an integer number) value, got ${describe(value)}`);
  }
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  throw new SabreTypeError(`a ${dtype} array needs a number value, got ${describe(value)}`);
}

/** Infers the shape of a nested number[] / number[][] literal, refusing ragged input. */
function nestedShape(source: unknown[]): number[] {
  const shape: number[] = [];
  let level: unknown = source;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  return shape;
}

function flattenNested(source: unknown[], shape: number[], out: TypedArray, dtype: DType): void {
  let pos = 0;
  const big = isBigIntDType(dtype);
  const walk = (node: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof node === "number" || typeof node === "bigint") {
        // Literals are walked one by one anyway, so each is checked where it is (the message can name its path).
        const why = misfit(dtype, node);
        if (why !== undefined) throw unfit(path, node, dtype, why);
        (out as { [i: number]: number | bigint })[pos++] = big ? BigInt(node) : Number(node);
        return;
      }
      throw new SabreTypeError(`source${path} must be a number${big ? " or bigint" : ""}, got ${describe(node)}`);
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      throw new SabreTypeError(
        `source${path} must be an array of length ${shape[depth]} (the input is ragged), got ${describe(node)}`,
      );
    }
    for (let i = 0; i < node.length; i++) walk(node[i], depth + 1, `${path}[${i}]`);
  };
  walk(source, 0, "");
}

function unfit(path: string, v: number | bigint, dtype: DType, why: string): SabreTypeError {
  return new SabreTypeError(`shared.from: source${path} = ${describe(v)} does not fit a ${dtype} array (${why})`);
}

/** The `[i][j]...` path of the k-th element (row-major) of an array of this shape. */
function pathOf(shape: readonly number[], k: number): string {
  let path = "";
  for (let ax = shape.length - 1; ax >= 0; ax--) {
    const n = shape[ax]!;
    path = `[${k % n}]` + path;
    k = Math.floor(k / n);
  }
  return path;
}

/** The source's elements as one typed-array run when they are row-major and contiguous, else undefined. */
function rowMajorRun(src: NdArray): TypedArray | undefined {
  let size = 1;
  for (let ax = src.shape.length - 1; ax >= 0; ax--) {
    if (src.shape[ax]! !== 1 && src.stride[ax] !== size) return undefined;
    size *= src.shape[ax]!;
  }
  return src.data.subarray(src.offset, src.offset + size) as TypedArray;
}

/** Throws (through `fail`) at the first element of `run` that a `to` array cannot hold. */
function checkRun(run: TypedArray, to: DType, fail: (k: number, v: number | bigint, why: string) => never): void {
  const range = INT_RANGES[to];
  const n = run.length;
  if (range !== undefined && !isBigIntDType(dtypeOf(run)!)) {
    const lo = range[0] - 1;
    const hi = range[1] + 1;
    const r = run as NumberTypedArray;
    for (let k = 0; k < n; k++) {
      const v = r[k]!;
      if (!(v > lo && v < hi)) fail(k, v, misfit(to, v)!);
    }
    return;
  }
  const r = run as { [i: number]: number | bigint };
  for (let k = 0; k < n; k++) {
    const why = misfit(to, r[k]!);
    if (why !== undefined) fail(k, r[k]!, why);
  }
}

/**
 * Copies an ndarray of any strides into a row-major typed array, converting
 * the dtype. This is a hot path (10^7-10^8 elements), so the per-element
 * range check runs only for the pairs that {@link alwaysFits} says need one,
 * with the bounds in locals; a float target costs nothing extra.
 */
function copyStrided(src: NdArray, out: TypedArray): void {
  const data = src.data as { [i: number]: number | bigint };
  const o = out as { [i: number]: number | bigint };
  const to = dtypeOf(out)!;
  const from = dtypeOf(src.data)!;
  const fail = (k: number, v: number | bigint, why: string): never => {
    throw unfit(pathOf(src.shape, k), v, to, why);
  };
  const fits = alwaysFits(from, to);
  const flat = rowMajorRun(src);
  if (flat !== undefined && isBigIntDType(from) === isBigIntDType(to)) {
    // A row-major source of the same kind: the engine's typed-array set() converts as element
    // assignment does, in native code; when values may not fit, one tight scan runs first.
    if (!fits) checkRun(flat, to, fail);
    (out as { set(a: ArrayLike<number | bigint>): void }).set(flat as ArrayLike<number | bigint>);
    return;
  }
  if (fits) {
    const conv = isBigIntDType(from) === isBigIntDType(to) ? undefined : Number;
    if (conv === undefined) {
      eachIndex(src, (p, k) => {
        o[k] = data[p]!;
      });
    } else {
      eachIndex(src, (p, k) => {
        o[k] = conv(data[p]!);
      });
    }
    return;
  }
  const range = INT_RANGES[to];
  if (range !== undefined && !isBigIntDType(from)) {
    // The common case (float64 -> int32): one compare pair per element, which NaN also fails.
    const lo = range[0] - 1;
    const hi = range[1] + 1;
    const d = data as { [i: number]: number };
    eachIndex(src, (p, k) => {
      const v = d[p]!;
      if (!(v > lo && v < hi)) fail(k, v, misfit(to, v)!);
      o[k] = v;
    });
    return;
  }
  // The rare pairs (bigints in or out, NaN into uint8_clamped): the general check.
  const big = isBigIntDType(to);
  eachIndex(src, (p, k) => {
    const v = data[p]!;
    const why = misfit(to, v);
    if (why !== undefined) fail(k, v, why);
    o[k] = big ? BigInt(v) : Number(v);
  });
}

/** Options of {@link shared}`.from`. */
export interface FromOptions<D extends DType> {
  /** The dtype of the copy; defaults to the source's (float64 for plain number arrays, bigint64 for bigint arrays). */
  dtype?: D;
  /** A shape for the copy; must have the source's element count. Defaults to the source's shape. */
  shape?: Shape;
}

/** What {@link shared}`.from` copies: a typed array, a (nested) number or bigint array, or an ndarray of any strides. */
export type FromSource = TypedArray | readonly number[] | readonly (readonly unknown[])[] | readonly bigint[] | NdArray;

/**
 * A shared copy of `source`: a typed array, a (nested) number array, or an
 * ndarray of any strides. `dtype` defaults to the source's (float64 for plain
 * arrays); `shape` reshapes a flat source and must match its element count.
 *
 * @throws {@link SabreTypeError} (`ERR_SABRE_TYPE`) for an unknown source
 * or dtype, a ragged nested array, or a shape of another element count
 */
export function from<D extends DType = DType>(source: FromSource, options: FromOptions<D> = {}): NdArrayOf<D> {
  if (typeof options !== "object" || options === null) {
    throw new SabreTypeError(`options must be an object, got ${describe(options)}`);
  }
  let srcShape: number[];
  let dtype: DType;
  let fill: (out: TypedArray) => void;
  if (isNdArray(source)) {
    srcShape = source.shape.slice();
    dtype = options.dtype ?? dtypeOf(source.data) ?? "float64";
    fill = (out) => copyStrided(source, out);
  } else if (ArrayBuffer.isView(source)) {
    const srcType = dtypeOf(source);
    if (!srcType) throw new SabreTypeError(`source must be a typed array of a known dtype, got ${describe(source)}`);
    srcShape = [(source as TypedArray).length];
    dtype = options.dtype ?? srcType;
    fill = (out) => copyStrided(ndarray(source as TypedArray, srcShape), out);
  } else if (Array.isArray(source)) {
    srcShape = nestedShape(source);
    const first = srcShape.length > 0 && srcShape.every((n) => n > 0) ? leaf(source) : undefined;
    dtype = options.dtype ?? (typeof first === "bigint" ? "bigint64" : "float64");
    fill = (out) => flattenNested(source, srcShape, out, dtype);
  } else {
    throw new SabreTypeError(`source must be a typed array, an array or an ndarray, got ${describe(source)}`);
  }
  checkDType(dtype);
  const { size } = checkShape(srcShape, "source shape");
  let shape = srcShape;
  if (options.shape !== undefined) {
    const target = checkShape(options.shape, "options.shape");
    if (target.size !== size) {
      throw new SabreTypeError(
        `options.shape [${target.shape.join(", ")}] has ${target.size} elements but the source has ${size}`,
      );
    }
    shape = target.shape;
  }
  const data = userTypedArray(dtype, size);
  // Also throws SabreTypeError for a value the dtype cannot hold (300 or NaN into an integer dtype),
  // naming the first one and its index (see misfit); fractions truncate, as numpy's casts do.
  fill(data);
  return ndarray(data, shape, rowMajorStrides(shape), 0) as NdArrayOf<D>;
}

function leaf(source: unknown[]): unknown {
  let v: unknown = source;
  while (Array.isArray(v)) v = v[0];
  return v;
}

/**
 * Makes sure a user's array lives in shared memory: shared ndarrays pass
 * through untouched; typed arrays, ndarrays and (nested) number arrays are
 * copied once. Used by every built-in that takes user data.
 */
export function toShared(x: unknown, name: string, dtype?: DType): NdArray {
  if (isNdArray(x) && isShared(x) && (dtype === undefined || dtypeOf(x.data) === dtype)) return x;
  if (isNdArray(x) || ArrayBuffer.isView(x) || Array.isArray(x)) {
    return from(x as FromSource, dtype ? { dtype } : {});
  }
  throw new SabreTypeError(`${name} must be an ndarray, a typed array or a nested number array, got ${describe(x)}`);
}

/**
 * Shared ndarray constructors: every array they make lives in a new
 * SharedArrayBuffer, so it can be passed to workers (kernel args,
 * `serialize`) without a copy. Bad dtypes or shapes throw
 * {@link SabreTypeError} (`ERR_SABRE_TYPE`).
 *
 * @example
 * ```ts
 * import { shared } from "sabre";
 * const X = shared.zeros("float32", [1000, 784]);
 * const y = shared.from([0, 1, 1, 0], { dtype: "int32" });
 * X.set(0, 0, 1.5);
 * shared.isShared(X); // true
 * ```
 */
export const shared = {
  /** A new shared ndarray filled with zeros. */
  zeros<D extends DType>(dtype: D, shape: Shape): NdArrayOf<D> {
    return make(dtype, shape);
  },
  /** A new shared ndarray. SharedArrayBuffers are always zeroed, so this is `zeros` under another name. */
  empty<D extends DType>(dtype: D, shape: Shape): NdArrayOf<D> {
    return make(dtype, shape);
  },
  /** A new shared ndarray with every element set to `value`. */
  full<D extends DType>(dtype: D, shape: Shape, value: number | bigint): NdArrayOf<D> {
    checkDType(dtype);
    const v = fillValue(dtype, value);
    // A value no element can hold is refused instead of filling the whole array with another number.
    const why = misfit(dtype, v);
    if (why !== undefined) throw new SabreTypeError(`shared.full: value ${describe(value)} does not fit a ${dtype} array (${why})`);
    const arr = make(dtype, shape);
    (arr.data as { fill(v: number | bigint): unknown }).fill(v);
    return arr;
  },
  /**
   * A shared copy of `source`: a typed array, a (nested) number array, or an
   * ndarray of any strides. `dtype` defaults to the source's (float64 for
   * plain arrays); `shape` reshapes a flat source and must match its element count.
   * Into an integer dtype, fractions truncate toward zero as numpy's casts do,
   * but a value the dtype cannot hold (300 or -1 into uint8, NaN, 3e9 into
   * int32) is a SabreTypeError naming the value and its index, never a
   * wrapped number; uint8_clamped clamps.
   */
  from,
  /** True when the value (an ndarray or a typed array) lives in a SharedArrayBuffer. */
  isShared,
  /**
   * The shared `WebAssembly.Memory` an array lives in, or undefined. Arrays of
   * 16 MiB or more made by zeros/empty/full/from (and readNpy) get one of
   * their own; arrays of 256 KiB up to 16 MiB share one (a 64 MiB slab) with
   * other such arrays, each at its own 64-byte aligned `data.byteOffset`;
   * smaller ones, or any where a Memory cannot be made, live in a plain
   * SharedArrayBuffer. serialize carries the Memory to other threads with the
   * array, so a kernel can instantiate its own WebAssembly module over it
   * and read the array in place at `data.byteOffset`. A live array keeps its
   * whole slab alive: at worst 64 MiB for one 256 KiB array.
   */
  wasmMemory(x: NdArray | TypedArray): SharedWasmMemory | undefined {
    if (!isNdArray(x) && !ArrayBuffer.isView(x)) {
      throw new SabreTypeError(`shared.wasmMemory: x must be an ndarray or a typed array, got ${describe(x)}`);
    }
    return memoryOf(isNdArray(x) ? x.data.buffer : x.buffer);
  },
};
