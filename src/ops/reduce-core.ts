// The arithmetic of the reductions, shared by the workers' kernels and the
// calling thread's small-input path, so both give the same bits.
//
// Every reduction is a tree over fixed blocks of BLOCK elements: a block is
// reduced by a leaf (for sums numpy's own scheme: pieces of 128 elements with
// 8 interleaved accumulators, pieces combined pairwise), and partials are merged by
// `tree`, which halves a list of partials the same way whatever its origin.
// Block and chunk sizes are constants, never derived from the thread count,
// so neither is the order of any floating-point operation.
import type { NumberTypedArray } from "../memory/dtypes.js";

/** Elements per leaf block. */
export const BLOCK = 1024;
/** Blocks per chunk of a whole-array reduction (a chunk is one unit of parallel work). */
export const GROUP = 64;
/**
 * At or below this many elements a reduction (or cumsum) runs on the calling
 * thread. It is one chunk (GROUP blocks): a dispatch of a single chunk runs
 * nothing in parallel, so it only adds its cost. Measured on the 2-core
 * machine (README.md, "Reductions"): 65,536 float64 take ~31 us here, a
 * 1,000-element ops.sum ~4.7 us in all.
 */
export const SMALL_REDUCTION = BLOCK * GROUP;

/** Rows per block of a row-streamed axis reduction, and blocks per task. */
export const ROW_BLOCK = 128;
export const ROW_GROUP = 16;
/** Output elements per task of a row-streamed axis reduction: 128 rows of 64 lanes stay in L1/L2 while each lane is reduced. */
export const COL_TILE = 64;

/** What the kernels compute: a partial of WIDTH[op] float64 values. */
export type KernelOp = "sum" | "nansum" | "moments" | "min" | "max" | "nanmin" | "nanmax" | "argmin" | "argmax";
export const WIDTH: { readonly [K in KernelOp]: number } = {
  sum: 1,
  nansum: 2, // sum, count of non-NaN
  moments: 3, // count, mean, sum of squared deviations (Chan et al.)
  min: 1,
  max: 1,
  nanmin: 1,
  nanmax: 1,
  argmin: 2, // value, index
  argmax: 2,
};
export const KERNEL_OPS = Object.keys(WIDTH) as readonly KernelOp[];

type Data = NumberTypedArray | Float64Array;

// ---- float64 views ----------------------------------------------------------------------------
// An indexed load inside a loop that has seen many typed-array kinds goes
// megamorphic: after all nine number dtypes, a float64 sum ran 13x slower
// (109 ms against 8 ms for 8M elements). So the loops that do arithmetic only
// ever see Float64Array: other dtypes are first copied, a block at a time,
// into a float64 buffer — natively (TypedArray.set) when contiguous, else by
// one of three copy loops, separate functions so that each keeps its own
// type feedback (float32 and float64 stay monomorphic; the integer kinds
// share one loop).

const CONV = new Float64Array(BLOCK);

function copyF32(d: Float32Array, p: number, s: number, c: number, out: Float64Array): void {
  for (let i = 0; i < c; i++) out[i] = d[p + i * s]!;
}
function copyInt(d: NumberTypedArray, p: number, s: number, c: number, out: Float64Array): void {
  for (let i = 0; i < c; i++) out[i] = d[p + i * s]!;
}

/** The c <= BLOCK elements d[p + i*s] of a non-float64 array, as float64, in a reused buffer. */
export function toF64(d: Data, p: number, s: number, c: number): Float64Array {
  if (d instanceof Float32Array) copyF32(d, p, s, c, CONV);
  else if (s === 1) CONV.set(d.subarray(p, p + c));
  else copyInt(d, p, s, c, CONV);
  return CONV;
}

function gatherF64(d: Float64Array, idx: Float64Array, add: number, c: number, out: Float64Array): void {
  for (let j = 0; j < c; j++) out[j] = d[idx[j]! + add]!;
}
function gatherF32(d: Float32Array, idx: Float64Array, add: number, c: number, out: Float64Array): void {
  for (let j = 0; j < c; j++) out[j] = d[idx[j]! + add]!;
}
function gatherInt(d: NumberTypedArray, idx: Float64Array, add: number, c: number, out: Float64Array): void {
  for (let j = 0; j < c; j++) out[j] = d[idx[j]! + add]!;
}

/** out[j] = d[idx[j] + add] for j < c, as float64. */
export function gather(d: Data, idx: Float64Array, add: number, c: number, out: Float64Array): void {
  if (d instanceof Float64Array) gatherF64(d, idx, add, c, out);
  else if (d instanceof Float32Array) gatherF32(d, idx, add, c, out);
  else gatherInt(d, idx, add, c, out);
}

// ---- leaves -----------------------------------------------------------------------------------

// A block is summed as numpy sums: pieces of PIECE = 128 elements, each with
// 8 interleaved accumulators (16 additions each), the pieces' sums combined
// pairwise. The error bound is numpy's pairwise bound (the tree above a block
// is pairwise too).
const PIECE = 128;
const PIECES = new Float64Array(BLOCK / PIECE);
const PIECE_COUNTS = new Float64Array(BLOCK / PIECE);

function halve(a: Float64Array, lo: number, n: number): number {
  if (n === 1) return a[lo]!;
  const h = n >> 1;
  return halve(a, lo, h) + halve(a, lo + h, n - h);
}

/** Sum of c <= PIECE elements, 8 accumulators; with `squares`, the sum of (v - shift)^2. */
function piece(d: Float64Array, p: number, s: number, c: number, squares: boolean, shift: number): number {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
  const c8 = c - (c & 7);
  let i = 0;
  if (!squares) {
    for (; i < c8; i += 8) {
      let q = p + i * s;
      a0 += d[q]!; q += s; a1 += d[q]!; q += s; a2 += d[q]!; q += s; a3 += d[q]!; q += s;
      a4 += d[q]!; q += s; a5 += d[q]!; q += s; a6 += d[q]!; q += s; a7 += d[q]!;
    }
    for (; i < c; i++) a0 += d[p + i * s]!;
  } else {
    for (; i < c8; i += 8) {
      let q = p + i * s;
      let e = d[q]! - shift; a0 += e * e; q += s;
      e = d[q]! - shift; a1 += e * e; q += s;
      e = d[q]! - shift; a2 += e * e; q += s;
      e = d[q]! - shift; a3 += e * e; q += s;
      e = d[q]! - shift; a4 += e * e; q += s;
      e = d[q]! - shift; a5 += e * e; q += s;
      e = d[q]! - shift; a6 += e * e; q += s;
      e = d[q]! - shift; a7 += e * e;
    }
    for (; i < c; i++) {
      const e = d[p + i * s]! - shift;
      a0 += e * e;
    }
  }
  return a0 + a1 + (a2 + a3) + (a4 + a5 + (a6 + a7));
}

/**
 * `piece` then `halve` over 8 * PIECE contiguous float64 (a whole block), with the same
 * additions in the same order (so the same bits), written for the common
 * case: unit stride lets V8 address d[i + k] directly, and the eight
 * accumulators stay in registers. In cache it sums ~16 GB/s on one thread
 * against ~9 for the strided `piece` (the strided walk recomputes the
 * address through `s` and the `squares` test), so two threads can keep up
 * with the machine's memory bandwidth.
 */
function eightPieces(d: Float64Array, p: number): number {
  const q = PIECES;
  for (let k = 0; k < 8; k++) {
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    const e = p + PIECE;
    for (let i = p; i < e; i += 8) {
      a0 += d[i]!; a1 += d[i + 1]!; a2 += d[i + 2]!; a3 += d[i + 3]!;
      a4 += d[i + 4]!; a5 += d[i + 5]!; a6 += d[i + 6]!; a7 += d[i + 7]!;
    }
    q[k] = a0 + a1 + (a2 + a3) + (a4 + a5 + (a6 + a7));
    p = e;
  }
  // halve(q, 0, 8), spelled out.
  return q[0]! + q[1]! + (q[2]! + q[3]!) + (q[4]! + q[5]! + (q[6]! + q[7]!));
}

/** `eightPieces` of the squared deviations (v - shift)^2: `piece` with `squares`, then `halve`, same bits. */
function eightSquares(d: Float64Array, p: number, shift: number): number {
  const q = PIECES;
  for (let k = 0; k < 8; k++) {
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    const e = p + PIECE;
    for (let i = p; i < e; i += 8) {
      let t = d[i]! - shift; a0 += t * t; t = d[i + 1]! - shift; a1 += t * t;
      t = d[i + 2]! - shift; a2 += t * t; t = d[i + 3]! - shift; a3 += t * t;
      t = d[i + 4]! - shift; a4 += t * t; t = d[i + 5]! - shift; a5 += t * t;
      t = d[i + 6]! - shift; a6 += t * t; t = d[i + 7]! - shift; a7 += t * t;
    }
    q[k] = a0 + a1 + (a2 + a3) + (a4 + a5 + (a6 + a7));
    p = e;
  }
  return q[0]! + q[1]! + (q[2]! + q[3]!) + (q[4]! + q[5]! + (q[6]! + q[7]!));
}

/** `piece` for float32 data: the same text, a separate function so each keeps monomorphic loads. */
function piece32(d: Float32Array, p: number, s: number, c: number, squares: boolean, shift: number): number {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
  const c8 = c - (c & 7);
  let i = 0;
  if (!squares) {
    for (; i < c8; i += 8) {
      let q = p + i * s;
      a0 += d[q]!; q += s; a1 += d[q]!; q += s; a2 += d[q]!; q += s; a3 += d[q]!; q += s;
      a4 += d[q]!; q += s; a5 += d[q]!; q += s; a6 += d[q]!; q += s; a7 += d[q]!;
    }
    for (; i < c; i++) a0 += d[p + i * s]!;
  } else {
    for (; i < c8; i += 8) {
      let q = p + i * s;
      let e = d[q]! - shift; a0 += e * e; q += s;
      e = d[q]! - shift; a1 += e * e; q += s;
      e = d[q]! - shift; a2 += e * e; q += s;
      e = d[q]! - shift; a3 += e * e; q += s;
      e = d[q]! - shift; a4 += e * e; q += s;
      e = d[q]! - shift; a5 += e * e; q += s;
      e = d[q]! - shift; a6 += e * e; q += s;
      e = d[q]! - shift; a7 += e * e;
    }
    for (; i < c; i++) {
      const e = d[p + i * s]! - shift;
      a0 += e * e;
    }
  }
  return a0 + a1 + (a2 + a3) + (a4 + a5 + (a6 + a7));
}

/** Pairwise sum of c <= BLOCK elements (with `squares`, of their squared deviations from `shift`). */
function sumLeaf(d: Float64Array | Float32Array, p: number, s: number, c: number, squares = false, shift = 0): number {
  if (d instanceof Float32Array) {
    if (c <= PIECE) return piece32(d, p, s, c, squares, shift);
    let k = 0;
    for (let i = 0; i < c; i += PIECE) PIECES[k++] = piece32(d, p + i * s, s, Math.min(PIECE, c - i), squares, shift);
    return halve(PIECES, 0, k);
  }
  if (c <= PIECE) return piece(d, p, s, c, squares, shift);
  if (s === 1 && c === 8 * PIECE) return squares ? eightSquares(d, p, shift) : eightPieces(d, p);
  let k = 0;
  for (let i = 0; i < c; i += PIECE) PIECES[k++] = piece(d, p + i * s, s, Math.min(PIECE, c - i), squares, shift);
  return halve(PIECES, 0, k);
}

function nansumLeaf(d: Float64Array, p: number, s: number, c: number, out: Float64Array, o: number): void {
  let k = 0;
  for (let i0 = 0; i0 < c; i0 += PIECE) {
    const n = Math.min(PIECE, c - i0);
    const acc = NAN_ACC;
    acc.fill(0);
    let cnt = 0;
    for (let i = 0; i < n; i++) {
      const v = d[p + (i0 + i) * s]!;
      if (v === v) {
        acc[i & 7]! += v;
        cnt++;
      }
    }
    PIECES[k] = acc[0]! + acc[1]! + (acc[2]! + acc[3]!) + (acc[4]! + acc[5]! + (acc[6]! + acc[7]!));
    PIECE_COUNTS[k++] = cnt;
  }
  out[o] = halve(PIECES, 0, k);
  out[o + 1] = halve(PIECE_COUNTS, 0, k);
}
const NAN_ACC = new Float64Array(8);

function momentsLeaf(d: Float64Array | Float32Array, p: number, s: number, c: number, out: Float64Array, o: number): void {
  // Two passes over one block (it is in cache): the mean, then squared deviations from it,
  // so a large common offset (1e9 + noise) cancels exactly before squaring.
  const mean = sumLeaf(d, p, s, c) / c;
  out[o] = c;
  out[o + 1] = mean;
  out[o + 2] = sumLeaf(d, p, s, c, true, mean);
}

/**
 * Reduces the c elements d[p + i*s] (c >= 1) into out[o .. o + WIDTH[op]).
 * k0 is the index the first element counts as (argmin/argmax).
 */
export function leaf(op: KernelOp, data: Data, p: number, s: number, c: number, k0: number, out: Float64Array, o: number): void {
  // Sums and moments of float32 (the common dtype of large tables) read it in place.
  if (data instanceof Float32Array && (op === "sum" || op === "moments")) {
    if (op === "sum") out[o] = sumLeaf(data, p, s, c);
    else momentsLeaf(data, p, s, c, out, o);
    return;
  }
  let d: Float64Array;
  if (data instanceof Float64Array) d = data;
  else {
    d = toF64(data, p, s, c);
    p = 0;
    s = 1;
  }
  switch (op) {
    case "sum":
      out[o] = sumLeaf(d, p, s, c);
      return;
    case "nansum":
      nansumLeaf(d, p, s, c, out, o);
      return;
    case "moments":
      momentsLeaf(d, p, s, c, out, o);
      return;
    case "min": {
      let m = Infinity;
      for (let i = 0; i < c; i++) {
        const v = d[p + i * s]!;
        if (v < m || v !== v) m = v;
        if (m !== m) break;
      }
      out[o] = m;
      return;
    }
    case "max": {
      let m = -Infinity;
      for (let i = 0; i < c; i++) {
        const v = d[p + i * s]!;
        if (v > m || v !== v) m = v;
        if (m !== m) break;
      }
      out[o] = m;
      return;
    }
    case "nanmin": {
      let m = NaN;
      for (let i = 0; i < c; i++) {
        const v = d[p + i * s]!;
        if (v < m || (m !== m && v === v)) m = v;
      }
      out[o] = m;
      return;
    }
    case "nanmax": {
      let m = NaN;
      for (let i = 0; i < c; i++) {
        const v = d[p + i * s]!;
        if (v > m || (m !== m && v === v)) m = v;
      }
      out[o] = m;
      return;
    }
    case "argmin":
    case "argmax": {
      // The first extreme wins ties; the first NaN wins outright, as in numpy.
      let m = d[p]!;
      let at = 0;
      if (m === m) {
        for (let i = 1; i < c; i++) {
          const v = d[p + i * s]!;
          if (op === "argmin" ? v < m : v > m) {
            m = v;
            at = i;
          } else if (v !== v) {
            m = v;
            at = i;
            break;
          }
        }
      }
      out[o] = m;
      out[o + 1] = k0 + at;
      return;
    }
  }
}

/** Merges partial b (covering later elements) into partial a, in place at a[ao]. */
export function merge(op: KernelOp, a: Float64Array, ao: number, b: Float64Array, bo: number): void {
  switch (op) {
    case "sum":
      a[ao] = a[ao]! + b[bo]!;
      return;
    case "nansum":
      a[ao] = a[ao]! + b[bo]!;
      a[ao + 1] = a[ao + 1]! + b[bo + 1]!;
      return;
    case "moments": {
      const na = a[ao]!, nb = b[bo]!;
      if (nb === 0) return;
      if (na === 0) {
        a[ao] = nb;
        a[ao + 1] = b[bo + 1]!;
        a[ao + 2] = b[bo + 2]!;
        return;
      }
      const n = na + nb;
      const delta = b[bo + 1]! - a[ao + 1]!;
      a[ao] = n;
      a[ao + 1] = a[ao + 1]! + (delta * nb) / n;
      a[ao + 2] = a[ao + 2]! + b[bo + 2]! + ((delta * delta * na) / n) * nb;
      return;
    }
    case "min": {
      const x = a[ao]!, y = b[bo]!;
      if (x === x && (y < x || y !== y)) a[ao] = y;
      return;
    }
    case "max": {
      const x = a[ao]!, y = b[bo]!;
      if (x === x && (y > x || y !== y)) a[ao] = y;
      return;
    }
    case "nanmin": {
      const x = a[ao]!, y = b[bo]!;
      if (y < x || (x !== x && y === y)) a[ao] = y;
      return;
    }
    case "nanmax": {
      const x = a[ao]!, y = b[bo]!;
      if (y > x || (x !== x && y === y)) a[ao] = y;
      return;
    }
    case "argmin":
    case "argmax": {
      const x = a[ao]!, y = b[bo]!;
      if (x === x && (y !== y || (op === "argmin" ? y < x : y > x))) {
        a[ao] = y;
        a[ao + 1] = b[bo + 1]!;
      }
      return;
    }
  }
}

/**
 * Merges the n partials a[lo*W ..] .. a[(lo+n-1)*W ..] into the first one by
 * halving: the tree's shape depends only on n.
 */
export function tree(op: KernelOp, a: Float64Array, lo: number, n: number): void {
  if (n <= 1) return;
  // Sums and moments (the merges of the fast paths: one per lane per block of a row tile, the
  // tiles' partials of every lane on the calling thread) take copies of this recursion without
  // the per-merge dispatch on op: the same merges in the same order, at a fraction of the cost
  // (they were ~15-25% of an axis-0 mean or variance in cache).
  if (op === "sum") {
    a[lo] = sumTree(a, lo, n);
    return;
  }
  if (op === "moments") {
    momentsTree(a, lo, n);
    return;
  }
  const h = n >> 1;
  tree(op, a, lo, h);
  tree(op, a, lo + h, n - h);
  const w = WIDTH[op];
  merge(op, a, lo * w, a, (lo + h) * w);
}

/** `tree` of sums: the left half's total plus the right half's, as the in-place merges add them. */
function sumTree(a: Float64Array, lo: number, n: number): number {
  if (n === 1) return a[lo]!;
  if (n === 2) return a[lo]! + a[lo + 1]!;
  const h = n >> 1;
  return sumTree(a, lo, h) + sumTree(a, lo + h, n - h);
}

/** `tree` of (count, mean, M2) partials: `merge`'s Chan step, in place, in the same order. */
function momentsTree(a: Float64Array, lo: number, n: number): void {
  if (n <= 1) return;
  const h = n >> 1;
  momentsTree(a, lo, h);
  momentsTree(a, lo + h, n - h);
  const ao = lo * 3, bo = (lo + h) * 3;
  const na = a[ao]!, nb = a[bo]!;
  if (nb === 0) return;
  if (na === 0) {
    a[ao] = nb;
    a[ao + 1] = a[bo + 1]!;
    a[ao + 2] = a[bo + 2]!;
    return;
  }
  const m = na + nb;
  const delta = a[bo + 1]! - a[ao + 1]!;
  a[ao] = m;
  a[ao + 1] = a[ao + 1]! + (delta * nb) / m;
  a[ao + 2] = a[ao + 2]! + a[bo + 2]! + ((delta * delta * na) / m) * nb;
}

/** A growable scratch buffer, one per use site, so hot paths do not allocate. */
export class Scratch {
  private buf = new Float64Array(64);
  get(n: number): Float64Array {
    if (this.buf.length < n) this.buf = new Float64Array(Math.max(n, this.buf.length * 2));
    return this.buf;
  }
}

const laneScratch = new Scratch();

/**
 * Reduces a lane of c >= 1 elements d[p + i*s] into out[o ..]: blocks of BLOCK
 * elements, their partials merged by `tree`. k0 as in `leaf`.
 */
export function reduceLane(op: KernelOp, d: Data, p: number, s: number, c: number, k0: number, out: Float64Array, o: number): void {
  if (c <= BLOCK) {
    leaf(op, d, p, s, c, k0, out, o);
    return;
  }
  const w = WIDTH[op];
  const nb = Math.ceil(c / BLOCK);
  const part = laneScratch.get(nb * w);
  for (let b = 0; b < nb; b++) {
    const len = Math.min(BLOCK, c - b * BLOCK);
    leaf(op, d, p + b * BLOCK * s, s, len, k0 + b * BLOCK, part, b * w);
  }
  tree(op, part, 0, nb);
  for (let j = 0; j < w; j++) out[o + j] = part[j]!;
}
