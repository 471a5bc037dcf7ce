// SimpleImputer with scikit-learn 1.2's semantics for NaN as the missing value.
import type { Engine } from "../../engine/engine.js";
import { FormatError, SabreTypeError } from "../../errors.js";
import type { NdArray } from "../../memory/ndarray-type.js";
import { describe } from "../../validate.js";
import { columnMedianPercentiles, columnSelect, columnStats } from "./column-stats.js";
import {
  arrayFromJSON,
  arrayToJSON,
  checkEngine,
  checkFeatureCount,
  checkOptionKeys,
  dtypeFromJSON,
  engineOf,
  fitOptions,
  floatDType,
  notFitted,
  numberFromJSON,
  outputOf,
  paramsFromJSON,
  refuseNullParams,
  rowParallel,
  stateField,
  tableOf,
  throwIfAborted,
  transformOptions,
} from "./common.js";
import { checkTransformerJSON, registerEstimator, TRANSFORMER_FORMAT, TRANSFORMER_VERSION, type PreprocessFitOptions, type Transformer, type TransformerJSON, type TransformOptions } from "./transformer.js";

/** How SimpleImputer fills a column: its mean, median, most frequent value, or `fillValue`. */
export type ImputeStrategy = "mean" | "median" | "most_frequent" | "constant";
const STRATEGIES: readonly ImputeStrategy[] = ["mean", "median", "most_frequent", "constant"];

/** Options of {@link SimpleImputer}. */
export interface SimpleImputerOptions {
  /** How a column's missing values are filled (default "mean"). */
  strategy?: ImputeStrategy;
  /** The value of strategy "constant" (default 0). */
  fillValue?: number;
  /** The missing value: NaN only (sklearn's default np.nan). */
  missingValues?: number;
  /** The engine fit and transform run on when their call gives none. */
  engine?: Engine;
}

interface ImputerState {
  nFeaturesIn: number;
  dtype: "float32" | "float64";
  statistics: Float64Array;
}

/**
 * scikit-learn's SimpleImputer (missing value NaN): each NaN becomes its
 * column's mean, median, most frequent value (the smallest on a tie) or the
 * constant `fillValue`, computed over the column's non-NaN values.
 * Infinities are refused, as sklearn does.
 *
 * keepEmptyFeatures is false, as in scikit-learn 1.2: for "mean", "median"
 * and "most_frequent", a column with no value at fit has NaN as its
 * statistic and is DROPPED from transform's output (which then has fewer
 * columns than X); "constant" keeps every column.
 *
 * Output dtype: float32 for float32 input, float64 otherwise (sklearn keeps
 * an integer dtype for "most_frequent"/"constant"; sabre gives float64).
 * Attributes: `statistics` (Float64Array per feature), `nFeaturesIn`.
 * There is no inverseTransform: sklearn has one only with add_indicator.
 *
 * @example
 * ```ts
 * const imputer = new SimpleImputer({ strategy: "median" });
 * const filled = await imputer.fitTransform(X);   // NaN cells get their column's median
 * imputer.statistics;                             // Float64Array, one median per column
 * ```
 */
export class SimpleImputer implements Transformer {
  /** How missing values are filled. */
  readonly strategy: ImputeStrategy;
  /** The value of strategy "constant". */
  readonly fillValue: number;
  /** The missing value (NaN). */
  readonly missingValues: number;
  /** The engine used when a call gives none (undefined: the default engine). */
  readonly engine: Engine | undefined;
  #state: ImputerState | null = null;

  constructor(options: SimpleImputerOptions = {}) {
    const who = "SimpleImputer";
    const o = checkOptionKeys(who, options, ["strategy", "fillValue", "missingValues", "engine"]) as SimpleImputerOptions;
    const strategy = o.strategy ?? "mean";
    if (!STRATEGIES.includes(strategy)) throw new SabreTypeError(`${who}: strategy must be one of ${STRATEGIES.map((s) => `"${s}"`).join(", ")}, got ${describe(strategy)}`);
    this.strategy = strategy;
    if (o.fillValue !== undefined && (typeof o.fillValue !== "number" || Number.isNaN(o.fillValue))) {
      throw new SabreTypeError(`${who}: fillValue must be a number, got ${describe(o.fillValue)}`);
    }
    this.fillValue = o.fillValue ?? 0;
    if (o.missingValues !== undefined && !Number.isNaN(o.missingValues)) {
      throw new SabreTypeError(`${who}: missingValues must be NaN (the only missing value sabre's tables hold), got ${describe(o.missingValues)}`);
    }
    this.missingValues = NaN;
    checkEngine(who, o.engine);
    this.engine = o.engine;
  }

  #fitted(method: string): ImputerState {
    if (!this.#state) throw notFitted("SimpleImputer", method);
    return this.#state;
  }
  /** The number of features seen by fit. Throws SabreTypeError (`ERR_SABRE_TYPE`) before fit. */
  get nFeaturesIn(): number {
    return this.#fitted("nFeaturesIn").nFeaturesIn;
  }
  /** The fill value of each input column (NaN: a column without values, dropped by transform). */
  get statistics(): Float64Array {
    return this.#fitted("statistics").statistics;
  }
  /** True once fit (or fromJSON of a fitted imputer) ran. */
  get fitted(): boolean {
    return this.#state !== null;
  }

  async fit(X: unknown, options?: PreprocessFitOptions): Promise<this> {
    const who = "SimpleImputer.fit";
    const o = fitOptions(who, options);
    const x = tableOf(who, X);
    throwIfAborted(who, o.signal);
    const dtype = floatDType(x);
    const nf = x.shape[1]!;
    const r = dtype === "float32" ? Math.fround : (v: number) => v;
    let statistics: Float64Array;
    if (this.strategy === "constant") {
      // still one pass: sklearn refuses infinities whatever the strategy
      const engine = await engineOf(o.engine, this.engine, x.size);
      await columnStats(who, engine, x, false, o.signal);
      statistics = new Float64Array(nf).fill(r(this.fillValue));
    } else {
      const engine = await engineOf(o.engine, this.engine, x.size);
      // the mean needs no min/max; the median's histograms and the mode's gather do
      const s = await columnStats(who, engine, x, this.strategy === "mean", o.signal, this.strategy !== "mean");
      if (this.strategy === "mean") statistics = Float64Array.from(s.mean, r);
      else if (this.strategy === "median") {
        const res = await columnMedianPercentiles(engine, x, s, Array.from({ length: nf }, () => []), true, o.signal);
        statistics = res.median!;
      } else statistics = Float64Array.from(await columnSelect(engine, x, s, { kind: "mode" }, 1, o.signal));
    }
    this.#state = { nFeaturesIn: nf, dtype, statistics };
    return this;
  }

  /** The input columns transform keeps: all for "constant", else those with a statistic. */
  #kept(st: ImputerState): Int32Array {
    const cols: number[] = [];
    for (let j = 0; j < st.nFeaturesIn; j++) if (this.strategy === "constant" || !Number.isNaN(st.statistics[j])) cols.push(j);
    return Int32Array.from(cols);
  }

  async transform(X: unknown, options?: TransformOptions): Promise<NdArray> {
    const who = "SimpleImputer.transform";
    const o = transformOptions(who, options);
    const st = this.#fitted("transform");
    const x = tableOf(who, X);
    checkFeatureCount(who, x, st.nFeaturesIn);
    const dtype = floatDType(x);
    const cols = this.#kept(st);
    const r = dtype === "float32" ? Math.fround : (v: number) => v;
    const fill = Float64Array.from(cols, (j) => r(st.statistics[j]!));
    const out = outputOf(who, o.out, [x.shape[0]!, cols.length], dtype);
    throwIfAborted(who, o.signal);
    if (cols.length === 0) return out;
    const engine = await engineOf(o.engine, this.engine, x.size);
    const bad = await rowParallel(engine, "sabre.preprocess.impute", x.shape[0]!, { x, out, cols, fill }, o.signal);
    if (bad > 0) throw new SabreTypeError(`${who}: X contains infinity; only finite values and NaN (missing) are allowed`);
    return out;
  }

  async fitTransform(X: unknown, options?: TransformOptions): Promise<NdArray> {
    const o = transformOptions("SimpleImputer.fitTransform", options);
    await this.fit(X, { engine: o.engine, signal: o.signal });
    return this.transform(X, o);
  }

  toJSON(): TransformerJSON {
    const st = this.#state;
    return {
      format: TRANSFORMER_FORMAT,
      version: TRANSFORMER_VERSION,
      estimator: "SimpleImputer",
      params: { strategy: this.strategy, fillValue: this.fillValue },
      state: st && { nFeaturesIn: st.nFeaturesIn, dtype: st.dtype, statistics: arrayToJSON(st.statistics) },
    };
  }

  /**
   * Rebuilds an imputer from toJSON's output (the object or its JSON text).
   * @throws {@link FormatError} (`ERR_SABRE_FORMAT`) for a malformed, foreign or other-version object
   */
  static fromJSON(obj: unknown): SimpleImputer {
    const who = "SimpleImputer";
    const j = checkTransformerJSON(obj, who);
    refuseNullParams(who, j.params);
    const imp = paramsFromJSON(who, () => new SimpleImputer(j.params as SimpleImputerOptions));
    if (j.state) {
      const nf = numberFromJSON(who, "state.nFeaturesIn", stateField(who, j.state, "nFeaturesIn"), { intMin: 1 });
      const statistics = arrayFromJSON(who, "state.statistics", stateField(who, j.state, "statistics"), nf, { nan: imp.strategy !== "constant" });
      if (imp.strategy === "constant" && statistics.some((v) => v !== statistics[0])) {
        throw new FormatError(`${who}.fromJSON: state.statistics of strategy "constant" must all be the fill value`);
      }
      imp.#state = { nFeaturesIn: nf, dtype: dtypeFromJSON(who, stateField(who, j.state, "dtype")), statistics };
    }
    return imp;
  }
}
registerEstimator("SimpleImputer", SimpleImputer.fromJSON);
