// `ops`: numpy-style numeric operations over shared ndarrays, run on the
// engine's workers (small inputs on the calling thread). Exported from
// `sabre` as the namespace object `ops`.
export * from "./reduce.js";
export * from "./map.js";
export * from "./linalg.js";
export * from "./histogram.js";
export * from "./sort.js";
export * from "./cumsum.js";
export * from "./kmeans.js";
export type { OpOptions } from "./options.js";
export type { OpArray } from "./input.js";
