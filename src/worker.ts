/**
 * `sabre/worker`: what code running inside a worker imports (kernel modules,
 * dataset modules, plain `worker_threads` users). Everything here works in
 * any thread; nothing here starts workers.
 *
 * @module sabre/worker
 */
export * from "./errors.js";
export * from "./memory/index.js";
export * from "./sync/index.js";
export * from "./queue/index.js";
export * from "./random/index.js";
export { defineKernels, type Kernel, type KernelContext, type KernelModule } from "./engine/define.js";
export { readOnly, rows, reduction, Reduction, type ReductionOp, type ReductionValue } from "./engine/clauses.js";
export * from "./data/loader/define.js";
