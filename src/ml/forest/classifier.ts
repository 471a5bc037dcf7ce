import { SabreTypeError } from "../../errors.js";
import type { NdArray } from "../../memory/ndarray-type.js";
import { encodeClasses, labelValues, type ClassLabel, type Labels } from "../labels.js";
import type { TreeParams } from "../../../kernels/forest/params.js";
import { argmaxRows } from "../../../kernels/forest/predict.js";
import { BaseForest, type PredictOptions } from "./base.js";
import { checkForestJSON, MODEL_FORMAT, MODEL_VERSION, restoreEstimator, treeArraysFromJSON, treeArraysToJSON, type ForestJSON } from "./model-json.js";
import { classWeightById, type ClassifierOptions, type FitOptions } from "./options.js";

/**
 * A random forest classifier with scikit-learn's semantics (bootstrap,
 * per-split feature sampling, soft-vote probabilities, impurity-based
 * importances), trained in parallel on the engine over one shared copy of
 * the data.
 *
 * X is a 2-D ndarray of any numeric dtype (or number[][]); non-shared input
 * is copied into shared memory once. Labels are integers or strings.
 * Features are binned into at most `maxBins` (256) quantile bins, exactly
 * when a feature has that few distinct values (pixels, counts, categories).
 *
 * @example
 * ```ts
 * const rf = new RandomForestClassifier({ nEstimators: 100, seed: 1 });
 * await rf.fit(Xtrain, ytrain, { onProgress: (done, total) => console.log(done, total) });
 * const labels = await rf.predict(Xtest);        // Int32Array of the original labels
 * const acc = await rf.score(Xtest, ytest);
 * const saved = JSON.stringify(rf.toJSON());     // RandomForestClassifier.fromJSON(saved)
 * ```
 */
export class RandomForestClassifier extends BaseForest {
  private labels: ClassLabel[] | undefined;
  private oob: number | undefined;
  private oobDecision: NdArray<Float64Array> | undefined;

  constructor(options: ClassifierOptions = {}) {
    super(options, true);
  }

  /** The labels, in the order of predictProba's columns. */
  get classes(): ClassLabel[] {
    this.requireFitted();
    return this.labels!.slice();
  }

  /** Accuracy on the out-of-bag samples (fit with oobScore: true), else undefined. */
  get oobScore(): number | undefined {
    return this.oob;
  }

  /** Out-of-bag class probabilities per training sample [n, nClasses] (fit with oobScore: true). */
  get oobDecisionFunction(): NdArray<Float64Array> | undefined {
    return this.oobDecision;
  }

  /** Fits the forest. Resolves to this, for chaining. */
  async fit(X: unknown, y: Labels, options: FitOptions = {}): Promise<this> {
    const Xs = this.matrix(X, true);
    const n = Xs.shape[0]!;
    const { ids, classes } = encodeClasses(y, n);
    const params: TreeParams = {
      criterion: this.options.criterion ?? "gini",
      maxDepth: this.options.maxDepth ?? null,
      minSamplesSplit: this.options.minSamplesSplit ?? 2,
      minSamplesLeaf: this.options.minSamplesLeaf ?? 1,
      maxFeatures: this.options.maxFeatures === undefined ? "sqrt" : this.options.maxFeatures,
      bootstrap: this.options.bootstrap ?? true,
      maxSamples: this.options.maxSamples ?? null,
      minImpurityDecrease: this.options.minImpurityDecrease ?? 0,
      maxLeafNodes: this.options.maxLeafNodes ?? null,
      classWeight: classWeightById(this.options.classWeight, classes),
    };
    const wantOob = this.options.oobScore === true;
    // Probabilities are in [0, 1]: 2^32 units each keeps sums of a million trees exact.
    const { oob } = await this.fitTrees(Xs, ids, classes.length, params, options, wantOob ? { scale: 2 ** 32 } : null);
    this.labels = classes;
    this.oob = undefined;
    this.oobDecision = undefined;
    if (oob) {
      const C = classes.length;
      const decision = new Float64Array(n * C);
      let correct = 0;
      for (let r = 0; r < n; r++) {
        let seen = 0;
        for (let t = 0; t < oob.threads; t++) seen += oob.counts[t * n + r]!;
        let best = 0;
        let bestV = -1;
        for (let k = 0; k < C; k++) {
          let v = 0;
          for (let t = 0; t < oob.threads; t++) v += oob.votes[(t * n + r) * C + k]!;
          // As scikit-learn: a sample that was never out of bag counts as all-zero probabilities.
          const p = seen > 0 ? v / 2 ** 32 / seen : 0;
          decision[r * C + k] = p;
          if (p > bestV) {
            bestV = p;
            best = k;
          }
        }
        if (best === ids[r]) correct++;
      }
      this.oob = correct / n;
      this.oobDecision = BaseForest.asMatrix(decision, n, C);
    }
    return this;
  }

  /** Class probabilities [n, nClasses] (float64, shared): the mean of the trees' leaf class fractions. */
  async predictProba(X: unknown, options: PredictOptions = {}): Promise<NdArray<Float64Array>> {
    const { out, n, C } = await this.meanOutputs(X, options);
    return BaseForest.asMatrix(out, n, C);
  }

  /**
   * The most probable label of each row: an Int32Array for integer labels
   * (a Float64Array if they do not fit in int32), a string[] for string labels.
   */
  async predict(X: unknown, options: PredictOptions = {}): Promise<Int32Array | Float64Array | string[]> {
    const { out, n, C, ids = argmaxRows(out, C, 0, n, new Int32Array(n)) } = await this.meanOutputs(X, options, true);
    const classes = this.labels!;
    if (typeof classes[0] === "string") return Array.from(ids, (i) => classes[i] as string);
    const numeric = classes as number[];
    // Labels 0..C-1 (the usual encoding) are the class ids themselves: one copy, no lookup per row.
    if (numeric.every((c, k) => c === k)) return ids.slice();
    const fits = numeric.every((c) => c >= -(2 ** 31) && c < 2 ** 31);
    const labels = fits ? new Int32Array(n) : new Float64Array(n);
    for (let r = 0; r < n; r++) labels[r] = numeric[ids[r]!]!;
    return labels;
  }

  /** Mean accuracy of predict(X) against y. */
  async score(X: unknown, y: Labels): Promise<number> {
    const predicted = await this.predict(X);
    const truth = labelValues(y);
    if (truth.length !== predicted.length) throw new SabreTypeError(`X has ${predicted.length} rows but y has ${truth.length} labels`);
    let correct = 0;
    for (let i = 0; i < truth.length; i++) if (predicted[i] === truth[i]) correct++;
    return correct / truth.length;
  }

  /** A JSON-ready object (JSON.stringify it); RandomForestClassifier.fromJSON reads it back. */
  toJSON(): ForestJSON {
    const f = this.requireFitted();
    return {
      format: MODEL_FORMAT,
      version: MODEL_VERSION,
      estimator: "RandomForestClassifier",
      options: { ...this.options },
      nFeatures: f.nFeatures,
      classes: this.labels!.slice(),
      oobScore: this.oob ?? null,
      featureImportances: Array.from(this.importances()),
      trees: f.trees.map(treeArraysToJSON),
    };
  }

  /**
   * Rebuilds a fitted classifier from toJSON's output (the object or its JSON
   * text). Everything is validated: a truncated or tampered model is a
   * FormatError. `engine` picks where it predicts (default engine otherwise).
   */
  static fromJSON(json: unknown, options: Pick<ClassifierOptions, "engine"> = {}): RandomForestClassifier {
    const o = checkForestJSON(json, "RandomForestClassifier");
    const classes = o.classes!;
    const rf = restoreEstimator(() => new RandomForestClassifier({ ...(o.options as ClassifierOptions), ...options }));
    const expect = { nFeatures: o.nFeatures, nOutputs: classes.length, classification: true };
    const trees = o.trees.map((t, i) => treeArraysFromJSON(t, expect, `trees[${i}]`));
    rf.fitted = { trees, nFeatures: o.nFeatures, featureImportances: Float64Array.from(o.featureImportances) };
    rf.labels = classes;
    rf.oob = o.oobScore ?? undefined;
    return rf;
  }
}
