import { SabreTypeError } from "../../src/errors.js";
import { dtypeOf, isBigIntDType } from "../../src/memory/dtypes.js";
import type { NdArray } from "../../src/memory/ndarray-type.js";
import { describe } from "../../src/validate.js";
import { sharedTypedArray } from "../../src/memory/shared.js";
import { checkMatrix } from "./bins.js";
import type { FlatTree } from "./tree.js";

/**
 * Prediction over a row range of raw X, accumulating into a caller-given
 * output so the engine can split rows (and trees) across workers: row r's
 * outputs live at out[r * nOutputs .. (r + 1) * nOutputs), indexed by the
 * absolute row number. Each tree adds `scale` times its leaf value (pass
 * scale = 1 / nTrees for a soft-vote average, as scikit-learn's
 * predict_proba). Trees are walked with `x <= threshold` on the raw values,
 * so X need not be binned; NaN or Infinity in X is refused.
 */

function checkRange(X: NdArray, start: number, end: number): void {
  const n = X.shape[0]!;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > n || start > end) {
    throw new SabreTypeError(`row range [${describe(start)}, ${describe(end)}) must lie within [0, ${n}]`);
  }
}

/** Refuses NaN/Infinity in rows [start, end) of X (float dtypes only: integers are always finite). */
export function checkFiniteRows(X: NdArray, start: number, end: number): void {
  const dtype = dtypeOf(X.data);
  if (dtype !== "float32" && dtype !== "float64") return;
  const data = X.data as Float64Array;
  const [s0, s1] = X.stride as [number, number];
  const d = X.shape[1]!;
  if (s1 === 1 && s0 === d && finiteSpan(data, X.offset + start * d, X.offset + end * d)) {
    // Row-major rows: the whole block in one loop, so no loop over rows here
    // gets hot enough for V8 to compile this function during a first predict.
    return;
  }
  if (s1 === 1) {
    // Rows of contiguous elements: one tight loop per row (measured 9.0 -> 6.7 ms for 10,000 x 784 float32, before finiteSpan's accumulators).
    for (let r = start; r < end; r++) {
      const p = X.offset + r * s0;
      if (!finiteSpan(data, p, p + d)) refuseRow(X, r);
    }
    return;
  }
  for (let r = start; r < end; r++) {
    let p = X.offset + r * s0;
    for (let f = 0; f < d; f++, p += s1) {
      const v = data[p]!;
      if (v - v !== 0) refuseRow(X, r);
    }
  }
}

/**
 * Whether data[from, to) holds only finite numbers: v * 0 is ±0 for a finite
 * v and NaN for NaN or ±Infinity, and NaN survives the sums, so four
 * branch-free accumulators tell it in one pass (10,000 x 784 float32, one
 * thread: 9.2 -> 4.5 ms against a compare and branch per value).
 */
function finiteSpan(data: Float64Array, from: number, to: number): boolean {
  let a = 0;
  let b = 0;
  let c = 0;
  let e = 0;
  let p = from;
  for (; p + 4 <= to; p += 4) {
    a += data[p]! * 0;
    b += data[p + 1]! * 0;
    c += data[p + 2]! * 0;
    e += data[p + 3]! * 0;
  }
  for (; p < to; p++) a += data[p]! * 0;
  return a + b + c + e === 0;
}

/** Throws for the first non-finite feature of row r. */
function refuseRow(X: NdArray, r: number): never {
  const data = X.data as Float64Array;
  const d = X.shape[1]!;
  for (let f = 0, p = X.offset + r * X.stride[0]!; f < d; f++, p += X.stride[1]!) {
    const v = data[p]!;
    if (v - v !== 0) throw new SabreTypeError(`X[${r}][${f}] is ${v}: features must be finite numbers (NaN and Infinity are not supported)`);
  }
  throw new SabreTypeError(`X[${r}] holds a value that is not a finite number`);
}

function checkTree(tree: FlatTree, d: number, i = 0): void {
  if (typeof tree !== "object" || tree === null || !(tree.left instanceof Int32Array)) {
    throw new SabreTypeError(`tree ${i} is not a FlatTree (from growTree or treeFromJSON), got ${describe(tree)}`);
  }
  if (tree.nFeatures !== d) throw new SabreTypeError(`X has ${d} features but tree ${i} was fitted on ${tree.nFeatures}`);
}

function asList(trees: FlatTree | readonly FlatTree[]): readonly FlatTree[] {
  return Array.isArray(trees) ? (trees as readonly FlatTree[]) : [trees as FlatTree];
}

/**
 * Each tree's nodes packed into 16-byte walk records in depth-first preorder,
 * read through two views of one buffer: record i holds the threshold as
 * float64 at F[2i], the feature as int32 at I[4i + 2] and at I[4i + 3] the
 * record of the right child. The left child is always the next record
 * (preorder), so it needs no field; a leaf has feature -1 and its node id
 * (for its value) at I[4i + 3], and with one output (regression) its value
 * at F[2i], so a walk reads the value from the record it ends on instead of
 * a cache miss into tree.value. A walk touches one record per node, and a
 * 61k-node tree takes 1 MB instead of the 2 MB of 32-byte records with both
 * children (or four separate arrays). Trees grown depth-first are already
 * in preorder; best-first and JSON trees are renumbered here.
 */
interface Packed {
  F: Float64Array;
  I: Int32Array;
  /** The 8-byte records (see compactOf), built on first use; null when the tree's indices do not fit. */
  compact?: Compact | null;
}
const packedTrees = new WeakMap<FlatTree, Packed>();

/**
 * A tree's walk records (see above) in a new Float64Array; over shared memory
 * when `shared`, so the engine builds them once per fitted tree instead of
 * once per predict call in every worker. The tree must be well formed
 * (children after their parent, as growTree and treeFromJSON guarantee).
 */
export function packTree(tree: FlatTree, shared = false): Float64Array {
  const { left, right, feature, threshold, nodeCount, value } = tree;
  const one = tree.nOutputs === 1;
  const F = shared ? sharedTypedArray("float64", nodeCount * 2) : new Float64Array(nodeCount * 2);
  const I = new Int32Array(F.buffer, F.byteOffset, nodeCount * 4);
  // Preorder numbering with an explicit stack: pre[node] = its record.
  const pre = new Int32Array(nodeCount);
  const stack = new Int32Array(nodeCount);
  let top = 0;
  let next = 0;
  stack[top++] = 0;
  while (top > 0) {
    const u = stack[--top]!;
    pre[u] = next++;
    if (left[u]! >= 0) {
      stack[top++] = right[u]!;
      stack[top++] = left[u]!;
    }
  }
  for (let u = 0; u < nodeCount; u++) {
    const i = pre[u]!;
    if (left[u]! < 0) {
      // One output: the leaf's value in the unused threshold slot (leafValuesOf reads it there).
      F[2 * i] = one ? value[u]! : 0;
      I[4 * i + 2] = -1;
      I[4 * i + 3] = u;
    } else {
      F[2 * i] = threshold[u]!;
      I[4 * i + 2] = feature[u]!;
      I[4 * i + 3] = pre[right[u]!]!;
    }
  }
  return F;
}

function packed(tree: FlatTree): Packed {
  let p = packedTrees.get(tree);
  if (p === undefined) {
    const F = tree.walk !== undefined && tree.walk.length === tree.nodeCount * 2 ? tree.walk : packTree(tree);
    p = { F, I: new Int32Array(F.buffer, F.byteOffset, tree.nodeCount * 4) };
    packedTrees.set(tree, p);
  }
  return p;
}

/**
 * 8-byte walk records for X whose values are all float32 values (float32 and
 * the 8- and 16-bit integer dtypes): record i holds at G[2i] the threshold
 * rounded down to float32 and at J[2i + 1] the right child's record shifted
 * left by `bits`, or'ed with the feature (a leaf: -1 - its node id). For a
 * float32 value x, x <= t exactly when x <= the largest float32 not above t,
 * so the walks take the same branches as on the 16-byte records, with half
 * the bytes per node: 10,000 Fashion-MNIST float32 rows x 10 trees of 10k
 * nodes, one thread, ~15% less time (medians 55.9 -> 47.3 ms; 100 trees
 * 592 -> 504 ms), the records of a tree group staying in cache longer.
 */
interface Compact {
  G: Float32Array;
  J: Int32Array;
  bits: number;
}

/** Dtypes whose every value is exactly a float32 (so compact records walk them exactly). */
const FLOAT32_EXACT = new Set(["float32", "uint8", "uint8_clamped", "int8", "uint16", "int16"]);

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** The largest float32 that is <= t (t finite). */
export function float32AtOrBelow(t: number): number {
  const f = Math.fround(t);
  if (f <= t) return f;
  f32Scratch[0] = f;
  // One float32 step towards -Infinity: the magnitude shrinks above 0 and grows below (0 steps to -2^-149).
  if (f > 0) u32Scratch[0]!--;
  else if (f < 0) u32Scratch[0]!++;
  else u32Scratch[0] = 0x80000001;
  return f32Scratch[0]!;
}

/** The compact records of a packed tree (null when right-child records do not fit beside the feature bits). */
function compactOf(p: Packed, nFeatures: number): Compact | null {
  if (p.compact !== undefined) return p.compact;
  const n = p.I.length >> 2;
  const bits = Math.max(1, 32 - Math.clz32(nFeatures - 1));
  if (n >= 2 ** (31 - bits)) return (p.compact = null);
  const J = new Int32Array(2 * n);
  const G = new Float32Array(J.buffer);
  const { F, I } = p;
  for (let i = 0; i < n; i++) {
    const f = I[4 * i + 2]!;
    if (f < 0) {
      J[2 * i + 1] = -1 - I[4 * i + 3]!;
    } else {
      G[2 * i] = float32AtOrBelow(F[2 * i]!);
      J[2 * i + 1] = (I[4 * i + 3]! << bits) | f;
    }
  }
  return (p.compact = { G, J, bits });
}

/** leavesOf over compact records (see Compact). */
function leavesOfCompact(G: Float32Array, J: Int32Array, bits: number, data: Float64Array, base: number, s0: number, s1: number, start: number, end: number, leaves: Int32Array): void {
  const mask = (1 << bits) - 1;
  let r = start;
  for (; r + 4 <= end; r += 4) {
    const b0 = base + r * s0;
    const b1 = b0 + s0;
    const b2 = b1 + s0;
    const b3 = b2 + s0;
    let n0 = 0;
    let n1 = 0;
    let n2 = 0;
    let n3 = 0;
    for (;;) {
      const w0 = J[2 * n0 + 1]!;
      const w1 = J[2 * n1 + 1]!;
      const w2 = J[2 * n2 + 1]!;
      const w3 = J[2 * n3 + 1]!;
      if ((w0 & w1 & w2 & w3) < 0) break;
      if (w0 >= 0) n0 = data[b0 + (w0 & mask) * s1]! <= G[2 * n0]! ? n0 + 1 : w0 >>> bits;
      if (w1 >= 0) n1 = data[b1 + (w1 & mask) * s1]! <= G[2 * n1]! ? n1 + 1 : w1 >>> bits;
      if (w2 >= 0) n2 = data[b2 + (w2 & mask) * s1]! <= G[2 * n2]! ? n2 + 1 : w2 >>> bits;
      if (w3 >= 0) n3 = data[b3 + (w3 & mask) * s1]! <= G[2 * n3]! ? n3 + 1 : w3 >>> bits;
    }
    const o = r - start;
    leaves[o] = -1 - J[2 * n0 + 1]!;
    leaves[o + 1] = -1 - J[2 * n1 + 1]!;
    leaves[o + 2] = -1 - J[2 * n2 + 1]!;
    leaves[o + 3] = -1 - J[2 * n3 + 1]!;
  }
  for (; r < end; r++) {
    const b = base + r * s0;
    let n = 0;
    let w = J[1]!;
    while (w >= 0) {
      n = data[b + (w & mask) * s1]! <= G[2 * n]! ? n + 1 : w >>> bits;
      w = J[2 * n + 1]!;
    }
    leaves[r - start] = -1 - w;
  }
}

/** The leaf (node id) a row reaches (number-valued X; bigint dtypes take leafOfBig). */
function leafOf(F: Float64Array, I: Int32Array, data: Float64Array, rowBase: number, s1: number): number {
  let i = 0;
  for (;;) {
    const f = I[4 * i + 2]!;
    if (f < 0) return I[4 * i + 3]!;
    i = data[rowBase + f * s1]! <= F[2 * i]! ? i + 1 : I[4 * i + 3]!;
  }
}

/**
 * The leaves of rows [start, end) into leaves[r - start], four rows walked
 * in lockstep: a walk is a chain of dependent loads, mostly cache misses in
 * a deep tree, and four independent chains let the CPU overlap their misses
 * (measured ~10% faster than one row at a time on a 61k-node tree; eight
 * lanes were slower).
 */
function leavesOf(F: Float64Array, I: Int32Array, data: Float64Array, base: number, s0: number, s1: number, start: number, end: number, leaves: Int32Array): void {
  let r = start;
  for (; r + 4 <= end; r += 4) {
    const b0 = base + r * s0;
    const b1 = b0 + s0;
    const b2 = b1 + s0;
    const b3 = b2 + s0;
    let n0 = 0;
    let n1 = 0;
    let n2 = 0;
    let n3 = 0;
    for (;;) {
      const f0 = I[4 * n0 + 2]!;
      const f1 = I[4 * n1 + 2]!;
      const f2 = I[4 * n2 + 2]!;
      const f3 = I[4 * n3 + 2]!;
      // Leaves have feature -1: all four done when every sign bit is set.
      if ((f0 & f1 & f2 & f3) < 0) break;
      if (f0 >= 0) n0 = data[b0 + f0 * s1]! <= F[2 * n0]! ? n0 + 1 : I[4 * n0 + 3]!;
      if (f1 >= 0) n1 = data[b1 + f1 * s1]! <= F[2 * n1]! ? n1 + 1 : I[4 * n1 + 3]!;
      if (f2 >= 0) n2 = data[b2 + f2 * s1]! <= F[2 * n2]! ? n2 + 1 : I[4 * n2 + 3]!;
      if (f3 >= 0) n3 = data[b3 + f3 * s1]! <= F[2 * n3]! ? n3 + 1 : I[4 * n3 + 3]!;
    }
    const o = r - start;
    leaves[o] = I[4 * n0 + 3]!;
    leaves[o + 1] = I[4 * n1 + 3]!;
    leaves[o + 2] = I[4 * n2 + 3]!;
    leaves[o + 3] = I[4 * n3 + 3]!;
  }
  for (; r < end; r++) leaves[r - start] = leafOf(F, I, data, base + r * s0, s1);
}

/** leavesOf for one-output trees: each row's leaf value (F of its record) into vals[at + r - start]. */
function leafValuesOf(F: Float64Array, I: Int32Array, data: Float64Array, base: number, s0: number, s1: number, start: number, end: number, vals: Float64Array, at: number): void {
  let r = start;
  for (; r + 4 <= end; r += 4) {
    const b0 = base + r * s0;
    const b1 = b0 + s0;
    const b2 = b1 + s0;
    const b3 = b2 + s0;
    let n0 = 0;
    let n1 = 0;
    let n2 = 0;
    let n3 = 0;
    for (;;) {
      const f0 = I[4 * n0 + 2]!;
      const f1 = I[4 * n1 + 2]!;
      const f2 = I[4 * n2 + 2]!;
      const f3 = I[4 * n3 + 2]!;
      if ((f0 & f1 & f2 & f3) < 0) break;
      if (f0 >= 0) n0 = data[b0 + f0 * s1]! <= F[2 * n0]! ? n0 + 1 : I[4 * n0 + 3]!;
      if (f1 >= 0) n1 = data[b1 + f1 * s1]! <= F[2 * n1]! ? n1 + 1 : I[4 * n1 + 3]!;
      if (f2 >= 0) n2 = data[b2 + f2 * s1]! <= F[2 * n2]! ? n2 + 1 : I[4 * n2 + 3]!;
      if (f3 >= 0) n3 = data[b3 + f3 * s1]! <= F[2 * n3]! ? n3 + 1 : I[4 * n3 + 3]!;
    }
    const o = at + r - start;
    vals[o] = F[2 * n0]!;
    vals[o + 1] = F[2 * n1]!;
    vals[o + 2] = F[2 * n2]!;
    vals[o + 3] = F[2 * n3]!;
  }
  for (; r < end; r++) {
    let n = 0;
    const b = base + r * s0;
    for (;;) {
      const f = I[4 * n + 2]!;
      if (f < 0) break;
      n = data[b + f * s1]! <= F[2 * n]! ? n + 1 : I[4 * n + 3]!;
    }
    vals[at + r - start] = F[2 * n]!;
  }
}

/** How rowLeaves walks X: bigint64/biguint64 values, values that are all float32 (compact records apply), or others. */
type Walk = "big" | "f32" | "f64";

function walkKind(X: NdArray): Walk {
  const dtype = dtypeOf(X.data)!;
  return isBigIntDType(dtype) ? "big" : FLOAT32_EXACT.has(dtype) ? "f32" : "f64";
}

/** The leaves of rows [r0, r1) in one tree into out[r - r0], whatever X's dtype. */
function rowLeaves(tree: FlatTree, X: NdArray, kind: Walk, r0: number, r1: number, out: Int32Array): void {
  const [s0, s1] = X.stride as [number, number];
  if (kind === "big") {
    for (let r = r0; r < r1; r++) out[r - r0] = leafOfBig(tree, X.data as BigInt64Array, X.offset + r * s0, s1);
    return;
  }
  const p = packed(tree);
  const c = kind === "f32" ? compactOf(p, tree.nFeatures) : null;
  if (c !== null) leavesOfCompact(c.G, c.J, c.bits, X.data as Float64Array, X.offset, s0, s1, r0, r1, out);
  else leavesOf(p.F, p.I, X.data as Float64Array, X.offset, s0, s1, r0, r1, out);
}

/** Rows walked per leavesOf call: the leaf buffer stays in L1. */
const LEAF_BLOCK = 1024;
const leafScratch = new Int32Array(LEAF_BLOCK);
const valScratch = new Float64Array(LEAF_BLOCK);

/**
 * out[r * C + k] += scale * value[leaves[r - r0] * C + k] for rows [r0, r1).
 * A function of its own, as every hot loop here: inlined into
 * accumulatePredictions, the loop made V8 compile that whole driver (and
 * OSR it) during the first predict, 30-70 ms of compile per worker.
 */
function addLeafOutputs(out: Float64Array, r0: number, r1: number, leaves: Int32Array, value: Float64Array, C: number, scale: number): void {
  for (let r = r0; r < r1; r++) {
    const o = r * C;
    const v = leaves[r - r0]! * C;
    for (let k = 0; k < C; k++) out[o + k]! += scale * value[v + k]!;
  }
}

/** out[r] += scale * vals[r - r0] for rows [r0, r1). */
function addScaled(out: Float64Array, r0: number, r1: number, vals: Float64Array, scale: number): void {
  for (let r = r0; r < r1; r++) out[r]! += scale * vals[r - r0]!;
}

function leafOfBig(tree: FlatTree, data: BigInt64Array, rowBase: number, s1: number): number {
  const { left, right, feature, threshold } = tree;
  let node = 0;
  while (left[node]! >= 0) {
    node = Number(data[rowBase + feature[node]! * s1]!) <= threshold[node]! ? left[node]! : right[node]!;
  }
  return node;
}

/**
 * out[r * nOutputs + k] += scale * value of the leaf each tree sends row r
 * to, for rows [start, end). Classification: class probabilities (soft
 * vote); regression: the prediction.
 */
export function accumulatePredictions(
  trees: FlatTree | readonly FlatTree[],
  X: NdArray,
  start: number,
  end: number,
  out: Float64Array,
  scale = 1,
): Float64Array {
  const [, d] = checkMatrix(X);
  checkRange(X, start, end);
  const list = asList(trees);
  if (list.length === 0) return out;
  const C = list[0]!.nOutputs;
  list.forEach((t, i) => {
    checkTree(t, d, i);
    if (t.nOutputs !== C) throw new SabreTypeError(`tree ${i} has ${t.nOutputs} outputs, tree 0 has ${C}`);
  });
  if (!(out instanceof Float64Array) || out.length < end * C) {
    throw new SabreTypeError(`out must be a Float64Array of at least ${end * C} elements (rows x outputs, absolute rows), got ${describe(out)}`);
  }
  if (typeof scale !== "number" || !Number.isFinite(scale)) throw new SabreTypeError(`scale must be a finite number, got ${describe(scale)}`);
  const kind = walkKind(X);
  const big = kind === "big";
  const { rows, trees: perGroup } = predictTiles(list, X, C > 1 && kind === "f32" ? 8 : 16);
  // Tiles of (row block x tree group): the block's rows stay in cache while
  // every tree of the group walks them, and the group's walk records stay in
  // cache across the blocks. Each row still adds its trees' values in tree
  // order, so any tiling gives the same sums bit for bit.
  for (let t0 = 0; t0 < list.length; t0 += perGroup) {
    const t1 = Math.min(list.length, t0 + perGroup);
    for (let r0 = start; r0 < end; r0 += rows) {
      const r1 = Math.min(end, r0 + rows);
      // Checked as the first group reaches them: the check brings the rows into cache for the walks.
      if (t0 === 0) checkFiniteRows(X, r0, r1);
      for (let t = t0; t < t1; t++) {
        const tree = list[t]!;
        if (C === 1 && !big) {
          // One output: the walk reads each leaf's value from its record (no miss into tree.value).
          const p = packed(tree);
          leafValuesOf(p.F, p.I, X.data as Float64Array, X.offset, X.stride[0]!, X.stride[1]!, r0, r1, valScratch, 0);
          addScaled(out, r0, r1, valScratch, scale);
          continue;
        }
        rowLeaves(tree, X, kind, r0, r1, leafScratch);
        addLeafOutputs(out, r0, r1, leafScratch, tree.value, C, scale);
      }
    }
  }
  return out;
}

/**
 * The most probable class of rows [start, end): ids[r] = the first k with
 * the largest out[r * C + k] (ties to the lower class, as a plain argmax).
 * Run by the workers right after the rows' sums are complete, so predict's
 * labels need no pass over the probabilities on the main thread (a cold
 * 10,000 x 10 loop there cost ~9 ms of the first predict, serially).
 */
export function argmaxRows(out: Float64Array, C: number, start: number, end: number, ids: Int32Array): Int32Array {
  if (!(ids instanceof Int32Array) || ids.length < end) throw new SabreTypeError(`ids must be an Int32Array of at least ${end} elements, got ${describe(ids)}`);
  if (!(out instanceof Float64Array) || out.length < end * C) throw new SabreTypeError(`out must be a Float64Array of at least ${end * C} elements`);
  for (let r = start; r < end; r++) {
    const o = r * C;
    let best = 0;
    for (let k = 1; k < C; k++) if (out[o + k]! > out[o + best]!) best = k;
    ids[r] = best;
  }
  return ids;
}

/** Bytes of X's rows a row block may hold (kept in the L2 cache while a tree group walks them). */
const ROW_BLOCK_BYTES = 256 << 10;
/**
 * Rows narrower than this span a few cache lines that a walk mostly reads
 * anyway, so re-reading them per tree is cheap, and tree groups only cost
 * (100,000 x 10 float64 regression, 20 trees of 8k nodes, 20,000 rows:
 * 69-71 ms tree by tree, 78-83 ms in groups).
 */
const WIDE_ROW_BYTES = 512;
/** Bytes of walk records a tree group may hold (16 per node). */
const TREE_GROUP_BYTES = 1 << 20;

/**
 * How accumulatePredictions tiles its work: rows per block and trees per
 * group. A walk reads ~depth values of a row, scattered over the row, and
 * ~depth records of the tree. Walking every tree over all the rows (one
 * group per tree) reads each row again for every tree, which costs when rows
 * are wide: 10,000 Fashion-MNIST rows as float32 (3 KB a row) x 10 trees of
 * 10k nodes took 76 ms against 32 ms for the same rows as uint8 (one thread).
 * Walking all trees over a block of rows that stays in cache reads each row
 * once, which costs when trees are big: a deep tree (61k nodes, 1 MB of
 * records) falls out of cache between blocks (measured 1.3x slower on the
 * 300k x 20 table). So for wide rows trees are grouped up to
 * TREE_GROUP_BYTES of records (a tree of 1 MB or more is a group of its own:
 * the tree-by-tree order) and rows blocked up to ROW_BLOCK_BYTES: 76 -> 57-66
 * ms on the float32 case, 44-64 -> 37-39 ms on uint8 (load 16, paired runs).
 */
function predictTiles(list: readonly FlatTree[], X: NdArray, recordBytes: number): { rows: number; trees: number } {
  const d = X.shape[1]!;
  const elem = (X.data as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  // A row whose elements are not adjacent costs a cache line per value read.
  const rowBytes = X.stride[1] === 1 ? d * elem : d * 64;
  if (rowBytes < WIDE_ROW_BYTES) return { rows: LEAF_BLOCK, trees: 1 };
  const rows = Math.max(16, Math.min(LEAF_BLOCK, Math.floor(ROW_BLOCK_BYTES / rowBytes / 4) * 4));
  let trees = 0;
  for (let bytes = 0; trees < list.length; trees++) {
    bytes += list[trees]!.nodeCount * recordBytes;
    if (bytes > TREE_GROUP_BYTES && trees > 0) break;
  }
  return { rows, trees: Math.max(1, trees) };
}

/**
 * Tree-parallel prediction, step 1: the leaf of every row of [r0, r1) in
 * trees [t0, t1), into leaves[t * (r1 - r0) + (r - r0)]. A worker walks a
 * whole tree over all the rows of the block, so each tree is read from
 * memory once per call instead of once per row chunk. X is not checked here
 * (gatherLeaves checks each row once): a NaN walks to some leaf and is
 * refused there.
 */
export function treeLeaves(trees: readonly FlatTree[], X: NdArray, t0: number, t1: number, r0: number, r1: number, leaves: Int32Array): void {
  const [, d] = checkMatrix(X);
  checkRange(X, r0, r1);
  const B = r1 - r0;
  if (!Number.isInteger(t0) || !Number.isInteger(t1) || t0 < 0 || t1 > trees.length || t0 > t1) {
    throw new SabreTypeError(`tree range [${describe(t0)}, ${describe(t1)}) must lie within [0, ${trees.length}]`);
  }
  checkLeaves(leaves, trees.length * B);
  const kind = walkKind(X);
  for (let t = t0; t < t1; t++) {
    checkTree(trees[t]!, d, t);
    rowLeaves(trees[t]!, X, kind, r0, r1, leaves.subarray(t * B, (t + 1) * B));
  }
}

function checkLeaves(leaves: Int32Array, need: number): void {
  if (!(leaves instanceof Int32Array) || leaves.length < need) {
    throw new SabreTypeError(`leaves must be an Int32Array of at least ${need} elements (trees x rows), got ${describe(leaves)}`);
  }
}

/**
 * Tree-parallel prediction, step 2: rows [start, end) of the block [r0, r1)
 * whose leaves treeLeaves wrote add scale x each tree's leaf value into
 * out[r * nOutputs + k], trees in order: the same sums in the same order as
 * accumulatePredictions, so both ways give bit-identical predictions.
 * Refuses NaN/Infinity in those rows of X.
 */
export function gatherLeaves(
  trees: readonly FlatTree[],
  X: NdArray,
  leaves: Int32Array,
  r0: number,
  r1: number,
  start: number,
  end: number,
  out: Float64Array,
  scale = 1,
): Float64Array {
  checkMatrix(X);
  checkRange(X, r0, r1);
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < r0 || end > r1 || start > end) {
    throw new SabreTypeError(`row range [${describe(start)}, ${describe(end)}) must lie within the block [${r0}, ${r1})`);
  }
  if (trees.length === 0) return out;
  const C = trees[0]!.nOutputs;
  const B = r1 - r0;
  checkLeaves(leaves, trees.length * B);
  if (!(out instanceof Float64Array) || out.length < end * C) {
    throw new SabreTypeError(`out must be a Float64Array of at least ${end * C} elements (rows x outputs, absolute rows), got ${describe(out)}`);
  }
  checkFiniteRows(X, start, end);
  for (let t = 0; t < trees.length; t++) {
    const tree = trees[t]!;
    if (tree.nOutputs !== C) throw new SabreTypeError(`tree ${t} has ${tree.nOutputs} outputs, tree 0 has ${C}`);
    const value = tree.value;
    const n = tree.nodeCount;
    const base = t * B - r0;
    for (let r = start; r < end; r++) {
      const leaf = leaves[base + r]!;
      // Leaves come from shared memory: an index out of range is refused, never read.
      if (!(leaf >= 0 && leaf < n)) throw new SabreTypeError(`leaves[${base + r}] = ${leaf} is not a node of tree ${t} (${n} nodes)`);
      const o = r * C;
      const v = leaf * C;
      for (let k = 0; k < C; k++) out[o + k]! += scale * value[v + k]!;
    }
  }
  return out;
}

/**
 * Tree-parallel prediction of one-output trees (regression), step 1: the
 * leaf value of every row of [r0, r1) in trees [t0, t1), into
 * vals[t * (r1 - r0) + (r - r0)], read from the walk record the walk ends
 * on (no lookup in tree.value, a cache miss per row and tree when the tree
 * is large). X is not checked here (gatherLeafValues checks each row).
 */
export function treeLeafValues(trees: readonly FlatTree[], X: NdArray, t0: number, t1: number, r0: number, r1: number, vals: Float64Array): void {
  const [, d] = checkMatrix(X);
  checkRange(X, r0, r1);
  const B = r1 - r0;
  if (!Number.isInteger(t0) || !Number.isInteger(t1) || t0 < 0 || t1 > trees.length || t0 > t1) {
    throw new SabreTypeError(`tree range [${describe(t0)}, ${describe(t1)}) must lie within [0, ${trees.length}]`);
  }
  if (!(vals instanceof Float64Array) || vals.length < trees.length * B) {
    throw new SabreTypeError(`vals must be a Float64Array of at least ${trees.length * B} elements (trees x rows), got ${describe(vals)}`);
  }
  const big = isBigIntDType(dtypeOf(X.data)!);
  const [s0, s1] = X.stride as [number, number];
  for (let t = t0; t < t1; t++) {
    const tree = trees[t]!;
    checkTree(tree, d, t);
    if (tree.nOutputs !== 1) throw new SabreTypeError(`tree ${t} has ${tree.nOutputs} outputs: leaf values are for one-output trees`);
    if (big) {
      const value = tree.value;
      for (let r = r0; r < r1; r++) vals[t * B + r - r0] = value[leafOfBig(tree, X.data as BigInt64Array, X.offset + r * s0, s1)]!;
    } else {
      const p = packed(tree);
      leafValuesOf(p.F, p.I, X.data as Float64Array, X.offset, s0, s1, r0, r1, vals, t * B);
    }
  }
}

/**
 * Step 2 of treeLeafValues: rows [start, end) of the block [r0, r1) add
 * scale x each tree's leaf value into out[r], trees in order: the same sums
 * in the same order as accumulatePredictions and gatherLeaves, so every path
 * gives bit-identical predictions. Refuses NaN/Infinity in those rows of X.
 */
export function gatherLeafValues(
  trees: readonly FlatTree[],
  X: NdArray,
  vals: Float64Array,
  r0: number,
  r1: number,
  start: number,
  end: number,
  out: Float64Array,
  scale = 1,
): Float64Array {
  checkMatrix(X);
  checkRange(X, r0, r1);
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < r0 || end > r1 || start > end) {
    throw new SabreTypeError(`row range [${describe(start)}, ${describe(end)}) must lie within the block [${r0}, ${r1})`);
  }
  const B = r1 - r0;
  const T = trees.length;
  if (!(vals instanceof Float64Array) || vals.length < T * B) {
    throw new SabreTypeError(`vals must be a Float64Array of at least ${T * B} elements (trees x rows), got ${describe(vals)}`);
  }
  if (!(out instanceof Float64Array) || out.length < end) {
    throw new SabreTypeError(`out must be a Float64Array of at least ${end} elements (one output per row, absolute rows), got ${describe(out)}`);
  }
  checkFiniteRows(X, start, end);
  addLeafValues(vals, T, B, r0, start, end, out, scale);
  return out;
}

/** out[r] += scale * vals[t * B + r - r0] for t in order, rows [start, end) (a loop function of its own: see README, deopt loops). */
function addLeafValues(vals: Float64Array, T: number, B: number, r0: number, start: number, end: number, out: Float64Array, scale: number): void {
  for (let t = 0; t < T; t++) {
    const base = t * B - r0;
    for (let r = start; r < end; r++) out[r]! += scale * vals[base + r]!;
  }
}

/** The leaf index of each row of [start, end) in one tree, into out[r]. */
export function applyTree(tree: FlatTree, X: NdArray, start: number, end: number, out: Int32Array): Int32Array {
  const [, d] = checkMatrix(X);
  checkRange(X, start, end);
  checkTree(tree, d);
  if (!(out instanceof Int32Array) || out.length < end) throw new SabreTypeError(`out must be an Int32Array of at least ${end} elements`);
  checkFiniteRows(X, start, end);
  rowLeaves(tree, X, walkKind(X), start, end, out.subarray(start, end));
  return out;
}

/**
 * Out-of-bag accumulation for one tree: for each row r of [start, end) that
 * the tree did not draw (inBag[r] === 0, see bootstrapCounts), adds the
 * tree's leaf value to out[r * nOutputs ..] and 1 to counts[r]. The OOB
 * prediction of row r is out[r] / counts[r], as scikit-learn's oob_score_.
 */
export function accumulateOob(
  tree: FlatTree,
  X: NdArray,
  start: number,
  end: number,
  inBag: Int32Array,
  out: Float64Array,
  counts: Int32Array | Float64Array,
): void {
  const [, d] = checkMatrix(X);
  checkRange(X, start, end);
  checkTree(tree, d);
  const C = tree.nOutputs;
  if (!(inBag instanceof Int32Array) || inBag.length < end) throw new SabreTypeError(`inBag must be an Int32Array of at least ${end} counts`);
  if (!(out instanceof Float64Array) || out.length < end * C) throw new SabreTypeError(`out must be a Float64Array of at least ${end * C} elements`);
  if (!(counts instanceof Int32Array || counts instanceof Float64Array) || counts.length < end) {
    throw new SabreTypeError(`counts must be an Int32Array or Float64Array of at least ${end} elements`);
  }
  checkFiniteRows(X, start, end);
  const big = isBigIntDType(dtypeOf(X.data)!);
  const [s0, s1] = X.stride as [number, number];
  const value = tree.value;
  const pk = packed(tree);
  for (let r = start; r < end; r++) {
    if (inBag[r] !== 0) continue;
    const rowBase = X.offset + r * s0;
    const leaf = big ? leafOfBig(tree, X.data as BigInt64Array, rowBase, s1) : leafOf(pk.F, pk.I, X.data as Float64Array, rowBase, s1);
    for (let k = 0; k < C; k++) out[r * C + k]! += value[leaf * C + k]!;
    counts[r]!++;
  }
}

/**
 * Impurity-based feature importances of one tree, normalized to sum 1 (all
 * zeros for a single-leaf tree), as scikit-learn's tree.feature_importances_.
 */
export function treeFeatureImportances(tree: FlatTree, out = new Float64Array(tree.nFeatures)): Float64Array {
  const { left, right, feature, impurity, weightedNNodeSamples: w } = tree;
  out.fill(0);
  for (let i = 0; i < tree.nodeCount; i++) {
    const l = left[i]!;
    if (l < 0) continue;
    const r = right[i]!;
    out[feature[i]!]! += w[i]! * impurity[i]! - w[l]! * impurity[l]! - w[r]! * impurity[r]!;
  }
  let sum = 0;
  for (let f = 0; f < out.length; f++) {
    out[f]! /= w[0]!;
    sum += out[f]!;
  }
  if (sum > 0) for (let f = 0; f < out.length; f++) out[f]! /= sum;
  return out;
}

/**
 * A forest's importances: the mean of its trees' normalized importances
 * (trees that are a single leaf left out), normalized again, as
 * scikit-learn's forest.feature_importances_.
 */
export function forestFeatureImportances(trees: readonly FlatTree[], nFeatures: number): Float64Array {
  const out = new Float64Array(nFeatures);
  const one = new Float64Array(nFeatures);
  let used = 0;
  for (const t of trees) {
    if (t.nodeCount <= 1) continue;
    treeFeatureImportances(t, one);
    for (let f = 0; f < nFeatures; f++) out[f]! += one[f]!;
    used++;
  }
  if (used === 0) return out;
  let sum = 0;
  for (let f = 0; f < nFeatures; f++) sum += (out[f]! /= used);
  if (sum > 0) for (let f = 0; f < nFeatures; f++) out[f]! /= sum;
  return out;
}
