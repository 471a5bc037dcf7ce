import { SabreTypeError } from "../errors.js";
import { MAX_ELEMENTS, dtypeOf } from "../memory/dtypes.js";
import { isNdArray, type NdArray } from "../memory/ndarray-type.js";
import { isShared } from "../memory/shared.js";
import { eachIndex } from "../memory/strided.js";
import { registerShareable } from "../memory/serialize.js";
import { describe } from "../validate.js";

/**
 * Data-sharing clauses, as OpenMP's shared/private/reduction: wrappers around
 * a kernel argument that say how the chunks of a parallelFor may touch it.
 * They go at the top level of the args object:
 *
 * ```ts
 * const total = reduction(0, "sum");
 * await engine.parallelFor(n, "dotRows", { x: readOnly(x), out: rows(out), total });
 * total.value; // the combined result, identical for any thread count
 * ```
 */

/** The kernel may read this array but never write it (checked mode turns a write into a RaceError). */
export class ReadOnlyClause<T = NdArray> {
  constructor(
    /** The wrapped array; the kernel receives it unwrapped. */
    readonly value: T,
  ) {}
}

/** Each chunk [start, end) gets a view of only rows start..end-1 of this array (axis 0 must be n long). */
export class RowsClause<T extends NdArray = NdArray> {
  constructor(
    /** The whole array; each chunk receives a view of its rows only. */
    readonly array: T,
  ) {}
}

/** How a {@link Reduction} combines: elementwise sum, min or max. */
export type ReductionOp = "sum" | "min" | "max";

/** What a reduction accumulates: one number, or a Float64Array for an elementwise reduction. */
export type ReductionValue = number | Float64Array;

/**
 * A reduction: every chunk gets a private accumulator starting at the op's
 * identity (a `{ value }` box for scalars, a Float64Array for arrays); the
 * main thread combines `initial` and the chunks' partials in chunk order, so
 * the result does not depend on the thread count. Read it from `value` after
 * the call resolves.
 *
 * @typeParam V - the type of `initial` and `value`, following the initial
 * value given to {@link reduction}: `reduction(0)` is a `Reduction<number>`,
 * `reduction(new Float64Array(10))` (or a number[] or ndarray) a
 * `Reduction<Float64Array>`.
 */
export class Reduction<V extends ReductionValue = ReductionValue> {
  /** The combined result of the last call that used this reduction (before that: `initial`). */
  value: V;
  constructor(
    /** The starting value, combined first (a copy for arrays). */
    readonly initial: V,
    /** How partials combine. */
    readonly op: ReductionOp,
  ) {
    this.value = fresh(initial);
  }
  /** Number of elements of the accumulator (1 for a scalar). */
  get width(): number {
    return typeof this.initial === "number" ? 1 : this.initial.length;
  }
}

/** `initial` itself for a number, a copy for an array (so combining never writes into `initial`). */
function fresh<V extends ReductionValue>(initial: V): V {
  return (typeof initial === "number" ? initial : initial.slice()) as V;
}

/**
 * Marks `value` (a shared ndarray) read-only for the kernel.
 * @throws {@link SabreTypeError} (`ERR_SABRE_TYPE`) when `value` is not a shared ndarray
 */
export function readOnly<T extends NdArray>(value: T): ReadOnlyClause<T> {
  if (!isNdArray(value) || !isShared(value)) {
    throw new SabreTypeError(`readOnly() takes a shared ndarray, got ${describe(value)}`);
  }
  return new ReadOnlyClause(value);
}

/**
 * Gives each chunk [start, end) a view of only its rows of `array`.
 * @throws {@link SabreTypeError} (`ERR_SABRE_TYPE`) when `array` is not a shared ndarray with at least one axis
 */
export function rows<T extends NdArray>(array: T): RowsClause<T> {
  if (!isNdArray(array) || !isShared(array)) {
    throw new SabreTypeError(`rows() takes a shared ndarray, got ${describe(array)}`);
  }
  if (array.shape.length === 0) throw new SabreTypeError("rows() needs an array with at least one axis");
  return new RowsClause(array);
}

const OPS: readonly ReductionOp[] = ["sum", "min", "max"];

/**
 * A scalar reduction over chunks: each chunk's kernel gets a `{ value }` box
 * starting at the op's identity; the result's `value` is a number.
 *
 * @throws {@link SabreTypeError} (`ERR_SABRE_TYPE`) for an unknown op or a NaN initial value
 *
 * @example
 * ```ts
 * const total = reduction(0, "sum");
 * await engine.parallelFor(x.size, "sum", { x: readOnly(x), total });
 * console.log(total.value + 1); // total.value is a number
 * // in the kernel module: sum({ start, end }, { x, total }) { for (let i = start; i < end; i++) total.value += x.get(i); }
 * ```
 */
export function reduction(initial: number, op?: ReductionOp): Reduction<number>;
/**
 * An elementwise reduction over chunks (e.g. a histogram): `initial` is a
 * Float64Array, a float64 ndarray or a number[]; each chunk's kernel gets a
 * private Float64Array of the same length, and the result's `value` is a
 * Float64Array.
 *
 * @throws {@link SabreTypeError} (`ERR_SABRE_TYPE`) for an unknown op or an empty or non-numeric initial array
 */
export function reduction(initial: Float64Array | NdArray | readonly number[], op?: ReductionOp): Reduction<Float64Array>;
/**
 * A reduction whose initial value is only known as one of the forms above:
 * the result's `value` is a {@link ReductionValue}.
 *
 * @throws {@link SabreTypeError} (`ERR_SABRE_TYPE`) for an unknown op or a bad initial value
 */
export function reduction(initial: number | Float64Array | NdArray | readonly number[], op?: ReductionOp): Reduction;
export function reduction(initial: number | Float64Array | NdArray | readonly number[], op: ReductionOp = "sum"): Reduction {
  if (!OPS.includes(op)) throw new SabreTypeError(`reduction op must be one of ${OPS.join(", ")}, got ${describe(op)}`);
  if (typeof initial === "number") {
    if (Number.isNaN(initial)) throw new SabreTypeError("reduction initial value is NaN");
    return new Reduction(initial, op);
  }
  let arr: Float64Array;
  if (isNdArray(initial)) {
    if (dtypeOf(initial.data) === "bigint64" || dtypeOf(initial.data) === "biguint64") {
      throw new SabreTypeError("a reduction over a 64-bit integer array is not supported; use float64");
    }
    const flat = new Float64Array(initial.shape.reduce((a, b) => a * b, 1));
    const data = initial.data as Float64Array;
    eachIndex(initial, (p, k) => {
      flat[k] = data[p]!;
    });
    arr = flat;
  } else if (initial instanceof Float64Array) {
    arr = initial.slice();
  } else if (Array.isArray(initial) && initial.every((v) => typeof v === "number")) {
    arr = Float64Array.from(initial);
  } else {
    throw new SabreTypeError(`reduction initial value must be a number or a float64 array, got ${describe(initial)}`);
  }
  if (arr.length === 0) throw new SabreTypeError("reduction initial array is empty");
  return new Reduction(arr, op);
}

export function identity(op: ReductionOp): number {
  return op === "sum" ? 0 : op === "min" ? Infinity : -Infinity;
}

export function combine(op: ReductionOp, a: number, b: number): number {
  return op === "sum" ? a + b : op === "min" ? (b < a ? b : a) : b > a ? b : a;
}

// ---- wire forms --------------------------------------------------------------------------------
// On the worker side a clause decodes to a marker object; the worker's job runner turns the
// markers into per-chunk values (views, accumulators, checked wrappers).

/** Worker-side markers. */
export interface ReadOnlyMarker {
  readonly clause: "readOnly";
  readonly value: NdArray;
}
export interface RowsMarker {
  readonly clause: "rows";
  readonly array: NdArray;
}
export interface ReductionMarker {
  readonly clause: "reduction";
  readonly op: ReductionOp;
  readonly width: number;
  readonly scalar: boolean;
}
export type ClauseMarker = ReadOnlyMarker | RowsMarker | ReductionMarker;

export function isClauseMarker(v: unknown): v is ClauseMarker {
  return typeof v === "object" && v !== null && typeof (v as { clause?: unknown }).clause === "string" && CLAUSE_MARKERS.has(v);
}
/** Markers made by decode, so a user object with a `clause` key is never mistaken for one. */
const CLAUSE_MARKERS = new WeakSet<object>();

function marker<T extends ClauseMarker>(m: T): T {
  CLAUSE_MARKERS.add(m);
  return m;
}

registerShareable<ReadOnlyClause>({
  kind: "clause.readOnly",
  test: (v): v is ReadOnlyClause => v instanceof ReadOnlyClause,
  encode: (c, child) => ({ value: child(c.value, "value") }),
  decode: (p, child) => {
    const value = child(p["value"], "value");
    if (!isNdArray(value)) throw new SabreTypeError("a readOnly clause must wrap an ndarray");
    return marker({ clause: "readOnly", value }) as unknown as ReadOnlyClause;
  },
});

registerShareable<RowsClause>({
  kind: "clause.rows",
  test: (v): v is RowsClause => v instanceof RowsClause,
  encode: (c, child) => ({ array: child(c.array, "array") }),
  decode: (p, child) => {
    const array = child(p["array"], "array");
    if (!isNdArray(array) || array.shape.length === 0) throw new SabreTypeError("a rows clause must wrap an ndarray");
    return marker({ clause: "rows", array }) as unknown as RowsClause;
  },
});

registerShareable<Reduction>({
  kind: "clause.reduction",
  test: (v): v is Reduction => v instanceof Reduction,
  encode: (r) => ({ op: r.op, width: r.width, scalar: typeof r.initial === "number" }),
  decode: (p) => {
    const op = p["op"];
    const width = p["width"];
    if (!OPS.includes(op as ReductionOp)) throw new SabreTypeError(`unknown reduction op ${describe(op)}`);
    // A forged or corrupt message could claim any width, and the worker allocates a width-long accumulator
    // per chunk: bounded here by the largest array sabre makes, and in the worker's runner by the results
    // block the caller sized for the call (kernels/runner.ts), before any accumulator exists.
    if (typeof width !== "number" || !Number.isInteger(width) || width < 1 || width > MAX_ELEMENTS) {
      throw new SabreTypeError(`a reduction clause's width must be an integer in [1, ${MAX_ELEMENTS}], got ${describe(width)}`);
    }
    const scalar = p["scalar"] === true;
    if (scalar && width !== 1) throw new SabreTypeError(`a scalar reduction clause has width 1, got ${width}`);
    return marker({ clause: "reduction", op: op as ReductionOp, width, scalar }) as unknown as Reduction;
  },
});
