import { SabreTypeError } from "../../src/errors.js";
import { describe } from "../../src/validate.js";
import type { BinMapper } from "./bins.js";

export type Criterion = "gini" | "entropy" | "log_loss" | "squared_error";
export type MaxFeatures = "sqrt" | "log2" | number | null;
/** Per-class weights: "balanced", "balanced_subsample" (per tree, from its bootstrap), or a weight per class id. */
export type ClassWeight = null | "balanced" | "balanced_subsample" | ArrayLike<number> | Readonly<Record<number, number>>;

/**
 * Tree-growing options, with scikit-learn's names (camelCase) and meanings.
 * Every field is optional; the defaults are scikit-learn's.
 */
export interface TreeParams {
  /** "gini" (default for classification), "entropy" / "log_loss", or "squared_error" (regression). */
  criterion?: Criterion;
  /** null (default): grow until leaves are pure or too small. */
  maxDepth?: number | null;
  /** An integer >= 2, or a fraction in (0, 1] of the samples. Default 2. */
  minSamplesSplit?: number;
  /** An integer >= 1, or a fraction in (0, 1) of the samples. Default 1. */
  minSamplesLeaf?: number;
  /**
   * Features drawn per node: "sqrt" (classification default), "log2", an
   * integer in [2, d], a fraction in (0, 1], or null (all; regression
   * default 1.0). 1 means 1.0, all features (JavaScript has no separate int).
   */
  maxFeatures?: MaxFeatures;
  /** Draw a bootstrap sample per tree (default true). */
  bootstrap?: boolean;
  /** Bootstrap size: null (n), an integer in [1, n], or a fraction in (0, 1]. */
  maxSamples?: number | null;
  /** A split must decrease the weighted impurity by at least this much (default 0). */
  minImpurityDecrease?: number;
  /** null (default), or grow best-first to at most this many leaves (>= 2). */
  maxLeafNodes?: number | null;
  /** Classification only. */
  classWeight?: ClassWeight;
}

/** The data a tree is grown from: every array may be shared by all workers. */
export interface ForestData {
  readonly nSamples: number;
  readonly nFeatures: number;
  /** Feature-major bin codes: feature f of sample i at codes[f * nSamples + i] (see applyBins). */
  readonly codes: Uint8Array;
  /**
   * Optional, and much faster: the same codes sample-major (sample i's codes
   * at rowCodes[i * nFeatures .. (i + 1) * nFeatures), see applyBinsRows).
   * Small nodes read these: their few samples' rows stay in cache from node
   * to node, where the feature-major layout costs a cache miss per sample
   * per feature.
   */
  readonly rowCodes?: Uint8Array | null;
  readonly bins: BinMapper;
  /** Class ids in [0, nClasses) (classification) or finite targets (regression). */
  readonly y: Int32Array | Float64Array;
  /** >= 1 for classification, 0 for regression. */
  readonly nClasses: number;
  /** Optional per-sample weights (finite, >= 0); a sample of weight 0 is left out, as in scikit-learn. */
  readonly sampleWeight?: Float64Array | null;
}

/** TreeParams turned into plain numbers for one data set. */
export interface ResolvedParams {
  readonly classification: boolean;
  /** 0 gini, 1 entropy, 2 squared error. */
  readonly criterion: 0 | 1 | 2;
  readonly maxDepth: number;
  readonly minSamplesSplit: number;
  readonly minSamplesLeaf: number;
  readonly maxFeatures: number;
  readonly bootstrap: boolean;
  readonly nDraws: number;
  readonly minImpurityDecrease: number;
  /** 0 = unlimited (depth-first growth). */
  readonly maxLeafNodes: number;
  /** Per-class multipliers (null: none). */
  readonly classWeight: Float64Array | null;
  readonly balancedSubsample: boolean;
}

const PARAM_NAMES = new Set([
  "criterion",
  "maxDepth",
  "minSamplesSplit",
  "minSamplesLeaf",
  "maxFeatures",
  "bootstrap",
  "maxSamples",
  "minImpurityDecrease",
  "maxLeafNodes",
  "classWeight",
]);

function isInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v);
}

/** Validates the data bundle's shapes and contents (y's class ids or finiteness, weights). */
export function checkForestData(data: ForestData): void {
  if (typeof data !== "object" || data === null) throw new SabreTypeError(`data must be a ForestData object, got ${describe(data)}`);
  const { nSamples: n, nFeatures: d, nClasses } = data;
  if (!isInt(n) || n < 1) throw new SabreTypeError(`data.nSamples must be an integer >= 1 (empty data cannot be fitted), got ${describe(n)}`);
  if (!isInt(d) || d < 1) throw new SabreTypeError(`data.nFeatures must be an integer >= 1, got ${describe(d)}`);
  if (!isInt(nClasses) || nClasses < 0) throw new SabreTypeError(`data.nClasses must be an integer >= 0 (0 = regression), got ${describe(nClasses)}`);
  if (!(data.codes instanceof Uint8Array) || data.codes.length < n * d) {
    throw new SabreTypeError(`data.codes must be a Uint8Array of nSamples * nFeatures = ${n * d} codes, got ${describe(data.codes)}${data.codes instanceof Uint8Array ? ` of length ${data.codes.length}` : ""}`);
  }
  const rc = data.rowCodes;
  if (rc != null && (!(rc instanceof Uint8Array) || rc.length < n * d)) {
    throw new SabreTypeError(`data.rowCodes must be null or a Uint8Array of nSamples * nFeatures = ${n * d} codes, got ${describe(rc)}`);
  }
  const bins = data.bins;
  if (typeof bins !== "object" || bins === null || bins.nFeatures !== d || !(bins.binStart instanceof Int32Array) || bins.binStart.length !== d + 1) {
    throw new SabreTypeError(`data.bins must be the BinMapper of the ${d} features (from fitBins)`);
  }
  const y = data.y;
  if (nClasses > 0) {
    if (!(y instanceof Int32Array)) throw new SabreTypeError(`classification needs y as an Int32Array of class ids, got ${describe(y)}`);
  } else if (!(y instanceof Float64Array)) {
    throw new SabreTypeError(`regression needs y as a Float64Array of targets, got ${describe(y)}`);
  }
  if (y.length !== n) throw new SabreTypeError(`y has ${y.length} values but X has ${n} samples`);
  for (let i = 0; i < n; i++) {
    const v = y[i]!;
    if (nClasses > 0 ? v < 0 || v >= nClasses : v - v !== 0) {
      throw new SabreTypeError(
        nClasses > 0 ? `y[${i}] = ${v} is not a class id in [0, ${nClasses})` : `y[${i}] is ${v}: regression targets must be finite`,
      );
    }
  }
  const sw = data.sampleWeight;
  if (sw != null) {
    if (!(sw instanceof Float64Array) || sw.length !== n) {
      throw new SabreTypeError(`sampleWeight must be a Float64Array of ${n} weights, got ${describe(sw)}`);
    }
    for (let i = 0; i < n; i++) {
      const w = sw[i]!;
      if (!(w >= 0) || w === Infinity) throw new SabreTypeError(`sampleWeight[${i}] = ${w} must be a finite number >= 0`);
    }
  }
}

function classWeightVector(cw: ClassWeight, y: Int32Array, n: number, nClasses: number): Float64Array | null {
  if (cw === null || cw === undefined || cw === "balanced_subsample") return null;
  const out = new Float64Array(nClasses);
  if (cw === "balanced") {
    // scikit-learn: n_samples / (n_classes * bincount(y)); a class absent from y gets no samples anyway.
    const counts = new Float64Array(nClasses);
    for (let i = 0; i < n; i++) counts[y[i]!]!++;
    let present = 0;
    for (let c = 0; c < nClasses; c++) if (counts[c]! > 0) present++;
    for (let c = 0; c < nClasses; c++) out[c] = counts[c]! > 0 ? n / (present * counts[c]!) : 1;
    return out;
  }
  if (typeof cw !== "object") {
    throw new SabreTypeError(`classWeight must be null, "balanced", "balanced_subsample", or a weight per class, got ${describe(cw)}`);
  }
  out.fill(1);
  const list = cw as ArrayLike<number>;
  if (Array.isArray(cw) || ArrayBuffer.isView(cw)) {
    if (list.length !== nClasses) throw new SabreTypeError(`classWeight has ${list.length} weights for ${nClasses} classes`);
    for (let c = 0; c < nClasses; c++) out[c] = list[c]!;
  } else {
    for (const [key, w] of Object.entries(cw)) {
      const c = Number(key);
      if (!isInt(c) || c < 0 || c >= nClasses) throw new SabreTypeError(`classWeight has a weight for class ${JSON.stringify(key)}, not a class id in [0, ${nClasses})`);
      out[c] = w as number;
    }
  }
  for (let c = 0; c < nClasses; c++) {
    const w = out[c]!;
    if (typeof w !== "number" || !(w >= 0) || w === Infinity) throw new SabreTypeError(`classWeight for class ${c} must be a finite number >= 0, got ${describe(w)}`);
  }
  return out;
}

/**
 * Validates TreeParams against a data set and resolves them to numbers, as
 * scikit-learn does (fractions of samples rounded up, "sqrt" = floor(sqrt(d))
 * at least 1, minSamplesSplit at least 2 * minSamplesLeaf...). Every bad
 * value is a SabreTypeError naming the option.
 */
export function resolveParams(params: TreeParams, data: ForestData): ResolvedParams {
  if (typeof params !== "object" || params === null) throw new SabreTypeError(`params must be an object, got ${describe(params)}`);
  for (const key of Object.keys(params)) {
    if (!PARAM_NAMES.has(key)) throw new SabreTypeError(`unknown tree option ${JSON.stringify(key)} (known: ${[...PARAM_NAMES].join(", ")})`);
  }
  const n = data.nSamples;
  const d = data.nFeatures;
  const classification = data.nClasses > 0;
  const criterionName = params.criterion ?? (classification ? "gini" : "squared_error");
  let criterion: 0 | 1 | 2;
  if (criterionName === "gini") criterion = 0;
  else if (criterionName === "entropy" || criterionName === "log_loss") criterion = 1;
  else if (criterionName === "squared_error") criterion = 2;
  else throw new SabreTypeError(`criterion must be "gini", "entropy", "log_loss" or "squared_error", got ${describe(criterionName)}`);
  if (classification !== (criterion !== 2)) {
    throw new SabreTypeError(
      classification ? `criterion "${criterionName}" is for regression; a classifier takes "gini" or "entropy"` : `criterion "${criterionName}" is for classification; a regressor takes "squared_error"`,
    );
  }

  const md = params.maxDepth ?? null;
  if (md !== null && (!isInt(md) || md < 1)) throw new SabreTypeError(`maxDepth must be null or an integer >= 1, got ${describe(md)}`);
  const maxDepth = md === null ? 2 ** 31 - 1 : md;

  const msl = params.minSamplesLeaf ?? 1;
  let minSamplesLeaf: number;
  if (isInt(msl) && msl >= 1) minSamplesLeaf = msl;
  else if (typeof msl === "number" && msl > 0 && msl < 1) minSamplesLeaf = Math.ceil(msl * n);
  else throw new SabreTypeError(`minSamplesLeaf must be an integer >= 1 or a fraction in (0, 1), got ${describe(msl)}`);

  const mss = params.minSamplesSplit ?? 2;
  let minSamplesSplit: number;
  if (isInt(mss) && mss >= 2) minSamplesSplit = mss;
  else if (typeof mss === "number" && mss > 0 && mss <= 1) minSamplesSplit = Math.max(2, Math.ceil(mss * n));
  else throw new SabreTypeError(`minSamplesSplit must be an integer >= 2 or a fraction in (0, 1], got ${describe(mss)}`);
  minSamplesSplit = Math.max(minSamplesSplit, 2 * minSamplesLeaf);

  const mf = params.maxFeatures === undefined ? (classification ? "sqrt" : 1.0) : params.maxFeatures;
  let maxFeatures: number;
  if (mf === null) maxFeatures = d;
  else if (mf === "sqrt") maxFeatures = Math.max(1, Math.floor(Math.sqrt(d)));
  else if (mf === "log2") maxFeatures = Math.max(1, Math.floor(Math.log2(d)));
  // JavaScript has one number type, so 1 is scikit-learn's 1.0 (all features), not "one feature".
  else if (typeof mf === "number" && mf > 0 && mf <= 1) maxFeatures = Math.max(1, Math.floor(mf * d));
  else if (isInt(mf) && mf > 1 && mf <= d) maxFeatures = mf;
  else throw new SabreTypeError(`maxFeatures must be "sqrt", "log2", null, an integer in [1, ${d}] or a fraction in (0, 1], got ${describe(mf)}`);

  const bootstrap = params.bootstrap ?? true;
  if (typeof bootstrap !== "boolean") throw new SabreTypeError(`bootstrap must be true or false, got ${describe(bootstrap)}`);
  const ms = params.maxSamples ?? null;
  let nDraws = n;
  if (ms !== null) {
    if (!bootstrap) throw new SabreTypeError("maxSamples needs bootstrap: true (without bootstrap every tree sees all samples)");
    // As for maxFeatures, 1 is the fraction 1.0 (n draws).
    if (isInt(ms) && ms > 1) {
      if (ms > n) throw new SabreTypeError(`maxSamples = ${ms} is more than the ${n} samples`);
      nDraws = ms;
    } else if (typeof ms === "number" && ms > 0 && ms <= 1) nDraws = Math.max(1, Math.round(n * ms));
    else throw new SabreTypeError(`maxSamples must be null, an integer in [1, ${n}] or a fraction in (0, 1], got ${describe(ms)}`);
  }

  const mid = params.minImpurityDecrease ?? 0;
  if (typeof mid !== "number" || !(mid >= 0) || mid === Infinity) {
    throw new SabreTypeError(`minImpurityDecrease must be a finite number >= 0, got ${describe(mid)}`);
  }
  const mln = params.maxLeafNodes ?? null;
  if (mln !== null && (!isInt(mln) || mln < 2)) throw new SabreTypeError(`maxLeafNodes must be null or an integer >= 2, got ${describe(mln)}`);

  const cw = params.classWeight ?? null;
  if (!classification && cw !== null) throw new SabreTypeError("classWeight applies to classification only");
  const balancedSubsample = cw === "balanced_subsample";
  const classWeight = classification ? classWeightVector(cw, data.y as Int32Array, n, data.nClasses) : null;
  return {
    classification,
    criterion,
    maxDepth,
    minSamplesSplit,
    minSamplesLeaf,
    maxFeatures,
    bootstrap,
    nDraws,
    minImpurityDecrease: mid,
    maxLeafNodes: mln ?? 0,
    classWeight,
    balancedSubsample,
  };
}
