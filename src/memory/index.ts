export * from "./dtypes.js";
export { isNdArray, type NdArray, type NdArrayOf } from "./ndarray-type.js";
export { shared, isShared, toShared, checkShape, rowMajorStrides, type Shape, type FromOptions, type FromSource } from "./shared.js";
export { serialize, deserialize, registerShareable, type Shareable, type SerializeOptions, type SerializedMessage } from "./serialize.js";
export { partition, chunks, rowSlice, type Range } from "./partition.js";
export type { SharedWasmMemory } from "./wasm-memory.js";
