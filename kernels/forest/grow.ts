import { SabreTypeError } from "../../src/errors.js";
import { rng } from "../../src/random/rng.js";
import { describe } from "../../src/validate.js";
import { growBestFirst } from "./best-first.js";
import { Board, makeBoard, plainAlloc, T_DEPTH, T_END, T_KHI, T_KLO, T_NCONST, T_START } from "./board.js";
import { findSplit, primeFindSplit } from "./find-split.js";
import { assemble, writeFragment } from "./fragments.js";
import { fillNodeHist, HistPool, histWidth, subtractNodeHist } from "./node-hist.js";
import { ROOT_KEY_HI, ROOT_KEY_LO } from "./node-rng.js";
import { Nodes } from "./nodes.js";
import { checkForestData, resolveParams, type ForestData, type ResolvedParams, type TreeParams } from "./params.js";
import { MAX_BATCH } from "./split-gather.js";
import { EPSILON, SplitState } from "./split-state.js";
import type { FlatTree } from "./tree.js";
import { forestTuning } from "./tuning.js";

export { forestTuning } from "./tuning.js";

/**
 * Growing trees over uint8 bin codes: feature-major (data.codes) for large
 * nodes, sample-major (data.rowCodes, optional) for small ones. This module
 * holds the node bookkeeping (in-bag arrays, node statistics, partitions,
 * thresholds, the constant-feature pool, sibling-subtraction buffers) and
 * depth-first growth (best-first growth is best-first.ts); each split search
 * is a module of its own (find-split.ts dispatches to split-lists.ts,
 * split-gather.ts, split-hist.ts).
 *
 * The in-bag samples of a node are the positions [start, end) of three
 * parallel arrays (sample index, label, weight), partitioned stably with
 * preallocated scratch, so a node never allocates.
 *
 * Trees grow as tasks on a board (board.ts, parallel.md): a split with at
 * least taskMin samples on both sides hands one child off as a task, which
 * any worker (or this thread, later) grows into a fragment; the thread that
 * finishes a tree's last task assembles it in preorder (fragments.ts).
 *
 * Randomness: the bootstrap comes from rng(seed, treeIndex, 0), each node's
 * feature draws from its own stream under rng(seed, treeIndex, 1)
 * (node-rng.ts), so a tree is the same bit for bit whichever threads grow
 * its parts and in whatever order.
 */

/** Sibling subtraction is used for regression and for at most this many classes. */
const SUBTRACT_MAX_CLASSES = 4;
const STREAM_BOOTSTRAP = 0;
/** Words per pending node on growTask's stack. */
const STACK_W = 10;

/**
 * Bootstrap counts of tree `treeIndex`: how many times each sample was drawn
 * (nDraws draws with replacement from rng(seed, treeIndex, 0)). OOB samples
 * have count 0. growTree uses exactly these counts.
 */
export function bootstrapCounts(nSamples: number, nDraws: number, seed: number, treeIndex: number, out?: Int32Array): Int32Array {
  if (!Number.isInteger(nSamples) || nSamples < 1) throw new SabreTypeError(`nSamples must be an integer >= 1, got ${describe(nSamples)}`);
  if (!Number.isInteger(nDraws) || nDraws < 1) throw new SabreTypeError(`nDraws must be an integer >= 1, got ${describe(nDraws)}`);
  const counts = out ?? new Int32Array(nSamples);
  if (counts.length < nSamples) throw new SabreTypeError(`out has ${counts.length} elements, ${nSamples} needed`);
  counts.fill(0, 0, nSamples);
  const r = rng(seed, treeIndex, STREAM_BOOTSTRAP);
  for (let k = 0; k < nDraws; k++) counts[r.below(nSamples)]!++;
  return counts;
}

/** Options of growTree. */
export interface GrowOptions {
  /** Allocate the tree's arrays in SharedArrayBuffers (default false). */
  shared?: boolean;
}


/** Per-thread growth state, reused across trees of the same shape: the split search's state plus the node bookkeeping. */
export class Grower extends SplitState {
  readonly nodes: Nodes;
  // Scratch for the right side of a stable partition.
  readonly tIdx: Int32Array;
  readonly tY: Int32Array;
  readonly tYf: Float64Array;
  readonly tW: Float64Array;
  readonly counts: Int32Array;
  /** Stack-shaped pool of the known-constant feature lists of pending nodes. */
  pool = new Int32Array(1024);
  /** regSums' output: weight, sum of w * y, sum of w * y^2. */
  private readonly sums = new Float64Array(3);
  /** growTask's pending nodes, STACK_W words each (pushNode). */
  private stk = new Int32Array(STACK_W * 64);
  /**
   * Sibling subtraction (node-hist.ts), on when every feature is evaluated
   * at every node and the weights are integers (so class weights and counts
   * subtract exactly).
   */
  subtract = false;
  /** Features not known constant at a node (unknownFeatures), and the marks that find them. */
  readonly feats: Int32Array;
  readonly featMark: Int32Array;
  featStamp = 0;
  readonly keyBuf = new Int32Array(2);
  /** The children's histogram buffers, set by childHists. */
  private childL = -1;
  private childR = -1;
  /** The slot and tree being grown. */
  board!: Board;
  slot = -1;
  tree = -1;
  seed = -1;
  maxDepthSeen = 0;
  rootWeight = 0;
  /** Whether every in-bag weight of the tree just prepared is an integer. */
  integral = true;
  /** inBag's flag word: 1 while every weight it wrote was an integer. */
  private readonly inBagFlags = new Int32Array(1);

  constructor(n: number, d: number, C: number) {
    super(n, d, C);
    this.nodes = new Nodes(Math.max(C, 1));
    this.tIdx = new Int32Array(n);
    this.tY = new Int32Array(C > 0 ? n : 0);
    this.tYf = new Float64Array(C > 0 ? 0 : n);
    this.tW = new Float64Array(n);
    this.counts = new Int32Array(n);
    this.feats = new Int32Array(d);
    this.featMark = new Int32Array(d);
  }

  /**
   * Fills the in-bag arrays of the current slot; returns the number of
   * in-bag samples (the tree's flags: bit 0 integral weights).
   */
  prepare(seed: number, treeIndex: number): number {
    const { n, C } = this;
    const p = this.p;
    const data = this.data;
    const counts = this.counts;
    if (p.bootstrap) bootstrapCounts(n, p.nDraws, seed, treeIndex, counts);
    else counts.fill(1);
    let cw = p.classWeight;
    const y = data.y;
    if (p.balancedSubsample) {
      // scikit-learn: "balanced" computed on the bootstrap draws (with multiplicity).
      const per = new Float64Array(C);
      let total = 0;
      for (let i = 0; i < n; i++) {
        per[y[i]!]! += counts[i]!;
        total += counts[i]!;
      }
      let present = 0;
      for (let c = 0; c < C; c++) if (per[c]! > 0) present++;
      cw = new Float64Array(C);
      for (let c = 0; c < C; c++) cw[c] = per[c]! > 0 ? total / (present * per[c]!) : 0;
    }
    const flags = this.inBagFlags;
    flags[0] = 1;
    const m = inBag(counts, data.sampleWeight ?? null, y, cw, C, this.sIdx, this.sW, this.sY, this.sYf, n, flags);
    this.integral = flags[0] === 1;
    return m;
  }

  /** Points the grower at slot s of the board, holding tree `treeIndex` (per task: tasks of many trees may come in turn). */
  enter(board: Board, s: number, seed: number, treeIndex: number): void {
    const a = board.a;
    const n = this.n;
    this.board = board;
    if (this.slot !== s || this.sIdx.buffer !== a.sIdx.buffer) {
      this.sIdx = a.sIdx.subarray(s * n, (s + 1) * n);
      this.sW = a.sW.subarray(s * n, (s + 1) * n);
      this.sY = this.C > 0 ? a.sY.subarray(s * n, (s + 1) * n) : a.sY;
      this.sYf = this.C > 0 ? a.sYf : a.sYf.subarray(s * n, (s + 1) * n);
    }
    this.slot = s;
    if (this.tree !== treeIndex || this.seed !== seed) {
      this.tree = treeIndex;
      this.seed = seed;
      this.rng.tree(seed, treeIndex);
    }
  }

  /** Per-tree settings: integral (weights, from prepare on whichever thread started the tree) and the root's weight. */
  treeSettings(integral: boolean, rootWeight: number): void {
    const p = this.p;
    // With many classes a derived histogram costs about what it saves (256 x C
    // cells to subtract and copy per feature): measured on Fashion-MNIST with
    // maxFeatures 1.0, 2 classes 1.8-2.3x faster per tree, 4 classes 1.1x,
    // 10 classes no faster and 36 MB more.
    this.subtract = forestTuning.subtract && integral && p.maxLeafNodes === 0 && p.maxFeatures >= this.d && this.C <= SUBTRACT_MAX_CLASSES;
    if (this.subtract) {
      this.K = histWidth(this.C, p.minSamplesLeaf > 1);
      const size = this.d * 256 * this.K;
      const budget = forestTuning.histBudgetMB * 2 ** 20;
      if (this.histPool?.size !== size || this.histPool.budgetBytes !== budget) this.histPool = new HistPool(size, budget);
      this.histPool.reset();
    }
    if (this.local.length < MAX_BATCH * forestTuning.rowMax) this.local = new Uint8Array(MAX_BATCH * forestTuning.rowMax);
    this.rootWeight = rootWeight;
  }

  /** Statistics of positions [start, end): class totals into T (or sums), weight, impurity. */
  stats(start: number, end: number): number {
    const crit = this.p.criterion;
    if (crit === 2) {
      const sums = this.sums;
      regSums(this.sW, this.sYf, start, end, sums);
      const w = sums[0]!;
      const s = sums[1]!;
      const s2 = sums[2]!;
      this.statW = w;
      this.statSum = s;
      this.statSumSq = s2;
      const mean = s / w;
      const imp = s2 / w - mean * mean;
      return imp > 0 ? imp : 0;
    }
    const { T, C } = this;
    const w = classSums(this.sW, this.sY, T, start, end);
    this.statW = w;
    let imp = 0;
    if (crit === 0) {
      let sq = 0;
      for (let c = 0; c < C; c++) sq += T[c]! * T[c]!;
      imp = 1 - sq / (w * w);
    } else {
      for (let c = 0; c < C; c++) {
        const pc = T[c]! / w;
        if (pc > 0) imp -= pc * Math.log2(pc);
      }
    }
    return imp > 0 ? imp : 0;
  }

  /** Adds a node for [start, end) and writes its value, weights and impurity; returns its id. */
  addNode(parent: number, isLeft: boolean, start: number, end: number, depth: number): number {
    const nodes = this.nodes;
    const id = nodes.add(parent, isLeft);
    const imp = this.stats(start, end);
    nodes.impurity[id] = imp;
    nodes.weight[id] = this.statW;
    nodes.nSamples[id] = end - start;
    const C = this.C;
    if (C > 0) {
      const base = id * C;
      const w = this.statW;
      for (let c = 0; c < C; c++) nodes.value[base + c] = this.T[c]! / w;
    } else nodes.value[id] = this.statSum / this.statW;
    if (depth > this.maxDepthSeen) this.maxDepthSeen = depth;
    return id;
  }

  /**
   * Moves positions of [start, end) whose code of f is <= lo to the front and
   * returns the first right position. Stable: sample indices stay ascending
   * within every node (they start ascending), so every gather of a node's
   * codes sweeps memory in increasing address order, which the hardware
   * prefetcher and the TLB like far better than a random order.
   */
  partition(start: number, end: number, f: number, lo: number): number {
    const codes = this.srcCodes;
    const im = this.srcIMul;
    const base = f * this.srcFMul;
    const { sIdx, sW, tIdx, tW } = this;
    // One loop per function, each loop the function's last statement: V8
    // compiles a long first loop on entry (OSR) and reuses that code in later
    // calls, and code after the loop that had not run yet when it was compiled
    // deoptimized it on every call (4,900 deopts in a 10-tree Fashion-MNIST
    // fit, the copies then running in the interpreter).
    const l = this.C > 0
      ? splitCls(codes, base, im, lo, sIdx, sW, this.sY, tIdx, tW, this.tY, start, end)
      : splitReg(codes, base, im, lo, sIdx, sW, this.sYf, tIdx, tW, this.tYf, start, end);
    const r = end - l;
    copyI32(sIdx, l, tIdx, r);
    copyF64(sW, l, tW, r);
    if (this.C > 0) copyI32(this.sY, l, this.tY, r);
    else copyF64(this.sYf, l, this.tYf, r);
    return l;
  }

  /**
   * Chooses where the codes of node [start, end) are read from: small nodes
   * read sample-major codes (their samples' rows stay in cache from a node to
   * its children, where feature-major columns cost a miss per sample per
   * feature: 2.3x faster per tree here), large ones feature-major columns.
   * (Copying a small subtree's codes into a local feature-major buffer was
   * measured too: the copy of all d features costs more than it saves.)
   */
  selectSource(start: number, end: number): void {
    const n = end - start;
    const rowCodes = this.data.rowCodes;
    if (rowCodes != null && n <= forestTuning.rowMax) {
      this.srcCodes = rowCodes;
      this.srcIdx = this.sIdx;
      this.srcFMul = 1;
      this.srcIMul = this.d;
    } else {
      this.srcCodes = this.data.codes;
      this.srcIdx = this.sIdx;
      this.srcFMul = this.n;
      this.srcIMul = 1;
    }
  }

  /** The real-valued threshold between bins lo and hi of feature f (see BinMapper). */
  threshold(f: number, lo: number, hi: number): number {
    const bins = this.data.bins;
    const s = bins.binStart[f]!;
    const a = bins.binMax[s + lo]!;
    const b = bins.binMin[s + hi]!;
    let t = a / 2 + b / 2;
    const min = bins.threshold[s + lo]!;
    const max = bins.threshold[s + hi - 1]!;
    if (!(t >= min)) t = min;
    if (t > max) t = max;
    return t;
  }

  /** Weighted impurity decrease of splitting [start, end) at pos, relative to the root (scikit-learn's). */
  improvement(start: number, pos: number, end: number, impurity: number, weight: number): number {
    const impL = this.stats(start, pos);
    const wL = this.statW;
    const impR = this.stats(pos, end);
    const wR = this.statW;
    return (weight / this.rootWeight) * (impurity - (wR / weight) * impR - (wL / weight) * impL);
  }

  /** Pushes a pending node (start, end, depth, parent, isLeft, constants offset and count, histogram buffer, key words) at top; returns the new top. */
  private pushNode(top: number, start: number, end: number, depth: number, parent: number, isLeft: number, cOff: number, cLen: number, buf: number, kLo: number, kHi: number): number {
    let st = this.stk;
    if (top + STACK_W > st.length) {
      st = new Int32Array(st.length * 2);
      st.set(this.stk);
      this.stk = st;
    }
    st[top] = start;
    st[top + 1] = end;
    st[top + 2] = depth;
    st[top + 3] = parent;
    st[top + 4] = isLeft;
    st[top + 5] = cOff;
    st[top + 6] = cLen;
    st[top + 7] = buf;
    st[top + 8] = kLo;
    st[top + 9] = kHi;
    return top + STACK_W;
  }

  ensurePool(size: number): void {
    if (size <= this.pool.length) return;
    const p = new Int32Array(Math.max(size, this.pool.length * 2));
    p.set(this.pool);
    this.pool = p;
  }

  /** Whether a node of `count` samples scans histograms from feature-major codes (not lists, not gathered rows). */
  private histNode(count: number): boolean {
    return count > forestTuning.histMin && !(this.data.rowCodes != null && count <= forestTuning.rowMax);
  }

  /** Fills this.feats with the features not in list[off .. off + len) (the known constants); returns their number. */
  private unknownFeatures(list: Int32Array, off: number, len: number): number {
    if (++this.featStamp === 0x7fffffff) {
      this.featMark.fill(0);
      this.featStamp = 1;
    }
    const { featMark, feats, featStamp } = this;
    for (let i = off; i < off + len; i++) featMark[list[i]!] = featStamp;
    let k = 0;
    for (let f = 0; f < this.d; f++) if (featMark[f] !== featStamp) feats[k++] = f;
    return k;
  }

  /** Adds positions [start, end) to node histogram `buf` over this.feats[0 .. nf) (see unknownFeatures). */
  private fillStored(buf: number, start: number, end: number, nf: number): void {
    const { data, sIdx, sW, sY, sYf } = this;
    fillNodeHist(this.histPool!.buffer(buf), this.K, this.feats, nf, data.codes, this.n, sIdx, sW, sY, sYf, this.C > 0, this.p.minSamplesLeaf > 1, start, end);
  }

  /**
   * Sibling subtraction after node `buf`'s split at pos: the smaller child's
   * histograms are filled from its samples, the larger's are the parent's
   * minus those (in the parent's buffer). Leaves the children's buffers in
   * childL and childR (-1: the child fills its own, or needs none), not in a
   * returned pair: an array per split is garbage. Consumes buf.
   */
  private childHists(buf: number, start: number, pos: number, end: number, depth: number, constants: Int32Array, off: number, len: number): void {
    const pool = this.histPool!;
    const nL = pos - start;
    const nR = end - pos;
    const big = Math.max(nL, nR);
    const small = Math.min(nL, nR);
    if (depth + 1 >= this.p.maxDepth || big < this.p.minSamplesSplit || !this.histNode(big)) {
      pool.release(buf);
      this.childL = this.childR = -1;
      return;
    }
    const sBuf = pool.acquire();
    if (sBuf < 0) {
      pool.release(buf);
      this.childL = this.childR = -1;
      return;
    }
    const leftSmall = nL <= nR;
    const nf = this.unknownFeatures(constants, off, len);
    if (leftSmall) this.fillStored(sBuf, start, pos, nf);
    else this.fillStored(sBuf, pos, end, nf);
    subtractNodeHist(pool.buffer(buf), pool.buffer(sBuf), this.K, this.feats, nf);
    let keep = sBuf;
    if (!this.histNode(small) || small < this.p.minSamplesSplit) {
      pool.release(sBuf);
      keep = -1;
    }
    this.childL = leftSmall ? keep : buf;
    this.childR = leftSmall ? buf : keep;
  }

  /**
   * Grows task t of the current slot: the subtree under the task's root
   * node, depth-first (scikit-learn's DepthFirstTreeBuilder), into
   * this.nodes (local ids, the task's root 0). Where a split leaves at least
   * taskMin samples on both sides, the child whose histograms were filled
   * from its samples (the smaller; with sibling subtraction the larger one's
   * are derived from the parent's, which only this thread holds) becomes a
   * task of its own on the board, for any worker (or this one, later); this
   * node's pointer to it is -2 - task. Which nodes become tasks depends only
   * on the tree, never on the threads, and a task's root always fills its
   * own histograms from a fresh buffer pool: so the tree is the same
   * whoever grows which task.
   */
  growTask(t: number): void {
    const board = this.board;
    const s = this.slot;
    const w = board.w;
    const r = board.task(s, t);
    const tStart = w[r + T_START]!;
    const tEnd = w[r + T_END]!;
    const tDepth = w[r + T_DEPTH]!;
    const nc = w[r + T_NCONST]!;
    this.ensurePool(nc + this.d);
    const ccap = board.a.ccap;
    this.pool.set(board.a.consts.subarray((s * board.a.tcap + t) * ccap, (s * board.a.tcap + t) * ccap + nc), 0);
    this.nodes.reset();
    this.maxDepthSeen = tDepth;
    this.histPool?.reset();
    if (this.p.maxLeafNodes > 0) {
      growBestFirst(this, tStart, tEnd, w[r + T_KLO]!, w[r + T_KHI]!);
      return;
    }
    const p = this.p;
    const nodes = this.nodes;
    const pool = this.subtract ? this.histPool : null;
    const taskMin = board.a.taskMin;
    const key = this.keyBuf;
    // Pending nodes on this.stk (pushNode): a closure made per call here was
    // a new call target every task, and each one deoptimized growTask
    // ("wrong call target"), a large function to compile again.
    let top = 0;
    top = this.pushNode(top, tStart, tEnd, tDepth, -1, 0, 0, nc, -1, w[r + T_KLO]!, w[r + T_KHI]!);
    while (top > 0) {
      board.checkStop();
      top -= STACK_W;
      const stack = this.stk;
      const start = stack[top]!;
      const end = stack[top + 1]!;
      const depth = stack[top + 2]!;
      const parent = stack[top + 3]!;
      const isLeft = stack[top + 4]! === 1;
      const cOff = stack[top + 5]!;
      const cLen = stack[top + 6]!;
      let buf = stack[top + 7]!;
      const kLo = stack[top + 8]!;
      const kHi = stack[top + 9]!;
      // Everything above this node's constants belonged to the finished left sibling's subtree.
      const poolTop = cOff + cLen;
      const id = this.addNode(parent, isLeft, start, end, depth);
      const impurity = nodes.impurity[id]!;
      const weight = nodes.weight[id]!;
      const count = end - start;
      if (depth >= p.maxDepth || count < p.minSamplesSplit || count < 2 * p.minSamplesLeaf || impurity <= EPSILON) {
        pool?.release(buf);
        continue;
      }
      this.ensurePool(poolTop + this.d);
      this.selectSource(start, end);
      if (pool !== null && this.histNode(count)) {
        if (buf < 0 && (buf = pool.acquire()) >= 0) this.fillStored(buf, start, end, this.unknownFeatures(this.pool, cOff, cLen));
      } else {
        pool?.release(buf);
        buf = -1;
      }
      this.nodeHist = buf;
      this.rng.seek(kLo, kHi);
      const nConst = findSplit(this, start, end, this.pool, cOff, cLen, this.pool, poolTop);
      this.nodeHist = -1;
      const f = this.bestFeature;
      const pos = f < 0 ? -1 : this.partition(start, end, f, this.bestLo);
      // A split always has samples on both sides (it lies between two non-empty
      // bins); a leaf otherwise, so no histogram error could ever re-split a node forever.
      if (pos <= start || pos >= end || (p.minImpurityDecrease > 0 && this.improvement(start, pos, end, impurity, weight) + EPSILON < p.minImpurityDecrease)) {
        pool?.release(buf);
        continue;
      }
      nodes.feature[id] = f;
      nodes.threshold[id] = this.threshold(f, this.bestLo, this.bestHi);
      let lBuf = -1;
      let rBuf = -1;
      if (buf >= 0) {
        this.childHists(buf, start, pos, end, depth, this.pool, poolTop, nConst);
        lBuf = this.childL;
        rBuf = this.childR;
      }
      this.rng.childKey(kLo, kHi, 1, key);
      const lLo = key[0]!;
      const lHi = key[1]!;
      this.rng.childKey(kLo, kHi, 0, key);
      const rLo = key[0]!;
      const rHi = key[1]!;
      const nL = pos - start;
      const nR = end - pos;
      if (nL >= taskMin && nR >= taskMin) {
        if (nL <= nR) {
          pool?.release(lBuf);
          lBuf = -1;
          nodes.left[id] = -2 - board.publish(s, start, pos, depth + 1, lLo, lHi, this.pool, poolTop, nConst);
        } else {
          pool?.release(rBuf);
          rBuf = -1;
          nodes.right[id] = -2 - board.publish(s, pos, end, depth + 1, rLo, rHi, this.pool, poolTop, nConst);
        }
        if (nodes.left[id]! < -1) top = this.pushNode(top, pos, end, depth + 1, id, 0, poolTop, nConst, rBuf, rLo, rHi);
        else top = this.pushNode(top, start, pos, depth + 1, id, 1, poolTop, nConst, lBuf, lLo, lHi);
        continue;
      }
      top = this.pushNode(top, pos, end, depth + 1, id, 0, poolTop, nConst, rBuf, rLo, rHi);
      top = this.pushNode(top, start, pos, depth + 1, id, 1, poolTop, nConst, lBuf, lLo, lHi);
    }
  }

}

/**
 * Grower.prepare's loop: writes the in-bag samples (count > 0, weight not 0)
 * to sIdx, sW and sY / sYf and returns their number; flags[0] = 0 when a
 * weight is not an integer. A function of its own, nothing after its loop
 * but a return: prepare's stores after its loop deoptimized the loop's
 * on-entry (OSR) code at the end of every later tree (up to 11 deopts in a
 * 20-tree make_friedman1 fit on 2 workers), and so did arithmetic in the
 * return (3).
 */
function inBag(
  counts: Int32Array, sw: Float64Array | null, y: Int32Array | Float64Array, cw: Float64Array | null, C: number,
  sIdx: Int32Array, sW: Float64Array, sY: Int32Array, sYf: Float64Array, n: number, flags: Int32Array,
): number {
  let m = 0;
  for (let i = 0; i < n; i++) {
    const k = counts[i]!;
    if (k === 0) continue;
    let w = k;
    if (sw !== null) w *= sw[i]!;
    if (C > 0) {
      const c = y[i]!;
      if (cw !== null) w *= cw[c]!;
      if (w === 0) continue;
      sY[m] = c;
    } else {
      if (w === 0) continue;
      sYf[m] = y[i]!;
    }
    sIdx[m] = i;
    sW[m] = w;
    if (w !== Math.floor(w)) flags[0] = 0;
    m++;
  }
  return m;
}

/** Weight, sum of w * y and of w * y^2 over positions [start, end), into out[0 .. 2]. */
function regSums(sW: Float64Array, yf: Float64Array, start: number, end: number, out: Float64Array): void {
  let w = 0;
  let s = 0;
  let s2 = 0;
  for (let i = start; i < end; i++) {
    const wi = sW[i]!;
    const v = yf[i]!;
    w += wi;
    s += wi * v;
    s2 += wi * v * v;
  }
  out[0] = w;
  out[1] = s;
  out[2] = s2;
}

/** Class totals of positions [start, end) into T (zeroed first); returns their weight. */
function classSums(sW: Float64Array, sY: Int32Array, T: Float64Array, start: number, end: number): number {
  T.fill(0);
  let w = 0;
  for (let i = start; i < end; i++) {
    const wi = sW[i]!;
    T[sY[i]!]! += wi;
    w += wi;
  }
  return w;
}

const primeOut = new Float64Array(3);
let primed = false;

/**
 * Runs regSums' stores after its loop on empty ranges, before any long call:
 * V8 may compile the loop of a first long call on entry (OSR) and reuse that
 * code in later calls, and code after the loop that had never run (no type
 * feedback) deoptimized it on every later call: 2,450-2,620 deopts of stats
 * in some 20-tree make_friedman1 fits. Several calls, because a function's
 * first calls run before V8 gives it a feedback vector.
 */
function primeSums(): void {
  if (primed) return;
  primed = true;
  for (let i = 0; i < 32; i++) regSums(primeOut, primeOut, 0, 0, primeOut);
}

/**
 * Stable partition of positions [start, end) by code of one feature (codes
 * at base + id * im): those <= lo stay in front, in order; the others go to
 * the t* scratch, in order. Returns the first right position. (Element
 * loops, not set(subarray): a view per call is garbage, and a fit partitions
 * once per split.)
 */
function splitCls(
  codes: Uint8Array, base: number, im: number, lo: number,
  sIdx: Int32Array, sW: Float64Array, sY: Int32Array, tIdx: Int32Array, tW: Float64Array, tY: Int32Array, start: number, end: number,
): number {
  let l = start;
  let r = 0;
  for (let i = start; i < end; i++) {
    const id = sIdx[i]!;
    const w = sW[i]!;
    const c = sY[i]!;
    if (codes[base + id * im]! <= lo) {
      sIdx[l] = id;
      sW[l] = w;
      sY[l] = c;
      l++;
    } else {
      tIdx[r] = id;
      tW[r] = w;
      tY[r] = c;
      r++;
    }
  }
  return l;
}

/** splitCls for regression targets (float64). */
function splitReg(
  codes: Uint8Array, base: number, im: number, lo: number,
  sIdx: Int32Array, sW: Float64Array, sYf: Float64Array, tIdx: Int32Array, tW: Float64Array, tYf: Float64Array, start: number, end: number,
): number {
  let l = start;
  let r = 0;
  for (let i = start; i < end; i++) {
    const id = sIdx[i]!;
    const w = sW[i]!;
    const v = sYf[i]!;
    if (codes[base + id * im]! <= lo) {
      sIdx[l] = id;
      sW[l] = w;
      sYf[l] = v;
      l++;
    } else {
      tIdx[r] = id;
      tW[r] = w;
      tYf[r] = v;
      r++;
    }
  }
  return l;
}

/** dst[at .. at + n) = src[0 .. n). */
function copyI32(dst: Int32Array, at: number, src: Int32Array, n: number): void {
  for (let j = 0; j < n; j++) dst[at + j] = src[j]!;
}

/** dst[at .. at + n) = src[0 .. n). */
function copyF64(dst: Float64Array, at: number, src: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) dst[at + j] = src[j]!;
}

let cached: Grower | null = null;

function growerFor(data: ForestData): Grower {
  const c = cached;
  if (c !== null && c.n === data.nSamples && c.d === data.nFeatures && c.C === data.nClasses) return c;
  cached = new Grower(data.nSamples, data.nFeatures, data.nClasses);
  return cached;
}

/** What growForest needs besides the board. */
export interface ForestRun {
  data: ForestData;
  params: ResolvedParams;
  seed: number;
  /** Tree k of the board is tree firstTree + k of the forest (its randomness). */
  firstTree: number;
  /** Allocate the trees' arrays in SharedArrayBuffers. */
  shared: boolean;
  /** Build each tree's walk records (FlatTree.walk) as it is assembled. */
  walk?: boolean;
  /** Called with (k, tree) for each tree this thread assembles. */
  onTree(k: number, tree: FlatTree): void;
  /** May this thread park when it finds no work (false: the only thread; finding none then is a bug). */
  canWait: boolean;
}

/**
 * One thread's part of growing the board's trees (parallel.md): takes back
 * its own latest tree's open tasks (newest first), else starts the next tree
 * in a free slot, else helps with the largest open task of another tree,
 * else parks until the board changes;
 * returns when every tree is assembled. The thread that finishes a tree's
 * last task assembles it. Throws StoppedError when the board was stopped.
 */
export function growForest(board: Board, run: ForestRun): void {
  const { data, params: p, seed, firstTree } = run;
  const g = growerFor(data);
  g.data = data;
  g.p = p;
  primeSums();
  primeFindSplit();
  g.slot = -1;
  g.tree = -1;
  let prefer = -1;
  for (;;) {
    board.checkStop();
    const seen = board.seq();
    // Own tree's tasks first (its samples are in this cache), then a new tree, then the others' tasks.
    const own = prefer >= 0 ? board.claimOwn(prefer) : -1;
    if (own >= 0) {
      runTask(g, board, run, prefer, own);
      continue;
    }
    const s = board.takeTree();
    if (s >= 0) {
      const treeIndex = firstTree + board.treeOf(s);
      g.enter(board, s, seed, treeIndex);
      const m = g.prepare(seed, treeIndex);
      if (m === 0) throw new SabreTypeError("every sample has weight 0: nothing to fit");
      // The root's weight as stats() sums it (positions in order), for improvement().
      board.openTree(s, m, g.integral ? 1 : 0, sumTo(g.sW, m), ROOT_KEY_LO, ROOT_KEY_HI);
      prefer = s;
      runTask(g, board, run, s, 0);
      continue;
    }
    const c = board.claim(prefer);
    if (c >= 0) {
      runTask(g, board, run, (c / 1048576) | 0, c & 0xfffff);
      continue;
    }
    if (board.allDone()) return;
    if (!run.canWait) throw new Error("forest board: no work found on a single thread (a bug)");
    board.idle(seen);
  }
}

/** a[0] + ... + a[m - 1], in order (a loop of its own: inside growForest's loop it was compiled on entry, OSR, on the first tree). */
function sumTo(a: Float64Array, m: number): number {
  let t = 0;
  for (let i = 0; i < m; i++) t += a[i]!;
  return t;
}

function runTask(g: Grower, board: Board, run: ForestRun, s: number, t: number): void {
  board.countTask();
  const k = board.treeOf(s);
  g.enter(board, s, run.seed, run.firstTree + k);
  g.treeSettings((board.flags(s) & 1) === 1, board.a.rootW[s]!);
  g.growTask(t);
  const base = writeFragment(board, s, g.nodes);
  if (!board.finishTask(s, t, base, g.nodes.count, g.maxDepthSeen)) return;
  const tree = assemble(board, s, g.d, g.C > 0, run.shared, run.walk === true);
  board.freeSlot(s);
  run.onTree(k, tree);
}

/**
 * Grows tree number `treeIndex` of a forest seeded with `seed`: bootstrap
 * (if enabled) from rng(seed, treeIndex, 0), feature draws from per-node
 * streams of rng(seed, treeIndex, 1) (node-rng.ts). Pure: the result depends
 * only on its arguments, so trees can be grown by any worker in any order,
 * and a fit on any number of threads grows these same trees.
 *
 * ```ts
 * const bins = fitBins(X, 256);
 * const codes = applyBins(X, bins, new Uint8Array(n * d));
 * const data = { nSamples: n, nFeatures: d, codes, bins, y: classIds, nClasses: 10 };
 * const tree = growTree(data, { maxFeatures: "sqrt" }, 0, 42);
 * accumulateProba(tree, X, 0, n, proba);
 * ```
 */
export function growTree(data: ForestData, params: TreeParams, treeIndex: number, seed: number, options: GrowOptions = {}): FlatTree {
  checkForestData(data);
  const p = resolveParams(params, data);
  if (!Number.isInteger(treeIndex) || treeIndex < 0 || treeIndex > Number.MAX_SAFE_INTEGER) {
    throw new SabreTypeError(`treeIndex must be an integer >= 0, got ${describe(treeIndex)}`);
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > Number.MAX_SAFE_INTEGER) {
    throw new SabreTypeError(`seed must be an integer in [0, 2^53 - 1], got ${describe(seed)}`);
  }
  return growResolved(data, p, treeIndex, seed, options);
}

/** This thread's private one-slot board, reused across growTree calls of the same shape. */
let localBoard: Board | null = null;

/** growTree with already validated data and resolved params: the same tasks as a parallel fit, all on this thread. */
export function growResolved(data: ForestData, p: ResolvedParams, treeIndex: number, seed: number, options: GrowOptions = {}): FlatTree {
  const taskMin = forestTuning.taskMin;
  let b = localBoard;
  // (A failure injected to end a worker thread never applies here: this may be the main thread.)
  const failAt = Math.max(0, forestTuning.failAtTask);
  const C = data.nClasses > 0 ? data.nClasses : 1;
  const ccap = Math.min(data.nFeatures, forestTuning.taskConsts);
  if (b === null || b.a.n !== data.nSamples || b.a.nOutputs !== C || b.a.taskMin !== taskMin || b.a.sY.length !== (data.nClasses > 0 ? data.nSamples : 0) || b.a.ccap !== ccap) {
    b = localBoard = new Board(makeBoard(data.nSamples, data.nFeatures, data.nClasses, 1, 1, taskMin, plainAlloc, failAt, forestTuning.taskConsts));
  } else b.reset(1, failAt);
  let tree: FlatTree | null = null;
  growForest(b, { data, params: p, seed, firstTree: treeIndex, shared: options.shared === true, canWait: false, onTree: (_k, t) => (tree = t) });
  return tree!;
}
