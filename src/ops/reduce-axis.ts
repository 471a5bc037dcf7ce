// Fast paths of the axis reductions for the common case: sums, means and
// variances of a float32 table along either axis (reduce-run.ts's lanesRange
// and tilesRange try these first). They give the very bits the generic path
// gives: the same leaf arithmetic (reduce-core.ts's `piece`: 8 interleaved
// accumulators, the tail into the first, combined as
// a0 + a1 + (a2 + a3) + (a4 + a5 + (a6 + a7))), the same blocks, the same
// `tree`. What changes is only the order in which memory is walked and how
// much dispatch surrounds each element.
//
// Rows (axis 0 of a row-major table): tilesRange's units of work, but each
// lane of a 128-row block is summed by one tight strided loop over the
// float32 or float64 data in place (or, over a table in a WebAssembly.Memory,
// by the SIMD tile and group leaves of kernels/ops/tile-wasm.ts) (8 accumulators in registers, no per-block copy, no
// per-element dispatch on op or dtype); the block (128 rows x at most 64
// lanes x 4 bytes = 32 KiB) stays in cache across the lanes and the
// variance's second pass. Keeping 8 x lanes accumulators in a float64 scratch
// and streaming each row once was tried: 2-3x slower in V8 (a load and a
// store of the scratch per element).
//
// Lanes (axis 1: each output is a short run): one loop per lane writing the
// finished value straight into the float64 output. Partials travel through
// float64 arrays, never as returned numbers (see fastLanes).
import { reduceWasmFor, wasmLeafStats, type ReduceWasm } from "../../kernels/ops/reduce-wasm.js";
import { GROUP_SCRATCH_BYTES } from "../../kernels/ops/tile-wasm.js";
import type { NumberTypedArray } from "../memory/dtypes.js";
import { memoryOf, scratchOf } from "../memory/wasm-memory.js";
import { COL_TILE, ROW_BLOCK, ROW_GROUP, Scratch, WIDTH, tree } from "./reduce-core.js";
import type { AxisArgs, Layout } from "./reduce-run.js";

/** The leaves below are reduce-core's `piece`, which covers at most this many elements. */
const PIECE = 128;

/** The reductions these paths serve, by user-facing name. */
type Fast = "sum" | "mean" | "variance" | "std";
function isFast(name: string): name is Fast {
  return name === "sum" || name === "mean" || name === "variance" || name === "std";
}

/** out[o] = the sum of the c <= PIECE values d[p + i*s]: `piece` of reduce-core.ts, float32 in place. */
function sumInto(d: Float32Array, p: number, s: number, c: number, out: Float64Array, o: number): void {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
  const c8 = c - (c & 7);
  let q = p;
  const s8 = 8 * s;
  for (let i = 0; i < c8; i += 8, q += s8) {
    a0 += d[q]!; a1 += d[q + s]!; a2 += d[q + 2 * s]!; a3 += d[q + 3 * s]!;
    a4 += d[q + 4 * s]!; a5 += d[q + 5 * s]!; a6 += d[q + 6 * s]!; a7 += d[q + 7 * s]!;
  }
  for (let i = c8; i < c; i++, q += s) a0 += d[q]!;
  out[o] = a0 + a1 + (a2 + a3) + (a4 + a5 + (a6 + a7));
}

/** out[o] = the sum of (d[p + i*s] - shift)^2 over c <= PIECE values, in `piece`'s order. */
function squaresInto(d: Float32Array, p: number, s: number, c: number, shift: number, out: Float64Array, o: number): void {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
  const c8 = c - (c & 7);
  let q = p;
  const s8 = 8 * s;
  for (let i = 0; i < c8; i += 8, q += s8) {
    let e = d[q]! - shift; a0 += e * e;
    e = d[q + s]! - shift; a1 += e * e;
    e = d[q + 2 * s]! - shift; a2 += e * e;
    e = d[q + 3 * s]! - shift; a3 += e * e;
    e = d[q + 4 * s]! - shift; a4 += e * e;
    e = d[q + 5 * s]! - shift; a5 += e * e;
    e = d[q + 6 * s]! - shift; a6 += e * e;
    e = d[q + 7 * s]! - shift; a7 += e * e;
  }
  for (let i = c8; i < c; i++, q += s) {
    const e = d[q]! - shift;
    a0 += e * e;
  }
  out[o] = a0 + a1 + (a2 + a3) + (a4 + a5 + (a6 + a7));
}

/** `sumInto` over float64 data: the same text, its own function so each keeps monomorphic loads. */
function sumInto64(d: Float64Array, p: number, s: number, c: number, out: Float64Array, o: number): void {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
  const c8 = c - (c & 7);
  let q = p;
  const s8 = 8 * s;
  for (let i = 0; i < c8; i += 8, q += s8) {
    a0 += d[q]!; a1 += d[q + s]!; a2 += d[q + 2 * s]!; a3 += d[q + 3 * s]!;
    a4 += d[q + 4 * s]!; a5 += d[q + 5 * s]!; a6 += d[q + 6 * s]!; a7 += d[q + 7 * s]!;
  }
  for (let i = c8; i < c; i++, q += s) a0 += d[q]!;
  out[o] = a0 + a1 + (a2 + a3) + (a4 + a5 + (a6 + a7));
}

/** `squaresInto` over float64 data. */
function squaresInto64(d: Float64Array, p: number, s: number, c: number, shift: number, out: Float64Array, o: number): void {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
  const c8 = c - (c & 7);
  let q = p;
  const s8 = 8 * s;
  for (let i = 0; i < c8; i += 8, q += s8) {
    let e = d[q]! - shift; a0 += e * e;
    e = d[q + s]! - shift; a1 += e * e;
    e = d[q + 2 * s]! - shift; a2 += e * e;
    e = d[q + 3 * s]! - shift; a3 += e * e;
    e = d[q + 4 * s]! - shift; a4 += e * e;
    e = d[q + 5 * s]! - shift; a5 += e * e;
    e = d[q + 6 * s]! - shift; a6 += e * e;
    e = d[q + 7 * s]! - shift; a7 += e * e;
  }
  for (let i = c8; i < c; i++, q += s) {
    const e = d[q]! - shift;
    a0 += e * e;
  }
  out[o] = a0 + a1 + (a2 + a3) + (a4 + a5 + (a6 + a7));
}

/**
 * One lane's block partial in the JS tile leaf: the c <= PIECE values d[q + i*s] into buf at
 * partial `o` — the sum, or momentsLeaf's (count, mean, M2) from two passes (the block, ROW_BLOCK
 * rows of the tile, is still in cache for the second).
 */
function jsTile32(d: Float32Array, q: number, s: number, c: number, moments: boolean, buf: Float64Array, o: number): void {
  if (!moments) return sumInto(d, q, s, c, buf, o);
  const b = o * 3;
  sumInto(d, q, s, c, buf, b + 1);
  buf[b] = c;
  buf[b + 1] = buf[b + 1]! / c;
  squaresInto(d, q, s, c, buf[b + 1]!, buf, b + 2);
}

/** `jsTile32` over float64 data. */
function jsTile64(d: Float64Array, q: number, s: number, c: number, moments: boolean, buf: Float64Array, o: number): void {
  if (!moments) return sumInto64(d, q, s, c, buf, o);
  const b = o * 3;
  sumInto64(d, q, s, c, buf, b + 1);
  buf[b] = c;
  buf[b + 1] = buf[b + 1]! / c;
  squaresInto64(d, q, s, c, buf[b + 1]!, buf, b + 2);
}

/** The outer axes as one strided walk (base + p * step), or undefined when they do not collapse to one. */
function outerStep(outer: Layout): number | undefined {
  let step: number | undefined;
  let span = 1;
  for (let i = outer.shape.length - 1; i >= 0; i--) {
    const n = outer.shape[i]!;
    if (n === 1) continue;
    const s = outer.stride[i]!;
    if (step === undefined) step = s;
    else if (s !== step * span) return undefined;
    span *= n;
  }
  return step ?? 1;
}

/**
 * Lanes [p0, p1) of a float32 sum/mean/variance/std whose axis is at most
 * PIECE long and whose lanes are one strided walk; false (nothing written)
 * when the case is not one of those.
 */
export function fastLanes(a: AxisArgs, out: NumberTypedArray, p0: number, p1: number): boolean {
  const d = a.data;
  if (!(d instanceof Float32Array) || !(out instanceof Float64Array) || !isFast(a.name) || a.m > PIECE) return false;
  const step = outerStep(a.outer);
  if (step === undefined) return false;
  const { m, sa, ddof } = a;
  const moments = a.name === "variance" || a.name === "std";
  const ps = a.outer.offset + p0 * step;
  // Results go through a float64 array, never a returned number: a double returned from a call
  // that is not inlined is boxed, and 1M of them per call kept the worker's GC busy.
  if (sa === 1) {
    rowsUnit(d, ps, step, m, a.name, ddof, out, p0, p1);
    return true;
  }
  const r = LANE;
  if (moments) {
    const div = Math.max(m - ddof, 0);
    const root = a.name === "std";
    for (let p = p0, q = ps; p < p1; p++, q += step) {
      sumInto(d, q, sa, m, r, 0);
      squaresInto(d, q, sa, m, r[0]! / m, r, 1);
      out[p] = root ? Math.sqrt(r[1]! / div) : r[1]! / div;
    }
  } else {
    const scale = a.name === "mean" ? m : 1;
    for (let p = p0, q = ps; p < p1; p++, q += step) {
      sumInto(d, q, sa, m, r, 0);
      out[p] = scale === 1 ? r[0]! : r[0]! / scale;
    }
  }
  return true;
}

/**
 * Lanes that are short contiguous runs (axis 1 of a row-major float32 table:
 * row p is d[q .. q + m), q = base + (p - p0) * step): one loop per block of
 * rows, unit stride, the finished value written straight into out[p]. The
 * additions are `sumInto`'s (element i into accumulator i % 8 in index order,
 * the tail after the last whole 8 into a0, then
 * a0 + a1 + (a2 + a3) + (a4 + a5 + (a6 + a7))), so the bits are the generic
 * leaf's; what it drops is the stride arithmetic on every load, a call and a
 * store/load of the partial per row.
 */
function rowsUnit(d: Float32Array, base: number, step: number, m: number, name: Fast, ddof: number, out: Float64Array, p0: number, p1: number): void {
  if (rowsWasm(d, base, step, m, name, ddof, out, p0, p1)) return;
  const c8 = m - (m & 7);
  if (name === "sum" || name === "mean") {
    const mean = name === "mean";
    for (let p = p0, q = base; p < p1; p++, q += step) {
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
      const e8 = q + c8;
      let i = q;
      for (; i < e8; i += 8) {
        a0 += d[i]!; a1 += d[i + 1]!; a2 += d[i + 2]!; a3 += d[i + 3]!;
        a4 += d[i + 4]!; a5 += d[i + 5]!; a6 += d[i + 6]!; a7 += d[i + 7]!;
      }
      for (const e = q + m; i < e; i++) a0 += d[i]!;
      const s = a0 + a1 + (a2 + a3) + (a4 + a5 + (a6 + a7));
      out[p] = mean ? s / m : s;
    }
    return;
  }
  const div = Math.max(m - ddof, 0);
  const root = name === "std";
  for (let p = p0, q = base; p < p1; p++, q += step) {
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    const e8 = q + c8;
    const e = q + m;
    let i = q;
    for (; i < e8; i += 8) {
      a0 += d[i]!; a1 += d[i + 1]!; a2 += d[i + 2]!; a3 += d[i + 3]!;
      a4 += d[i + 4]!; a5 += d[i + 5]!; a6 += d[i + 6]!; a7 += d[i + 7]!;
    }
    for (; i < e; i++) a0 += d[i]!;
    // squaresInto's second pass over the row (still in cache), deviations from the row's mean.
    const shift = (a0 + a1 + (a2 + a3) + (a4 + a5 + (a6 + a7))) / m;
    a0 = 0; a1 = 0; a2 = 0; a3 = 0; a4 = 0; a5 = 0; a6 = 0; a7 = 0;
    for (i = q; i < e8; i += 8) {
      let t = d[i]! - shift; a0 += t * t; t = d[i + 1]! - shift; a1 += t * t;
      t = d[i + 2]! - shift; a2 += t * t; t = d[i + 3]! - shift; a3 += t * t;
      t = d[i + 4]! - shift; a4 += t * t; t = d[i + 5]! - shift; a5 += t * t;
      t = d[i + 6]! - shift; a6 += t * t; t = d[i + 7]! - shift; a7 += t * t;
    }
    for (; i < e; i++) {
      const t = d[i]! - shift;
      a0 += t * t;
    }
    const v = (a0 + a1 + (a2 + a3) + (a4 + a5 + (a6 + a7))) / div;
    out[p] = root ? Math.sqrt(v) : v;
  }
}

/**
 * rowsUnit over a table in a WebAssembly.Memory: the SIMD row leaf
 * (kernels/ops/reduce-wasm.ts, the same operations per row) writes up to
 * 8,192 finished values at a time into this thread's scratch page of that
 * memory, copied from there into out. False when the table has no Memory or
 * WebAssembly SIMD (or a scratch page) is missing.
 */
function rowsWasm(d: Float32Array, base: number, step: number, m: number, name: Fast, ddof: number, out: Float64Array, p0: number, p1: number): boolean {
  const memory = memoryOf(d.buffer);
  if (memory === undefined) return false;
  const wasm = reduceWasmFor(memory);
  const scratch = wasm === null ? null : scratchOf(memory);
  if (wasm === null || scratch === null) return false;
  const sums = name === "sum" || name === "mean";
  const div = name === "sum" ? 1 : name === "mean" ? m : Math.max(m - ddof, 0);
  const root = name === "std" ? 1 : 0;
  for (let p = p0, q = base; p < p1; ) {
    const n = Math.min(p1 - p, scratch.length);
    const ptr = d.byteOffset + q * 4;
    if (sums) wasm.rows32(ptr, step * 4, n, m, scratch.byteOffset, div);
    else wasm.rowsVar32(ptr, step * 4, n, m, scratch.byteOffset, div, root);
    out.set(scratch.subarray(0, n), p);
    p += n;
    q += n * step;
  }
  wasmLeafStats.tiles++;
  return true;
}

const tileScratch = new Scratch();
const LANE = new Float64Array(2);

/**
 * Tiles [t0, t1) of a row-streamed sum/mean/variance/std (tilesRange's units
 * of work and output layout), when the lanes are one strided walk and
 * ROW_BLOCK rows make one `piece`: float32 or float64 in place (SIMD tile
 * leaves over a table in a WebAssembly.Memory, else `jsTile32`/`jsTile64`);
 * false (nothing written) otherwise. The float64 JS leaf is the generic
 * path's `piece` without its per-block dispatch (63 -> ~30 ms of CPU for a
 * mean along axis 0 of 1M x 24 in a plain SharedArrayBuffer).
 */
export function fastTiles(a: AxisArgs, part: Float64Array, t0: number, t1: number, groups: number, colTiles: number, lanes: number): boolean {
  const d = a.data;
  const f32 = d instanceof Float32Array;
  if (!(f32 || d instanceof Float64Array) || !isFast(a.name) || ROW_BLOCK > PIECE) return false;
  const step = outerStep(a.outer);
  if (step === undefined) return false;
  const moments = a.name === "variance" || a.name === "std";
  const op = moments ? "moments" : "sum";
  const w = WIDTH[op];
  // Lanes adjacent in memory over an array in a WebAssembly.Memory: whole blocks run the SIMD
  // tile leaves (two lanes per f64x2, the same operations per lane), whole groups the group leaf
  // (its 16 blocks and the lanes' tree over them), their partials written into this thread's
  // scratch page of that memory, which then serves as `buf`.
  let wasm: ReduceWasm | null = null;
  let scratch: Float64Array | null = null;
  if (step === 1) {
    const memory = memoryOf(d.buffer);
    if (memory !== undefined) {
      wasm = reduceWasmFor(memory);
      scratch = wasm === null ? null : scratchOf(memory);
      if (scratch === null || scratch.byteLength < Math.max(COL_TILE * ROW_GROUP * w * 8, GROUP_SCRATCH_BYTES)) wasm = null;
    }
  }
  const buf = wasm !== null ? scratch! : tileScratch.get(COL_TILE * ROW_GROUP * w);
  const esz = f32 ? 4 : 8;
  const { m, sa } = a;
  for (let t = t0; t < t1; t++) {
    const g = Math.floor(t / colTiles);
    const c0 = (t % colTiles) * COL_TILE;
    const cols = Math.min(COL_TILE, lanes - c0);
    const base = a.outer.offset + c0 * step;
    const r0 = g * ROW_BLOCK * ROW_GROUP;
    if (wasm !== null && m - r0 >= ROW_BLOCK * ROW_GROUP) {
      const ptr = d.byteOffset + (base + r0 * sa) * esz;
      if (moments) (f32 ? wasm.groupMoments32 : wasm.groupMoments64)(ptr, sa * esz, cols, buf.byteOffset);
      else (f32 ? wasm.group32 : wasm.group64)(ptr, sa * esz, cols, buf.byteOffset);
      wasmLeafStats.tiles++;
      for (let j = 0; j < cols; j++) {
        const dst = ((c0 + j) * groups + g) * w;
        for (let q = 0; q < w; q++) part[dst + q] = buf[j * w + q]!;
      }
      continue;
    }
    const nbi = Math.ceil(Math.min(ROW_BLOCK * ROW_GROUP, m - r0) / ROW_BLOCK);
    for (let bi = 0; bi < nbi; bi++) {
      const rb = r0 + bi * ROW_BLOCK;
      const len = Math.min(ROW_BLOCK, m - rb);
      const p = base + rb * sa;
      let j0 = 0;
      if (wasm !== null && len === ROW_BLOCK) {
        const pairs = cols >> 1;
        const at = buf.byteOffset + bi * w * 8;
        const ptr = d.byteOffset + p * esz;
        if (moments) (f32 ? wasm.tileMoments32 : wasm.tileMoments64)(ptr, sa * esz, pairs, at, nbi * w * 8);
        else (f32 ? wasm.tile32 : wasm.tile64)(ptr, sa * esz, pairs, at, nbi * w * 8);
        j0 = 2 * pairs;
        wasmLeafStats.tiles++;
      }
      for (let j = j0; j < cols; j++) {
        if (f32) jsTile32(d as Float32Array, p + j * step, sa, len, moments, buf, j * nbi + bi);
        else jsTile64(d as Float64Array, p + j * step, sa, len, moments, buf, j * nbi + bi);
      }
    }
    for (let j = 0; j < cols; j++) {
      tree(op, buf, j * nbi, nbi);
      const dst = ((c0 + j) * groups + g) * w;
      for (let q = 0; q < w; q++) part[dst + q] = buf[j * nbi * w + q]!;
    }
  }
  return true;
}
