/**
 * Whole-node histograms for the sibling-subtraction trick (see README.md,
 * "Sibling subtraction"): when every feature is evaluated at every node
 * (maxFeatures = all), a split's larger child gets its histograms as the
 * parent's minus the smaller child's, so only the smaller child's samples
 * are read.
 *
 * A node histogram holds, per feature f and bin b, K numbers at
 * buf[(f * 256 + b) * K ..]: classification the C class weights,
 * regression the weight and the weighted target sum, then the sample count
 * when minSamplesLeaf > 1 needs it. Subtraction is used only with integer
 * weights, so weights (and class weights) subtract exactly and a bin is
 * empty exactly when its weight is 0; only a regression target sum may
 * keep a rounding residue, which the reader drops for empty bins. (No count
 * cell otherwise: on runs of one code, background pixels, a second
 * increment per sample into the same bin doubled the store-to-load chain
 * and ate the gain.)
 */

/** Numbers per (feature, bin): C class weights or (weight, target sum), plus a count when `counted`. */
export function histWidth(nClasses: number, counted: boolean): number {
  return (nClasses > 0 ? nClasses : 2) + (counted ? 1 : 0);
}

/**
 * A per-thread stack of node-histogram buffers, allocated lazily up to a
 * byte budget. A node that finds the pool empty simply does without (its
 * histograms are filled from its samples feature by feature, as when
 * subtraction is off), so the budget bounds memory, never correctness.
 */
export class HistPool {
  private readonly bufs: Float64Array[] = [];
  private readonly free: number[] = [];
  readonly maxBuffers: number;

  constructor(
    readonly size: number,
    readonly budgetBytes: number,
  ) {
    this.maxBuffers = Math.floor(budgetBytes / (size * 8));
  }

  /** A zeroed buffer's id, or -1 when the budget is spent. */
  acquire(): number {
    const id = this.free.pop();
    if (id !== undefined) return id;
    if (this.bufs.length >= this.maxBuffers) return -1;
    this.bufs.push(new Float64Array(this.size));
    return this.bufs.length - 1;
  }

  /** Returns buffer `id` (ignored when -1), zeroing it for its next user. */
  release(id: number): void {
    if (id < 0) return;
    this.bufs[id]!.fill(0);
    this.free.push(id);
  }

  buffer(id: number): Float64Array {
    return this.bufs[id]!;
  }

  /** Releases everything (between trees: a tree that threw must not leak buffers). */
  reset(): void {
    if (this.free.length === this.bufs.length) return;
    this.free.length = 0;
    for (let i = this.bufs.length - 1; i >= 0; i--) {
      this.bufs[i]!.fill(0);
      this.free.push(i);
    }
  }
}

/**
 * Adds the samples at positions [start, end) to the histograms of the
 * features in feats[0 .. nFeats), reading feature-major codes
 * (codes[f * n + sample]). Classification: y holds class ids; regression:
 * yf holds targets.
 */
export function fillNodeHist(
  buf: Float64Array,
  K: number,
  feats: Int32Array,
  nFeats: number,
  codes: Uint8Array,
  n: number,
  sIdx: Int32Array,
  sW: Float64Array,
  y: Int32Array,
  yf: Float64Array,
  classification: boolean,
  counted: boolean,
  start: number,
  end: number,
): void {
  subtractionStats.filled++;
  const cnt = K - 1;
  for (let j = 0; j < nFeats; j++) {
    const f = feats[j]!;
    const base = f * n;
    const off = f * 256 * K;
    if (classification) {
      for (let i = start; i < end; i++) buf[off + codes[base + sIdx[i]!]! * K + y[i]!]! += sW[i]!;
    } else {
      for (let i = start; i < end; i++) {
        const h = off + codes[base + sIdx[i]!]! * K;
        const w = sW[i]!;
        buf[h]! += w;
        buf[h + 1]! += w * yf[i]!;
      }
    }
    if (counted) for (let i = start; i < end; i++) buf[off + codes[base + sIdx[i]!]! * K + cnt]!++;
  }
}

/** Node histograms filled from samples and derived by subtraction since the process started (read by the tests). */
export const subtractionStats = { filled: 0, derived: 0 };

/** parent -= child over the features in feats[0 .. nFeats): the parent's buffer becomes its other child's. */
export function subtractNodeHist(parent: Float64Array, child: Float64Array, K: number, feats: Int32Array, nFeats: number): void {
  subtractionStats.derived++;
  const len = 256 * K;
  for (let j = 0; j < nFeats; j++) {
    const off = feats[j]! * len;
    for (let k = off, e = off + len; k < e; k++) parent[k]! -= child[k]!;
  }
}
