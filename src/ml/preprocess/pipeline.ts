// Pipeline: transformers chained, the last step a transformer or a model
// (a random forest). Saved as one JSON whose steps are revived through the
// estimator registry (transformer.ts): every preprocessing module registers
// itself; the forests are registered here, so forest files stay untouched.
import { FormatError, SabreTypeError } from "../../errors.js";
import type { NdArray } from "../../memory/ndarray-type.js";
import { describe } from "../../validate.js";
import { RandomForestClassifier } from "../forest/classifier.js";
import { RandomForestRegressor } from "../forest/regressor.js";
import type { Labels } from "../labels.js";
// Registers ColumnTransformer, so a saved `sabre preprocess` pipeline revives.
import "./column-transformer.js";
import {
  checkTransformerJSON,
  estimatorFromJSON,
  registerEstimator,
  TRANSFORMER_FORMAT,
  TRANSFORMER_VERSION,
  type PreprocessFitOptions,
  type Transformer,
  type TransformerJSON,
  type TransformOptions,
} from "./transformer.js";

/** A model the last step may be: fit with targets, predict. */
export interface PipelineModel {
  /** Fits on the transformed X and the targets. */
  fit(X: unknown, y: never): Promise<unknown>;
  /** Predicts from the transformed X. */
  predict(X: unknown): Promise<unknown>;
  /** Its saved form. */
  toJSON(): {
    /** The class name. */
    estimator: string;
  };
}

/** One step of a {@link Pipeline}: a preprocessing estimator, or (last only) a forest. */
export type PipelineStep = Transformer | RandomForestClassifier | RandomForestRegressor;
/** A step as the Pipeline constructor takes it: the estimator (named as make_pipeline names it: its class name lowercased) or a [name, estimator] pair. */
export type PipelineStepSpec = PipelineStep | readonly [string, PipelineStep];

const NAME = "Pipeline";

registerEstimator("RandomForestClassifier", (obj) => RandomForestClassifier.fromJSON(obj));
registerEstimator("RandomForestRegressor", (obj) => RandomForestRegressor.fromJSON(obj));

function isForest(step: unknown): step is RandomForestClassifier | RandomForestRegressor {
  return step instanceof RandomForestClassifier || step instanceof RandomForestRegressor;
}

function isTransformer(step: unknown): step is Transformer {
  const s = step as Partial<Transformer> | null;
  return typeof s === "object" && s !== null && typeof s.fit === "function" && typeof s.transform === "function" && typeof s.toJSON === "function";
}

/** The name make_pipeline gives a step: its class name lowercased. */
function defaultName(step: PipelineStep): string {
  return estimatorName(step).toLowerCase();
}

function estimatorName(step: PipelineStep): string {
  if (step instanceof RandomForestClassifier) return "RandomForestClassifier";
  if (step instanceof RandomForestRegressor) return "RandomForestRegressor";
  return step.toJSON().estimator;
}

function fitOptions(o: PreprocessFitOptions): PreprocessFitOptions {
  return { ...(o.engine ? { engine: o.engine } : {}), ...(o.signal ? { signal: o.signal } : {}) };
}

/**
 * scikit-learn's Pipeline: preprocessing steps applied in order, the last
 * step a transformer or a forest. fit fits each step on the output of the
 * ones before; predict, predictProba, score and transform run X through
 * them. toJSON saves every step; Pipeline.fromJSON revives them all.
 * Errors are the steps' own, plus {@link SabreTypeError} (`ERR_SABRE_TYPE`)
 * for a call the last step cannot answer (predict on a transformer,
 * transform on a model) or fit(X) without y before a model.
 *
 * @example
 * ```ts
 * const pipe = new Pipeline([new SimpleImputer(), new StandardScaler(), ["forest", new RandomForestClassifier({ seed: 1 })]]);
 * await pipe.fit(Xtrain, ytrain);
 * const accuracy = await pipe.score(Xtest, ytest);
 * const saved = JSON.stringify(pipe.toJSON());   // Pipeline.fromJSON(saved)
 * ```
 */
export class Pipeline {
  /** The steps as [name, step] pairs, in order. */
  readonly steps: Array<[string, PipelineStep]>;

  constructor(steps: readonly PipelineStepSpec[]) {
    if (!Array.isArray(steps) || steps.length === 0) throw new SabreTypeError(`${NAME}: steps must be a non-empty array, got ${describe(steps)}`);
    const named: Array<[string, PipelineStep]> = steps.map((spec, i) => {
      const pair = Array.isArray(spec) ? spec : null;
      if (pair && (pair.length !== 2 || typeof pair[0] !== "string")) {
        throw new SabreTypeError(`${NAME}: step ${i} must be an estimator or a [name, estimator] pair, got ${describe(spec)}`);
      }
      const step = (pair ? pair[1] : spec) as PipelineStep;
      const last = i === steps.length - 1;
      if (!isTransformer(step) && !(last && isForest(step))) {
        throw new SabreTypeError(
          last
            ? `${NAME}: the last step must be a transformer or a random forest, got ${describe(step)}`
            : `${NAME}: all intermediate steps must be transformers (fit, transform, toJSON), step ${i} is ${describe(step)}`,
        );
      }
      return [pair ? (pair[0] as string) : "", step];
    });
    // make_pipeline's names: the lowercased class, "-1", "-2", ... when repeated.
    const auto = named.map(([name, step]) => (name === "" ? defaultName(step) : name));
    const counts = new Map<string, number>();
    for (let i = 0; i < named.length; i++) if (named[i]![0] === "") counts.set(auto[i]!, (counts.get(auto[i]!) ?? 0) + 1);
    const seen = new Map<string, number>();
    for (let i = 0; i < named.length; i++) {
      if (named[i]![0] !== "") continue;
      const base = auto[i]!;
      if (counts.get(base)! > 1) {
        const k = (seen.get(base) ?? 0) + 1;
        seen.set(base, k);
        named[i]![0] = `${base}-${k}`;
      } else named[i]![0] = base;
    }
    const names = new Set<string>();
    for (const [name] of named) {
      if (name.length === 0 || name.includes("__")) throw new SabreTypeError(`${NAME}: step names must be non-empty and must not contain "__", got ${JSON.stringify(name)}`);
      if (names.has(name)) throw new SabreTypeError(`${NAME}: names provided are not unique: ${JSON.stringify(name)}`);
      names.add(name);
    }
    this.steps = named;
  }

  /** The steps by name. */
  get namedSteps(): Record<string, PipelineStep> {
    return Object.fromEntries(this.steps);
  }

  private get last(): PipelineStep {
    return this.steps[this.steps.length - 1]![1];
  }

  /** X through every step but the last (fitting them first when `fit`). */
  private async front(X: unknown, fit: boolean, o: PreprocessFitOptions): Promise<unknown> {
    let x = X;
    for (const [, step] of this.steps.slice(0, -1)) {
      const t = step as Transformer;
      x = fit ? await t.fitTransform(x, fitOptions(o)) : await t.transform(x, fitOptions(o));
    }
    return x;
  }

  /** Fits every step in turn; the last one on the transformed X (and y when it is a model). */
  async fit(X: unknown, y?: Labels, options: PreprocessFitOptions = {}): Promise<this> {
    const x = await this.front(X, true, options);
    const last = this.last;
    if (isForest(last)) {
      if (y === undefined) throw new SabreTypeError(`${NAME}.fit: the last step is a ${estimatorName(last)}: fit(X, y) needs y`);
      await (last as RandomForestClassifier).fit(x, y as Labels);
    } else await last.fit(x, fitOptions(options));
    return this;
  }

  private model(who: string, method: "predict" | "predictProba" | "score"): RandomForestClassifier | RandomForestRegressor {
    const last = this.last;
    if (!isForest(last) || (method === "predictProba" && !(last instanceof RandomForestClassifier))) {
      throw new SabreTypeError(`${NAME}.${who}: the last step (${this.steps[this.steps.length - 1]![0]}) has no ${method}`);
    }
    return last;
  }

  /** The last step's predictions (a forest) on the transformed X. */
  async predict(X: unknown, options: PreprocessFitOptions = {}): Promise<Int32Array | Float64Array | string[]> {
    const m = this.model("predict", "predict");
    return m.predict(await this.front(X, false, options));
  }

  /** The last step's class probabilities (a classifier) on the transformed X. */
  async predictProba(X: unknown, options: PreprocessFitOptions = {}): Promise<NdArray<Float64Array>> {
    const m = this.model("predictProba", "predictProba") as RandomForestClassifier;
    return m.predictProba(await this.front(X, false, options));
  }

  /** The last step's score (accuracy for a classifier, R^2 for a regressor) on the transformed X. */
  async score(X: unknown, y: Labels, options: PreprocessFitOptions = {}): Promise<number> {
    const m = this.model("score", "score");
    return (m as RandomForestClassifier).score(await this.front(X, false, options), y);
  }

  private lastTransformer(who: string): Transformer {
    const last = this.last;
    if (isForest(last)) throw new SabreTypeError(`${NAME}.${who}: the last step (${this.steps[this.steps.length - 1]![0]}) is a model, not a transformer`);
    return last;
  }

  /** X through every step (the last must be a transformer). */
  async transform(X: unknown, options: TransformOptions = {}): Promise<NdArray> {
    const last = this.lastTransformer("transform");
    return last.transform(await this.front(X, false, options), options);
  }

  /** Fits every step and returns X through all of them (the last must be a transformer). */
  async fitTransform(X: unknown, options: TransformOptions = {}): Promise<NdArray> {
    const last = this.lastTransformer("fitTransform");
    return last.fitTransform(await this.front(X, true, options), options);
  }

  /** The whole pipeline: each step's saved form under its name. A forest must be fitted to be saved. */
  toJSON(): TransformerJSON {
    const steps = this.steps.map(([name, step]) => {
      let model: unknown;
      try {
        model = step.toJSON();
      } catch (err) {
        if (err instanceof SabreTypeError) throw new SabreTypeError(`${NAME}.toJSON: step ${JSON.stringify(name)}: ${err.message}`);
        throw err;
      }
      return { name, estimator: estimatorName(step), model };
    });
    return { format: TRANSFORMER_FORMAT, version: TRANSFORMER_VERSION, estimator: NAME, params: { steps }, state: null };
  }

  /**
   * Rebuilds a pipeline and every step from toJSON's output (the object or its JSON text).
   * @throws {@link FormatError} (`ERR_SABRE_FORMAT`) for a malformed object or an unknown step
   */
  static fromJSON(obj: unknown): Pipeline {
    const json = checkTransformerJSON(typeof obj === "string" ? parseJSON(obj) : obj, NAME);
    const steps = json.params.steps;
    if (!Array.isArray(steps) || steps.length === 0) throw new FormatError(`${NAME}.fromJSON: params.steps must be a non-empty array, got ${describe(steps)}`);
    const revived = steps.map((s: unknown, i: number): [string, PipelineStep] => {
      const e = s as { name?: unknown; estimator?: unknown; model?: unknown } | null;
      if (typeof e !== "object" || e === null || typeof e.name !== "string" || typeof e.estimator !== "string") {
        throw new FormatError(`${NAME}.fromJSON: params.steps[${i}] must be { name, estimator, model }, got ${describe(s)}`);
      }
      const from = estimatorFromJSON(e.estimator);
      if (!from) throw new FormatError(`${NAME}.fromJSON: params.steps[${i}]: unknown estimator ${JSON.stringify(e.estimator)}`);
      const model = e.model as { estimator?: unknown } | null;
      if (typeof model !== "object" || model === null || model.estimator !== e.estimator) {
        throw new FormatError(`${NAME}.fromJSON: params.steps[${i}].model must be a saved ${e.estimator}`);
      }
      return [e.name, from(model) as PipelineStep];
    });
    try {
      return new Pipeline(revived);
    } catch (err) {
      if (err instanceof SabreTypeError) throw new FormatError(`${NAME}.fromJSON: ${err.message}`);
      throw err;
    }
  }
}

function parseJSON(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new FormatError(`${NAME}.fromJSON: not JSON: ${(err as Error).message}`);
  }
}

registerEstimator(NAME, Pipeline.fromJSON);
