// What the main thread and every k-means worker agree on: the job's shape,
// its shared scratch, and the fixed row blocks that make the sums
// independent of the thread count (see kernels/ops/kmeans.md).
import type { NdArray } from "../memory/ndarray-type.js";
import type { Barrier } from "../sync/barrier.js";

/** Rows per block when memory allows: small enough to spread over many workers, big enough that the per-block partials cost nothing next to the rows. */
const BLOCK_ROWS = 2048;
/** The most float64 the per-block partials of one parity may take (2 parities: 64 MiB in all). */
const PARTIALS_BUDGET = 1 << 22;

/** Control words (Int32Array): STOP, set by whoever stops the call (the caller on abort or a failure, a failing worker); BAD, set by a worker that read a NaN or an infinity. */
export const STOP = 0;
export const BAD = 1;

/** What a worker returns: done; X holds a NaN or an infinity (found while reading it); stopped (the call was aborted, or another worker failed). */
export const DONE = 0;
export const NOT_FINITE = 1;
export const STOPPED = 2;

/** Every argument of the SPMD body, as the kernel receives it. */
export interface KMeansJob {
  /** The user's array [n, d], any number dtype and strides; read only when `copy`. */
  x: NdArray;
  /** Rows as contiguous float64: X's own buffer (float64, C-contiguous) or a copy the workers fill. */
  xc: Float64Array;
  /** Where row 0 starts in xc. */
  xOff: number;
  /** True when the workers must first copy x into xc. */
  copy: boolean;
  n: number;
  d: number;
  k: number;
  /** Rows per block and the number of blocks (fixed by n, k, d: never by the thread count). */
  blockRows: number;
  blocks: number;
  maxIter: number;
  /** Relative tolerance: scaled by the mean of X's per-feature variances. */
  tol: number;
  nInit: number;
  seed: number;
  /** 0: k-means++, 1: random rows, 2: the given centers in `init`. */
  initKind: number;
  /** Candidates tried per k-means++ step (2 + floor(ln k)). */
  trials: number;
  /** Given initial centers, k * d (empty unless initKind is 2). */
  init: Float64Array;
  /** Output: labels of the best run. */
  labels: Int32Array;
  /** Output: centers of the best run, k * d. */
  centers: Float64Array;
  /** Output: [inertia, iterations] of the best run. */
  info: Float64Array;
  /** Labels of the run in progress. */
  work: Int32Array;
  /** Hamerly's bounds per row: above the distance to its center, below the distance to any other. */
  upper: Float64Array;
  lower: Float64Array;
  /** (trials + 1) * n: k-means++ distance rows. */
  dist: Float64Array;
  /** 2 parities * blocks * (k * d + k + 1): per-block sums, counts and changed labels. */
  part: Float64Array;
  /** 2 parities * blocks * trials: per-block potentials of the k-means++ candidates. */
  pot: Float64Array;
  /** blocks * (2d + 1): per-block feature sums, per-block squared deviations, per-block inertia. */
  stat: Float64Array;
  /** Int32 control words: STOP, BAD. */
  control: Int32Array;
  barrier: Barrier;
}

/** Rows per block for an n x d problem with k clusters. */
export function blockRowsFor(n: number, k: number, d: number): number {
  const perBlock = k * d + k + 1;
  const maxBlocks = Math.max(1, Math.floor(PARTIALS_BUDGET / perBlock));
  return Math.max(BLOCK_ROWS, Math.ceil(n / maxBlocks));
}

/** The k-means++ candidates per step, as scikit-learn: 2 + floor(ln k). */
export function trialsFor(k: number): number {
  return 2 + Math.floor(Math.log(k));
}
