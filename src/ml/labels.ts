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
  const values = labelValues(y);
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
