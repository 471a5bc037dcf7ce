// Worker side of the stratified trainTestSplit (src/ml/preprocess/split-stratify.ts,
// which says the steps and the streams). Every kernel works on pieces whose
// bounds depend on the data only (blocks of rows, classes, buckets), each
// piece with its own random stream, and writes where the main thread's prefix
// sums told it: so the split is the same bits whatever the thread count or
// the chunking.
import { defineKernels } from "../../src/engine/define.js";
import type { KernelContext } from "../../src/engine/define.js";
import { rng } from "../../src/random/rng.js";
import { permuteInPlace, shuffleHalves } from "../../src/ml/preprocess/permute.js";
import { gatherPart, type GatherPart } from "./gather.js";

/** Stream ids under the split's seed (rng(seed) itself draws the per-class counts' ties). */
export const STREAM_CLASS = 1;
export const STREAM_BUCKET = 2;
export const STREAM_PERM = 3;

/** Integer values a row can be grouped by: class codes, or integer labels themselves. */
export type GroupValues = Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array;

/** Rows grouped by class: a stable counting sort in blocks of rows. */
export interface ClassJob {
  /** Per row, its class's value: values[i] - min is in [0, width), and classes are in increasing value order. */
  values: GroupValues;
  min: number;
  width: number;
  /** Rows per block (the last may be shorter). */
  block: number;
  /** [nBlocks * width]: each block's count of each value, then (after the main thread's prefix sums) where its rows of each value go in byClass. */
  at: Int32Array;
  /** Row indices grouped by class, in row order within a class. */
  byClass: Uint32Array;
}

/** The per-class draws: which rows of each class go to train and which to test. */
export interface SelectJob {
  seed: number;
  byClass: Uint32Array;
  /** [k + 1] where each class starts in byClass. */
  classStart: Float64Array;
  nTrainOf: Float64Array;
  nTestOf: Float64Array;
  /** [k] where each class's train rows, and its test rows, start in pool. */
  trainAt: Float64Array;
  testAt: Float64Array;
  /** Train rows (class by class) then test rows. */
  pool: Uint32Array;
}

/** One side of the split (train or test) as a contiguous range of pool and idx positions. */
export interface Side {
  start: number;
  length: number;
  /** log2 of its bucket count (0: one bucket, no draws). */
  bits: number;
  /** Its first block's index among all sides' blocks, and its first bucket's among all buckets. */
  firstBlock: number;
  firstBucket: number;
}

/**
 * A permutation of each side by random buckets: every position draws one of
 * 2^bits buckets (a byte of its block's stream), the rows are scattered into
 * their buckets (bucket-major, block-minor, in order within a block), then
 * each bucket is shuffled with its own stream and its rows gathered.
 */
export interface BucketJob {
  seed: number;
  sides: Side[];
  /** Positions per block. */
  block: number;
  pool: Uint32Array;
  /** The bucket of every position. */
  tags: Uint8Array;
  /** Per side, [blocks x 2^bits] from atStart[side]: each block's count of each bucket, then (after the main thread's prefix sums) where that block's rows of that bucket go in idx. */
  at: Int32Array;
  /** Per side, where its (block, bucket) table starts in `at`. */
  atStart: Float64Array;
  /** [buckets + 1 per side, concatenated]: where each bucket starts in idx. */
  bucketStart: Float64Array;
  /** The final source row of each output position: train then test. */
  idx: Uint32Array;
  cut: number;
  parts: GatherPart[];
}

function sideOfBlock(sides: Side[], g: number): number {
  let s = 0;
  while (s + 1 < sides.length && sides[s + 1]!.firstBlock <= g) s++;
  return s;
}

function sideOfBucket(sides: Side[], g: number): number {
  let s = 0;
  while (s + 1 < sides.length && sides[s + 1]!.firstBucket <= g) s++;
  return s;
}

export default defineKernels({
  /** Counts each block's rows of each class. */
  "sabre.preprocess.classCount"({ start, end }: KernelContext, job: ClassJob): void {
    const { values, min, width, block, at } = job;
    const n = values.length;
    for (let b = start; b < end; b++) {
      const base = b * width - min;
      for (let i = b * block, e = Math.min(n, i + block); i < e; i++) at[base + values[i]!]!++;
    }
  },

  /** Writes each block's rows to their class's range of byClass. */
  "sabre.preprocess.classScatter"({ start, end }: KernelContext, job: ClassJob): void {
    const { values, min, width, block, at, byClass } = job;
    const n = values.length;
    for (let b = start; b < end; b++) {
      const next = at.slice(b * width, (b + 1) * width);
      for (let i = b * block, e = Math.min(n, i + block); i < e; i++) byClass[next[values[i]! - min]!++] = i;
    }
  },

  /**
   * Draws each class's train and test rows (a partial Fisher-Yates with the
   * class's own stream: only as many draws as the smaller side needs when the
   * two sides take the whole class) and copies them to pool. Their order
   * within a side does not matter: the bucket shuffle makes it uniform.
   */
  "sabre.preprocess.classSelect"({ start, end }: KernelContext, job: SelectJob): void {
    const { seed, byClass, classStart, nTrainOf, nTestOf, trainAt, testAt, pool } = job;
    for (let c = start; c < end; c++) {
      const rows = byClass.subarray(classStart[c]!, classStart[c + 1]!);
      const nTr = nTrainOf[c]!;
      const nTe = nTestOf[c]!;
      const r = rng(seed, STREAM_CLASS, c);
      let trainFrom = 0;
      let testFrom = nTr;
      if (nTr + nTe === rows.length && nTe <= nTr) {
        permuteInPlace(r, rows, nTe);
        trainFrom = nTe;
        testFrom = 0;
      } else if (nTr + nTe === rows.length) {
        permuteInPlace(r, rows, nTr);
      } else {
        permuteInPlace(r, rows, nTr + nTe);
      }
      pool.set(rows.subarray(trainFrom, trainFrom + nTr), trainAt[c]!);
      pool.set(rows.subarray(testFrom, testFrom + nTe), testAt[c]!);
    }
  },

  /** Draws the bucket of every position of a block and counts the block's buckets. */
  "sabre.preprocess.bucketCount"({ start, end }: KernelContext, job: BucketJob): void {
    const { seed, sides, block, tags, at, atStart } = job;
    for (let g = start; g < end; g++) {
      const s = sideOfBlock(sides, g);
      const side = sides[s]!;
      const j = g - side.firstBlock;
      const p0 = side.start + j * block;
      const p1 = Math.min(side.start + side.length, p0 + block);
      const base = atStart[s]! + (j << side.bits);
      if (side.bits === 0) {
        at[base] = p1 - p0;
        continue;
      }
      const shift = 8 - side.bits;
      const r = rng(seed, STREAM_BUCKET, s, j);
      // Four buckets per 32-bit word: 2^bits divides 256, so the top bits of a uniform byte are uniform.
      let w = 0;
      for (let p = p0, q = 0; p < p1; p++, q = (q + 1) & 3) {
        if (q === 0) w = r.uint32();
        const t = ((w >>> (q << 3)) & 255) >>> shift;
        tags[p] = t;
        at[base + t]!++;
      }
    }
  },

  /** Moves each block's rows from pool to their buckets' places in idx. */
  "sabre.preprocess.bucketScatter"({ start, end }: KernelContext, job: BucketJob): void {
    const { sides, block, tags, at, atStart, pool, idx } = job;
    for (let g = start; g < end; g++) {
      const s = sideOfBlock(sides, g);
      const side = sides[s]!;
      const j = g - side.firstBlock;
      const p0 = side.start + j * block;
      const p1 = Math.min(side.start + side.length, p0 + block);
      const base = atStart[s]! + (j << side.bits);
      if (side.bits === 0) {
        idx.set(pool.subarray(p0, p1), at[base]!);
        continue;
      }
      const next = at.slice(base, base + (1 << side.bits));
      for (let p = p0; p < p1; p++) idx[next[tags[p]!]!++] = pool[p]!;
    }
  },

  /** Shuffles each bucket with its own stream, then gathers its rows into the outputs while its indices are in cache. */
  "sabre.preprocess.bucketShuffleGather"({ start, end }: KernelContext, job: BucketJob): void {
    const { seed, sides, bucketStart, idx, cut, parts } = job;
    for (let g = start; g < end; g++) {
      const s = sideOfBucket(sides, g);
      const b = g - sides[s]!.firstBucket;
      // bucketStart holds buckets + 1 entries per side: side s's entries start at firstBucket + s.
      const at = g + s;
      const b0 = bucketStart[at]!;
      const b1 = bucketStart[at + 1]!;
      shuffleHalves(rng(seed, STREAM_PERM, s, b), idx.subarray(b0, b1));
      for (const part of parts) gatherPart(part, idx, cut, b0, b1);
    }
  },
});
