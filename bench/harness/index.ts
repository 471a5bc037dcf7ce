// The benchmark harness shared by every suite under bench/ (see bench/README.md).
export * from "./anchor.js";
export * from "./format.js";
export * from "./machine.js";
export * from "./measure.js";
export * from "./paths.js";
export * from "./peers.js";
export * from "./report.js";
export * from "./stats.js";
export * from "./suite.js";
export * from "./svg.js";
export * from "./table.js";
export * from "./workers.js";
export * from "./python.js";
