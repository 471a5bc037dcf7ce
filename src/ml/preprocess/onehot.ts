// OneHotEncoder with scikit-learn 1.2's semantics for numeric input:
// categories "auto" (sorted distinct values per column, NaN last as a
// category of its own) or given, drop null | "first" | "if_binary" | one
// value per column, handleUnknown "error" | "ignore", dense output only.
import type { Engine } from "../../engine/engine.js";
import { AbortError, FormatError, SabreTypeError } from "../../errors.js";
import { CONSTRUCTORS, type NumberDType } from "../../memory/dtypes.js";
import type { NdArray } from "../../memory/ndarray-type.js";
import { isNdArray, ndarray } from "../../memory/ndarray-type.js";
import { shared, sharedTypedArray, sharesMemory } from "../../memory/shared.js";
import { checkKnownKeys, describe } from "../../validate.js";
import { type EncodeJob, type OneHotPlan, type UnknownAt } from "../../../kernels/preprocess/encode.js";
import { blockWidths, buildPlan, sortCategories } from "./onehot-plan.js";
import { pyFloat } from "./py-repr.js";
import { checkEngine, fitOptions, refuseNullParams, transformOptions } from "./common.js";
import { runnerFor } from "./runner.js";
import {
  asTable,
  checkTransformerJSON,
  registerEstimator,
  TRANSFORMER_FORMAT,
  TRANSFORMER_VERSION,
  type PreprocessFitOptions,
  type Transformer,
  type TransformerJSON,
  type TransformOptions,
} from "./transformer.js";

/** Which category OneHotEncoder leaves out of each column's block: none (null), the first, the first of binary columns only, or one per column. */
export type OneHotDrop = null | "first" | "if_binary" | ReadonlyArray<number | null>;

/** Options of {@link OneHotEncoder}. */
export interface OneHotEncoderOptions {
  /** "auto" (default): the sorted distinct values of each column; or the categories of each column, sorted, NaN last. */
  categories?: "auto" | ReadonlyArray<ArrayLike<number>>;
  /** A category to leave out of each column's block (default null: none). */
  drop?: OneHotDrop;
  /** "error" (default): a value not seen in fit is an error; "ignore": its block is all zeros. */
  handleUnknown?: "error" | "ignore";
  /** Only false (dense output) is supported. */
  sparseOutput?: boolean;
  /** The output dtype (default float64). */
  dtype?: NumberDType;
  /** The engine fit and transform run on when their call gives none (default: the default engine). */
  engine?: Engine;
}

const NAME = "OneHotEncoder";
const OPTIONS = ["categories", "drop", "handleUnknown", "sparseOutput", "dtype", "engine"];

function numbersOf(who: string, v: unknown): Float64Array {
  if (isNdArray(v)) {
    if (v.shape.length !== 1) throw new SabreTypeError(`${who} must be 1-D, got shape [${v.shape.join(", ")}]`);
    return Float64Array.from({ length: v.shape[0]! }, (_, i) => Number(v.get(i)));
  }
  if (!Array.isArray(v) && !(ArrayBuffer.isView(v) && !(v instanceof DataView))) throw new SabreTypeError(`${who} must be an array of numbers, got ${describe(v)}`);
  const a = v as ArrayLike<unknown>;
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (typeof x !== "number" && typeof x !== "bigint") throw new SabreTypeError(`${who}[${i}] must be a number, got ${describe(x)}`);
    out[i] = Number(x);
  }
  return out;
}

interface CheckedOptions {
  categories: "auto" | Float64Array[];
  drop: OneHotDrop;
  handleUnknown: "error" | "ignore";
  dtype: NumberDType;
  engine: Engine | undefined;
}

function checkOptions(options: unknown): CheckedOptions {
  if (options === undefined) options = {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new SabreTypeError(`${NAME}: options must be an object, got ${describe(options)}`);
  }
  const o = options as Record<string, unknown>;
  checkKnownKeys(NAME, o, OPTIONS);
  const categories = o.categories ?? "auto";
  let cats: "auto" | Float64Array[];
  if (categories === "auto") cats = "auto";
  else if (Array.isArray(categories)) {
    cats = categories.map((c, j) => {
      const v = numbersOf(`${NAME}: categories[${j}]`, c);
      for (let k = 1; k < v.length; k++) {
        if (v[k - 1] !== v[k - 1]) throw new SabreTypeError(`${NAME}: categories[${j}]: NaN must be the last category`);
        if (!(v[k - 1]! < v[k]!) && v[k] === v[k]) throw new SabreTypeError(`${NAME}: categories[${j}]: unsorted or repeated categories are not supported for numerical categories`);
      }
      return v;
    });
  } else throw new SabreTypeError(`${NAME}: categories must be "auto" or an array of per-column categories, got ${describe(categories)}`);
  const drop = o.drop ?? null;
  if (drop !== null && drop !== "first" && drop !== "if_binary") {
    if (!Array.isArray(drop)) throw new SabreTypeError(`${NAME}: drop must be null, "first", "if_binary" or one value (or null) per column, got ${describe(drop)}`);
    drop.forEach((v, j) => {
      if (v !== null && typeof v !== "number") throw new SabreTypeError(`${NAME}: drop[${j}] must be a number or null, got ${describe(v)}`);
    });
  }
  const handleUnknown = o.handleUnknown ?? "error";
  if (handleUnknown !== "error" && handleUnknown !== "ignore") {
    throw new SabreTypeError(`${NAME}: handleUnknown must be "error" or "ignore", got ${describe(handleUnknown)}`);
  }
  const sparseOutput = o.sparseOutput ?? false;
  if (sparseOutput !== false) throw new SabreTypeError(`${NAME}: sparseOutput must be false: sabre's one-hot output is a dense shared ndarray only`);
  const dtype = o.dtype ?? "float64";
  if (typeof dtype !== "string" || !(dtype in CONSTRUCTORS) || dtype === "bigint64" || dtype === "biguint64") {
    throw new SabreTypeError(`${NAME}: dtype must be a number dtype (float64, float32, int32, uint8, ...), got ${describe(dtype)}`);
  }
  checkEngine(NAME, o.engine);
  return { categories: cats, drop: drop as OneHotDrop, handleUnknown, dtype: dtype as NumberDType, engine: o.engine as Engine | undefined };
}

/** JSON has no NaN: categories and drop values store it as the string "NaN". */
function encodeValue(v: number): number | string {
  return v !== v ? "NaN" : v;
}
function decodeValue(who: string, v: unknown): number {
  if (v === "NaN") return NaN;
  if (typeof v !== "number") throw new FormatError(`${who} must be a number or "NaN", got ${describe(v)}`);
  return v;
}

function sameValue(a: number, b: number): boolean {
  return a === b || (a !== a && b !== b);
}

/**
 * scikit-learn 1.2's OneHotEncoder for numeric tables: each input column
 * becomes a block of 0/1 columns, one per category (categories "auto":
 * the sorted distinct values, NaN last as a category of its own; or given),
 * minus the `drop`ped one. Output is a dense shared ndarray of `dtype`. A
 * value not seen in fit throws {@link SabreTypeError} (`ERR_SABRE_TYPE`)
 * with handleUnknown "error", or gives an all-zero block with "ignore".
 * Attributes: `categories`, `dropIdx`, `nFeaturesIn`, `nOutputs`.
 *
 * @example
 * ```ts
 * const enc = new OneHotEncoder({ handleUnknown: "ignore" });
 * const onehot = await enc.fitTransform([[0, 10], [1, 10], [2, 20]]);  // [3, 5]: 3 + 2 categories
 * enc.getFeatureNamesOut(["color", "size"]);  // ["color_0.0", "color_1.0", "color_2.0", "size_10.0", "size_20.0"] (float input)
 * ```
 */
export class OneHotEncoder implements Transformer {
  /** The categories option: "auto" or the given categories of each column. */
  readonly categoriesOption: "auto" | Float64Array[];
  /** The drop option. */
  readonly drop: OneHotDrop;
  /** What transform does with a value not seen in fit. */
  readonly handleUnknown: "error" | "ignore";
  /** Always false: the output is dense. */
  readonly sparseOutput = false;
  /** The output dtype. */
  readonly dtype: NumberDType;
  /** The engine used when a call gives none (undefined: the default engine). */
  readonly engine: Engine | undefined;
  /** Fitted: the categories of each column, sorted, NaN last (scikit-learn's categories_). */
  categories: Float64Array[] | undefined;
  /** Fitted: the index in categories[j] of the category dropped from column j, or null; null when nothing is dropped (drop_idx_). */
  dropIdx: Array<number | null> | null = null;
  /** Fitted: the number of input columns. */
  nFeaturesIn: number | undefined;
  /** Whether the fitted input had an integer dtype (feature names print categories as integers then). */
  private integerInput = false;
  private plan: OneHotPlan | null = null;

  constructor(options: OneHotEncoderOptions = {}) {
    const o = checkOptions(options);
    this.categoriesOption = o.categories;
    this.drop = o.drop;
    this.handleUnknown = o.handleUnknown;
    this.dtype = o.dtype;
    this.engine = o.engine;
  }

  private fitted(who: string): { categories: Float64Array[]; d: number } {
    if (this.categories === undefined || this.nFeaturesIn === undefined) {
      throw new SabreTypeError(`${NAME}.${who}: this ${NAME} is not fitted yet: call fit(X) first`);
    }
    return { categories: this.categories, d: this.nFeaturesIn };
  }

  async fit(X: unknown, options: PreprocessFitOptions = {}): Promise<this> {
    const who = `${NAME}.fit`;
    // Checked as the other estimators check theirs: a misspelt key ({ engin }) or a non-object was ignored here.
    options = fitOptions(who, options);
    const x = asTable(who, X);
    const [n, d] = x.shape as [number, number];
    if (n === 0) throw new SabreTypeError(`${who}: found array with 0 sample(s) (shape [0, ${d}]) while a minimum of 1 is required`);
    if (d === 0) throw new SabreTypeError(`${who}: found array with 0 feature(s) (shape [${n}, 0]) while a minimum of 1 is required`);
    const given = this.categoriesOption;
    if (given !== "auto" && given.length !== d) {
      throw new SabreTypeError(`${who}: shape mismatch: if categories is an array, it has to be of shape (n_features,): ${given.length} categories for ${d} columns`);
    }
    if (options.signal?.aborted) throw new AbortError(who, options.signal.reason);
    const engine = await runnerFor(options.engine, this.engine, n * d);
    const parts = (await engine.parallelFor(n, "sabre.preprocess.onehotUnique", { X: x }, { signal: options.signal })) as Float64Array[][];
    const seen = Array.from({ length: d }, (_, j) => sortCategories(parts.flatMap((p) => Array.from(p[j]!))));
    let categories: Float64Array[];
    if (given === "auto") categories = seen;
    else {
      categories = given.map((c) => Float64Array.from(c));
      if (this.handleUnknown === "error") {
        for (let j = 0; j < d; j++) {
          const unknown = Array.from(seen[j]!).filter((v) => !categories[j]!.some((c) => sameValue(c, v)));
          if (unknown.length > 0) throw new SabreTypeError(`${who}: found unknown categories [${unknown.map(pyFloat).join(", ")}] in column ${j} during fit`);
        }
      }
    }
    this.dropIdx = this.computeDrop(who, categories);
    this.categories = categories;
    this.nFeaturesIn = d;
    this.integerInput = !x.dtype.startsWith("float");
    this.plan = null;
    return this;
  }

  private computeDrop(who: string, categories: Float64Array[]): Array<number | null> | null {
    const drop = this.drop;
    if (drop === null) return null;
    if (drop === "first") return categories.map(() => 0);
    if (drop === "if_binary") return categories.map((c) => (c.length === 2 ? 0 : null));
    if (drop.length !== categories.length) {
      throw new SabreTypeError(`${who}: drop should have length equal to the number of features (${categories.length}), got ${drop.length}`);
    }
    const missing: string[] = [];
    const idx = drop.map((v, j) => {
      if (v === null) return null;
      const k = categories[j]!.findIndex((c) => sameValue(c, v));
      if (k < 0) missing.push(`category ${pyFloat(v)} in column ${j}`);
      return k;
    });
    if (missing.length > 0) {
      throw new SabreTypeError(`${who}: the following categories were supposed to be dropped, but were not found in the training data: ${missing.join("; ")}`);
    }
    return idx.every((k) => k === null) ? null : idx;
  }

  /** The number of output columns. */
  get nOutputs(): number {
    const { categories } = this.fitted("nOutputs");
    return blockWidths(categories, this.dropIdx).reduce((a, b) => a + b, 0);
  }

  async transform(X: unknown, options: TransformOptions = {}): Promise<NdArray> {
    const who = `${NAME}.transform`;
    options = transformOptions(who, options);
    const { categories, d } = this.fitted("transform");
    const x = asTable(who, X);
    const n = x.shape[0]!;
    if (x.shape[1] !== d) throw new SabreTypeError(`${who}: X has ${x.shape[1]} features, but ${NAME} is expecting ${d} features as input`);
    this.plan ??= buildPlan(categories, this.dropIdx);
    const plan = this.plan;
    let out: NdArray;
    if (options.out !== undefined) {
      out = options.out;
      if (!isNdArray(out) || !shared.isShared(out)) throw new SabreTypeError(`${who}: out must be a shared ndarray, got ${describe(out)}`);
      if (out.shape.length !== 2 || out.shape[0] !== n || out.shape[1] !== plan.m || out.stride[0] !== plan.m || out.stride[1] !== 1) {
        throw new SabreTypeError(`${who}: out must be a C-contiguous shared ndarray of shape [${n}, ${plan.m}], got shape [${out.shape.join(", ")}] strides [${out.stride.join(", ")}]`);
      }
      if (out.dtype === "bigint64" || out.dtype === "biguint64") throw new SabreTypeError(`${who}: out must have a number dtype, got ${out.dtype}`);
      if (sharesMemory(out.data, x.data)) throw new SabreTypeError(`${who}: out must not share memory with X`);
    } else {
      out = ndarray(sharedTypedArray(this.dtype, n * plan.m), [n, plan.m]);
    }
    const job: EncodeJob = { X: x, out, plan, ignoreUnknown: this.handleUnknown === "ignore", zero: options.out !== undefined };
    if (options.signal?.aborted) throw new AbortError(who, options.signal.reason);
    const engine = await runnerFor(options.engine, this.engine, n * d, n * plan.m);
    const found = (await engine.parallelFor(n, "sabre.preprocess.onehotEncode", { ...job }, { signal: options.signal })) as Array<UnknownAt | null>;
    const bad = found.find((b) => b !== null) ?? null;
    if (bad) throw new SabreTypeError(`${who}: found unknown categories [${pyFloat(bad.value)}] in column ${bad.col} during transform (row ${bad.row})`);
    return out;
  }

  async fitTransform(X: unknown, options: TransformOptions = {}): Promise<NdArray> {
    options = transformOptions(`${NAME}.fitTransform`, options);
    await this.fit(X, { ...(options.engine ? { engine: options.engine } : {}), ...(options.signal ? { signal: options.signal } : {}) });
    return this.transform(X, options);
  }

  /**
   * The categories back from one-hot rows (float64 [n, nFeaturesIn]). A
   * block of zeros gives the dropped category, or NaN for an unknown value
   * (scikit-learn gives None) with handleUnknown "ignore".
   */
  async inverseTransform(X: unknown, _options: PreprocessFitOptions = {}): Promise<NdArray> {
    const who = `${NAME}.inverseTransform`;
    fitOptions(who, _options);
    const { categories, d } = this.fitted("inverseTransform");
    const x = asTable(who, X);
    const widths = blockWidths(categories, this.dropIdx);
    const m = widths.reduce((a, b) => a + b, 0);
    const [n, w] = x.shape as [number, number];
    if (w !== m) throw new SabreTypeError(`${who}: shape of the passed X data is not correct: expected ${m} columns, got ${w}`);
    const out = shared.zeros("float64", [n, d]);
    const data = x.data as unknown as ArrayLike<number>;
    const [s0, s1] = x.stride as [number, number];
    for (let i = 0; i < n; i++) {
      let col = 0;
      for (let j = 0; j < d; j++) {
        const cats = categories[j]!;
        const drop = this.dropIdx?.[j] ?? null;
        let best = -1;
        let bestV = -Infinity;
        let sum = 0;
        for (let k = 0; k < widths[j]!; k++) {
          const v = data[x.offset + i * s0 + (col + k) * s1]!;
          sum += v;
          if (v > bestV) {
            bestV = v;
            best = k;
          }
        }
        let value: number;
        if (widths[j] === 0 || sum === 0) {
          if (drop !== null) value = cats[drop]!;
          else if (this.handleUnknown === "ignore") value = NaN;
          else value = cats[Math.max(0, best)]!;
        } else value = cats[drop !== null && best >= drop ? best + 1 : best]!;
        out.data[i * d + j] = value;
        col += widths[j]!;
      }
    }
    return out;
  }

  /** Output column names as scikit-learn's: `${feature}_${category}`, features x0, x1, ... unless given. */
  getFeatureNamesOut(inputFeatures?: readonly string[]): string[] {
    const { categories, d } = this.fitted("getFeatureNamesOut");
    if (inputFeatures !== undefined) {
      if (!Array.isArray(inputFeatures) || inputFeatures.length !== d || inputFeatures.some((f) => typeof f !== "string")) {
        throw new SabreTypeError(`${NAME}.getFeatureNamesOut: inputFeatures should have length equal to the number of features (${d}), got ${describe(inputFeatures)}`);
      }
    }
    const names: string[] = [];
    for (let j = 0; j < d; j++) {
      const feature = inputFeatures?.[j] ?? `x${j}`;
      const drop = this.dropIdx?.[j] ?? null;
      categories[j]!.forEach((c, k) => {
        if (k === drop) return;
        const label = this.integerInput && c === c ? String(c) : pyFloat(c);
        names.push(`${feature}_${label}`);
      });
    }
    return names;
  }

  toJSON(): TransformerJSON {
    const given = this.categoriesOption;
    const drop = this.drop;
    return {
      format: TRANSFORMER_FORMAT,
      version: TRANSFORMER_VERSION,
      estimator: NAME,
      params: {
        categories: given === "auto" ? "auto" : given.map((c) => Array.from(c, encodeValue)),
        drop: Array.isArray(drop) ? drop.map((v) => (v === null ? null : encodeValue(v))) : drop,
        handleUnknown: this.handleUnknown,
        sparseOutput: false,
        dtype: this.dtype,
      },
      state:
        this.categories === undefined
          ? null
          : {
              nFeaturesIn: this.nFeaturesIn,
              categories: this.categories.map((c) => Array.from(c, encodeValue)),
              dropIdx: this.dropIdx,
              integerInput: this.integerInput,
            },
    };
  }

  /**
   * Rebuilds an encoder from toJSON's output (the object or its JSON text).
   * @throws {@link FormatError} (`ERR_SABRE_FORMAT`) for a malformed, foreign or other-version object
   */
  static fromJSON(obj: unknown): OneHotEncoder {
    const json = checkTransformerJSON(obj, NAME);
    refuseNullParams(NAME, json.params, ["drop"]);
    const p = json.params;
    const values = (who: string, v: unknown): number[] => {
      if (!Array.isArray(v)) throw new FormatError(`${who} must be an array, got ${describe(v)}`);
      return v.map((x, i) => decodeValue(`${who}[${i}]`, x));
    };
    let enc: OneHotEncoder;
    try {
      const categories = p.categories === "auto" ? "auto" : Array.isArray(p.categories) ? p.categories.map((c, j) => values(`${NAME}.fromJSON: params.categories[${j}]`, c)) : p.categories;
      const drop = Array.isArray(p.drop) ? p.drop.map((v, j) => (v === null ? null : decodeValue(`${NAME}.fromJSON: params.drop[${j}]`, v))) : p.drop;
      enc = new OneHotEncoder({ categories, drop, handleUnknown: p.handleUnknown, sparseOutput: p.sparseOutput, dtype: p.dtype } as OneHotEncoderOptions);
    } catch (err) {
      if (err instanceof SabreTypeError) throw new FormatError(`${NAME}.fromJSON: bad params: ${err.message}`);
      throw err;
    }
    const s = json.state;
    if (s === null) return enc;
    const d = s.nFeaturesIn;
    if (typeof d !== "number" || !Number.isInteger(d) || d < 1) throw new FormatError(`${NAME}.fromJSON: state.nFeaturesIn must be a positive integer, got ${describe(d)}`);
    if (!Array.isArray(s.categories) || s.categories.length !== d) throw new FormatError(`${NAME}.fromJSON: state.categories must hold ${d} arrays, got ${describe(s.categories)}`);
    const categories = s.categories.map((c, j) => {
      const v = Float64Array.from(values(`${NAME}.fromJSON: state.categories[${j}]`, c));
      const sorted = sortCategories(v);
      if (sorted.length !== v.length || sorted.some((x, k) => !sameValue(x, v[k]!))) {
        throw new FormatError(`${NAME}.fromJSON: state.categories[${j}] must be sorted and distinct, NaN last`);
      }
      return v;
    });
    let dropIdx: Array<number | null> | null = null;
    if (s.dropIdx !== null) {
      if (!Array.isArray(s.dropIdx) || s.dropIdx.length !== d) throw new FormatError(`${NAME}.fromJSON: state.dropIdx must be null or hold ${d} entries, got ${describe(s.dropIdx)}`);
      dropIdx = s.dropIdx.map((k, j) => {
        if (k === null) return null;
        if (typeof k !== "number" || !Number.isInteger(k) || k < 0 || k >= categories[j]!.length) {
          throw new FormatError(`${NAME}.fromJSON: state.dropIdx[${j}] must be null or an index into categories[${j}], got ${describe(k)}`);
        }
        return k;
      });
    }
    if (typeof s.integerInput !== "boolean") throw new FormatError(`${NAME}.fromJSON: state.integerInput must be a boolean, got ${describe(s.integerInput)}`);
    enc.categories = categories;
    enc.dropIdx = dropIdx;
    enc.nFeaturesIn = d;
    enc.integerInput = s.integerInput;
    return enc;
  }
}

registerEstimator(NAME, OneHotEncoder.fromJSON);
