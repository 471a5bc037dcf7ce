export { Engine, type EngineOptions, type ParallelForOptions, type Schedule, type KernelArgs } from "./engine.js";
export { getDefaultEngine } from "./default-engine.js";
export { readOnly, rows, reduction, Reduction, ReadOnlyClause, RowsClause, type ReductionOp, type ReductionValue } from "./clauses.js";
export { defineKernels, type Kernel, type KernelContext, type KernelModule } from "./define.js";
