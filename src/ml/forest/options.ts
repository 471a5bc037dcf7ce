import { SabreTypeError } from "../../errors.js";
import { Engine } from "../../engine/engine.js";
import { checkInteger, describe } from "../../validate.js";
import type { ClassLabel } from "../labels.js";
import type { NdArray } from "../../memory/ndarray-type.js";
import type { ForestCluster } from "./remote.js";

/** Options every forest takes, with scikit-learn's names in camelCase and its defaults. */
export interface ForestOptions {
  /** Number of trees (default 100). */
  nEstimators?: number;
  /** null (default): grow until leaves are pure or smaller than minSamplesSplit. */
  maxDepth?: number | null;
  /** An integer >= 2 or a fraction in (0, 1] of the samples (default 2). */
  minSamplesSplit?: number;
  /** An integer >= 1 or a fraction in (0, 1) of the samples (default 1). */
  minSamplesLeaf?: number;
  /** Features drawn at each split: "sqrt", "log2", an integer >= 2, a fraction in (0, 1] (1 = all), or null (all). */
  maxFeatures?: "sqrt" | "log2" | number | null;
  /** Draw a bootstrap sample for each tree (default true). */
  bootstrap?: boolean;
  /** Bootstrap size: null (n), an integer, or a fraction in (0, 1]. */
  maxSamples?: number | null;
  /** Compute the out-of-bag score after fit (needs bootstrap). */
  oobScore?: boolean;
  /** A split must decrease the weighted impurity by at least this much (default 0). */
  minImpurityDecrease?: number;
  /** Grow best-first to at most this many leaves (>= 2); null (default): no limit. */
  maxLeafNodes?: number | null;
  /** At most this many bins per feature, 2..256 (default 256). Features with fewer distinct values are binned exactly. */
  maxBins?: number;
  /** Seed of every random choice: the same seed gives bit-identical forests for any thread count. Default: random. */
  seed?: number;
  /** The engine to train and predict on (default: getDefaultEngine()). */
  engine?: Engine;
}

export interface ClassifierOptions extends ForestOptions {
  /** "gini" (default), "entropy" or "log_loss" (the same as entropy). */
  criterion?: "gini" | "entropy" | "log_loss";
  /** null (default), "balanced", "balanced_subsample", or a weight per label, e.g. { cat: 1, dog: 3 }. */
  classWeight?: "balanced" | "balanced_subsample" | Readonly<Record<string, number>> | null;
}

export interface RegressorOptions extends ForestOptions {
  /** "squared_error" (the only one). */
  criterion?: "squared_error";
}

/** Options of the forests' `fit`. */
export interface FitOptions {
  /** Called with (trees done, trees total) while the forest grows. */
  onProgress?: (done: number, total: number) => void;
  /**
   * A weight per sample (finite, >= 0), multiplied into the bootstrap counts:
   * number[], a typed array, or a 1-D ndarray (shared or not) of any numeric dtype.
   */
  sampleWeight?: ArrayLike<number> | ArrayLike<bigint> | NdArray;
  /** Aborts the fit: it rejects with AbortError and the workers stop growing. */
  signal?: AbortSignal;
  /** Grow the trees on a cluster's hosts (src/cluster's Cluster): the same model as a local fit, bit for bit. */
  cluster?: ForestCluster;
}

const COMMON = [
  "nEstimators",
  "maxDepth",
  "minSamplesSplit",
  "minSamplesLeaf",
  "maxFeatures",
  "bootstrap",
  "maxSamples",
  "oobScore",
  "minImpurityDecrease",
  "maxLeafNodes",
  "maxBins",
  "seed",
  "engine",
  "criterion",
];

/** The options a forest keeps (everything but the engine), as toJSON writes them. */
export type StoredOptions = Omit<ClassifierOptions, "engine">;

/** Checks what can be checked without data; the rest (fractions, maxFeatures vs d) is checked at fit. */
export function checkOptions(options: unknown, classifier: boolean): { stored: StoredOptions; engine: Engine | undefined; seed: number; nEstimators: number; maxBins: number } {
  if (options === undefined) options = {};
  if (typeof options !== "object" || options === null) throw new SabreTypeError(`options must be an object, got ${describe(options)}`);
  const o = options as Record<string, unknown>;
  const known = classifier ? [...COMMON, "classWeight"] : COMMON;
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) {
      throw new SabreTypeError(`unknown option ${JSON.stringify(key)} for ${classifier ? "RandomForestClassifier" : "RandomForestRegressor"} (known: ${known.join(", ")})`);
    }
  }
  const nEstimators = o["nEstimators"] === undefined ? 100 : checkInteger("nEstimators", o["nEstimators"], 1, 1_000_000);
  const maxBins = o["maxBins"] === undefined ? 256 : checkInteger("maxBins", o["maxBins"], 2, 256);
  const seed =
    o["seed"] === undefined ? crypto.getRandomValues(new Uint32Array(1))[0]! : checkInteger("seed", o["seed"], 0, Number.MAX_SAFE_INTEGER);
  const engine = o["engine"];
  if (engine !== undefined && !(engine instanceof Engine)) throw new SabreTypeError(`engine must be an Engine, got ${describe(engine)}`);
  if (o["oobScore"] !== undefined && typeof o["oobScore"] !== "boolean") throw new SabreTypeError(`oobScore must be true or false, got ${describe(o["oobScore"])}`);
  if (o["oobScore"] === true && o["bootstrap"] === false) {
    throw new SabreTypeError("oobScore needs bootstrap: true (without bootstrap no sample is out of bag)");
  }
  const cw = o["classWeight"];
  if (cw !== undefined && cw !== null && cw !== "balanced" && cw !== "balanced_subsample") {
    if (typeof cw !== "object" || Array.isArray(cw)) {
      throw new SabreTypeError(`classWeight must be null, "balanced", "balanced_subsample" or an object of weights per label, got ${describe(cw)}`);
    }
    for (const [label, w] of Object.entries(cw as Record<string, unknown>)) {
      if (typeof w !== "number" || !(w >= 0) || w === Infinity) {
        throw new SabreTypeError(`classWeight[${JSON.stringify(label)}] must be a finite number >= 0, got ${describe(w)}`);
      }
    }
  }
  const stored: StoredOptions = {};
  for (const [k, v] of Object.entries(o)) if (k !== "engine") (stored as Record<string, unknown>)[k] = v;
  stored.nEstimators = nEstimators;
  stored.maxBins = maxBins;
  stored.seed = seed;
  return { stored, engine: engine as Engine | undefined, seed, nEstimators, maxBins };
}

/** classWeight with labels turned into class ids, as the core takes it. */
export function classWeightById(cw: ClassifierOptions["classWeight"], classes: readonly ClassLabel[]): "balanced" | "balanced_subsample" | number[] | null {
  if (cw === undefined || cw === null || cw === "balanced" || cw === "balanced_subsample") return cw ?? null;
  const byId = classes.map(() => 1);
  for (const [label, w] of Object.entries(cw)) {
    const i = classes.findIndex((c) => String(c) === label);
    if (i < 0) throw new SabreTypeError(`classWeight names the label ${JSON.stringify(label)}, which is not in y (classes: ${classes.join(", ")})`);
    byId[i] = w;
  }
  return byId;
}
