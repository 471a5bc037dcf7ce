// Block sizes of the matmul kernel (JS and WebAssembly alike).

export const MR = 4;
export const NR = 4;
/** k-block: an MR x KC sliver of A and a KC x NR sliver of B (8 KiB each) stay in L1. */
export const KC = 256;
/** Rows per block of C (one unit of parallel work): the packed A block is MC x KC x 8 = 128 KiB, in L2. */
export const MC = 64;
/** Columns per panel of B: KC x NC x 8 = 512 KiB, read once per MR rows from L2/L3. */
export const NC = 256;
