// ops.map: numpy's elementwise functions (and user kernels) over shared
// ndarrays of any strides, with numpy broadcasting for the binary ones.
import { SabreTypeError } from "../errors.js";
import { isDType, type NumberDType } from "../memory/dtypes.js";
import { isNdArray, type NdArray } from "../memory/ndarray-type.js";
import { isShared, rowMajorStrides, shared, sharesMemory } from "../memory/shared.js";
import { eachIndex } from "../memory/strided.js";
import { describe } from "../validate.js";
import { runMap, type MapArgs } from "../../kernels/ops/map-loops.js";
import { BINARY, BUILTINS, UNARY_FLOAT, canStore, isBuiltin, isFloat, promote, promoteScalar, resultDType, type MapFunction } from "./map-dtypes.js";
import { broadcastShapes, mergeAxes, sameElements, stridesFor } from "./map-layout.js";
import { checkOptions, engineFor, throwIfAborted, type OpOptions } from "./options.js";
import { numberDType, opInput, type OpArray } from "./input.js";

export type { MapFunction } from "./map-dtypes.js";

/** Options of ops.map. Which keys apply depends on the function. */
export interface MapOptions extends OpOptions {
  /**
   * Where to write the result: a shared ndarray of the result's shape (any
   * strides; it may be `x` itself). Its dtype must hold the result under
   * numpy's "same_kind" casting: a float result never goes into an integer
   * out, nor a signed result into an unsigned one (uint8_clamped saturates,
   * so it takes any integer result); a narrower out of the same kind wraps,
   * as in numpy.
   */
  out?: NdArray;
  /** The second operand of a binary function: a number, or an array that broadcasts against x. */
  other?: number | OpArray;
  /** clip: the lower bound (default -Infinity). */
  min?: number;
  /** clip: the upper bound (default Infinity). */
  max?: number;
  /** User kernels only: the dtype of a new `out` (default: x's). */
  dtype?: NumberDType;
  /** User kernels only: any other key is passed to the kernel with x and out. */
  [param: string]: unknown;
}

/**
 * Below this many elements a built-in map runs on the calling thread.
 * Measured here (2 cores shared, load ~1.3): a no-op parallelFor took a
 * median 145 us, an inline "add" 1.7 ns per element and "exp" 8.7 ns; so
 * cheap arithmetic stays inline up to 32k elements, the transcendental
 * functions (UNARY_FLOAT, ~5x the cost) up to 8k.
 */
const MAP_INLINE_ELEMENTS = 32_768;
const MAP_INLINE_TRANSCENDENTAL = 8_192;

const fmt = (shape: readonly number[]): string => `[${shape.join(", ")}]`;

/**
 * Applies `fn` elementwise to x and resolves to the result (a new shared
 * ndarray, or `out`).
 *
 * ```ts
 * await ops.map(x, "sqrt");
 * await ops.map(x, "add", { other: 2 });                 // x + 2
 * await ops.map(X, "sub", { other: rowMeans, out: X });  // broadcasting, in place
 * await ops.map(x, "clip", { min: 0, max: 1 });
 * await ops.map(x, "myKernel", { engine, scale: 3 });    // a user kernel (see README)
 * ```
 *
 * Built-ins (numpy's names and semantics): unary sqrt, exp, log, log1p,
 * expm1, abs, neg, square, sin, cos, tanh, floor, ceil, round (half to
 * even), sign, sigmoid; binary add, sub, mul, div, pow, maximum, minimum
 * with `{ other }`; clip with `{ min, max }`. Any other string names a
 * kernel the engine loaded.
 */
export async function map(x: OpArray, fn: string, options?: MapOptions): Promise<NdArray> {
  if (typeof fn !== "string") {
    throw new SabreTypeError(`ops.map: fn must be a function name (a string), got ${describe(fn)}`);
  }
  if (!isBuiltin(fn)) return mapUserKernel(x, fn, options);
  const allowed = (BINARY as readonly string[]).includes(fn) ? ["out", "other"] : fn === "clip" ? ["out", "min", "max"] : ["out"];
  const opts = checkOptions<MapOptions>("map", options, allowed);
  const a = opInput("map", x);
  const plan = planBuiltin(fn, a, opts);
  const inline = (UNARY_FLOAT as readonly string[]).includes(fn) ? MAP_INLINE_TRANSCENDENTAL : MAP_INLINE_ELEMENTS;
  const engine = plan.size >= inline ? await engineFor(opts) : undefined;
  if (!plan.args) return plan.result;
  if (!engine) {
    throwIfAborted("map", opts.signal);
    runMap(plan.args, 0, plan.size);
  } else {
    const args = plan.args;
    await engine.parallelForLocal(plan.size, "sabre.ops.map", args as unknown as Record<string, unknown>, { signal: opts.signal }, (s, e) => {
      runMap(args, s, e);
      return undefined;
    });
  }
  return plan.result;
}

interface Plan {
  /** Absent when the result is empty (nothing to run). */
  args?: MapArgs;
  size: number;
  result: NdArray;
}

function checkScalar(name: string, v: unknown): number {
  if (typeof v !== "number") throw new SabreTypeError(`ops.map: ${name} must be a number, got ${describe(v)}`);
  return v;
}

function planBuiltin(fn: MapFunction, x: NdArray, opts: MapOptions): Plan {
  const xd = numberDType(x);
  let other: NdArray | null = null;
  let scalar = 0;
  let lo = -Infinity;
  let hi = Infinity;
  let shape = x.shape.slice();
  let combined: NumberDType = xd;
  if ((BINARY as readonly string[]).includes(fn)) {
    if (opts.other === undefined) {
      throw new SabreTypeError(`ops.map: "${fn}" needs { other }: a number or an array that broadcasts against x`);
    }
    if (typeof opts.other === "number") {
      scalar = opts.other;
      combined = promoteScalar(fn, xd, scalar, "other");
    } else {
      other = opInput("map", opts.other, "other");
      shape = broadcastShapes("map", x.shape, other.shape, ["x", "other"]);
      combined = promote(xd, numberDType(other));
    }
    if (fn === "pow" && !isFloat(combined) && (other === null ? scalar < 0 : false)) {
      throw new SabreTypeError(`ops.map: integers to negative integer powers are not allowed (as numpy); use a float array or a float exponent`);
    }
  } else if (fn === "clip") {
    if (opts.min === undefined && opts.max === undefined) {
      throw new SabreTypeError(`ops.map: "clip" needs { min } or { max } (or both)`);
    }
    if (opts.min !== undefined) lo = checkScalar("min", opts.min);
    if (opts.max !== undefined) hi = checkScalar("max", opts.max);
    // An integer array keeps its dtype when the bounds are integers (or absent); otherwise float64.
    if (!isFloat(xd) && !((Number.isInteger(lo) || lo === -Infinity) && (Number.isInteger(hi) || hi === Infinity))) combined = "float64";
  }
  const dtype = resultDType(fn, combined);
  const out = opts.out === undefined ? shared.empty(dtype, shape) : checkOut(opts.out, shape, dtype);
  const size = shape.reduce((p, n) => p * n, 1);
  if (size === 0) return { size, result: out };

  let xv = x;
  let ov = other;
  let xs = stridesFor(xv, shape);
  let bs = ov ? stridesFor(ov, shape) : new Array<number>(shape.length).fill(0);
  const outStrides = out.stride.slice();
  // out may be x itself (same elements in the same order: each output reads only its own
  // input); any other overlap would read already-written elements, so read from a copy.
  if (overlaps(out, xv) && !sameElements(out, outStrides, xv, xs)) {
    xv = shared.from(xv);
    xs = stridesFor(xv, shape);
  }
  if (ov && overlaps(out, ov) && !sameElements(out, outStrides, ov, bs)) {
    ov = shared.from(ov);
    bs = stridesFor(ov, shape);
  }
  const walk = mergeAxes(shape, ov ? [xs, outStrides, bs] : [xs, outStrides]);
  const args: MapArgs = {
    fn,
    x: xv,
    xs: walk.strides[0]!,
    other: ov,
    bs: ov ? walk.strides[2]! : new Array<number>(walk.shape.length).fill(0),
    scalar,
    lo,
    hi,
    out,
    os: walk.strides[1]!,
    shape: walk.shape,
    intMath: !isFloat(dtype) && !(UNARY_FLOAT as readonly string[]).includes(fn),
    wrap: !isFloat(dtype) && out.dtype !== dtype ? dtype : null,
  };
  return { args, size, result: out };
}

function overlaps(a: NdArray, b: NdArray): boolean {
  return sharesMemory(a.data, b.data);
}

/** Checks a user's out; `dtype` null accepts any number dtype. */
function checkOut(out: unknown, shape: readonly number[], dtype: NumberDType | null): NdArray {
  if (!isNdArray(out) || !isShared(out)) {
    throw new SabreTypeError(`ops.map: out must be a shared ndarray (shared.empty(...)), got ${describe(out)}`);
  }
  if (out.shape.length !== shape.length || out.shape.some((n, i) => n !== shape[i])) {
    throw new SabreTypeError(`ops.map: out has shape ${fmt(out.shape)} but the result has shape ${fmt(shape)}`);
  }
  const od = out.dtype;
  if (od === "bigint64" || od === "biguint64" || (dtype !== null && !canStore(dtype, od))) {
    const why =
      dtype !== null && !isFloat(dtype) && od !== "bigint64" && od !== "biguint64"
        ? "a signed result cannot go into an unsigned out, as in numpy's same_kind casting: -1 would be stored as its two's complement; pass a signed or float out"
        : "a float result cannot go into an integer out";
    throw new SabreTypeError(`ops.map: out has dtype ${od} but the result is ${dtype ?? "a number dtype"} (${why})`);
  }
  for (let i = 0; i < shape.length; i++) {
    if (out.stride[i] === 0 && shape[i]! > 1) {
      throw new SabreTypeError(`ops.map: out has stride 0 on axis ${i}: several results would go to one element`);
    }
  }
  return out;
}

/**
 * A user kernel as a map: the engine runs it over ranges [start, end) of
 * x.size with `{ x, out, ...params }`, x and out C-contiguous and of the same
 * shape; element i (row-major) is x.data[x.offset + i] and goes to
 * out.data[out.offset + i]. Strided inputs and outs are copied around it.
 */
async function mapUserKernel(x: OpArray, fn: string, options: MapOptions | undefined): Promise<NdArray> {
  if (fn.startsWith("sabre.")) {
    throw new SabreTypeError(`ops.map: "${fn}" is not a map function; built-ins are ${BUILTINS.join(", ")}`);
  }
  const opts = checkOptions<MapOptions>("map", options, Object.keys(options ?? {}));
  const engine = await engineFor(opts);
  if (!engine.kernels.includes(fn)) {
    throw new SabreTypeError(
      `ops.map: "${fn}" is neither a built-in (${BUILTINS.join(", ")}) nor a kernel of this engine (load its module with Engine.start({ kernels }))`,
    );
  }
  const { out: outOpt, dtype: dtypeOpt, engine: _e, signal, ...params } = opts;
  for (const key of ["x", "out"]) {
    if (key in params) throw new SabreTypeError(`ops.map: option "${key}" would shadow the kernel's own ${key}`);
  }
  if (dtypeOpt !== undefined && (!isDType(dtypeOpt) || (dtypeOpt as string) === "bigint64" || (dtypeOpt as string) === "biguint64")) {
    throw new SabreTypeError(`ops.map: dtype must be a number dtype, got ${describe(dtypeOpt)}`);
  }
  const a = opInput("map", x);
  const dtype = dtypeOpt ?? numberDType(a);
  // A user kernel's out may have any number dtype: the kernel decides what it writes.
  const out = outOpt === undefined ? shared.empty(dtype, a.shape) : checkOut(outOpt, a.shape, null);
  if (outOpt !== undefined && dtypeOpt !== undefined && out.dtype !== dtypeOpt) {
    throw new SabreTypeError(`ops.map: out has dtype ${out.dtype} but dtype ${dtypeOpt} was asked`);
  }
  if (a.size === 0) return out;
  let xin = isContiguous(a) ? a : shared.from(a);
  if (overlaps(out, xin) && !sameElements(out, out.stride, xin, xin.stride)) xin = shared.from(a);
  const target = isContiguous(out) ? out : shared.empty(numberDType(out), a.shape);
  await engine.parallelFor(a.size, fn, { ...params, x: xin, out: target }, { signal });
  if (target !== out) copyInto(target, out);
  return out;
}

function isContiguous(a: NdArray): boolean {
  const want = rowMajorStrides(a.shape);
  return a.shape.every((n, i) => n <= 1 || a.stride[i] === want[i]);
}

function copyInto(src: NdArray, dst: NdArray): void {
  const s = src.data as ArrayLike<number>;
  const d = dst.data as unknown as { [i: number]: number };
  const o = src.offset;
  eachIndex(dst, (p, k) => {
    d[p] = s[o + k]!;
  });
}
