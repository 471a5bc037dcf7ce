// sabre's side of the preprocess suite: each step as a user writes it
// (DESIGN.md names, the default engine), looked up by name so that a step
// whose class has not landed yet is a skipped row ("not built yet"), not a
// build error.
import * as sabre from "sabre";
import type { NdArray } from "sabre";
import { Skip } from "../harness/index.js";
import type { PreCheck } from "./preprocess-python.js";

interface FitTransformer {
  fitTransform(X: NdArray): Promise<NdArray>;
}
type EstimatorClass = new (options?: Record<string, unknown>) => FitTransformer;
type Split = (...args: unknown[]) => Promise<NdArray[]> | NdArray[];

function exported(name: string): unknown {
  const v = (sabre as unknown as Record<string, unknown>)[name];
  if (typeof v !== "function") throw new Skip(`sabre.${name} not built yet (issue 11; lands with the scalers/encoders work)`);
  return v;
}

/** The steps, by part name; each returns its output (checked against Python's). */
export type Step = "scaler" | "imputer" | "kbins" | "onehot" | "split" | "csv";

export interface StepInput {
  X?: NdArray;
  y?: NdArray;
  path?: string;
  /** onehot's output dtype when the encoder takes one. */
  dtype?: string;
}

/** Makes the call of one step (throws Skip when its class is missing). */
export function sabreStep(step: Step, input: StepInput): () => Promise<unknown> {
  switch (step) {
    case "scaler": {
      const C = exported("StandardScaler") as EstimatorClass;
      return () => new C().fitTransform(input.X!);
    }
    case "imputer": {
      const C = exported("SimpleImputer") as EstimatorClass;
      return () => new C({ strategy: "median" }).fitTransform(input.X!);
    }
    case "kbins": {
      const C = exported("KBinsDiscretizer") as EstimatorClass;
      return () => new C({ nBins: 10, strategy: "quantile", encode: "ordinal" }).fitTransform(input.X!);
    }
    case "onehot": {
      const C = exported("OneHotEncoder") as EstimatorClass;
      const opts: Record<string, unknown> = { sparseOutput: false };
      if (input.dtype !== undefined) opts.dtype = input.dtype;
      return () => new C(opts).fitTransform(input.X!);
    }
    case "split": {
      const f = exported("trainTestSplit") as Split;
      return async () => await f(input.X!, input.y!, { testSize: 0.25, seed: 0, stratify: input.y! });
    }
    case "csv":
      return () => sabre.readCsv(input.path!);
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
