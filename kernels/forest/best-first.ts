import { findSplit } from "./find-split.js";
import type { Grower } from "./grow.js";
import { EPSILON } from "./split-state.js";

/**
 * Best-first growth (maxLeafNodes), scikit-learn's BestFirstTreeBuilder:
 * the frontier is a max-heap on impurity improvement, so the whole tree is
 * one task (parallel.md: such trees are parallel across trees only).
 */

interface FrontierRecord {
  node: number;
  start: number;
  end: number;
  pos: number;
  depth: number;
  isLeaf: boolean;
  improvement: number;
  constants: Int32Array;
  kLo: number;
  kHi: number;
}

/** Adds a node and, unless it must be a leaf, finds and applies its split (best-first growth). */
function addSplitNode(g: Grower, parent: number, isLeft: boolean, start: number, end: number, depth: number, known: Int32Array, kLo: number, kHi: number): FrontierRecord {
  const p = g.p;
  const nodes = g.nodes;
  const id = g.addNode(parent, isLeft, start, end, depth);
  const impurity = nodes.impurity[id]!;
  const weight = nodes.weight[id]!;
  const rec: FrontierRecord = { node: id, start, end, pos: end, depth, isLeaf: true, improvement: 0, constants: known, kLo, kHi };
  const count = end - start;
  if (depth >= p.maxDepth || count < p.minSamplesSplit || count < 2 * p.minSamplesLeaf || impurity <= EPSILON) return rec;
  g.ensurePool(g.d);
  g.selectSource(start, end);
  g.rng.seek(kLo, kHi);
  const nConst = findSplit(g, start, end, known, 0, known.length, g.pool, 0);
  const f = g.bestFeature;
  if (f < 0) return rec;
  const pos = g.partition(start, end, f, g.bestLo);
  const improvement = g.improvement(start, pos, end, impurity, weight);
  if (improvement + EPSILON < p.minImpurityDecrease) return rec;
  nodes.feature[id] = f;
  nodes.threshold[id] = g.threshold(f, g.bestLo, g.bestHi);
  rec.isLeaf = false;
  rec.pos = pos;
  rec.improvement = improvement;
  rec.constants = g.pool.slice(0, nConst);
  return rec;
}

/** Best-first growth up to maxLeafNodes leaves (scikit-learn's BestFirstTreeBuilder): one task, the whole tree. */
export function growBestFirst(g: Grower, start: number, end: number, kLo: number, kHi: number): void {
  const nodes = g.nodes;
  const board = g.board;
  let splitsLeft = g.p.maxLeafNodes - 1;
  // A binary max-heap on improvement (ties: lower node id first, for determinism).
  const heap: FrontierRecord[] = [];
  const above = (a: FrontierRecord, b: FrontierRecord): boolean =>
    a.improvement > b.improvement || (a.improvement === b.improvement && a.node < b.node);
  const push = (r: FrontierRecord): void => {
    heap.push(r);
    let i = heap.length - 1;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (!above(heap[i]!, heap[up]!)) break;
      [heap[i], heap[up]] = [heap[up]!, heap[i]!];
      i = up;
    }
  };
  const pop = (): FrontierRecord => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < heap.length && above(heap[l]!, heap[best]!)) best = l;
        if (r < heap.length && above(heap[r]!, heap[best]!)) best = r;
        if (best === i) break;
        [heap[i], heap[best]] = [heap[best]!, heap[i]!];
        i = best;
      }
    }
    return top;
  };
  const key = g.keyBuf;
  push(addSplitNode(g, -1, false, start, end, 0, new Int32Array(0), kLo, kHi));
  while (heap.length > 0) {
    board.checkStop();
    const rec = pop();
    if (rec.isLeaf || splitsLeft <= 0) {
      nodes.feature[rec.node] = -1;
      nodes.threshold[rec.node] = 0;
      continue;
    }
    splitsLeft--;
    g.rng.childKey(rec.kLo, rec.kHi, 1, key);
    push(addSplitNode(g, rec.node, true, rec.start, rec.pos, rec.depth + 1, rec.constants, key[0]!, key[1]!));
    g.rng.childKey(rec.kLo, rec.kHi, 0, key);
    push(addSplitNode(g, rec.node, false, rec.pos, rec.end, rec.depth + 1, rec.constants, key[0]!, key[1]!));
  }
}
