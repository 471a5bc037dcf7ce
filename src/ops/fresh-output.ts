// A reduction's fresh output (no `out` given), allocated so that the memory
// of outputs the caller has already dropped is used again.
//
// A first touch of memory new to the process costs 10-50 us per 4 KiB page on
// this VM (an 8 MB output: 20-30 ms of CPU against ~5 ms of arithmetic for
// a mean along axis 1 of 1M x 24), while memory malloc hands back after a
// free is already mapped. A SharedArrayBuffer is freed only when V8 collects
// it, and a thread that allocates little (a loop of reductions) collects
// rarely, so the dropped outputs piled up and every call took new pages. A
// minor collection before the allocation, once enough output bytes were
// handed out since the last one, frees the outputs dropped since then (they
// are young: a minor collection takes them) and the next one reuses their
// pages: 1M x 24 mean along axis 1, one thread, CPU per call 13-17 ms -> ~10.

import { collectGarbage } from "../memory/collect.js";
import { bytesPerElement, type NumberDType } from "../memory/dtypes.js";
import { ndarray, type NdArray } from "../memory/ndarray-type.js";
import { sharedTypedArray } from "../memory/shared.js";

/** Outputs at least this large count toward the next collection (smaller ones cost few pages). */
const COUNT_FROM_BYTES = 2 ** 20;
/** Output bytes handed out between two collections (two 8 MB outputs). */
const COLLECT_AFTER_BYTES = 16 * 2 ** 20;
let handedOut = 0;

/** A zeroed shared array for an op's result, after a minor collection when enough output bytes went out since the last. */
export function freshOutput(dtype: NumberDType, shape: number[]): NdArray {
  let size = 1;
  for (const d of shape) size *= d;
  const bytes = size * bytesPerElement(dtype);
  if (bytes >= COUNT_FROM_BYTES) {
    if (handedOut >= COLLECT_AFTER_BYTES) {
      handedOut = 0;
      collectGarbage("minor");
    }
    handedOut += bytes;
  }
  // A plain SAB, not a user array: a slab's pages are always new (src/memory/slab.md), malloc's come back.
  return ndarray(sharedTypedArray(dtype, size), shape);
}
