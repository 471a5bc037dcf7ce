// What every preprocessing estimator shares: the call shapes Pipeline relies
// on and the saved-JSON envelope. Each estimator class implements
// `Transformer` and registers its `fromJSON` under its class name, so that
// `Pipeline.fromJSON` can revive any step.
import type { Engine } from "../../engine/engine.js";
import type { NdArray } from "../../memory/ndarray-type.js";

/** Options every fit takes. */
export interface PreprocessFitOptions {
  /** The engine to run on (default: the default engine). */
  engine?: Engine;
  /** Aborts the call: it rejects with AbortError. */
  signal?: AbortSignal;
}

/** Options every transform takes. */
export interface TransformOptions extends PreprocessFitOptions {
  /** A shared ndarray of the output's shape and dtype to write into (numpy's out=). */
  out?: NdArray;
}

/** The saved form of a fitted (or unfitted) preprocessing estimator. */
export interface TransformerJSON {
  format: "sabre-preprocessing";
  version: number;
  /** The public class name, e.g. "StandardScaler". */
  estimator: string;
  /** The constructor options. */
  params: Record<string, unknown>;
  /** The fitted attributes, or null when not fitted. */
  state: Record<string, unknown> | null;
}

/** A 2-D table transformer (StandardScaler ... OneHotEncoder). */
export interface Transformer {
  fit(X: unknown, options?: PreprocessFitOptions): Promise<this>;
  transform(X: unknown, options?: TransformOptions): Promise<NdArray>;
  fitTransform(X: unknown, options?: TransformOptions): Promise<NdArray>;
  toJSON(): TransformerJSON;
}

export const TRANSFORMER_FORMAT = "sabre-preprocessing";
