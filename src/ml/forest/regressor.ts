import { SabreTypeError } from "../../errors.js";
import { encodeTargets, labelValues } from "../labels.js";
import type { TreeParams } from "../../../kernels/forest/params.js";
import { BaseForest, type PredictOptions } from "./base.js";
import { checkForestJSON, MODEL_FORMAT, MODEL_VERSION, restoreEstimator, treeArraysFromJSON, treeArraysToJSON, type ForestJSON } from "./model-json.js";
import type { FitOptions, RegressorOptions } from "./options.js";

/**
 * A random forest regressor with scikit-learn's semantics (squared error,
 * all features considered at each split by default, bootstrap, mean of the
 * trees' predictions), trained in parallel on the engine.
 *
 * @example
 * ```ts
 * const rf = new RandomForestRegressor({ nEstimators: 200, maxFeatures: 0.33, seed: 7 });
 * await rf.fit(X, y);
 * const yhat = await rf.predict(Xnew);   // Float64Array
 * const r2 = await rf.score(Xnew, ynew);  // coefficient of determination
 * ```
 */
export class RandomForestRegressor extends BaseForest {
  private oob: number | undefined;
  private oobPred: Float64Array | undefined;
  private yScale = 1;

  constructor(options: RegressorOptions = {}) {
    super(options, false);
  }

  /** R^2 of the out-of-bag predictions (fit with oobScore: true), else undefined. */
  get oobScore(): number | undefined {
    return this.oob;
  }

  /** The out-of-bag prediction of every training sample (fit with oobScore: true). */
  get oobPrediction(): Float64Array | undefined {
    return this.oobPred;
  }

  /**
   * Fits the forest on X [n, features] (any numeric ndarray, typed array rows or number[][]) and y (n targets).
   * Resolves to this, for chaining.
   * @throws {@link SabreTypeError} (`ERR_SABRE_TYPE`) for bad shapes, non-finite targets or options
   * @throws {@link AbortError} (`ERR_SABRE_ABORTED`) when `options.signal` aborts
   */
  async fit(X: unknown, y: ArrayLike<number>, options: FitOptions = {}): Promise<this> {
    const Xs = this.matrix(X, true);
    const n = Xs.shape[0]!;
    const targets = encodeTargets(y, n);
    const params: TreeParams = {
      // The user's criterion goes to the same check as the classifier's (kernels/forest/params.ts): it used to be
      // dropped here, so { criterion: "gini" } or a typo fitted squared_error without a word.
      criterion: this.options.criterion ?? "squared_error",
      maxDepth: this.options.maxDepth ?? null,
      minSamplesSplit: this.options.minSamplesSplit ?? 2,
      minSamplesLeaf: this.options.minSamplesLeaf ?? 1,
      maxFeatures: this.options.maxFeatures === undefined ? 1.0 : this.options.maxFeatures,
      bootstrap: this.options.bootstrap ?? true,
      maxSamples: this.options.maxSamples ?? null,
      minImpurityDecrease: this.options.minImpurityDecrease ?? 0,
      maxLeafNodes: this.options.maxLeafNodes ?? null,
    };
    const maxAbs = maxAbsOf(targets, n);
    // Fixed point for exact, order-free OOB sums: |value| * scale * trees stays below 2^53.
    this.yScale = 2 ** 52 / (Math.max(maxAbs, 1e-300) * this.nEstimators * 2);
    const wantOob = this.options.oobScore === true;
    const { oob } = await this.fitTrees(Xs, targets, 0, params, options, wantOob ? { scale: this.yScale } : null);
    this.oob = undefined;
    this.oobPred = undefined;
    if (oob) {
      const pred = new Float64Array(n);
      for (let r = 0; r < n; r++) {
        let seen = 0;
        let v = 0;
        for (let t = 0; t < oob.threads; t++) {
          seen += oob.counts[t * n + r]!;
          v += oob.votes[t * n + r]!;
        }
        pred[r] = seen > 0 ? v / this.yScale / seen : 0;
      }
      this.oobPred = pred;
      this.oob = r2(targets, pred);
    }
    return this;
  }

  /** The mean of the trees' predictions for each row. */
  async predict(X: unknown, options: PredictOptions = {}): Promise<Float64Array> {
    const { out } = await this.meanOutputs(X, options);
    return out;
  }

  /** The coefficient of determination R^2 of predict(X) against y. */
  async score(X: unknown, y: ArrayLike<number>): Promise<number> {
    const predicted = await this.predict(X);
    const truth = labelValues(y);
    if (truth.length !== predicted.length) throw new SabreTypeError(`X has ${predicted.length} rows but y has ${truth.length} targets`);
    return r2(truth as number[], predicted);
  }

  /** A JSON-ready object (JSON.stringify it); RandomForestRegressor.fromJSON reads it back. */
  toJSON(): ForestJSON {
    const f = this.requireFitted();
    return {
      format: MODEL_FORMAT,
      version: MODEL_VERSION,
      estimator: "RandomForestRegressor",
      options: { ...this.options },
      nFeatures: f.nFeatures,
      oobScore: this.oob ?? null,
      featureImportances: Array.from(this.importances()),
      trees: f.trees.map(treeArraysToJSON),
    };
  }

  /**
   * Rebuilds a fitted regressor from toJSON's output (the object or its JSON text).
   * @throws {@link FormatError} (`ERR_SABRE_FORMAT`) for a truncated, tampered or foreign model
   */
  static fromJSON(json: unknown, options: Pick<RegressorOptions, "engine"> = {}): RandomForestRegressor {
    const o = checkForestJSON(json, "RandomForestRegressor");
    const rf = restoreEstimator(() => new RandomForestRegressor({ ...(o.options as RegressorOptions), ...options }));
    const expect = { nFeatures: o.nFeatures, nOutputs: 1, classification: false };
    const trees = o.trees.map((t, i) => treeArraysFromJSON(t, expect, `trees[${i}]`));
    rf.fitted = { trees, nFeatures: o.nFeatures, featureImportances: Float64Array.from(o.featureImportances) };
    rf.oob = o.oobScore ?? undefined;
    return rf;
  }
}

/** 1 - SS_res / SS_tot, as scikit-learn's r2_score (1 for a perfect fit, 0 for predicting the mean). */
function r2(truth: ArrayLike<number>, predicted: ArrayLike<number>): number {
  const n = truth.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += truth[i]!;
  mean /= n;
  let res = 0;
  let tot = 0;
  for (let i = 0; i < n; i++) {
    res += (truth[i]! - predicted[i]!) ** 2;
    tot += (truth[i]! - mean) ** 2;
  }
  if (tot === 0) return res === 0 ? 1 : 0;
  return 1 - res / tot;
}

/**
 * The largest |targets[i]|, in a function of its own: a loop over every
 * target inside fit made V8 compile the whole async fit, and that compile
 * ran on a background thread during the first predict.
 */
function maxAbsOf(targets: Float64Array, n: number): number {
  let maxAbs = 0;
  for (let i = 0; i < n; i++) maxAbs = Math.max(maxAbs, Math.abs(targets[i]!));
  return maxAbs;
}
