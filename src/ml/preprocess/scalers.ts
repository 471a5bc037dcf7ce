// StandardScaler, MinMaxScaler and RobustScaler with scikit-learn 1.2's
// semantics: NaN is ignored when fitting and kept when transforming,
// infinities are refused, (near-)constant columns get scale 1, and float32
// input gives float32 output computed step by step as numpy does in place.
// Fitted arrays are plain Float64Arrays of one number per feature (float32
// data: the float32 values sklearn holds, widened).
import type { Engine } from "../../engine/engine.js";
import { FormatError, SabreTypeError } from "../../errors.js";
import type { NdArray } from "../../memory/ndarray-type.js";
import { describe } from "../../validate.js";
import { columnMedianPercentiles, columnStats } from "./column-stats.js";
import {
  arrayFromJSON,
  arrayToJSON,
  checkBoolean,
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
  type JSONNumber,
  type NumberRule,
} from "./common.js";
import { normalPpf } from "./normal.js";
import { checkTransformerJSON, registerEstimator, TRANSFORMER_FORMAT, TRANSFORMER_VERSION, type PreprocessFitOptions, type Transformer, type TransformerJSON, type TransformOptions } from "./transformer.js";

const EPS64 = 2 ** -52;
const EPS32 = 2 ** -23;

interface AffineMap {
  mode: 0 | 1;
  a: Float64Array;
  b: Float64Array;
  clip?: readonly [number, number];
}

/** Runs the affine kernel from x into a new (or the caller's) array of x's float dtype. */
async function applyAffine(who: string, x: NdArray, map: AffineMap, options: TransformOptions, own: Engine | undefined): Promise<NdArray> {
  const dtype = floatDType(x);
  const out = outputOf(who, options.out, x.shape, dtype);
  throwIfAborted(who, options.signal);
  const engine = await engineOf(options.engine, own, x.size);
  const clip = map.clip !== undefined;
  const [lo, hi] = map.clip ?? [0, 0];
  const bad = await rowParallel(engine, "sabre.preprocess.affine", x.shape[0]!, { x, out, mode: map.mode, a: map.a, b: map.b, clip, lo, hi, f32: dtype === "float32" }, options.signal);
  if (bad > 0) throw new SabreTypeError(`${who}: X contains infinity; only finite values and NaN (missing) are allowed`);
  return out;
}

function filled(n: number, v: number): Float64Array {
  return new Float64Array(n).fill(v);
}

/** sklearn's n_samples_seen_: one number when every column saw as many values, else one per column. */
function samplesSeen(count: Float64Array): number | Float64Array {
  return count.every((c) => c === count[0]) ? count[0]! : Float64Array.from(count);
}

function samplesSeenFromJSON(who: string, v: unknown, nf: number): number | Float64Array {
  if (Array.isArray(v)) return arrayFromJSON(who, "state.nSamplesSeen", v, nf, { intMin: 0 });
  return numberFromJSON(who, "state.nSamplesSeen", v, { intMin: 0 });
}

function nFeaturesFromJSON(who: string, state: Record<string, unknown>): number {
  return numberFromJSON(who, "state.nFeaturesIn", stateField(who, state, "nFeaturesIn"), { intMin: 1 });
}

function envelope(estimator: string, params: Record<string, unknown>, state: Record<string, unknown> | null): TransformerJSON {
  return { format: TRANSFORMER_FORMAT, version: TRANSFORMER_VERSION, estimator, params, state };
}

function optionalArray(who: string, state: Record<string, unknown>, key: string, present: boolean, nf: number, rule: NumberRule): Float64Array | null {
  const v = stateField(who, state, key);
  if (!present) {
    if (v !== null) throw new FormatError(`${who}.fromJSON: state.${key} must be null with these params, got ${describe(v)}`);
    return null;
  }
  return arrayFromJSON(who, `state.${key}`, v, nf, rule);
}

// ---- StandardScaler ------------------------------------------------------

/** Options of {@link StandardScaler}. */
export interface StandardScalerOptions {
  /** Subtract the mean (default true). */
  withMean?: boolean;
  /** Divide by the standard deviation (default true). */
  withStd?: boolean;
  /** The engine fit and transform run on when their call gives none (default: the default engine). */
  engine?: Engine;
}

interface StandardState {
  nFeaturesIn: number;
  nSamplesSeen: number | Float64Array;
  mean: Float64Array | null;
  var: Float64Array | null;
  scale: Float64Array | null;
}

/**
 * scikit-learn's StandardScaler: z = (x - mean) / scale per column, where
 * mean and the population variance ignore NaN, and scale is sqrt(var), or 1
 * where the variance is within the two-pass algorithm's error bound of 0
 * (sklearn's _is_constant_feature). A column without any value has NaN
 * mean, var and scale (its output stays NaN). Attributes: `mean`, `var`,
 * `scale` (Float64Array per feature; null where the options skip them, as
 * sklearn's None), `nSamplesSeen` (a number, or a Float64Array per feature
 * when NaN made the counts differ), `nFeaturesIn`.
 *
 * @example
 * ```ts
 * const scaler = new StandardScaler();
 * const Z = await scaler.fitTransform(Xtrain);   // float64 shared ndarray, same shape
 * const Ztest = await scaler.transform(Xtest);
 * const saved = JSON.stringify(scaler.toJSON()); // StandardScaler.fromJSON(saved)
 * ```
 */
export class StandardScaler implements Transformer {
  /** Whether transform subtracts the mean. */
  readonly withMean: boolean;
  /** Whether transform divides by the standard deviation. */
  readonly withStd: boolean;
  /** The engine used when a call gives none (undefined: the default engine). */
  readonly engine: Engine | undefined;
  #state: StandardState | null = null;

  constructor(options: StandardScalerOptions = {}) {
    const o = checkOptionKeys("StandardScaler", options, ["withMean", "withStd", "engine"]) as StandardScalerOptions;
    this.withMean = checkBoolean("StandardScaler", "withMean", o.withMean, true);
    this.withStd = checkBoolean("StandardScaler", "withStd", o.withStd, true);
    checkEngine("StandardScaler", o.engine);
    this.engine = o.engine;
  }

  #fitted(method: string): StandardState {
    if (!this.#state) throw notFitted("StandardScaler", method);
    return this.#state;
  }
  /** The number of features seen by fit (sklearn's n_features_in_). Throws SabreTypeError (`ERR_SABRE_TYPE`) before fit. */
  get nFeaturesIn(): number {
    return this.#fitted("nFeaturesIn").nFeaturesIn;
  }
  /** Values seen per feature: a number, or a Float64Array per feature when NaN made the counts differ (n_samples_seen_). Throws SabreTypeError (`ERR_SABRE_TYPE`) before fit. */
  get nSamplesSeen(): number | Float64Array {
    return this.#fitted("nSamplesSeen").nSamplesSeen;
  }
  /** The per-feature mean (mean_), or null with withMean and withStd false. Throws SabreTypeError (`ERR_SABRE_TYPE`) before fit. */
  get mean(): Float64Array | null {
    return this.#fitted("mean").mean;
  }
  /** The per-feature population variance (var_), or null with withStd false. Throws SabreTypeError (`ERR_SABRE_TYPE`) before fit. */
  get var(): Float64Array | null {
    return this.#fitted("var").var;
  }
  /** The per-feature divisor (scale_): sqrt(var), 1 for a constant column; null with withStd false. Throws SabreTypeError (`ERR_SABRE_TYPE`) before fit. */
  get scale(): Float64Array | null {
    return this.#fitted("scale").scale;
  }
  /** True once fit (or fromJSON of a fitted scaler) ran. */
  get fitted(): boolean {
    return this.#state !== null;
  }

  async fit(X: unknown, options?: PreprocessFitOptions): Promise<this> {
    const who = "StandardScaler.fit";
    const o = fitOptions(who, options);
    const x = tableOf(who, X);
    throwIfAborted(who, o.signal);
    const engine = await engineOf(o.engine, this.engine, x.size);
    const moments = this.withMean || this.withStd;
    const s = await columnStats(who, engine, x, moments, o.signal, false);
    const nf = x.shape[1]!;
    let scale: Float64Array | null = null;
    if (this.withStd) {
      scale = new Float64Array(nf);
      for (let j = 0; j < nf; j++) {
        const v = s.var[j]!;
        const n = s.count[j]!;
        const m = s.mean[j]!;
        const bound = n * EPS64 * v + (n * m * EPS64) ** 2;
        scale[j] = v <= bound ? 1 : Math.sqrt(v);
      }
    }
    this.#state = {
      nFeaturesIn: nf,
      nSamplesSeen: samplesSeen(s.count),
      mean: moments ? s.mean : null,
      var: this.withStd ? s.var : null,
      scale,
    };
    return this;
  }

  async transform(X: unknown, options?: TransformOptions): Promise<NdArray> {
    const who = "StandardScaler.transform";
    const o = transformOptions(who, options);
    const st = this.#fitted("transform");
    const x = tableOf(who, X);
    checkFeatureCount(who, x, st.nFeaturesIn);
    const nf = st.nFeaturesIn;
    const a = this.withMean && st.mean ? st.mean : filled(nf, 0);
    const b = st.scale ?? filled(nf, 1);
    return applyAffine(who, x, { mode: 0, a, b }, o, this.engine);
  }

  async fitTransform(X: unknown, options?: TransformOptions): Promise<NdArray> {
    const o = transformOptions("StandardScaler.fitTransform", options);
    await this.fit(X, { engine: o.engine, signal: o.signal });
    return this.transform(X, o);
  }

  /** x * scale + mean: back to the original units. */
  async inverseTransform(X: unknown, options?: TransformOptions): Promise<NdArray> {
    const who = "StandardScaler.inverseTransform";
    const o = transformOptions(who, options);
    const st = this.#fitted("inverseTransform");
    const x = tableOf(who, X);
    checkFeatureCount(who, x, st.nFeaturesIn);
    const nf = st.nFeaturesIn;
    const a = st.scale ?? filled(nf, 1);
    // -0 is the identity of addition for every x, -0 included
    const b = this.withMean && st.mean ? st.mean : filled(nf, -0);
    return applyAffine(who, x, { mode: 1, a, b }, o, this.engine);
  }

  toJSON(): TransformerJSON {
    const st = this.#state;
    return envelope(
      "StandardScaler",
      { withMean: this.withMean, withStd: this.withStd },
      st && {
        nFeaturesIn: st.nFeaturesIn,
        nSamplesSeen: typeof st.nSamplesSeen === "number" ? st.nSamplesSeen : arrayToJSON(st.nSamplesSeen),
        mean: st.mean && arrayToJSON(st.mean),
        var: st.var && arrayToJSON(st.var),
        scale: st.scale && arrayToJSON(st.scale),
      },
    );
  }

  /**
   * Rebuilds a scaler from toJSON's output (the object or its JSON text).
   * @throws {@link FormatError} (`ERR_SABRE_FORMAT`) for a malformed, foreign or other-version object
   */
  static fromJSON(obj: unknown): StandardScaler {
    const who = "StandardScaler";
    const j = checkTransformerJSON(obj, who);
    refuseNullParams(who, j.params);
    const s = paramsFromJSON(who, () => new StandardScaler(j.params as StandardScalerOptions));
    if (j.state) {
      const nf = nFeaturesFromJSON(who, j.state);
      const moments = s.withMean || s.withStd;
      s.#state = {
        nFeaturesIn: nf,
        nSamplesSeen: samplesSeenFromJSON(who, stateField(who, j.state, "nSamplesSeen"), nf),
        mean: optionalArray(who, j.state, "mean", moments, nf, { nan: true }),
        var: optionalArray(who, j.state, "var", s.withStd, nf, { nan: true }),
        scale: optionalArray(who, j.state, "scale", s.withStd, nf, { nan: true, positive: true }),
      };
      const v = s.#state.var;
      if (v?.some((x) => x < 0)) throw new FormatError(`${who}.fromJSON: state.var must be >= 0`);
    }
    return s;
  }
}
registerEstimator("StandardScaler", StandardScaler.fromJSON);

// ---- MinMaxScaler --------------------------------------------------------

/** Options of {@link MinMaxScaler}. */
export interface MinMaxScalerOptions {
  /** The range the data is mapped to (default [0, 1]); min < max. */
  featureRange?: readonly [number, number];
  /** Clip transformed values into featureRange (default false). */
  clip?: boolean;
  /** The engine fit and transform run on when their call gives none (default: the default engine). */
  engine?: Engine;
}

interface MinMaxState {
  nFeaturesIn: number;
  nSamplesSeen: number;
  dtype: "float32" | "float64";
  dataMin: Float64Array;
  dataMax: Float64Array;
  dataRange: Float64Array;
  scale: Float64Array;
  min: Float64Array;
}

/**
 * scikit-learn's MinMaxScaler: x * scale + min, with scale = (hi - lo) /
 * dataRange (a range below 10 eps of the dtype counts as 1) and min = lo -
 * dataMin * scale. Fitted on float32 data, these are float32 values as in
 * sklearn. Attributes: `dataMin`, `dataMax`, `dataRange`, `scale`, `min`
 * (Float64Array per feature; NaN for a column without any value),
 * `nSamplesSeen` (rows), `nFeaturesIn`.
 *
 * @example
 * ```ts
 * const scaler = new MinMaxScaler({ featureRange: [-1, 1] });
 * const Z = await scaler.fitTransform(X);   // every column in [-1, 1]
 * ```
 */
export class MinMaxScaler implements Transformer {
  /** The range the data is mapped to. */
  readonly featureRange: readonly [number, number];
  /** Whether transformed values are clipped into featureRange. */
  readonly clip: boolean;
  /** The engine used when a call gives none (undefined: the default engine). */
  readonly engine: Engine | undefined;
  #state: MinMaxState | null = null;

  constructor(options: MinMaxScalerOptions = {}) {
    const who = "MinMaxScaler";
    const o = checkOptionKeys(who, options, ["featureRange", "clip", "engine"]) as MinMaxScalerOptions;
    const fr = o.featureRange ?? [0, 1];
    if (!Array.isArray(fr) || fr.length !== 2 || !fr.every((v) => typeof v === "number" && Number.isFinite(v))) {
      throw new SabreTypeError(`${who}: featureRange must be [min, max] of finite numbers, got ${describe(fr)}`);
    }
    if (!(fr[0]! < fr[1]!)) throw new SabreTypeError(`${who}: minimum of desired feature range must be smaller than maximum, got [${fr[0]}, ${fr[1]}]`);
    this.featureRange = [fr[0]!, fr[1]!];
    this.clip = checkBoolean(who, "clip", o.clip, false);
    checkEngine(who, o.engine);
    this.engine = o.engine;
  }

  #fitted(method: string): MinMaxState {
    if (!this.#state) throw notFitted("MinMaxScaler", method);
    return this.#state;
  }
  /** The number of features seen by fit. Throws SabreTypeError (`ERR_SABRE_TYPE`) before fit. */
  get nFeaturesIn(): number {
    return this.#fitted("nFeaturesIn").nFeaturesIn;
  }
  /** The number of rows seen by fit. Throws SabreTypeError (`ERR_SABRE_TYPE`) before fit. */
  get nSamplesSeen(): number {
    return this.#fitted("nSamplesSeen").nSamplesSeen;
  }
  /** The per-feature minimum, ignoring NaN (data_min_). Throws SabreTypeError (`ERR_SABRE_TYPE`) before fit. */
  get dataMin(): Float64Array {
    return this.#fitted("dataMin").dataMin;
  }
  /** The per-feature maximum, ignoring NaN (data_max_). Throws SabreTypeError (`ERR_SABRE_TYPE`) before fit. */
  get dataMax(): Float64Array {
    return this.#fitted("dataMax").dataMax;
  }
  /** dataMax - dataMin per feature (data_range_). Throws SabreTypeError (`ERR_SABRE_TYPE`) before fit. */
  get dataRange(): Float64Array {
    return this.#fitted("dataRange").dataRange;
  }
  /** The per-feature factor of transform (scale_). Throws SabreTypeError (`ERR_SABRE_TYPE`) before fit. */
  get scale(): Float64Array {
    return this.#fitted("scale").scale;
  }
  /** The per-feature offset of transform (min_). Throws SabreTypeError (`ERR_SABRE_TYPE`) before fit. */
  get min(): Float64Array {
    return this.#fitted("min").min;
  }
  /** True once fit (or fromJSON of a fitted scaler) ran. */
  get fitted(): boolean {
    return this.#state !== null;
  }

  async fit(X: unknown, options?: PreprocessFitOptions): Promise<this> {
    const who = "MinMaxScaler.fit";
    const o = fitOptions(who, options);
    const x = tableOf(who, X);
    throwIfAborted(who, o.signal);
    const engine = await engineOf(o.engine, this.engine, x.size);
    const s = await columnStats(who, engine, x, false, o.signal);
    const dtype = floatDType(x);
    const r = dtype === "float32" ? Math.fround : (v: number) => v;
    const eps = dtype === "float32" ? EPS32 : EPS64;
    const nf = x.shape[1]!;
    const [lo, hi] = this.featureRange;
    const dataRange = new Float64Array(nf);
    const scale = new Float64Array(nf);
    const min = new Float64Array(nf);
    for (let j = 0; j < nf; j++) {
      dataRange[j] = r(s.max[j]! - s.min[j]!);
      const range = dataRange[j]! < 10 * eps ? 1 : dataRange[j]!;
      scale[j] = r(r(hi - lo) / range);
      min[j] = r(r(lo) - r(s.min[j]! * scale[j]!));
    }
    this.#state = { nFeaturesIn: nf, nSamplesSeen: x.shape[0]!, dtype, dataMin: s.min, dataMax: s.max, dataRange, scale, min };
    return this;
  }

  #clipRange(dtype: "float32" | "float64"): readonly [number, number] | undefined {
    if (!this.clip) return undefined;
    const [lo, hi] = this.featureRange;
    return dtype === "float32" ? [Math.fround(lo), Math.fround(hi)] : [lo, hi];
  }

  async transform(X: unknown, options?: TransformOptions): Promise<NdArray> {
    const who = "MinMaxScaler.transform";
    const o = transformOptions(who, options);
    const st = this.#fitted("transform");
    const x = tableOf(who, X);
    checkFeatureCount(who, x, st.nFeaturesIn);
    const dtype = floatDType(x);
    const clip = this.#clipRange(dtype);
    return applyAffine(who, x, clip ? { mode: 1, a: st.scale, b: st.min, clip } : { mode: 1, a: st.scale, b: st.min }, o, this.engine);
  }

  async fitTransform(X: unknown, options?: TransformOptions): Promise<NdArray> {
    const o = transformOptions("MinMaxScaler.fitTransform", options);
    await this.fit(X, { engine: o.engine, signal: o.signal });
    return this.transform(X, o);
  }

  /** (x - min) / scale. */
  async inverseTransform(X: unknown, options?: TransformOptions): Promise<NdArray> {
    const who = "MinMaxScaler.inverseTransform";
    const o = transformOptions(who, options);
    const st = this.#fitted("inverseTransform");
    const x = tableOf(who, X);
    checkFeatureCount(who, x, st.nFeaturesIn);
    return applyAffine(who, x, { mode: 0, a: st.min, b: st.scale }, o, this.engine);
  }

  toJSON(): TransformerJSON {
    const st = this.#state;
    return envelope(
      "MinMaxScaler",
      { featureRange: [...this.featureRange], clip: this.clip },
      st && {
        nFeaturesIn: st.nFeaturesIn,
        nSamplesSeen: st.nSamplesSeen,
        dtype: st.dtype,
        dataMin: arrayToJSON(st.dataMin),
        dataMax: arrayToJSON(st.dataMax),
        dataRange: arrayToJSON(st.dataRange),
        scale: arrayToJSON(st.scale),
        min: arrayToJSON(st.min),
      },
    );
  }

  /**
   * Rebuilds a scaler from toJSON's output (the object or its JSON text).
   * @throws {@link FormatError} (`ERR_SABRE_FORMAT`) for a malformed, foreign or other-version object
   */
  static fromJSON(obj: unknown): MinMaxScaler {
    const who = "MinMaxScaler";
    const j = checkTransformerJSON(obj, who);
    refuseNullParams(who, j.params);
    const s = paramsFromJSON(who, () => new MinMaxScaler(j.params as MinMaxScalerOptions));
    if (j.state) {
      const st = j.state;
      const nf = nFeaturesFromJSON(who, st);
      const arr = (key: string, rule: { nan?: boolean; positive?: boolean }): Float64Array => arrayFromJSON(who, `state.${key}`, stateField(who, st, key), nf, rule);
      s.#state = {
        nFeaturesIn: nf,
        nSamplesSeen: numberFromJSON(who, "state.nSamplesSeen", stateField(who, st, "nSamplesSeen"), { intMin: 1 }),
        dtype: dtypeFromJSON(who, stateField(who, st, "dtype")),
        dataMin: arr("dataMin", { nan: true }),
        dataMax: arr("dataMax", { nan: true }),
        dataRange: arr("dataRange", { nan: true }),
        scale: arr("scale", { nan: true, positive: true }),
        min: arr("min", { nan: true }),
      };
    }
    return s;
  }
}
registerEstimator("MinMaxScaler", MinMaxScaler.fromJSON);

// ---- RobustScaler --------------------------------------------------------

/** Options of {@link RobustScaler}. */
export interface RobustScalerOptions {
  /** Subtract the median (default true). */
  withCentering?: boolean;
  /** Divide by the quantile range (default true). */
  withScaling?: boolean;
  /** The percentiles [qMin, qMax] whose difference is the scale (default [25, 75]); 0 <= qMin <= qMax <= 100. */
  quantileRange?: readonly [number, number];
  /** Divide the scale further so that normally distributed data gets unit variance (default false). */
  unitVariance?: boolean;
  /** The engine fit and transform run on when their call gives none (default: the default engine). */
  engine?: Engine;
}

interface RobustState {
  nFeaturesIn: number;
  center: Float64Array | null;
  scale: Float64Array | null;
}

/**
 * scikit-learn's RobustScaler: (x - center) / scale with center the median
 * (np.nanmedian) and scale the difference of two percentiles
 * (np.nanpercentile, "linear"), 1 where that difference is below 10 eps.
 * A column without any value gets NaN. Attributes: `center`, `scale`
 * (Float64Array per feature, or null as sklearn's None), `nFeaturesIn`.
 *
 * @example
 * ```ts
 * const Z = await new RobustScaler({ quantileRange: [10, 90] }).fitTransform(X);
 * ```
 */
export class RobustScaler implements Transformer {
  /** Whether transform subtracts the median. */
  readonly withCentering: boolean;
  /** Whether transform divides by the quantile range. */
  readonly withScaling: boolean;
  /** The percentiles [qMin, qMax] whose difference is the scale. */
  readonly quantileRange: readonly [number, number];
  /** Whether the scale is adjusted so normal data gets unit variance. */
  readonly unitVariance: boolean;
  /** The engine used when a call gives none (undefined: the default engine). */
  readonly engine: Engine | undefined;
  #state: RobustState | null = null;

  constructor(options: RobustScalerOptions = {}) {
    const who = "RobustScaler";
    const o = checkOptionKeys(who, options, ["withCentering", "withScaling", "quantileRange", "unitVariance", "engine"]) as RobustScalerOptions;
    this.withCentering = checkBoolean(who, "withCentering", o.withCentering, true);
    this.withScaling = checkBoolean(who, "withScaling", o.withScaling, true);
    this.unitVariance = checkBoolean(who, "unitVariance", o.unitVariance, false);
    const qr = o.quantileRange ?? [25, 75];
    if (!Array.isArray(qr) || qr.length !== 2 || !qr.every((v) => typeof v === "number" && Number.isFinite(v))) {
      throw new SabreTypeError(`${who}: quantileRange must be [qMin, qMax] of numbers, got ${describe(qr)}`);
    }
    if (!(0 <= qr[0]! && qr[0]! <= qr[1]! && qr[1]! <= 100)) throw new SabreTypeError(`${who}: invalid quantile range [${qr[0]}, ${qr[1]}]: 0 <= qMin <= qMax <= 100 is required`);
    this.quantileRange = [qr[0]!, qr[1]!];
    checkEngine(who, o.engine);
    this.engine = o.engine;
  }

  #fitted(method: string): RobustState {
    if (!this.#state) throw notFitted("RobustScaler", method);
    return this.#state;
  }
  /** The number of features seen by fit. Throws SabreTypeError (`ERR_SABRE_TYPE`) before fit. */
  get nFeaturesIn(): number {
    return this.#fitted("nFeaturesIn").nFeaturesIn;
  }
  /** The per-feature median (center_), or null with withCentering false. Throws SabreTypeError (`ERR_SABRE_TYPE`) before fit. */
  get center(): Float64Array | null {
    return this.#fitted("center").center;
  }
  /** The per-feature quantile range (scale_), or null with withScaling false. Throws SabreTypeError (`ERR_SABRE_TYPE`) before fit. */
  get scale(): Float64Array | null {
    return this.#fitted("scale").scale;
  }
  /** True once fit (or fromJSON of a fitted scaler) ran. */
  get fitted(): boolean {
    return this.#state !== null;
  }

  async fit(X: unknown, options?: PreprocessFitOptions): Promise<this> {
    const who = "RobustScaler.fit";
    const o = fitOptions(who, options);
    const x = tableOf(who, X);
    throwIfAborted(who, o.signal);
    const engine = await engineOf(o.engine, this.engine, x.size);
    const nf = x.shape[1]!;
    let center: Float64Array | null = null;
    let scale: Float64Array | null = null;
    if (this.withCentering || this.withScaling) {
      const s = await columnStats(who, engine, x, false, o.signal);
      const qs = this.withScaling ? [this.quantileRange[0] / 100, this.quantileRange[1] / 100] : [];
      const res = await columnMedianPercentiles(engine, x, s, Array.from({ length: nf }, () => qs), this.withCentering, o.signal);
      center = res.median;
      if (this.withScaling) {
        const adjust = this.unitVariance ? normalPpf(this.quantileRange[1] / 100) - normalPpf(this.quantileRange[0] / 100) : 1;
        scale = new Float64Array(nf);
        for (let j = 0; j < nf; j++) {
          const d = res.percentiles[j]![1]! - res.percentiles[j]![0]!;
          const handled = d < 10 * EPS64 ? 1 : d;
          scale[j] = this.unitVariance ? handled / adjust : handled;
        }
      }
    }
    this.#state = { nFeaturesIn: nf, center, scale };
    return this;
  }

  async transform(X: unknown, options?: TransformOptions): Promise<NdArray> {
    const who = "RobustScaler.transform";
    const o = transformOptions(who, options);
    const st = this.#fitted("transform");
    const x = tableOf(who, X);
    checkFeatureCount(who, x, st.nFeaturesIn);
    const nf = st.nFeaturesIn;
    return applyAffine(who, x, { mode: 0, a: st.center ?? filled(nf, 0), b: st.scale ?? filled(nf, 1) }, o, this.engine);
  }

  async fitTransform(X: unknown, options?: TransformOptions): Promise<NdArray> {
    const o = transformOptions("RobustScaler.fitTransform", options);
    await this.fit(X, { engine: o.engine, signal: o.signal });
    return this.transform(X, o);
  }

  /** x * scale + center. */
  async inverseTransform(X: unknown, options?: TransformOptions): Promise<NdArray> {
    const who = "RobustScaler.inverseTransform";
    const o = transformOptions(who, options);
    const st = this.#fitted("inverseTransform");
    const x = tableOf(who, X);
    checkFeatureCount(who, x, st.nFeaturesIn);
    const nf = st.nFeaturesIn;
    return applyAffine(who, x, { mode: 1, a: st.scale ?? filled(nf, 1), b: st.center ?? filled(nf, -0) }, o, this.engine);
  }

  toJSON(): TransformerJSON {
    const st = this.#state;
    return envelope(
      "RobustScaler",
      { withCentering: this.withCentering, withScaling: this.withScaling, quantileRange: [...this.quantileRange], unitVariance: this.unitVariance },
      st && {
        nFeaturesIn: st.nFeaturesIn,
        center: st.center && (arrayToJSON(st.center) as JSONNumber[]),
        scale: st.scale && arrayToJSON(st.scale),
      },
    );
  }

  /**
   * Rebuilds a scaler from toJSON's output (the object or its JSON text).
   * @throws {@link FormatError} (`ERR_SABRE_FORMAT`) for a malformed, foreign or other-version object
   */
  static fromJSON(obj: unknown): RobustScaler {
    const who = "RobustScaler";
    const j = checkTransformerJSON(obj, who);
    refuseNullParams(who, j.params);
    const s = paramsFromJSON(who, () => new RobustScaler(j.params as RobustScalerOptions));
    if (j.state) {
      const nf = nFeaturesFromJSON(who, j.state);
      s.#state = {
        nFeaturesIn: nf,
        center: optionalArray(who, j.state, "center", s.withCentering, nf, { nan: true }),
        // qMin = qMax with unitVariance divides by 0: an infinite scale, as sklearn's
        scale: optionalArray(who, j.state, "scale", s.withScaling, nf, { nan: true, positive: true, infinite: true }),
      };
    }
    return s;
  }
}
registerEstimator("RobustScaler", RobustScaler.fromJSON);
