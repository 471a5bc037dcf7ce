// Block sizes of the matmul kernel (JS and WebAssembly alike).

/** Tile height of the JS micro-kernel (16 scalar accumulators). */
export const MR = 4;
/** Tile height of the WebAssembly one: 2 * WASM_MR f64x2 accumulators + 3 operands must fit V8's 16 SIMD registers. */
export const WASM_MR = 4;
export const NR = 4;
/** Columns of the float32 WebAssembly tile: two f32x4 vectors per row. */
export const NR32 = 8;
/** k-block: an MR x KC sliver of A and a KC x NR sliver of B (8 KiB each) stay in L1. */
export const KC = 256;
/** Rows per block of C (one unit of parallel work): the packed A block is MC x KC x 8 = 128 KiB, in L2. */
export const MC = 64;
/** Columns per panel of B: KC x NC x 8 = 512 KiB, read once per MR rows from L2/L3. */
export const NC = 256;
/** k steps per iteration of the WebAssembly k loop: 1 measured best (median 6.8 GFLOP/s in-cache vs 5.2 for 2, 4.0-5.2 for 4, 3.6-4.4 for 8; load ~13). */
export const WASM_UNROLL = 1;
