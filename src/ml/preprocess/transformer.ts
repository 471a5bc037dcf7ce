// What every preprocessing estimator shares: the call shapes Pipeline relies
// on and the saved-JSON envelope. Each estimator class implements
// `Transformer` and registers its `fromJSON` under its class name, so that
// `Pipeline.fromJSON` can revive any step.
import type { Engine } from "../../engine/engine.js";
import { FormatError, SabreTypeError } from "../../errors.js";
import type { NdArray } from "../../memory/ndarray-type.js";
import { opInput } from "../../ops/input.js";
import { describe } from "../../validate.js";

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
  /** Marks the object as a sabre preprocessing model. */
  format: typeof TRANSFORMER_FORMAT;
  /** The format version; another version is refused by fromJSON. */
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
  /**
   * Learns the estimator's attributes from X [samples, features] (a shared
   * ndarray of any numeric dtype is used in place; typed arrays, ndarrays
   * and number[][] are copied once). Resolves to this, for chaining.
   * @throws {@link SabreTypeError} (`ERR_SABRE_TYPE`) for input that is not a 2-D numeric table, or bad options
   * @throws {@link AbortError} (`ERR_SABRE_ABORTED`) when `options.signal` aborts
   */
  fit(X: unknown, options?: PreprocessFitOptions): Promise<this>;
  /**
   * Transforms X with the fitted attributes into a new dense shared ndarray
   * (or into `options.out`).
   * @throws {@link SabreTypeError} (`ERR_SABRE_TYPE`) when not fitted, or X has another number of features
   * @throws {@link AbortError} (`ERR_SABRE_ABORTED`) when `options.signal` aborts
   */
  transform(X: unknown, options?: TransformOptions): Promise<NdArray>;
  /** fit(X) then transform(X), sharing the input copy; the same result as the two calls. */
  fitTransform(X: unknown, options?: TransformOptions): Promise<NdArray>;
  /** A JSON-ready object (JSON.stringify it); the class's static fromJSON reads it back. */
  toJSON(): TransformerJSON;
}

/** The `format` of every saved preprocessing estimator. */
export const TRANSFORMER_FORMAT = "sabre-preprocessing";

/**
 * The 2-D table a transformer works on: a shared ndarray is used in place
 * (any number dtype, any strides); typed arrays (with `nFeatures`), plain
 * ndarrays and number[][] are copied to shared memory once. `who` names the
 * call in messages, e.g. "StandardScaler.fit".
 */
export function asTable(who: string, X: unknown, name = "X"): NdArray {
  let arr: NdArray;
  try {
    arr = opInput(who, X, name);
  } catch (err) {
    if (err instanceof SabreTypeError) throw new SabreTypeError(err.message.replace(`ops.${who}`, who));
    throw err;
  }
  if (arr.shape.length !== 2) {
    throw new SabreTypeError(`${who}: ${name} must be 2-D (samples x features), got shape [${arr.shape.join(", ")}]`);
  }
  return arr;
}

/** Checks the envelope of a saved transformer and returns it typed. */
export function checkTransformerJSON(obj: unknown, estimator: string): TransformerJSON {
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    throw new FormatError(`${estimator}.fromJSON: expected an object, got ${describe(obj)}`);
  }
  const o = obj as Record<string, unknown>;
  if (o.format !== TRANSFORMER_FORMAT) {
    throw new FormatError(`${estimator}.fromJSON: format must be "${TRANSFORMER_FORMAT}", got ${describe(o.format)}`);
  }
  if (o.version !== TRANSFORMER_VERSION) {
    throw new FormatError(`${estimator}.fromJSON: version ${describe(o.version)} is not supported (this sabre reads ${TRANSFORMER_VERSION})`);
  }
  if (o.estimator !== estimator) {
    throw new FormatError(`${estimator}.fromJSON: the file holds a ${describe(o.estimator)}, not a ${estimator}`);
  }
  if (typeof o.params !== "object" || o.params === null || Array.isArray(o.params)) {
    throw new FormatError(`${estimator}.fromJSON: params must be an object, got ${describe(o.params)}`);
  }
  if (o.state !== null && (typeof o.state !== "object" || Array.isArray(o.state))) {
    throw new FormatError(`${estimator}.fromJSON: state must be an object or null, got ${describe(o.state)}`);
  }
  return o as unknown as TransformerJSON;
}

/** The `version` this sabre writes and reads. */
export const TRANSFORMER_VERSION = 1;

/** Revives a saved estimator of one class (its static fromJSON). */
export type FromJSON = (obj: unknown) => unknown;
const registry = new Map<string, FromJSON>();

/** Each estimator module registers its class's fromJSON under its public name. */
export function registerEstimator(name: string, fromJSON: FromJSON): void {
  // Pipeline.fromJSON calls what is registered here: a non-function would fail there with a plain TypeError.
  if (typeof name !== "string" || name.length === 0) {
    throw new SabreTypeError(`registerEstimator: name must be a non-empty string, got ${describe(name)}`);
  }
  if (typeof fromJSON !== "function") {
    throw new SabreTypeError(`registerEstimator: fromJSON of "${name}" must be a function, got ${describe(fromJSON)}`);
  }
  registry.set(name, fromJSON);
}

/** The fromJSON of a registered estimator (Pipeline uses it to revive any step). */
export function estimatorFromJSON(name: string): FromJSON | undefined {
  return registry.get(name);
}
