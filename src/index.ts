// `sabre`: the main-thread API.
export * from "./worker.js";
export { Engine, getDefaultEngine, ReadOnlyClause, RowsClause } from "./engine/index.js";
export type { EngineOptions, ParallelForOptions, Schedule, KernelArgs } from "./engine/index.js";
export { readIdx, readIdxSync, parseIdx } from "./data/idx.js";
export * from "./ml/index.js";
