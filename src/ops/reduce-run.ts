// The three shapes of reduction work, as plain functions over one unit of
// work each (a chunk of blocks, a range of lanes, a range of tiles). The
// worker kernels (kernels/ops/reduce.ts) and the calling thread's
// small-input path run exactly these, so the bits agree.
import { reduceWasmFor, wasmLeafStats } from "../../kernels/ops/reduce-wasm.js";
import type { NumberTypedArray } from "../memory/dtypes.js";
import { memoryOf, scratchOf } from "../memory/wasm-memory.js";
import { fastLanes, fastTiles } from "./reduce-axis.js";
import { BLOCK, COL_TILE, ROW_BLOCK, ROW_GROUP, Scratch, WIDTH, gather, leaf, reduceLane, tree, type KernelOp } from "./reduce-core.js";

/** A user-facing reduction: its name in `ops` and what it makes of a partial. */
export type ReduceName =
  | "sum" | "mean" | "variance" | "std" | "min" | "max" | "argmin" | "argmax"
  | "nansum" | "nanmean" | "nanmin" | "nanmax";

export const KERNEL_OP: { readonly [N in ReduceName]: KernelOp } = {
  sum: "sum",
  mean: "sum",
  variance: "moments",
  std: "moments",
  min: "min",
  max: "max",
  argmin: "argmin",
  argmax: "argmax",
  nansum: "nansum",
  nanmean: "nansum",
  nanmin: "nanmin",
  nanmax: "nanmax",
};

/** The result a partial stands for; n is the number of elements it covers. */
export function finalize(name: ReduceName, a: Float64Array, o: number, n: number, ddof: number): number {
  switch (name) {
    case "mean":
      return a[o]! / n;
    case "nanmean":
      return a[o]! / a[o + 1]!;
    case "variance":
      return a[o + 2]! / Math.max(a[o]! - ddof, 0);
    case "std":
      return Math.sqrt(a[o + 2]! / Math.max(a[o]! - ddof, 0));
    case "argmin":
    case "argmax":
      return a[o + 1]!;
    default:
      return a[o]!;
  }
}

/** A strided layout: element k (row-major over `shape`) is data[offset + sum(idx * stride)]. */
export interface Layout {
  offset: number;
  shape: number[];
  stride: number[];
}

/**
 * The layout a whole-array reduction walks: axes of length 1 dropped, and
 * axes that step through memory as one merged. With `reorder` (reductions
 * whose result does not depend on element order), negative strides are
 * flipped and axes sorted by decreasing stride first, so a transposed view
 * streams memory in memory order; argmin/argmax keep numpy's row-major order.
 */
export function canonical(l: Layout, reorder: boolean): Layout {
  let offset = l.offset;
  let dims: [number, number][] = [];
  for (let i = 0; i < l.shape.length; i++) {
    const n = l.shape[i]!;
    let s = l.stride[i]!;
    if (n === 1) continue;
    if (reorder && s < 0) {
      offset += (n - 1) * s;
      s = -s;
    }
    dims.push([n, s]);
  }
  if (reorder) dims = dims.sort((a, b) => b[1] - a[1]);
  const merged: [number, number][] = [];
  for (const d of dims) {
    const last = merged[merged.length - 1];
    if (last && last[1] === d[0] * d[1]) {
      last[0] *= d[0];
      last[1] = d[1];
    } else merged.push([d[0], d[1]]);
  }
  if (merged.length === 0) merged.push([1, 1]);
  return { offset, shape: merged.map((d) => d[0]), stride: merged.map((d) => d[1]) };
}

/** Writes the data index of row-major elements k0 .. k0+c-1 of a layout into `into`. */
export function indices(l: Layout, k0: number, c: number, into: Float64Array): void {
  const { shape, stride } = l;
  const nd = shape.length;
  if (nd === 0) {
    for (let j = 0; j < c; j++) into[j] = l.offset;
    return;
  }
  const idx = IDX;
  let rem = k0;
  let p = l.offset;
  for (let ax = nd - 1; ax >= 0; ax--) {
    const q = rem % shape[ax]!;
    rem = (rem - q) / shape[ax]!;
    idx[ax] = q;
    p += q * stride[ax]!;
  }
  const L = shape[nd - 1]!;
  const s = stride[nd - 1]!;
  let j = 0;
  for (;;) {
    const run = Math.min(L - idx[nd - 1]!, c - j);
    for (let t = 0; t < run; t++) into[j++] = p + t * s;
    if (j >= c) return;
    p -= s * idx[nd - 1]!;
    idx[nd - 1] = 0;
    for (let ax = nd - 2; ax >= 0; ax--) {
      idx[ax]!++;
      p += stride[ax]!;
      if (idx[ax]! < shape[ax]!) break;
      p -= stride[ax]! * shape[ax]!;
      idx[ax] = 0;
    }
  }
}
const IDX = new Array<number>(64).fill(0);

const gatherIdx = new Scratch();
const gatherBuf = new Scratch();
const chunkPart = new Scratch();

// ---- whole array ----------------------------------------------------------------------------

export interface WholeArgs extends Layout {
  op: KernelOp;
  data: NumberTypedArray;
  /** Element count. */
  n: number;
}

/**
 * Reduces blocks [b0, b1) (at most GROUP of them: one chunk) into out[o ..].
 * The layout is canonical: one axis is a plain strided walk, more are gathered.
 */
export function wholeChunk(a: WholeArgs, b0: number, b1: number, out: Float64Array, o: number): void {
  const k0 = b0 * BLOCK;
  const c = Math.min(a.n, b1 * BLOCK) - k0;
  if (a.shape.length === 1) {
    if (a.stride[0] === 1 && wasmChunk(a, k0, c, out, o)) return;
    reduceLane(a.op, a.data, a.offset + k0 * a.stride[0]!, a.stride[0]!, c, k0, out, o);
    return;
  }
  const w = WIDTH[a.op];
  const nb = b1 - b0;
  const part = chunkPart.get(nb * w);
  const idx = gatherIdx.get(BLOCK);
  const buf = gatherBuf.get(BLOCK);
  for (let b = 0; b < nb; b++) {
    const kb = k0 + b * BLOCK;
    const len = Math.min(BLOCK, a.n - kb);
    indices(a, kb, len, idx);
    gather(a.data, idx, 0, len, buf);
    leaf(a.op, buf, 0, 1, len, kb, part, b * w);
  }
  tree(a.op, part, 0, nb);
  for (let j = 0; j < w; j++) out[o + j] = part[j]!;
}

const wasmPart = new Scratch();

/**
 * `reduceLane` of a contiguous float32/float64 sum or moments over an array
 * that lives in a shared WebAssembly.Memory: each whole block by the
 * WebAssembly SIMD leaf over the array's own memory (kernels/ops/reduce-wasm.ts:
 * the same additions in the same order as the JS leaf, so the same bits), a
 * last partial block by the JS leaf, the partials merged by the same `tree`.
 * False (nothing written) when the case is not one of those or WebAssembly
 * SIMD is missing: the caller runs the JS leaves.
 */
function wasmChunk(a: WholeArgs, k0: number, c: number, out: Float64Array, o: number): boolean {
  const op = a.op;
  if (op !== "sum" && op !== "moments") return false;
  const d = a.data;
  const f32 = d instanceof Float32Array;
  if (!f32 && !(d instanceof Float64Array)) return false;
  const memory = memoryOf(d.buffer);
  if (memory === undefined) return false;
  const wasm = reduceWasmFor(memory);
  if (wasm === null) return false;
  const w = WIDTH[op];
  const nb = Math.ceil(c / BLOCK);
  const part = wasmPart.get(nb * w);
  const esz = f32 ? 4 : 8;
  const p0 = a.offset + k0;
  // A whole chunk's sums two blocks at a time, b and b + nb/2 (two streams of misses per thread).
  const scratch = op === "sum" && c === nb * BLOCK && nb % 2 === 0 ? scratchOf(memory) : null;
  if (scratch !== null) {
    const half = nb >> 1;
    const base = d.byteOffset + p0 * esz;
    const stride = BLOCK * esz;
    for (let b = 0; b < half; b++) {
      if (f32) wasm.sum32pair(base + b * stride, base + (b + half) * stride, scratch.byteOffset);
      else wasm.sum64pair(base + b * stride, base + (b + half) * stride, scratch.byteOffset);
      part[b] = scratch[0]!;
      part[b + half] = scratch[1]!;
    }
    wasmLeafStats.blocks += nb;
    tree(op, part, 0, nb);
    out[o] = part[0]!;
    return true;
  }
  for (let b = 0; b < nb; b++) {
    const len = Math.min(BLOCK, c - b * BLOCK);
    const p = p0 + b * BLOCK;
    if (len < BLOCK) {
      leaf(op, d, p, 1, len, k0 + b * BLOCK, part, b * w);
      continue;
    }
    const ptr = d.byteOffset + p * esz;
    if (op === "sum") {
      part[b] = f32 ? wasm.sum32(ptr) : wasm.sum64(ptr);
    } else {
      // momentsLeaf: the block's mean, then the squared deviations from it.
      const mean = (f32 ? wasm.sum32(ptr) : wasm.sum64(ptr)) / BLOCK;
      part[b * 3] = BLOCK;
      part[b * 3 + 1] = mean;
      part[b * 3 + 2] = f32 ? wasm.sq32(ptr, mean) : wasm.sq64(ptr, mean);
    }
    wasmLeafStats.blocks++;
  }
  tree(op, part, 0, nb);
  for (let j = 0; j < w; j++) out[o + j] = part[j]!;
  return true;
}

// ---- along an axis --------------------------------------------------------------------------

/** An axis reduction: `m` elements along the axis (stride `sa`), one output per element of `outer`. */
export interface AxisArgs {
  name: ReduceName;
  ddof: number;
  data: NumberTypedArray;
  m: number;
  sa: number;
  /** The other axes (their shape and x's strides) with x's offset: lane p starts at its element p. */
  outer: Layout;
}

const laneIdx = new Scratch();
const lanePart = new Float64Array(4);

/** Lanes [p0, p1): each reduced whole (axis contiguous in memory), written finished into out. */
export function lanesRange(a: AxisArgs, out: NumberTypedArray, p0: number, p1: number): void {
  if (fastLanes(a, out, p0, p1)) return;
  const op = KERNEL_OP[a.name];
  const bases = laneIdx.get(p1 - p0);
  indices(a.outer, p0, p1 - p0, bases);
  for (let p = p0; p < p1; p++) {
    reduceLane(op, a.data, bases[p - p0]!, a.sa, a.m, 0, lanePart, 0);
    out[p] = finalize(a.name, lanePart, 0, a.m, a.ddof);
  }
}

/** Tiles: ROW_BLOCK * ROW_GROUP rows of the axis by COL_TILE lanes. */
export function tileCounts(m: number, lanes: number): { groups: number; colTiles: number } {
  return { groups: Math.ceil(m / (ROW_BLOCK * ROW_GROUP)), colTiles: Math.ceil(lanes / COL_TILE) };
}

const tileBuf = new Scratch();

/**
 * Tiles [t0, t1) of a row-streamed axis reduction (the axis is not the
 * fastest in memory): for each block of ROW_BLOCK rows, every lane of the
 * tile is reduced while those rows sit in cache; a lane's blocks are merged
 * by `tree` and its group partial stored at part[(lane * groups + g) * W].
 */
export function tilesRange(a: AxisArgs, part: Float64Array, t0: number, t1: number): void {
  const op = KERNEL_OP[a.name];
  const w = WIDTH[op];
  const lanes = a.outer.shape.reduce((x, y) => x * y, 1);
  const { groups, colTiles } = tileCounts(a.m, lanes);
  if (fastTiles(a, part, t0, t1, groups, colTiles, lanes)) return;
  const bases = laneIdx.get(COL_TILE);
  const buf = tileBuf.get(COL_TILE * ROW_GROUP * w);
  for (let t = t0; t < t1; t++) {
    const g = Math.floor(t / colTiles);
    const c0 = (t % colTiles) * COL_TILE;
    const cols = Math.min(COL_TILE, lanes - c0);
    indices(a.outer, c0, cols, bases);
    const r0 = g * ROW_BLOCK * ROW_GROUP;
    const nbi = Math.ceil(Math.min(ROW_BLOCK * ROW_GROUP, a.m - r0) / ROW_BLOCK);
    for (let bi = 0; bi < nbi; bi++) {
      const rb = r0 + bi * ROW_BLOCK;
      const len = Math.min(ROW_BLOCK, a.m - rb);
      const off = rb * a.sa;
      for (let j = 0; j < cols; j++) leaf(op, a.data, bases[j]! + off, a.sa, len, rb, buf, (j * nbi + bi) * w);
    }
    for (let j = 0; j < cols; j++) {
      tree(op, buf, j * nbi, nbi);
      const dst = ((c0 + j) * groups + g) * w;
      for (let q = 0; q < w; q++) part[dst + q] = buf[j * nbi * w + q]!;
    }
  }
}

/** Merges each lane's group partials (in place, by `tree`) and writes the finished values into out. */
export function finishTiles(a: AxisArgs, part: Float64Array, out: NumberTypedArray): void {
  const op = KERNEL_OP[a.name];
  const w = WIDTH[op];
  const lanes = out.length;
  const { groups } = tileCounts(a.m, lanes);
  for (let p = 0; p < lanes; p++) {
    tree(op, part, p * groups, groups);
    out[p] = finalize(a.name, part, p * groups * w, a.m, a.ddof);
  }
}
