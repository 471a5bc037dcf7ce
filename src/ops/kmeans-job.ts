// Input checks and the job layout of ops.kmeans (kmeans.ts runs it): kept
// out of kmeans.ts so that the package's ops namespace exports only
// kmeans, and the tests can run a job on the calling thread.
import { SabreTypeError } from "../errors.js";
import { sharedTypedArray } from "../memory/shared.js";
import { Barrier } from "../sync/barrier.js";
import { describe } from "../validate.js";
import { opInput, type OpArray } from "./input.js";
import type { KMeansOptions } from "./kmeans.js";
import { blockRowsFor, trialsFor, type KMeansJob } from "./kmeans-layout.js";
import { checkOptions, throwIfAborted } from "./options.js";

const KNOWN = ["k", "maxIter", "tol", "nInit", "seed", "init"] as const;

function positiveInteger(name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
    throw new SabreTypeError(`ops.kmeans: ${name} must be a positive integer, got ${describe(v)}`);
  }
  return v;
}

/** Checks X and the options and lays out the job (a one-party barrier: kmeans() replaces it for the workers). */
export function kmeansJob(X: OpArray, options: KMeansOptions): { job: KMeansJob; signal: AbortSignal | undefined } {
  if (options === undefined) throw new SabreTypeError("ops.kmeans: options with k are required, e.g. { k: 8 }");
  const o = checkOptions<KMeansOptions>("kmeans", options, KNOWN);
  const x = opInput("kmeans", X, "X");
  if (x.shape.length !== 2) {
    throw new SabreTypeError(`ops.kmeans: X must be 2-d (rows x features), got shape [${x.shape.join(", ")}]`);
  }
  const [n, d] = x.shape as [number, number];
  if (n === 0 || d === 0) throw new SabreTypeError(`ops.kmeans: X is empty (shape [${n}, ${d}])`);
  if (o.k === undefined) throw new SabreTypeError("ops.kmeans: option k (the number of clusters) is required");
  if (typeof o.k !== "number" || !Number.isSafeInteger(o.k) || o.k < 1) {
    throw new SabreTypeError(`ops.kmeans: k must be an integer >= 1, got ${describe(o.k)}`);
  }
  const k = o.k;
  if (k > n) throw new SabreTypeError(`ops.kmeans: k = ${k} clusters need at least ${k} rows, X has ${n}`);
  const maxIter = positiveInteger("maxIter", o.maxIter, 300);
  let nInit = positiveInteger("nInit", o.nInit, 1);
  const tol = o.tol ?? 1e-4;
  if (typeof tol !== "number" || !(tol >= 0) || !Number.isFinite(tol)) {
    throw new SabreTypeError(`ops.kmeans: tol must be a finite number >= 0, got ${describe(tol)}`);
  }
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 32);
  if (typeof seed !== "number" || !Number.isSafeInteger(seed) || seed < 0) {
    throw new SabreTypeError(`ops.kmeans: seed must be an integer in [0, 2^53), got ${describe(seed)}`);
  }
  let initKind = 0;
  let init: Float64Array = sharedTypedArray("float64", 0);
  if (o.init === "random") initKind = 1;
  else if (o.init !== undefined && o.init !== "k-means++") {
    if (typeof o.init === "string") {
      throw new SabreTypeError(`ops.kmeans: init must be "k-means++", "random" or a k x d array of centers, got ${describe(o.init)}`);
    }
    init = initialCenters(o.init, k, d);
    initKind = 2;
    nInit = 1; // every run would start from the same centers (scikit-learn also runs once)
  }
  throwIfAborted("kmeans", o.signal);

  const blockRows = blockRowsFor(n, k, d);
  const blocks = Math.ceil(n / blockRows);
  const trials = trialsFor(k);
  const direct = x.dtype === "float64" && (x.stride[1] === 1 || d === 1) && (x.stride[0] === d || n === 1);
  const job: KMeansJob = {
    x,
    xc: direct ? (x.data as Float64Array) : sharedTypedArray("float64", n * d),
    xOff: direct ? x.offset : 0,
    copy: !direct,
    n,
    d,
    k,
    blockRows,
    blocks,
    maxIter,
    tol,
    nInit,
    seed,
    initKind,
    trials,
    init,
    labels: sharedTypedArray("int32", n),
    centers: sharedTypedArray("float64", k * d),
    info: sharedTypedArray("float64", 2),
    work: sharedTypedArray("int32", n),
    upper: sharedTypedArray("float64", n),
    lower: sharedTypedArray("float64", n),
    dist: sharedTypedArray("float64", initKind === 0 ? (trials + 1) * n : 0),
    part: sharedTypedArray("float64", 2 * blocks * (k * d + k + 1)),
    pot: sharedTypedArray("float64", initKind === 0 ? 2 * blocks * trials : 1),
    stat: sharedTypedArray("float64", blocks * (2 * d + 1)),
    control: sharedTypedArray("int32", 2),
    barrier: new Barrier(1),
  };
  return { job, signal: o.signal };
}

/** The given initial centers as k * d float64, in shared memory. */
function initialCenters(init: OpArray, k: number, d: number): Float64Array {
  const c = opInput("kmeans", init, "init");
  if (c.shape.length !== 2 || c.shape[0] !== k || c.shape[1] !== d) {
    throw new SabreTypeError(`ops.kmeans: init must have shape [k, d] = [${k}, ${d}], got [${c.shape.join(", ")}]`);
  }
  const out = sharedTypedArray("float64", k * d);
  for (let j = 0; j < k; j++) {
    for (let f = 0; f < d; f++) {
      const v = c.get(j, f) as number;
      if (!Number.isFinite(v)) throw new SabreTypeError(`ops.kmeans: init[${j}][${f}] is ${v}; initial centers must be finite`);
      out[j * d + f] = v;
    }
  }
  return out;
}
