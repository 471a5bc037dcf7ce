// ColumnTransformer (a small scikit-learn ColumnTransformer): each
// transformer fitted on its own columns, outputs side by side in float64.
// `sabre preprocess --one-hot COLS` uses it to encode some columns and
// impute/scale/bin the others; registered so a saved Pipeline revives it.
import { FormatError, SabreTypeError } from "../../errors.js";
import type { NdArray } from "../../memory/ndarray-type.js";
import { shared } from "../../memory/shared.js";
import { describe } from "../../validate.js";
import {
  asTable,
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

const NAME = "ColumnTransformer";

/** [name, transformer or "passthrough", column indices]. Columns not named are dropped. */
export type ColumnTransformerSpec = readonly [string, Transformer | "passthrough", readonly number[]];

function columns(x: NdArray, cols: readonly number[]): NdArray {
  const n = x.shape[0]!;
  const out = shared.zeros("float64", [n, cols.length]);
  const data = x.data as unknown as ArrayLike<number>;
  const [s0, s1] = x.stride as [number, number];
  for (let i = 0; i < n; i++) for (let k = 0; k < cols.length; k++) out.data[i * cols.length + k] = data[x.offset + i * s0 + cols[k]! * s1]!;
  return out;
}

function hstack(parts: NdArray[], n: number): NdArray {
  const widths = parts.map((p) => p.shape[1]!);
  const m = widths.reduce((a, b) => a + b, 0);
  const out = shared.zeros("float64", [n, m]);
  let col = 0;
  parts.forEach((p, k) => {
    const w = widths[k]!;
    const data = p.data as unknown as ArrayLike<number>;
    const [s0, s1] = p.stride as [number, number];
    for (let i = 0; i < n; i++) for (let j = 0; j < w; j++) out.data[i * m + col + j] = data[p.offset + i * s0 + j * s1]!;
    col += w;
  });
  return out;
}

export class ColumnTransformer implements Transformer {
  readonly transformers: Array<[string, Transformer | "passthrough", number[]]>;
  /** Fitted: the number of input columns. */
  nFeaturesIn: number | undefined;

  constructor(transformers: readonly ColumnTransformerSpec[]) {
    if (!Array.isArray(transformers) || transformers.length === 0) throw new SabreTypeError(`${NAME}: transformers must be a non-empty array, got ${describe(transformers)}`);
    this.transformers = transformers.map((t, i) => {
      if (!Array.isArray(t) || t.length !== 3 || typeof t[0] !== "string") throw new SabreTypeError(`${NAME}: transformers[${i}] must be [name, transformer, columns], got ${describe(t)}`);
      const [name, step, cols] = t;
      if (step !== "passthrough" && (typeof step !== "object" || step === null || typeof step.fitTransform !== "function")) {
        throw new SabreTypeError(`${NAME}: transformers[${i}] must hold a transformer or "passthrough", got ${describe(step)}`);
      }
      if (!Array.isArray(cols) || cols.some((c) => typeof c !== "number" || !Number.isInteger(c) || c < 0)) {
        throw new SabreTypeError(`${NAME}: transformers[${i}] columns must be column indices, got ${describe(cols)}`);
      }
      return [name, step, cols.slice()];
    });
  }

  private table(who: string, X: unknown, fit: boolean): NdArray {
    const x = asTable(who, X);
    const d = x.shape[1]!;
    if (!fit && this.nFeaturesIn !== undefined && d !== this.nFeaturesIn) throw new SabreTypeError(`${who}: X has ${d} features, but ${NAME} is expecting ${this.nFeaturesIn} features as input`);
    for (const [name, , cols] of this.transformers) {
      const bad = cols.find((c) => c >= d);
      if (bad !== undefined) throw new SabreTypeError(`${who}: column ${bad} of ${JSON.stringify(name)} is out of range for X with ${d} columns`);
    }
    return x;
  }

  private async run(who: string, X: unknown, fit: boolean, options: PreprocessFitOptions): Promise<NdArray> {
    const x = this.table(who, X, fit);
    const o = { ...(options.engine ? { engine: options.engine } : {}), ...(options.signal ? { signal: options.signal } : {}) };
    const parts: NdArray[] = [];
    for (const [, step, cols] of this.transformers) {
      const sub = columns(x, cols);
      parts.push(step === "passthrough" ? sub : fit ? await step.fitTransform(sub, o) : await step.transform(sub, o));
    }
    if (fit) this.nFeaturesIn = x.shape[1]!;
    return hstack(parts, x.shape[0]!);
  }

  async fit(X: unknown, options: PreprocessFitOptions = {}): Promise<this> {
    await this.run(`${NAME}.fit`, X, true, options);
    return this;
  }

  async fitTransform(X: unknown, options: TransformOptions = {}): Promise<NdArray> {
    return this.run(`${NAME}.fitTransform`, X, true, options);
  }

  async transform(X: unknown, options: TransformOptions = {}): Promise<NdArray> {
    if (this.nFeaturesIn === undefined) throw new SabreTypeError(`${NAME}.transform: this ${NAME} is not fitted yet: call fit(X) first`);
    return this.run(`${NAME}.transform`, X, false, options);
  }

  toJSON(): TransformerJSON {
    return {
      format: TRANSFORMER_FORMAT,
      version: TRANSFORMER_VERSION,
      estimator: NAME,
      params: { transformers: this.transformers.map(([name, step, cols]) => ({ name, columns: cols, step: step === "passthrough" ? step : step.toJSON() })) },
      state: this.nFeaturesIn === undefined ? null : { nFeaturesIn: this.nFeaturesIn },
    };
  }

  static fromJSON(obj: unknown): ColumnTransformer {
    const json = checkTransformerJSON(obj, NAME);
    const list = json.params.transformers;
    if (!Array.isArray(list)) throw new FormatError(`${NAME}.fromJSON: params.transformers must be an array, got ${describe(list)}`);
    const specs = list.map((t: unknown, i: number): ColumnTransformerSpec => {
      const e = t as { name?: unknown; columns?: unknown; step?: unknown } | null;
      if (typeof e !== "object" || e === null || typeof e.name !== "string" || !Array.isArray(e.columns)) throw new FormatError(`${NAME}.fromJSON: params.transformers[${i}] must be { name, columns, step }`);
      if (e.step === "passthrough") return [e.name, "passthrough", e.columns as number[]];
      const est = (e.step as { estimator?: unknown } | null)?.estimator;
      const from = typeof est === "string" ? estimatorFromJSON(est) : undefined;
      if (!from) throw new FormatError(`${NAME}.fromJSON: params.transformers[${i}].step: unknown estimator ${describe(est)}`);
      return [e.name, from(e.step) as Transformer, e.columns as number[]];
    });
    let ct: ColumnTransformer;
    try {
      ct = new ColumnTransformer(specs);
    } catch (err) {
      if (err instanceof SabreTypeError) throw new FormatError(`${NAME}.fromJSON: ${err.message}`);
      throw err;
    }
    if (json.state !== null) {
      const d = json.state.nFeaturesIn;
      if (typeof d !== "number" || !Number.isInteger(d) || d < 1) throw new FormatError(`${NAME}.fromJSON: state.nFeaturesIn must be a positive integer, got ${describe(d)}`);
      ct.nFeaturesIn = d;
    }
    return ct;
  }
}

registerEstimator(NAME, ColumnTransformer.fromJSON);
