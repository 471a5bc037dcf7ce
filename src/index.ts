// `sabre`: the main-thread API.
export * from "./worker.js";
export { Engine, getDefaultEngine, ReadOnlyClause, RowsClause } from "./engine/index.js";
export type { EngineOptions, ParallelForOptions, Schedule, KernelArgs } from "./engine/index.js";
export * from "./data/index.js";
export * from "./ml/index.js";
export * as ops from "./ops/index.js";
export * from "./cluster/index.js";
