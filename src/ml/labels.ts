import { SabreTypeError } from "../errors.js";
import { dtypeOf, isBigIntDType } from "../memory/dtypes.js";
import { isNdArray, type NdArray } from "../memory/ndarray-type.js";
import { sharedTypedArray } from "../memory/shared.js";
import { describe } from "../validate.js";

/** What a classifier's labels may be: integers (any typed array or number[]) or strings. */
export type Labels = ArrayLike<number> | readonly string[] | NdArray;
/** One class label: a number or a string. */
export type ClassLabel = number | string;

/** Reads a 1-D label vector into a plain array, refusing shapes and kinds that cannot be labels. */
export function labelValues(y: unknown, name = "y"): Array<number | string> {
  if (isNdArray(y)) {
    if (y.shape.length !== 1 && !(y.shape.length === 2 && y.shape[1] === 1)) {
      throw new SabreTypeError(`${name} must be 1-D (one label per sample), got shape [${y.shape.join(", ")}]`);
    }
    const big = isBigIntDType(dtypeOf(y.data)!);
    const out = new Array<number>(y.shape[0]!);
    const s = y.stride[0]!;
    for (let i = 0; i < out.length; i++) {
      const v = y.data[y.offset + i * s]!;
      out[i] = big ? Number(v) : (v as number);
    }
    return out;
  }
  if (ArrayBuffer.isView(y) && !(y instanceof DataView)) {
    const a = y as unknown as ArrayLike<number | bigint>;
    return Array.from(a, (v) => (typeof v === "bigint" ? Number(v) : v));
  }
  if (Array.isArray(y)) {
    if (y.length > 0 && Array.isArray(y[0])) throw new SabreTypeError(`${name} must be 1-D (one label per sample), got a nested array`);
    return y as Array<number | string>;
  }
  throw new SabreTypeError(`${name} must be a 1-D array, typed array or ndarray of labels, got ${describe(y)}`);
}

/**
 * Maps labels to class ids 0..k-1 in sorted order (numbers numerically,
 * strings lexicographically, as numpy's unique). Integers and strings only:
 * a continuous target belongs to a regressor.
 */
export function encodeClasses(y: unknown, n: number): { ids: Int32Array; classes: ClassLabel[] } {
  const numeric = numericLabels(y);
  if (numeric !== null) {
    if (numeric.length !== n) throw new SabreTypeError(`X has ${n} rows but y has ${numeric.length} labels`);
    const small = encodeSmallIntegers(numeric);
    if (small !== null) return small;
  }
  const values = numeric !== null ? Array.from(numeric) : labelValues(y);
  if (values.length !== n) throw new SabreTypeError(`X has ${n} rows but y has ${values.length} labels`);
  let strings = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === "string") strings++;
    else if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new SabreTypeError(`y[${i}] is ${describe(v)}: labels must be integers or strings (NaN and Infinity are not labels)`);
    } else if (!Number.isInteger(v)) {
      throw new SabreTypeError(`y[${i}] is ${v}: classification labels must be integers or strings; for a continuous target use RandomForestRegressor`);
    }
  }
  if (strings !== 0 && strings !== values.length) throw new SabreTypeError("y mixes strings and numbers; use one kind of label");
  const classes = [...new Set(values)].sort((a, b) =>
    typeof a === "number" ? a - (b as number) : a < b ? -1 : a > b ? 1 : 0,
  ) as ClassLabel[];
  if (classes.length < 2) {
    throw new SabreTypeError(
      `y has a single class (${JSON.stringify(classes[0])}); a classifier needs at least 2 classes to tell apart`,
    );
  }
  const index = new Map<ClassLabel, number>(classes.map((c, i) => [c, i]));
  const ids = sharedTypedArray("int32", n);
  for (let i = 0; i < n; i++) ids[i] = index.get(values[i]!)!;
  return { ids, classes };
}

/** The labels of a numeric typed array or ndarray as float64 (a plain loop, no per-element callback), or null for other kinds. */
function numericLabels(y: unknown): Float64Array | null {
  if (isNdArray(y)) {
    if (y.shape.length !== 1 && !(y.shape.length === 2 && y.shape[1] === 1)) return null; // labelValues says why
    if (isBigIntDType(dtypeOf(y.data)!)) return null;
    const data = y.data as ArrayLike<number>;
    const out = new Float64Array(y.shape[0]!);
    const s = y.stride[0]!;
    for (let i = 0, k = y.offset; i < out.length; i++, k += s) out[i] = data[k]!;
    return out;
  }
  if (ArrayBuffer.isView(y) && !(y instanceof DataView) && !(y instanceof BigInt64Array) && !(y instanceof BigUint64Array)) {
    return new Float64Array(y as unknown as ArrayLike<number>);
  }
  return null;
}

/** Labels spanning fewer values than this are encoded through a table (the usual y: a few classes as uint8 or int32). */
const TABLE_SPAN = 1 << 16;

/**
 * Class ids of integer labels in a small range through a presence table
 * instead of a Set and a Map lookup per label (~20-30 ms for 60,000 labels,
 * most of a small fit's set-up); null when a label is not a finite integer
 * (the generic path names it) or the range is wide.
 */
function encodeSmallIntegers(v: Float64Array): { ids: Int32Array; classes: ClassLabel[] } | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (!Number.isInteger(x)) return null;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (!(hi - lo < TABLE_SPAN)) return null;
  const table = new Int32Array(hi - lo + 1).fill(-1);
  for (let i = 0; i < v.length; i++) table[v[i]! - lo] = 0;
  const classes: number[] = [];
  for (let k = 0; k < table.length; k++) if (table[k] === 0) table[k] = classes.push(k + lo) - 1;
  if (classes.length < 2) return null; // the generic path gives the single-class error
  const ids = sharedTypedArray("int32", v.length);
  for (let i = 0; i < v.length; i++) ids[i] = table[v[i]! - lo]!;
  return { ids, classes };
}

/** A regression target as shared float64, refusing NaN/Infinity. */
export function encodeTargets(y: unknown, n: number): Float64Array {
  const values = labelValues(y);
  if (values.length !== n) throw new SabreTypeError(`X has ${n} rows but y has ${values.length} targets`);
  const out = sharedTypedArray("float64", n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new SabreTypeError(`y[${i}] is ${describe(v)}: regression targets must be finite numbers`);
    }
    out[i] = v;
  }
  return out;
}
