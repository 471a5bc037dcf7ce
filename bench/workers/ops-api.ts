// The ops the ops suite calls, typed from DESIGN.md ("Built-in kernels: ops"),
// over sabre's `ops` namespace through a cast: the ops are written in other
// branches, and until they are merged the namespace is empty. Once merged,
// each `sabreOp("x")` can become a direct `ops.x` call and this file can go.
// An op missing from the build throws OpMissing, which fails its row loudly
// (FAILED with the op's name), never a skipped or faked row.
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
  map(x: NdArray, fn: string, options?: OpBase & { out?: NdArray; other?: NdArray | number; min?: number; max?: number }): Promise<NdArray>;
  dot(a: NdArray, b: NdArray, options?: OpBase): Promise<number | NdArray>;
  matmul(a: NdArray, b: NdArray, options?: OpBase): Promise<NdArray>;
  histogram(x: NdArray, options?: OpBase & { bins?: number; range?: readonly [number, number] }): Promise<{ counts: NdArray; edges: NdArray }>;
  bincount(x: NdArray, options?: OpBase): Promise<NdArray>;
  sort(x: NdArray, options?: OpBase & { axis?: number }): Promise<NdArray>;
  argsort(x: NdArray, options?: OpBase & { axis?: number }): Promise<NdArray>;
  cumsum(x: NdArray, options?: OpBase & { axis?: number }): Promise<NdArray>;
  kmeans(X: NdArray, options: OpBase & { k: number; maxIter?: number; tol?: number; nInit?: number; seed?: number }): Promise<KMeansResult>;
}

/** An op this build of sabre does not have (its branch not merged yet). */
export class OpMissing extends Error {
  constructor(readonly op: string) {
    super(`sabre's ops.${op} is not in this build (the ops namespace has no function "${op}"): merge the ops branches, then rerun`);
    this.name = "OpMissing";
  }
}

/** sabre's `ops[name]`, or OpMissing. */
export function sabreOp<K extends keyof OpsApi>(name: K): OpsApi[K] {
  const fn = (ops as unknown as Record<string, unknown>)[name];
  if (typeof fn !== "function") throw new OpMissing(name);
  return fn as OpsApi[K];
}

/** The names of the ops this suite needs that the build lacks (for one loud line at the start). */
export function missingOps(names: readonly (keyof OpsApi)[]): string[] {
  const table = ops as unknown as Record<string, unknown>;
  return names.filter((n) => typeof table[n] !== "function");
}
