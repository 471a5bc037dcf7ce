// KBinsDiscretizer with scikit-learn 1.2's semantics.
import type { Engine } from "../../engine/engine.js";
import { FormatError, SabreTypeError } from "../../errors.js";
import type { NdArray } from "../../memory/ndarray-type.js";
import { describe } from "../../validate.js";
import { binLookup } from "../../../kernels/preprocess/scale.js";
import { columnMedianPercentiles, columnSelect, columnStats } from "./column-stats.js";
import {
  arrayFromJSON,
  arrayToJSON,
  checkEngine,
  checkFeatureCount,
  checkOptionKeys,
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
} from "./common.js";
import { checkTransformerJSON, registerEstimator, TRANSFORMER_FORMAT, TRANSFORMER_VERSION, type PreprocessFitOptions, type Transformer, type TransformerJSON, type TransformOptions } from "./transformer.js";

/** How KBinsDiscretizer places edges: equal widths, equal counts (percentiles), or 1-D k-means centers. */
export type KBinsStrategy = "uniform" | "quantile" | "kmeans";
/** How KBinsDiscretizer encodes the bins: bin indices, or one-hot columns (dense either way). */
export type KBinsEncode = "ordinal" | "onehot" | "onehot-dense";
const STRATEGIES: readonly KBinsStrategy[] = ["uniform", "quantile", "kmeans"];
const ENCODES: readonly KBinsEncode[] = ["ordinal", "onehot", "onehot-dense"];

/** Options of {@link KBinsDiscretizer}. */
export interface KBinsDiscretizerOptions {
  /** Bins per feature: one number for all, or one per feature; each >= 2 (default 5). */
  nBins?: number | readonly number[];
  /** "ordinal": one column of bin indices per feature; "onehot" (default, as sklearn) and "onehot-dense": dense one-hot columns. */
  encode?: KBinsEncode;
  /** How edges are placed (default "quantile"). */
  strategy?: KBinsStrategy;
  /** Output dtype: "float64" or "float32"; default the input's float dtype (sklearn's dtype=None). */
  dtype?: "float32" | "float64" | null;
  /**
   * sklearn 1.2's subsample: its default "warn" fits on every row, as null
   * does. sabre fits on every row always; an integer is refused (sklearn's
   * random subset cannot be reproduced).
   */
  subsample?: "warn" | null;
  /** The engine fit and transform run on when their call gives none (default: the default engine). */
  engine?: Engine;
}

interface KBinsState {
  nFeaturesIn: number;
  binEdges: Float64Array[];
  nBins: Int32Array;
}

/**
 * scikit-learn's KBinsDiscretizer. Fit, per feature: "uniform" splits
 * [min, max] in equal widths (np.linspace), "quantile" puts the edges at
 * np.percentile(column, linspace(0, 100, nBins + 1)), "kmeans" at the
 * midpoints of 1-D k-means centres (sklearn's KMeans from the uniform bins'
 * centres, Lloyd, n_init 1). For quantile and kmeans, bins narrower than
 * 1e-8 are removed (so `nBins[j]` can be smaller than asked); a constant
 * feature gets one bin with edges [-Infinity, Infinity]. NaN and infinities
 * are refused (as sklearn). Transform gives np.searchsorted(inner edges, x,
 * side="right"): bin indices as floats (ordinal) or dense one-hot columns,
 * in the input's float dtype (or `dtype`). Attributes: `binEdges` (one
 * Float64Array of nBins[j] + 1 edges per feature), `nBins` (Int32Array),
 * `nFeaturesIn`.
 *
 * @example
 * ```ts
 * const kb = new KBinsDiscretizer({ nBins: 8, encode: "ordinal", strategy: "quantile" });
 * const codes = await kb.fitTransform(X);   // bin index of every cell, as floats
 * kb.binEdges[0];                           // the 9 edges of feature 0
 * ```
 */
export class KBinsDiscretizer implements Transformer {
  /** The nBins option as given (the fitted counts are `nBins`). */
  readonly nBinsParam: number | readonly number[];
  /** How bins are encoded. */
  readonly encode: KBinsEncode;
  /** How edges are placed. */
  readonly strategy: KBinsStrategy;
  /** The output dtype, or null for the input's float dtype. */
  readonly dtype: "float32" | "float64" | null;
  /** The engine used when a call gives none (undefined: the default engine). */
  readonly engine: Engine | undefined;
  #state: KBinsState | null = null;

  constructor(options: KBinsDiscretizerOptions = {}) {
    const who = "KBinsDiscretizer";
    const o = checkOptionKeys(who, options, ["nBins", "encode", "strategy", "dtype", "subsample", "engine"]) as KBinsDiscretizerOptions;
    const nb = o.nBins ?? 5;
    const okInt = (v: unknown): boolean => typeof v === "number" && Number.isInteger(v) && v >= 2 && v <= 2 ** 24;
    if (Array.isArray(nb)) {
      const bad = nb.map((v, i) => (okInt(v) ? -1 : i)).filter((i) => i >= 0);
      if (nb.length === 0 || bad.length > 0) throw new SabreTypeError(`${who}: nBins received an invalid number of bins at indices ${bad.join(", ")}: each must be an integer >= 2`);
      this.nBinsParam = Object.freeze([...(nb as number[])]);
    } else {
      if (!okInt(nb)) throw new SabreTypeError(`${who}: nBins must be an integer >= 2 or one per feature, got ${describe(nb)}`);
      this.nBinsParam = nb as number;
    }
    const encode = o.encode ?? "onehot";
    if (!ENCODES.includes(encode)) throw new SabreTypeError(`${who}: encode must be "ordinal", "onehot" or "onehot-dense", got ${describe(encode)}`);
    this.encode = encode;
    const strategy = o.strategy ?? "quantile";
    if (!STRATEGIES.includes(strategy)) throw new SabreTypeError(`${who}: strategy must be "uniform", "quantile" or "kmeans", got ${describe(strategy)}`);
    this.strategy = strategy;
    const dtype = o.dtype ?? null;
    if (dtype !== null && dtype !== "float32" && dtype !== "float64") throw new SabreTypeError(`${who}: dtype must be "float32", "float64" or null, got ${describe(dtype)}`);
    this.dtype = dtype;
    if (o.subsample !== undefined && o.subsample !== null && o.subsample !== "warn") {
      throw new SabreTypeError(`${who}: subsample must be null or "warn" (sklearn 1.2's default; both fit on every row), got ${describe(o.subsample)}`);
    }
    checkEngine(who, o.engine);
    this.engine = o.engine;
  }

  #fitted(method: string): KBinsState {
    if (!this.#state) throw notFitted("KBinsDiscretizer", method);
    return this.#state;
  }
  /** The number of features seen by fit. Throws SabreTypeError (`ERR_SABRE_TYPE`) before fit. */
  get nFeaturesIn(): number {
    return this.#fitted("nFeaturesIn").nFeaturesIn;
  }
  /** Per feature its nBins[j] + 1 edges. */
  get binEdges(): Float64Array[] {
    return this.#fitted("binEdges").binEdges;
  }
  /** Per feature its number of bins (after narrow bins were removed). */
  get nBins(): Int32Array {
    return this.#fitted("nBins").nBins;
  }
  /** True once fit (or fromJSON of a fitted discretizer) ran. */
  get fitted(): boolean {
    return this.#state !== null;
  }

  #binsPerFeature(who: string, nf: number): number[] {
    const nb = this.nBinsParam;
    if (typeof nb === "number") return Array.from({ length: nf }, () => nb);
    if (nb.length !== nf) throw new SabreTypeError(`${who}: nBins has ${nb.length} entries but X has ${nf} features; give one per feature or a single number`);
    return [...nb];
  }

  async fit(X: unknown, options?: PreprocessFitOptions): Promise<this> {
    const who = "KBinsDiscretizer.fit";
    const o = fitOptions(who, options);
    const x = tableOf(who, X);
    const [n, nf] = x.shape as [number, number];
    const nBins = this.#binsPerFeature(who, nf);
    throwIfAborted(who, o.signal);
    const engine = await engineOf(o.engine, this.engine, x.size);
    const s = await columnStats(who, engine, x, false, o.signal);
    for (let j = 0; j < nf; j++) if (s.count[j] !== n) throw new SabreTypeError(`${who}: X contains NaN (feature ${j}); KBinsDiscretizer takes finite values only`);
    const f32 = x.dtype === "float32";
    const constant = Array.from({ length: nf }, (_, j) => s.min[j] === s.max[j]);
    const edges: Float64Array[] = [];
    let selected: Float64Array | null = null;
    let quantiles: Float64Array[] | null = null;
    let width = 0;
    if (this.strategy === "quantile") {
      // a constant column needs no quantiles
      const qs = nBins.map((k, j) => (constant[j] ? [] : linspace(0, 100, k + 1).map((p) => p / 100)));
      quantiles = (await columnMedianPercentiles(engine, x, s, qs, false, o.signal)).percentiles;
    } else if (this.strategy === "kmeans") {
      if (n < Math.max(...nBins.filter((_, j) => !constant[j]), 0)) {
        throw new SabreTypeError(`${who}: strategy "kmeans" needs at least as many samples as bins (n_samples=${n})`);
      }
      width = Math.max(...nBins);
      // a constant column is skipped: k-means needs two distinct values
      const k = nBins.map((b, j) => (constant[j] ? 0 : b));
      selected = await columnSelect(engine, x, s, { kind: "kmeans", nBins: k }, width, o.signal);
    }
    const outBins = new Int32Array(nf);
    for (let j = 0; j < nf; j++) {
      const lo = s.min[j]!;
      const hi = s.max[j]!;
      if (constant[j]) {
        edges.push(Float64Array.of(-Infinity, Infinity));
        outBins[j] = 1;
        continue;
      }
      const k = nBins[j]!;
      let e: number[];
      if (this.strategy === "uniform") e = linspace(lo, hi, k + 1);
      else if (this.strategy === "quantile") e = Array.from(quantiles![j]!);
      else {
        const c = selected!.subarray(j * width, j * width + k);
        const r = f32 ? Math.fround : (v: number) => v;
        e = [lo];
        for (let i = 1; i < k; i++) e.push(r(r(c[i]! + c[i - 1]!) * 0.5));
        e.push(hi);
      }
      if (this.strategy !== "uniform") {
        // sklearn: mask = np.ediff1d(edges, to_begin=np.inf) > 1e-8 (the
        // difference taken in the edges' dtype: float32 for kmeans on float32)
        const r = f32 && this.strategy === "kmeans" ? Math.fround : (v: number) => v;
        e = e.filter((v, i) => i === 0 || r(v - e[i - 1]!) > 1e-8);
      }
      edges.push(Float64Array.from(e));
      outBins[j] = e.length - 1;
    }
    this.#state = { nFeaturesIn: nf, binEdges: edges, nBins: outBins };
    return this;
  }

  #outDType(x: NdArray): "float32" | "float64" {
    return this.dtype ?? floatDType(x);
  }

  #onehotStarts(st: KBinsState): Int32Array {
    const starts = new Int32Array(st.nFeaturesIn + 1);
    for (let j = 0; j < st.nFeaturesIn; j++) starts[j + 1] = starts[j]! + st.nBins[j]!;
    return starts;
  }

  async transform(X: unknown, options?: TransformOptions): Promise<NdArray> {
    const who = "KBinsDiscretizer.transform";
    const o = transformOptions(who, options);
    const st = this.#fitted("transform");
    const x = tableOf(who, X);
    checkFeatureCount(who, x, st.nFeaturesIn);
    const nf = st.nFeaturesIn;
    const edgeStart = new Int32Array(nf + 1);
    for (let j = 0; j < nf; j++) edgeStart[j + 1] = edgeStart[j]! + Math.max(0, st.binEdges[j]!.length - 2);
    const inner = new Float64Array(edgeStart[nf]!);
    for (let j = 0; j < nf; j++) inner.set(st.binEdges[j]!.subarray(1, -1), edgeStart[j]!);
    const onehot = this.encode === "ordinal" ? null : this.#onehotStarts(st);
    const width = onehot ? onehot[nf]! : nf;
    const out = outputOf(who, o.out, [x.shape[0]!, width], this.#outDType(x));
    throwIfAborted(who, o.signal);
    const engine = await engineOf(o.engine, this.engine, x.size, out.size);
    const { lut, lutLo, lutScale } = binLookup(inner, edgeStart);
    const bad = await rowParallel(engine, "sabre.preprocess.bin", x.shape[0]!, { x, out, edges: inner, edgeStart, lut, lutLo, lutScale, onehot }, o.signal);
    if (bad > 0) throw new SabreTypeError(`${who}: X contains NaN or infinity; KBinsDiscretizer takes finite values only`);
    return out;
  }

  async fitTransform(X: unknown, options?: TransformOptions): Promise<NdArray> {
    const o = transformOptions("KBinsDiscretizer.fitTransform", options);
    await this.fit(X, { engine: o.engine, signal: o.signal });
    return this.transform(X, o);
  }

  /**
   * Each bin back to its centre ((left + right) / 2; NaN for a constant
   * feature's single infinite bin, as sklearn). One-hot input: the bin whose
   * column holds 1; a group without a 1 is a SabreTypeError.
   */
  async inverseTransform(X: unknown, options?: TransformOptions): Promise<NdArray> {
    const who = "KBinsDiscretizer.inverseTransform";
    const o = transformOptions(who, options);
    const st = this.#fitted("inverseTransform");
    const x = tableOf(who, X);
    const nf = st.nFeaturesIn;
    const onehot = this.encode === "ordinal" ? null : this.#onehotStarts(st);
    const expected = onehot ? onehot[nf]! : nf;
    if (x.shape[1] !== expected) throw new SabreTypeError(`${who}: X has ${x.shape[1]} columns, expected ${expected}`);
    const centerStart = new Int32Array(nf + 1);
    for (let j = 0; j < nf; j++) centerStart[j + 1] = centerStart[j]! + st.nBins[j]!;
    const centers = new Float64Array(centerStart[nf]!);
    for (let j = 0; j < nf; j++) {
      const e = st.binEdges[j]!;
      for (let b = 0; b + 1 < e.length; b++) centers[centerStart[j]! + b] = (e[b + 1]! + e[b]!) * 0.5;
    }
    const out = outputOf(who, o.out, [x.shape[0]!, nf], floatDType(x));
    throwIfAborted(who, o.signal);
    const engine = await engineOf(o.engine, this.engine, x.size);
    const bad = await rowParallel(engine, "sabre.preprocess.unbin", x.shape[0]!, { x, out, centers, centerStart, onehot }, o.signal);
    if (bad > 0) throw new SabreTypeError(`${who}: ${bad} entries of X are not a bin of their feature`);
    return out;
  }

  toJSON(): TransformerJSON {
    const st = this.#state;
    return {
      format: TRANSFORMER_FORMAT,
      version: TRANSFORMER_VERSION,
      estimator: "KBinsDiscretizer",
      params: { nBins: typeof this.nBinsParam === "number" ? this.nBinsParam : [...this.nBinsParam], encode: this.encode, strategy: this.strategy, dtype: this.dtype },
      state: st && {
        nFeaturesIn: st.nFeaturesIn,
        binEdges: st.binEdges.map((e) => arrayToJSON(e) as JSONNumber[]),
        nBins: Array.from(st.nBins),
      },
    };
  }

  /**
   * Rebuilds a discretizer from toJSON's output (the object or its JSON text).
   * @throws {@link FormatError} (`ERR_SABRE_FORMAT`) for a malformed, foreign or other-version object
   */
  static fromJSON(obj: unknown): KBinsDiscretizer {
    const who = "KBinsDiscretizer";
    const j = checkTransformerJSON(obj, who);
    refuseNullParams(who, j.params, ["dtype"]);
    const k = paramsFromJSON(who, () => new KBinsDiscretizer(j.params as KBinsDiscretizerOptions));
    if (j.state) {
      const nf = numberFromJSON(who, "state.nFeaturesIn", stateField(who, j.state, "nFeaturesIn"), { intMin: 1 });
      const nBins = Int32Array.from(arrayFromJSON(who, "state.nBins", stateField(who, j.state, "nBins"), nf, { intMin: 1 }));
      const rawEdges = stateField(who, j.state, "binEdges");
      if (!Array.isArray(rawEdges) || rawEdges.length !== nf) throw new FormatError(`${who}.fromJSON: state.binEdges must be an array of ${nf} arrays (one per feature)`);
      const binEdges = rawEdges.map((e, f) => {
        const a = arrayFromJSON(who, `state.binEdges[${f}]`, e, nBins[f]! + 1, { infinite: nBins[f] === 1 });
        for (let i = 1; i < a.length; i++) if (!(a[i]! > a[i - 1]!)) throw new FormatError(`${who}.fromJSON: state.binEdges[${f}] must increase strictly`);
        if (a.some((v) => !Number.isFinite(v)) && !(a.length === 2 && a[0] === -Infinity && a[1] === Infinity)) {
          throw new FormatError(`${who}.fromJSON: state.binEdges[${f}] holds an infinity but is not a constant feature's [-Infinity, Infinity]`);
        }
        return a;
      });
      k.#state = { nFeaturesIn: nf, binEdges, nBins };
    }
    return k;
  }
}
registerEstimator("KBinsDiscretizer", KBinsDiscretizer.fromJSON);

/** np.linspace(start, stop, num): i * step + start, the last exactly stop. */
function linspace(start: number, stop: number, num: number): number[] {
  const div = num - 1;
  const step = (stop - start) / div;
  const out: number[] = [];
  for (let i = 0; i < num; i++) out.push(i * step + start);
  out[num - 1] = stop;
  return out;
}
