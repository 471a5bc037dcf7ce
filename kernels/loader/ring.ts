// The slot ring's shared layout, used by the main thread (src/data/loader)
// and the workers (loop.ts). The protocol is in src/data/loader/README.md.

/** Control words (Int32Array `ctl`). */
export const STOP = 0;
/** Map-style: the next batch number a worker claims (Atomics.add). */
export const NEXT = 1;
export const NBATCHES = 2;
export const EPOCH = 3;
/** Bumped (and notified) after every filled batch: what an out-of-order consumer waits on. */
export const FILLS = 4;
export const HEADER = 8;

/** Per worker: the batch it is filling (-1: none), and the failing sample of an error. */
export const W_CUR = 0;
export const W_ERR_INDEX = 1;
export const W_ERR_BATCH = 2;
export const WORKER_STRIDE = 4;

/** Per slot: STATE (the Atomics word everybody waits on) and the number of rows it holds. */
export const S_STATE = 0;
export const S_SIZE = 1;
export const SLOT_STRIDE = 2;

/**
 * Slot STATE values. For map-style loading, slot s serves batches s, s + S,
 * s + 2S, ...: `2b` means "free for batch b" and `2b + 1` "batch b is
 * filled". An iterable shard numbers its own batches k the same way. The
 * negative values end the slot's life for this epoch.
 */
export const STATE_STOPPED = -2;
/** Iterable: the shard owning this slot has no more batches. */
export const STATE_END = -3;

export function workerWord(w: number, field: number): number {
  return HEADER + w * WORKER_STRIDE + field;
}

export function slotWord(numWorkers: number, s: number, field: number): number {
  return HEADER + numWorkers * WORKER_STRIDE + s * SLOT_STRIDE + field;
}

export function controlLength(numWorkers: number, slots: number): number {
  return HEADER + numWorkers * WORKER_STRIDE + slots * SLOT_STRIDE;
}
