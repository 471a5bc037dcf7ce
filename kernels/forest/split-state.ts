import type { ForestData, ResolvedParams } from "./params.js";
import type { HistPool } from "./node-hist.js";
import { NodeStream } from "./node-rng.js";
import { MAX_BATCH } from "./split-gather.js";
import { TINY_LIMIT } from "./split-tiny.js";

/** scikit-learn's tolerance for "pure" nodes and impurity decreases. */
export const EPSILON = 2.220446049250313e-16;

/**
 * What a split search works on, per thread: the current node's in-bag
 * arrays, where its codes are read, the scratch of the list and histogram
 * scans, the node's statistics, and the best split found so far. The
 * grower (grow.ts) extends it; each search is a module of functions over it
 * (split-lists.ts, split-hist.ts, split-gather.ts, find-split.ts).
 */
export class SplitState {
  readonly n: number;
  readonly d: number;
  readonly C: number;
  // Per in-bag position, partitioned together: views of the current tree's slot (board.ts).
  sIdx: Int32Array = new Int32Array(0);
  sY: Int32Array = new Int32Array(0);
  sYf: Float64Array = new Float64Array(0);
  sW: Float64Array = new Float64Array(0);
  /** Per position i: link[2i] the next position in i's bin, link[2i + 1] its class (small nodes, classification). */
  readonly link: Int32Array;
  /** Per position i (small nodes, gini): its weight, and weight x the node's total of its class. */
  readonly wt: Float64Array;
  readonly head = new Int32Array(256).fill(-1);
  readonly bitmap = new Int32Array(8);
  /** Per-feature marks: known constant at the current node / drawn at it (== stamp). */
  readonly knownMark: Int32Array;
  readonly drawnMark: Int32Array;
  stamp = 0;
  readonly rest: Int32Array;
  restStamp = 0;
  restLen = 0;
  /** The features drawn for one batch, and their gathered codes. */
  readonly batch = new Int32Array(MAX_BATCH);
  local = new Uint8Array(0) as Uint8Array;
  /** A tiny node's sort keys for one feature (split-tiny.ts). */
  readonly tiny = new Int32Array(TINY_LIMIT);
  readonly L: Float64Array;
  readonly R: Float64Array;
  readonly T: Float64Array;
  readonly hist: Float64Array;
  readonly histCnt = new Int32Array(256);
  readonly hist2: Float64Array;
  readonly histY = new Float64Array(256);
  /** Per-bin total weight of the classification histogram. */
  readonly histW = new Float64Array(256);
  /** The current node's histogram buffer in histPool (sibling subtraction, node-hist.ts), or -1. */
  nodeHist = -1;
  histPool: HistPool | null = null;
  /** Numbers per (feature, bin) of a node histogram: histWidth(C, counted), set per tree. */
  K = 0;
  // Where the current node's codes are read: codes[f * srcFMul + srcIdx[position] * srcIMul].
  srcCodes: Uint8Array = new Uint8Array(0);
  srcIdx: Int32Array = new Int32Array(0);
  srcFMul = 0;
  srcIMul = 0;
  // Per call.
  data!: ForestData;
  p!: ResolvedParams;
  /** The current node's feature draws (node-rng.ts). */
  readonly rng = new NodeStream();
  // Node statistics of the last stats() call.
  statW = 0;
  statSum = 0;
  statSumSq = 0;
  // Best split of the last findSplit() call.
  bestFeature = -1;
  bestLo = 0;
  bestHi = 0;
  bestProxy = -Infinity;

  constructor(n: number, d: number, C: number) {
    this.n = n;
    this.d = d;
    this.C = C;
    this.link = new Int32Array(2 * n);
    this.wt = new Float64Array(C > 0 ? 2 * n : 0);
    this.knownMark = new Int32Array(d);
    this.drawnMark = new Int32Array(d);
    this.rest = new Int32Array(d);
    const c = Math.max(C, 1);
    this.L = new Float64Array(c);
    this.R = new Float64Array(c);
    this.T = new Float64Array(c);
    this.hist = new Float64Array(256 * c);
    this.hist2 = new Float64Array(256 * c);
  }

  /** Keeps a candidate split if it beats the best so far (strictly: the first of equals wins, in scan order). */
  /**
   * Starts a class-count sweep over one feature: the left child empty, the
   * right one holding every class total. Returns sum_c T_c^2 (Gini's term
   * for the right child).
   */
  openGini(): number {
    const { L, R, T, C } = this;
    let sq = 0;
    for (let c = 0; c < C; c++) {
      const t = T[c]!;
      L[c] = 0;
      R[c] = t;
      sq += t * t;
    }
    return sq;
  }

  /** openGini's start for entropy: returns sum_c T_c ln T_c over the non-empty classes. */
  openEntropy(): number {
    const { L, R, T, C } = this;
    let e = 0;
    for (let c = 0; c < C; c++) {
      const t = T[c]!;
      L[c] = 0;
      R[c] = t;
      if (t > 0) e += t * Math.log(t);
    }
    return e;
  }

  consider(proxy: number, f: number, lo: number, hi: number): void {
    if (proxy > this.bestProxy) {
      this.bestProxy = proxy;
      this.bestFeature = f;
      this.bestLo = lo;
      this.bestHi = hi;
    }
  }
}
