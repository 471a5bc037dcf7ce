// What the scalers, the imputer and KBinsDiscretizer share: option checks,
// the input table and the output array, the engine to run on, row-parallel
// calls, and the JSON encoding of numbers (NaN and infinities included).
import type { Engine } from "../../engine/engine.js";
import { AbortError, FormatError, SabreTypeError } from "../../errors.js";
import type { NdArray } from "../../memory/ndarray-type.js";
import { isNdArray } from "../../memory/ndarray-type.js";
import { isShared, shared, sharedTypedArray } from "../../memory/shared.js";
import { checkKnownKeys, checkSignal, describe } from "../../validate.js";
import { runnerFor, type Runner } from "./runner.js";
import { asTable, type PreprocessFitOptions, type TransformOptions } from "./transformer.js";

/** Checks an options object: a plain object whose keys are all in `allowed`. */
export function checkOptionKeys(who: string, options: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new SabreTypeError(`${who}: options must be an object, got ${describe(options)}`);
  }
  checkKnownKeys(who, options, allowed);
  return options as Record<string, unknown>;
}

/** The fit options, checked. */
export function fitOptions(who: string, options: unknown): PreprocessFitOptions {
  const o = checkOptionKeys(who, options, ["engine", "signal"]) as PreprocessFitOptions;
  checkEngine(who, o.engine);
  checkSignal(o.signal);
  return o;
}

/** The transform options, checked (out is checked against the output's shape later). */
export function transformOptions(who: string, options: unknown): TransformOptions {
  const o = checkOptionKeys(who, options, ["engine", "signal", "out"]) as TransformOptions;
  checkEngine(who, o.engine);
  checkSignal(o.signal);
  return o;
}

export function checkEngine(who: string, engine: unknown): void {
  if (engine !== undefined && (typeof engine !== "object" || engine === null || typeof (engine as { parallelFor?: unknown }).parallelFor !== "function")) {
    throw new SabreTypeError(`${who}: engine must be an Engine, got ${describe(engine)}`);
  }
}

export function checkBoolean(who: string, name: string, value: unknown, dflt: boolean): boolean {
  if (value === undefined) return dflt;
  if (typeof value !== "boolean") throw new SabreTypeError(`${who}: ${name} must be a boolean, got ${describe(value)}`);
  return value;
}

/**
 * Where a call over `elements` input elements runs (runner.ts): the calling
 * thread for small inputs or while the default engine starts, else the
 * call's engine, the estimator's, or the default engine.
 */
export function engineOf(call: Engine | undefined, own: Engine | undefined, elements: number, output = elements): Promise<Runner> {
  return Promise.resolve(runnerFor(call, own, elements, output));
}

export function throwIfAborted(who: string, signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(who, signal.reason);
}

/**
 * The input table of a fit or transform: 2-D, at least one row and one
 * column (sklearn refuses empty arrays), a number dtype.
 */
export function tableOf(who: string, X: unknown, name = "X"): NdArray {
  const x = asTable(who, X, name);
  const [n, nf] = x.shape as [number, number];
  if (n < 1) throw new SabreTypeError(`${who}: ${name} has 0 samples (shape [${n}, ${nf}]); at least 1 is required`);
  if (nf < 1) throw new SabreTypeError(`${who}: ${name} has 0 features (shape [${n}, ${nf}]); at least 1 is required`);
  return x;
}

/** The float dtype sklearn's FLOAT_DTYPES validation gives: float32 stays, everything else becomes float64. */
export function floatDType(x: NdArray): "float32" | "float64" {
  return x.dtype === "float32" ? "float32" : "float64";
}

/** Refuses a table whose column count is not the fitted one. */
export function checkFeatureCount(who: string, x: NdArray, nFeaturesIn: number, name = "X"): void {
  if (x.shape[1] !== nFeaturesIn) {
    throw new SabreTypeError(`${who}: ${name} has ${x.shape[1]} features, but this estimator was fitted with ${nFeaturesIn}`);
  }
}

/**
 * The array a transform writes: the caller's `out` (a shared ndarray of
 * exactly this shape and dtype, any strides) or a new shared one.
 */
export function outputOf(who: string, out: unknown, shape: readonly number[], dtype: "float32" | "float64"): NdArray {
  if (out === undefined) return shared.empty(dtype, shape);
  if (!isNdArray(out)) throw new SabreTypeError(`${who}: out must be a shared ndarray, got ${describe(out)}`);
  if (!isShared(out)) throw new SabreTypeError(`${who}: out must live in shared memory (shared.empty), not in an ${out.data.constructor.name} over an ArrayBuffer`);
  if (out.shape.length !== shape.length || out.shape.some((d, i) => d !== shape[i])) {
    throw new SabreTypeError(`${who}: out has shape [${out.shape.join(", ")}], expected [${shape.join(", ")}]`);
  }
  if (out.dtype !== dtype) throw new SabreTypeError(`${who}: out has dtype ${out.dtype}, expected ${dtype}`);
  return out;
}

/** The typed "not fitted" error, naming the class. */
export function notFitted(name: string, method: string): SabreTypeError {
  return new SabreTypeError(`${name}.${method}: this ${name} is not fitted yet; call fit(X) first`);
}

/** Rows per chunk of a row-parallel transform: about 8 chunks per thread, at least 1024 rows. */
export function rowChunk(engine: Runner, n: number): number {
  return Math.max(1024, Math.ceil(n / (engine.threads * 8)));
}

/** Runs a row kernel over the rows of x; resolves to the sum of the chunks' return values. */
export async function rowParallel(engine: Runner, kernel: string, n: number, args: Record<string, unknown>, signal: AbortSignal | undefined): Promise<number> {
  const parts = (await engine.parallelFor(n, kernel, sharedArgs(args), { chunk: rowChunk(engine, n), signal })) as number[];
  let s = 0;
  for (const p of parts) s += p;
  return s;
}

/** The args with every plain typed array (the small per-column vectors) copied to shared memory, as the engine requires. */
export function sharedArgs(args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) {
    if ((v instanceof Float64Array || v instanceof Int32Array) && !(v.buffer instanceof SharedArrayBuffer)) {
      const c = v instanceof Float64Array ? sharedTypedArray("float64", v.length) : sharedTypedArray("int32", v.length);
      c.set(v);
      out[k] = c;
    } else out[k] = v;
  }
  return out;
}

// ---- JSON ----------------------------------------------------------------

/** A number as JSON holds it: NaN and the infinities as strings (JSON has no literal for them). */
export type JSONNumber = number | "NaN" | "Infinity" | "-Infinity" | "-0";

/** A number for JSON: NaN, the infinities and -0 (JSON.stringify would write 0, and x - (-0) differs from x - 0 for x = -0) as strings. */
export function numberToJSON(v: number): JSONNumber {
  if (Object.is(v, -0)) return "-0";
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  return v;
}

export function arrayToJSON(a: ArrayLike<number>): JSONNumber[] {
  return Array.from(a, numberToJSON);
}

export interface NumberRule {
  /** NaN is allowed (e.g. an all-NaN column's mean). */
  nan?: boolean;
  /** Infinities are allowed (a constant column's bin edges). */
  infinite?: boolean;
  /** Values must be integers >= this (counts, bin counts). */
  intMin?: number;
  /** Values must be > 0 (scales). */
  positive?: boolean;
}

export function numberFromJSON(who: string, what: string, v: unknown, rule: NumberRule = {}): number {
  let x: number;
  if (typeof v === "number") x = v;
  else if (v === "NaN") x = NaN;
  else if (v === "Infinity") x = Infinity;
  else if (v === "-Infinity") x = -Infinity;
  else if (v === "-0") x = -0;
  else throw new FormatError(`${who}.fromJSON: ${what} must be a number, got ${describe(v)}`);
  if (Number.isNaN(x) && !rule.nan) throw new FormatError(`${who}.fromJSON: ${what} must not be NaN`);
  if ((x === Infinity || x === -Infinity) && !rule.infinite) throw new FormatError(`${who}.fromJSON: ${what} must be finite, got ${x}`);
  if (rule.intMin !== undefined && !(Number.isInteger(x) && x >= rule.intMin)) {
    throw new FormatError(`${who}.fromJSON: ${what} must be an integer >= ${rule.intMin}, got ${describe(v)}`);
  }
  if (rule.positive && !(x > 0) && !Number.isNaN(x)) throw new FormatError(`${who}.fromJSON: ${what} must be > 0, got ${describe(v)}`);
  return x;
}

/** A Float64Array from a JSON array of exactly `length` numbers (any length when length is undefined). */
export function arrayFromJSON(who: string, what: string, v: unknown, length: number | undefined, rule: NumberRule = {}): Float64Array {
  if (!Array.isArray(v)) throw new FormatError(`${who}.fromJSON: ${what} must be an array, got ${describe(v)}`);
  if (length !== undefined && v.length !== length) {
    throw new FormatError(`${who}.fromJSON: ${what} must hold ${length} numbers (one per feature), got ${v.length}`);
  }
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = numberFromJSON(who, `${what}[${i}]`, v[i], rule);
  return out;
}

export function stateField(who: string, state: Record<string, unknown>, key: string): unknown {
  if (!(key in state)) throw new FormatError(`${who}.fromJSON: state.${key} is missing`);
  return state[key];
}

export function dtypeFromJSON(who: string, v: unknown): "float32" | "float64" {
  if (v !== "float32" && v !== "float64") throw new FormatError(`${who}.fromJSON: state.dtype must be "float32" or "float64", got ${describe(v)}`);
  return v;
}

/**
 * Refuses a saved param that is null unless it is in `nullable` (the params
 * whose null means something, e.g. OneHotEncoder's drop): toJSON writes a
 * value for every other one, and the constructors read null as "use the
 * default", so a tampered file would load as another model. For the
 * built-in estimators only: checkTransformerJSON, which user estimators
 * call too, stays as it was.
 */
export function refuseNullParams(who: string, params: Record<string, unknown>, nullable: readonly string[] = []): void {
  for (const [key, value] of Object.entries(params)) {
    if (value === null && !nullable.includes(key)) {
      throw new FormatError(`${who}.fromJSON: params.${key} is null; a saved ${who} has a value there (null would silently mean the default)`);
    }
  }
}

/** Wraps a constructor's SabreTypeError on bad saved params as a FormatError. */
export function paramsFromJSON<T>(who: string, make: () => T): T {
  try {
    return make();
  } catch (err) {
    if (err instanceof SabreTypeError) throw new FormatError(`${who}.fromJSON: bad params: ${err.message}`, { cause: err });
    throw err;
  }
}
