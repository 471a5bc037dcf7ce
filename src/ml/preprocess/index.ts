// Preprocessing with scikit-learn's semantics (DESIGN.md, Built-in kernels:
// preprocessing): async fit/transform over shared ndarrays, outputs dense
// shared ndarrays, toJSON()/fromJSON() validated like the forest's.
export * from "./transformer.js";
export * from "./scalers.js";
export * from "./imputer.js";
export * from "./kbins.js";
export * from "./onehot.js";
export * from "./label-encoder.js";
export * from "./split.js";
export * from "./pipeline.js";
