// What the loader benchmark asks of every loader it compares: batches of one
// epoch, in order, each a flat float32 [b, rowLen] block the training loop
// reads. The peers (postMessage, piscina, tfjs-data) implement it here;
// sabre's DataLoader is adapted to it in bench/loader.ts.
import type { WorkSpec } from "../workers/loader-work.js";

export interface LoaderSpec extends WorkSpec {
  /** Samples in the dataset. */
  readonly n: number;
  readonly batchSize: number;
  readonly numWorkers: number;
  /** Batches each worker may have ready ahead of the consumer (PyTorch's prefetch_factor). */
  readonly prefetchFactor: number;
  readonly seed: number;
  readonly shuffle: boolean;
}

/** One batch as the consumer sees it: `b` samples, sample k's values from values[offset + k * stride]. */
export interface BenchBatch {
  readonly values: Float32Array;
  readonly offset: number;
  readonly stride: number;
  readonly b: number;
  /** Hands the batch back (sabre: the slot; tfjs: the tensors). Called before the next step. */
  release?(): void;
}

export interface BenchLoader {
  /** One epoch's batches in order; breaking out stops it. */
  epoch(e: number): AsyncIterable<BenchBatch>;
  close(): Promise<void>;
}

/** Batch k of an epoch's order, as a fresh Int32Array (a view would clone its whole buffer in postMessage). */
export function batchIndices(order: Int32Array, k: number, batchSize: number): Int32Array {
  return order.slice(k * batchSize, Math.min(order.length, (k + 1) * batchSize));
}

export function batchCount(n: number, batchSize: number): number {
  return Math.ceil(n / batchSize);
}
