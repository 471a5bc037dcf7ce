// LabelEncoder with scikit-learn's semantics: target labels (numbers or
// strings, read as the forest reads them, src/ml/labels.ts) to codes
// 0..k-1 in sorted order, and back.
import { FormatError, SabreTypeError } from "../../errors.js";
import type { NdArray } from "../../memory/ndarray-type.js";
import { ndarray } from "../../memory/ndarray-type.js";
import { sharedTypedArray } from "../../memory/shared.js";
import { describe } from "../../validate.js";
import { labelValues, type ClassLabel, type Labels } from "../labels.js";
import { checkTransformerJSON, registerEstimator, TRANSFORMER_FORMAT, TRANSFORMER_VERSION, type TransformerJSON } from "./transformer.js";

const NAME = "LabelEncoder";

/** numpy's unique order: numbers ascending with NaN last, strings by code unit. */
function compareLabels(a: ClassLabel, b: ClassLabel): number {
  if (typeof a === "number" && typeof b === "number") return a !== a ? (b !== b ? 0 : 1) : b !== b ? -1 : a - b;
  return a < b ? -1 : a > b ? 1 : 0;
}

function readLabels(who: string, y: unknown): ClassLabel[] {
  let values: Array<number | string>;
  try {
    values = labelValues(y);
  } catch (err) {
    if (err instanceof SabreTypeError) throw new SabreTypeError(`${who}: ${err.message}`);
    throw err;
  }
  let strings = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === "string") strings++;
    else if (typeof v !== "number") throw new SabreTypeError(`${who}: y[${i}] is ${describe(v)}; labels must be numbers or strings`);
  }
  if (strings !== 0 && strings !== values.length) throw new SabreTypeError(`${who}: y mixes strings and numbers; use one kind of label`);
  return values;
}

/**
 * scikit-learn's LabelEncoder: labels (numbers or strings) to codes 0 ..
 * nClasses - 1 in sorted label order, and back. Works on 1-D labels, not on
 * tables, so it is not a Pipeline step.
 *
 * @example
 * ```ts
 * const enc = new LabelEncoder();
 * const codes = await enc.fitTransform(["cat", "dog", "cat"]); // int32 [0, 1, 0]
 * await enc.inverseTransform(codes);                           // ["cat", "dog", "cat"]
 * ```
 */
export class LabelEncoder {
  /** Fitted: the distinct labels, sorted (scikit-learn's classes_). */
  classes: ClassLabel[] | undefined;
  private index: Map<ClassLabel, number> | null = null;

  private fitted(who: string): ClassLabel[] {
    if (this.classes === undefined) throw new SabreTypeError(`${NAME}.${who}: this ${NAME} is not fitted yet: call fit(y) first`);
    return this.classes;
  }

  private setClasses(classes: ClassLabel[]): void {
    this.classes = classes;
    // Map keys are SameValueZero: NaN finds NaN.
    this.index = new Map(classes.map((c, i) => [c, i]));
  }

  /**
   * Learns the sorted distinct labels (numbers, NaN last, or strings; not a mix).
   * @throws {@link SabreTypeError} (`ERR_SABRE_TYPE`) for labels mixing strings and numbers, or not 1-D
   */
  async fit(y: Labels): Promise<this> {
    const values = readLabels(`${NAME}.fit`, y);
    this.setClasses([...new Set(values)].sort(compareLabels));
    return this;
  }

  /**
   * The code (index into classes) of each label: a shared int32 array.
   * @throws {@link SabreTypeError} (`ERR_SABRE_TYPE`) before fit, or for a label not seen in fit
   */
  async transform(y: Labels): Promise<NdArray<Int32Array>> {
    const who = `${NAME}.transform`;
    this.fitted("transform");
    const values = readLabels(who, y);
    const index = this.index!;
    const out = sharedTypedArray("int32", values.length);
    const unseen = new Set<ClassLabel>();
    for (let i = 0; i < values.length; i++) {
      const k = index.get(values[i]!);
      if (k === undefined) unseen.add(values[i]!);
      else out[i] = k;
    }
    if (unseen.size > 0) {
      throw new SabreTypeError(`${who}: y contains previously unseen labels: ${JSON.stringify([...unseen].sort(compareLabels).slice(0, 10))}`);
    }
    return ndarray(out, [values.length]);
  }

  /** fit(y) then transform(y). */
  async fitTransform(y: Labels): Promise<NdArray<Int32Array>> {
    await this.fit(y);
    return this.transform(y);
  }

  /** The labels of codes: a shared float64 array for numeric classes, a string[] for string classes. */
  async inverseTransform(codes: ArrayLike<number> | NdArray): Promise<NdArray<Float64Array> | string[]> {
    const who = `${NAME}.inverseTransform`;
    const classes = this.fitted("inverseTransform");
    const values = readLabels(who, codes);
    const bad = values.filter((v) => typeof v !== "number" || !Number.isInteger(v) || v < 0 || v >= classes.length);
    if (bad.length > 0) throw new SabreTypeError(`${who}: y contains previously unseen labels: ${JSON.stringify(bad.slice(0, 10))}`);
    const picked = values.map((v) => classes[v as number]!);
    if (classes.length > 0 && typeof classes[0] === "string") return picked as string[];
    const out = sharedTypedArray("float64", picked.length);
    out.set(picked as number[]);
    return ndarray(out, [picked.length]);
  }

  /** A JSON-ready object (JSON.stringify it); LabelEncoder.fromJSON reads it back. */
  toJSON(): TransformerJSON {
    return {
      format: TRANSFORMER_FORMAT,
      version: TRANSFORMER_VERSION,
      estimator: NAME,
      params: {},
      state: this.classes === undefined ? null : { classes: this.classes.map((c) => (typeof c === "number" && c !== c ? "NaN" : c)), numeric: typeof this.classes[0] !== "string" },
    };
  }

  /**
   * Rebuilds an encoder from toJSON's output (the object or its JSON text).
   * @throws {@link FormatError} (`ERR_SABRE_FORMAT`) for a malformed, foreign or other-version object
   */
  static fromJSON(obj: unknown): LabelEncoder {
    const json = checkTransformerJSON(obj, NAME);
    const enc = new LabelEncoder();
    const s = json.state;
    if (s === null) return enc;
    if (!Array.isArray(s.classes)) throw new FormatError(`${NAME}.fromJSON: state.classes must be an array, got ${describe(s.classes)}`);
    if (typeof s.numeric !== "boolean") throw new FormatError(`${NAME}.fromJSON: state.numeric must be a boolean, got ${describe(s.numeric)}`);
    const classes = s.classes.map((c: unknown, i: number): ClassLabel => {
      if (s.numeric) {
        if (c === "NaN") return NaN;
        if (typeof c === "number") return c;
      } else if (typeof c === "string") return c;
      throw new FormatError(`${NAME}.fromJSON: state.classes[${i}] must be a ${s.numeric ? "number" : "string"}, got ${describe(c)}`);
    });
    for (let i = 1; i < classes.length; i++) {
      if (!(compareLabels(classes[i - 1]!, classes[i]!) < 0)) throw new FormatError(`${NAME}.fromJSON: state.classes must be sorted and distinct`);
    }
    enc.setClasses(classes);
    return enc;
  }
}

registerEstimator(NAME, LabelEncoder.fromJSON);
