import { sharedTypedArray } from "../../src/memory/shared.js";
import { NODE_I, T_BASE, T_MAXDEPTH, type Board } from "./board.js";
import type { Nodes } from "./nodes.js";
import type { FlatTree } from "./tree.js";

/**
 * A tree grown as several tasks is a set of fragments, one per task, in its
 * slot's node area. Inside a fragment nodes have local ids (the task's root
 * is 0); a child pointer <= -2 names another task (-2 - t) whose fragment
 * root is that child. The finished tree is renumbered in preorder, left
 * child first, which is what depth-first growth on one thread numbers: so
 * the tree is the same whoever grew which part.
 */

/** Copies a task's nodes into slot s's node area; returns the fragment's first node there. */
export function writeFragment(board: Board, s: number, nodes: Nodes): number {
  const k = nodes.count;
  const C = nodes.nOutputs;
  const FW = 3 + C;
  const at = board.reserveNodes(s, k);
  const base = at;
  const I = board.a.nodesI[s]!;
  const F = board.a.nodesF[s]!;
  for (let i = 0; i < k; i++) {
    const o = (base + i) * NODE_I;
    I[o] = nodes.feature[i]!;
    I[o + 1] = nodes.left[i]!;
    I[o + 2] = nodes.right[i]!;
    I[o + 3] = nodes.nSamples[i]!;
    const q = (base + i) * FW;
    F[q] = nodes.threshold[i]!;
    F[q + 1] = nodes.weight[i]!;
    F[q + 2] = nodes.impurity[i]!;
    for (let c = 0; c < C; c++) F[q + 3 + c] = nodes.value[i * C + c]!;
  }
  return at;
}

// Plain functions, not closures made per call: a new closure is a new call
// target, which deoptimized assemble once per tree.
function i32(shared: boolean, len: number): Int32Array {
  return shared ? sharedTypedArray("int32", len) : new Int32Array(len);
}

function f64(shared: boolean, len: number): Float64Array {
  return shared ? sharedTypedArray("float64", len) : new Float64Array(len);
}

let fragStack = new Int32Array(256);

/** Pushes node `ptr` of the fragment at fragBase (ptr <= -2: the root of task -2 - ptr) onto fragStack at top; returns the new top. */
function pushFragNode(board: Board, s: number, top: number, fragBase: number, ptr: number, parent: number, isLeft: number): number {
  if (top + 4 > fragStack.length) {
    const b = new Int32Array(fragStack.length * 2);
    b.set(fragStack);
    fragStack = b;
  }
  if (ptr < 0) {
    fragBase = board.w[board.task(s, -2 - ptr) + T_BASE]!;
    ptr = 0;
  }
  const st = fragStack;
  st[top] = fragBase + ptr;
  st[top + 1] = fragBase;
  st[top + 2] = parent;
  st[top + 3] = isLeft;
  return top + 4;
}

/**
 * The tree of slot s, renumbered in preorder from its fragments (every task
 * done). With `walk`, also its 16-byte walk records (predict.ts, packTree):
 * they are in preorder too, so they come out of the same pass instead of
 * packTree's two (which cost 5-10% of a small-node regression tree).
 */
export function assemble(board: Board, s: number, nFeatures: number, classification: boolean, shared: boolean, walk = false): FlatTree {
  const C = board.a.nOutputs;
  const total = board.nodeCount(s);
  const nt = board.taskCount(s);
  const w = board.w;
  let maxDepth = 0;
  for (let t = 0; t < nt; t++) maxDepth = Math.max(maxDepth, w[board.task(s, t) + T_MAXDEPTH]!);
  const feature = i32(shared, total);
  const left = i32(shared, total);
  const right = i32(shared, total);
  const nNodeSamples = i32(shared, total);
  const threshold = f64(shared, total);
  const weight = f64(shared, total);
  const impurity = f64(shared, total);
  const value = f64(shared, total * C);
  const WF = walk ? f64(shared, total * 2) : null;
  const WI = WF ? new Int32Array(WF.buffer, WF.byteOffset, total * 4) : null;
  renumber(board, s, C, 3 + C, board.a.nodesI[s]!, board.a.nodesF[s]!, pushFragNode(board, s, 0, 0, -2, -1, 0), feature, left, right, nNodeSamples, threshold, weight, impurity, value, WF, WI);
  const tree: FlatTree = { nFeatures, nOutputs: C, classification, nodeCount: total, maxDepth, feature, threshold, left, right, value, nNodeSamples, weightedNNodeSamples: weight, impurity };
  if (WF) tree.walk = WF;
  return tree;
}

/**
 * assemble's preorder walk over the fragments, filling the tree's arrays.
 * A function of its own, the loop its last statement: V8 compiles the loop
 * of a long first call on entry (OSR) and reuses that code in later calls,
 * and assemble's code after the loop (the tree object), which had not run
 * when the loop was compiled, deoptimized it at the end of every later
 * call (up to 27 deopts of assemble in a 20-tree make_friedman1 fit on 2
 * workers). What it needs comes in as arguments: its first call's code
 * before the loop runs before V8 gives it type feedback, and a later
 * compile without that feedback deoptimized on entry.
 */
function renumber(
  board: Board, s: number, C: number, FW: number, I: Int32Array, F: Float64Array, top: number,
  feature: Int32Array, left: Int32Array, right: Int32Array, nNodeSamples: Int32Array,
  threshold: Float64Array, weight: Float64Array, impurity: Float64Array, value: Float64Array,
  WF: Float64Array | null, WI: Int32Array | null,
): void {
  // Stack of (absolute node in the area, its fragment's first node, parent's
  // new id, 1 if left child), pushed by pushFragNode: a closure made per call
  // here was a new call target every tree, and each one deoptimized assemble.
  let next = 0;
  while (top > 0) {
    top -= 4;
    const stack = fragStack;
    const node = stack[top]!;
    const fragBase = stack[top + 1]!;
    const parent = stack[top + 2]!;
    const isLeft = stack[top + 3]!;
    const id = next++;
    if (parent >= 0) {
      if (isLeft) left[parent] = id;
      else {
        right[parent] = id;
        if (WI) WI[4 * parent + 3] = id;
      }
    }
    const o = node * NODE_I;
    const f = I[o]!;
    feature[id] = f;
    left[id] = -1;
    right[id] = -1;
    nNodeSamples[id] = I[o + 3]!;
    const q = node * FW;
    threshold[id] = F[q]!;
    weight[id] = F[q + 1]!;
    impurity[id] = F[q + 2]!;
    for (let c = 0; c < C; c++) value[id * C + c] = F[q + 3 + c]!;
    if (WF) {
      // A split's threshold and feature; its right child's record is patched in when that child is numbered.
      // A leaf of a one-output tree carries its value there (predict.ts, packTree).
      WF[2 * id] = f >= 0 ? F[q]! : C === 1 ? F[q + 3]! : 0;
      WI![4 * id + 2] = f;
      WI![4 * id + 3] = id;
    }
    if (f >= 0) {
      top = pushFragNode(board, s, top, fragBase, I[o + 2]!, id, 0);
      top = pushFragNode(board, s, top, fragBase, I[o + 1]!, id, 1);
    }
  }
}
