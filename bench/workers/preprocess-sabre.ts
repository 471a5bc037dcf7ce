// sabre's side of the preprocess suite: each step as a user writes it
// (DESIGN.md names, the default engine).
import { KBinsDiscretizer, OneHotEncoder, readCsv, SimpleImputer, StandardScaler, trainTestSplit, type NdArray } from "sabre";
import type { PreCheck } from "./preprocess-python.js";

/** The steps, by part name. */
export type Step = "scaler" | "imputer" | "kbins" | "onehot" | "split" | "csv";

export interface StepInput {
  X?: NdArray;
  y?: NdArray;
  path?: string;
  /** onehot's output dtype. */
  dtype?: "float32" | "float64";
}

/** Makes the call of one step; it resolves to the step's output (checked against Python's). */
export function sabreStep(step: Step, input: StepInput): () => Promise<unknown> {
  switch (step) {
    case "scaler":
      return () => new StandardScaler().fitTransform(input.X!);
    case "imputer":
      return () => new SimpleImputer({ strategy: "median" }).fitTransform(input.X!);
    case "kbins":
      return () => new KBinsDiscretizer({ nBins: 10, strategy: "quantile", encode: "ordinal" }).fitTransform(input.X!);
    case "onehot":
      return () => new OneHotEncoder({ sparseOutput: false, dtype: input.dtype ?? "float64" }).fitTransform(input.X!);
    case "split":
      return () => trainTestSplit(input.X!, input.y!, { testSize: 0.25, seed: 0, stratify: input.y! });
    case "csv":
      return () => readCsv(input.path!);
  }
}

function isNd(x: unknown): x is NdArray {
  return typeof x === "object" && x !== null && "shape" in x && "data" in x;
}

/** The same check as the Python peer's: shape and a float64 sum skipping NaN. */
export function checkOf(out: unknown): PreCheck {
  if (Array.isArray(out)) return { parts: out.map(checkOf) };
  const x = isNd(out) ? out : isNd((out as { X?: unknown }).X) ? (out as { X: NdArray }).X : undefined;
  if (x === undefined) return {};
  let sum = 0;
  let abs = 0;
  const d = x.data as ArrayLike<number>;
  const size = x.shape.reduce((a, b) => a * b, 1);
  // Any layout: walk C order through get() only when the view is not the whole buffer.
  if (d.length === size) {
    for (let i = 0; i < size; i++) {
      const v = Number(d[i]);
      if (v === v) {
        sum += v;
        abs += Math.abs(v);
      }
    }
  } else {
    const shape = x.shape;
    const idx = new Array<number>(shape.length).fill(0);
    for (let i = 0; i < size; i++) {
      const v = Number((x.get as (...i: number[]) => number)(...idx));
      if (v === v) {
        sum += v;
        abs += Math.abs(v);
      }
      for (let k = shape.length - 1; k >= 0; k--) {
        if (++idx[k]! < shape[k]!) break;
        idx[k] = 0;
      }
    }
  }
  return { shape: [...x.shape], sum, abs };
}

/**
 * Compares sabre's check with Python's: shapes equal, sums within `rel` of the sum of |values|
 * (float32 steps sum differently; a split's parts are random, so only
 * their shapes are compared). Returns a message, or "" when they agree.
 */
export function compareChecks(a: PreCheck, b: PreCheck, rel: number, sums = true): string {
  if (a.parts || b.parts) {
    const pa = a.parts ?? [];
    const pb = b.parts ?? [];
    if (pa.length !== pb.length) return `${pa.length} outputs, Python ${pb.length}`;
    for (let i = 0; i < pa.length; i++) {
      const m = compareChecks(pa[i]!, pb[i]!, rel, sums);
      if (m) return `output ${i}: ${m}`;
    }
    return "";
  }
  if (JSON.stringify(a.shape) !== JSON.stringify(b.shape)) return `shape [${a.shape?.join(", ")}], Python [${b.shape?.join(", ")}]`;
  if (sums && a.sum !== undefined && b.sum !== undefined) {
    // Relative to the values' magnitude: a standardized table sums to about 0.
    const scale = Math.max(1, a.abs ?? Math.abs(a.sum), b.abs ?? Math.abs(b.sum));
    if (Math.abs(a.sum - b.sum) > rel * scale) return `sum ${a.sum}, Python ${b.sum}`;
  }
  return "";
}
