/**
 * `sabre`: the main-thread API. It re-exports everything of `sabre/worker`
 * (shared memory, sync primitives, queues, rng, errors, `defineKernels`) and
 * adds what starts and drives workers: {@link Engine}, the `ops` namespace,
 * preprocessing estimators, random forests, the {@link DataLoader}, file
 * readers and the {@link Cluster}.
 *
 * @module sabre
 */
export * from "./worker.js";
export { Engine, getDefaultEngine, ReadOnlyClause, RowsClause } from "./engine/index.js";
export type { EngineOptions, ParallelForOptions, Schedule, KernelArgs } from "./engine/index.js";
export * from "./data/index.js";
export * from "./ml/index.js";
/**
 * numpy-style numeric operations over shared ndarrays, run on the engine's
 * workers (small inputs on the calling thread): reductions (sum, mean,
 * variance, std, min, max, argmin, argmax and their nan* forms, whole array
 * or along an axis), `map` with numpy's elementwise functions, `dot`,
 * `matmul`, `histogram`, `bincount`, stable `sort`/`argsort`, `cumsum` and
 * `kmeans`. Each takes `{ engine }` (default: the default engine); bad input
 * throws {@link SabreTypeError} (`ERR_SABRE_TYPE`).
 *
 * @example
 * ```ts
 * import { ops, shared } from "sabre";
 * const x = shared.from([[1, 2], [3, 4]]);
 * await ops.sum(x);                  // 10
 * await ops.mean(x, { axis: 0 });    // a shared float64 ndarray holding 2, 3
 * const { counts, edges } = await ops.histogram(x, { bins: 4 });
 * ```
 */
export * as ops from "./ops/index.js";
export * from "./cluster/index.js";
