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
export * as ops from "./ops/index.js";
export * from "./cluster/index.js";
