// The ops the ops suite calls, typed from DESIGN.md ("Built-in kernels: ops"),
// and checked against sabre's real `ops` namespace at compile time.
import { ops, type Engine, type NdArray } from "sabre";

export interface OpBase {
  engine?: Engine;
  signal?: AbortSignal;
}

/** sum, mean, min, ...: a number over the whole array, a shared ndarray along an axis. */
export interface ReduceOp {
  (x: NdArray, options: OpBase & { axis: number }): Promise<NdArray>;
  (x: NdArray, options?: OpBase): Promise<number>;
}

/** variance and std, with numpy's ddof (default 0). */
export interface MomentOp {
  (x: NdArray, options: OpBase & { axis: number; ddof?: number }): Promise<NdArray>;
  (x: NdArray, options?: OpBase & { ddof?: number }): Promise<number>;
}

export interface KMeansResult {
  centers: NdArray;
  labels: NdArray;
  inertia: number;
  iterations: number;
}

export interface OpsApi {
  sum: ReduceOp;
  mean: ReduceOp;
  variance: MomentOp;
  std: MomentOp;
  min: ReduceOp;
  max: ReduceOp;
  argmin: ReduceOp;
  argmax: ReduceOp;
  nansum: ReduceOp;
  nanmean: ReduceOp;
  nanmin: ReduceOp;
  nanmax: ReduceOp;
  map: typeof ops.map;
  dot(a: NdArray, b: NdArray, options?: OpBase): Promise<number | NdArray>;
  matmul(a: NdArray, b: NdArray, options?: OpBase): Promise<NdArray>;
  histogram(x: NdArray, options?: OpBase & { bins?: number; range?: readonly [number, number] }): Promise<{ counts: NdArray; edges: NdArray }>;
  bincount(x: NdArray, options?: OpBase): Promise<NdArray>;
  sort(x: NdArray, options?: OpBase & { axis?: number }): Promise<NdArray>;
  argsort(x: NdArray, options?: OpBase & { axis?: number }): Promise<NdArray>;
  cumsum(x: NdArray, options?: OpBase & { axis?: number }): Promise<NdArray>;
  kmeans(X: NdArray, options: OpBase & { k: number; maxIter?: number; tol?: number; nInit?: number; seed?: number }): Promise<KMeansResult>;
}

/**
 * sabre's ops, checked against the signatures above at compile time (the
 * assignment fails to type-check if an op's real signature drifts from them).
 */
const api: OpsApi = ops;

/** sabre's `ops[name]`. */
export function sabreOp<K extends keyof OpsApi>(name: K): OpsApi[K] {
  return api[name];
}
