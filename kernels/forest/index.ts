// The random-forest core: pure, single-threaded functions over typed arrays
// that the engine's forest kernels call inside workers.
export * from "./bins.js";
export * from "./params.js";
export * from "./tree.js";
export * from "./grow.js";
export { subtractionStats } from "./node-hist.js";
export * from "./predict.js";
export * from "./format.js";
