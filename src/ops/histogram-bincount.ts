// ops.bincount: numpy's bincount over non-negative integers.
import { SabreTypeError } from "../errors.js";
import type { NdArray } from "../memory/ndarray-type.js";
import { ndarray } from "../memory/ndarray-type.js";
import { sharedTypedArray } from "../memory/shared.js";
import { MAX_ELEMENTS } from "../memory/dtypes.js";
import { describe } from "../validate.js";
import type { BinSpec } from "../../kernels/ops/histogram-bins.js";
import { BLOCK, scanInts, type IntScan, type ScanJob } from "../../kernels/ops/histogram.js";
import { COUNT_LOCAL_MAX, countBins, flatOf } from "./histogram-count.js";
import { opInput, type OpArray } from "./input.js";
import { checkOptions, engineFor, type OpOptions } from "./options.js";

export interface BincountOptions extends OpOptions {
  /** One weight per element: each bin sums its elements' weights (float64 result). */
  weights?: OpArray;
  /** The least length of the result (default 0). */
  minlength?: number;
}

/**
 * Occurrences of each value 0..max(x) in a 1-d array of non-negative
 * integers: int32 counts, float64 weight sums with weights. Float arrays
 * are accepted when every value is an integer (numpy takes integer dtypes
 * only; a JS number[] arrives as float64); a negative, fractional or NaN
 * value is a SabreTypeError naming its index.
 */
export async function bincount(x: OpArray, options?: BincountOptions): Promise<NdArray> {
  const o = checkOptions<BincountOptions>("bincount", options, ["weights", "minlength"]);
  const a = opInput("bincount", x);
  if (a.shape.length !== 1) throw new SabreTypeError(`ops.bincount: x must be 1-d, got shape [${a.shape.join(", ")}]`);
  const minlength = o.minlength ?? 0;
  if (typeof minlength !== "number" || !Number.isInteger(minlength) || minlength < 0 || minlength > MAX_ELEMENTS) {
    throw new SabreTypeError(`ops.bincount: minlength must be a non-negative integer, got ${describe(minlength)}`);
  }
  const flat = flatOf(a);
  const n = a.size;
  let weights = null;
  if (o.weights !== undefined) {
    const w = opInput("bincount", o.weights, "weights");
    if (w.shape.length !== 1 || w.size !== n) {
      throw new SabreTypeError(`ops.bincount: weights must be 1-d of x's length ${n}, got shape [${w.shape.join(", ")}]`);
    }
    weights = flatOf(w);
  }
  const engine = n > COUNT_LOCAL_MAX ? await engineFor(o) : null;
  let scan: IntScan;
  if (engine === null) scan = scanInts(flat, 0, n);
  else {
    const job: ScanJob = { x: flat, n };
    const parts = (await engine.parallelFor(Math.ceil(n / BLOCK), "sabre.ops.bincountScan", { ...job }, { signal: o.signal })) as IntScan[];
    scan = { max: -1, bad: -1 };
    for (const p of parts) {
      if (p.bad >= 0) {
        scan = p;
        break;
      }
      if (p.max > scan.max) scan.max = p.max;
    }
  }
  if (scan.bad >= 0) {
    const v = flat.data[flat.off + scan.bad * flat.stride]!;
    const why = v < 0 ? "is negative" : Number.isNaN(v) ? "is NaN" : v >= 2 ** 31 ? "is too large for a shared array of counts" : "is not an integer";
    throw new SabreTypeError(`ops.bincount: x[${scan.bad}] = ${v} ${why}; bincount takes non-negative integers`);
  }
  const nb = Math.max(scan.max + 1, minlength);
  if (nb > MAX_ELEMENTS) throw new SabreTypeError(`ops.bincount: max(x) + 1 = ${nb} bins; a shared array holds at most ${MAX_ELEMENTS}`);
  const spec: BinSpec = { mode: "int", nb, lo: 0, hi: nb, norm: 0, edges: sharedTypedArray("float64", 0) };
  const counts = await countBins(engine, flat, weights, n, spec, o.signal);
  return ndarray(counts, [nb]);
}
