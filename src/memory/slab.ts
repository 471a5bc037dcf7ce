// Medium user arrays share a shared WebAssembly.Memory, a slab, so that the
// WebAssembly SIMD leaves read them in place as they read large arrays in a
// Memory of their own. The lifetime rules, and why no thread can read one
// array's bytes through another's view, are in slab.md.

import { PAGE, WASM_MEMORY_MIN_BYTES, memoriesWanted, newSharedMemory } from "./wasm-memory.js";

/**
 * Arrays of at least this many bytes (and under WASM_MEMORY_MIN_BYTES) are
 * placed in a slab. Smaller ones stay in plain SABs, whose pages malloc
 * hands back after a free: a slab region is never handed out twice, so its
 * pages are always new to the process, and a first touch costs 10-50 us per
 * 4 KiB page on this VM (slab.md, "Measured").
 */
export const SLAB_MIN_BYTES = 256 * 1024;
/** The bytes of one slab: its Memory's initial size. */
export const SLAB_BYTES = 64 * 2 ** 20;
/** Every region starts at a multiple of this (a cache line; also every dtype's and v128's alignment). */
export const SLAB_ALIGN = 64;

/** The slab this thread places arrays in: its Memory's buffer as registered here, and the bytes handed out. */
let current: { buffer: SharedArrayBuffer; used: number } | undefined;

/** How the slabs stand in this thread: for tests and measurements. @internal */
export const slabState = {
  /** Slabs opened in this thread. */
  opened: 0,
  /** Regions handed out in this thread. */
  regions: 0,
  /** Test hook: stop placing arrays in the current slab (the next array opens a new one). @internal */
  retire(): void {
    current = undefined;
  },
};

/** A placed array's region: views go over `buffer` from `byteOffset`. */
export interface SlabRegion {
  buffer: SharedArrayBuffer;
  byteOffset: number;
}

/**
 * A region of `bytes` bytes, zeroed and never handed out before, in this
 * thread's slab (opening a new slab when the current one is full), or
 * undefined when the size is not a medium one or Memories are off here or
 * cannot be made (then the caller allocates a plain SAB). `onOpen` is told
 * the bytes of each slab opened (the allocator's collection nudge counts them).
 */
export function allocInSlab(bytes: number, onOpen?: (bytes: number) => void): SlabRegion | undefined {
  if (bytes < SLAB_MIN_BYTES || bytes >= WASM_MEMORY_MIN_BYTES || !memoriesWanted()) return undefined;
  const size = Math.ceil(bytes / SLAB_ALIGN) * SLAB_ALIGN;
  if (current === undefined || current.used + size > SLAB_BYTES) {
    // The full slab is dropped here; the views over it keep it (and its ghost) alive.
    const buffer = newSharedMemory(SLAB_BYTES / PAGE);
    if (buffer === undefined) return undefined;
    current = { buffer, used: 0 };
    slabState.opened++;
    onOpen?.(SLAB_BYTES);
  }
  const byteOffset = current.used;
  current.used += size;
  slabState.regions++;
  return { buffer: current.buffer, byteOffset };
}
