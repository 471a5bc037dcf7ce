// The distance pass of ops.kmeans in WebAssembly SIMD, emitted as bytes at
// run time (wasm-emit.ts; nothing to build or download). For each gathered
// row it computes the squared distances to m centers held transposed
// (feature-major, two centers per f64x2 lane pair), each lane summing
// (x_f - c_f)^2 over the features in order with separate rounding of the
// product and the sum (no FMA): the very operations of sq() in
// src/ops/kmeans-distances.ts, so each distance has the same bits as the JS
// loops and which path ran never shows in a result.
import {
  BLOCK, BR, BR_IF, body, Code, ELSE, END, F64, F64_ADD, F64_LOAD, F64_LT, F64_MAX, F64_MUL, F64_SQRT, F64_STORE, F64_SUB, F64X2_ADD,
  F64X2_MUL, F64X2_SPLAT, F64X2_SUB, I32, I32_ADD, I32_EQ, I32_EQZ, I32_GE_S, I32_GT_S, I32_LOAD, I32_LT_S, I32_MUL, I32_NE, I32_SHL,
  I32_STORE, I32_SUB, IF, instantiate, LOOP, mem, moduleBytes, SELECT, V128, V128_LOAD, V128_STORE, V128_ZERO, VOID,
} from "./wasm-emit.js";

/** Rows scanned per call: enough to amortize the call, few enough that the outputs stay in L1. */
export const SCAN_ROWS = 256;
/** Center vectors (of two centers) summed at once per row: more spill out of the 16 vector registers. */
const MAX_GROUP = 6;
/** The most memory one thread's copy of its rows may take; beyond it the JS loops run. */
const RESIDENT_BUDGET = 256 * 2 ** 20;
/** The most memory a thread keeps for its next call. */
const KEEP_BUDGET = 64 * 2 ** 20;

// Parameters: idx (byte offset of i32 row numbers), nrows, ct, d, out, rows (byte offsets).
const P_IDX = 0, P_N = 1, P_CT = 2, P_D = 3, P_OUT = 4, P_ROWS = 5;
// i32 locals.
const L_I = 6, L_F = 7, L_PC = 8, L_PO = 9, L_PX = 10; // L_PX .. L_PX + 3: one row pointer per row of a pass

/**
 * dist(idx, nrows, ct, d, out, rows) for `v` center vectors (2v centers):
 * out[s][0..2v) = squared distances of row idx[s] (d float64 at rows +
 * idx[s] d 8) to the centers ct[f][0..2v) (row f at ct + f 2v 8). Rows go
 * `R` at a time (then one at a time), each group of center vectors a pass
 * over the features with R x group accumulators.
 */
function distBody(v: number): number[] {
  const groups: Array<[number, number]> = [];
  const count = Math.ceil(v / MAX_GROUP);
  for (let g = 0, start = 0; g < count; g++) {
    const size = Math.floor((v * (g + 1)) / count) - Math.floor((v * g) / count);
    groups.push([start, size]);
    start += size;
  }
  const widest = Math.max(...groups.map(([, s]) => s));
  const R = Math.max(1, Math.min(4, Math.floor(8 / widest)));
  // v128 locals after the 6 + 4 + 4 i32 ones: row splats, the center vector, a temporary, accumulators.
  const V_X = L_PX + 4, V_C = V_X + 4, V_T = V_C + 1, V_ACC = V_T + 1;
  const c = new Code();
  c.i32(0).set(L_I);
  const pass = (rows: number): void => {
    // while (i + rows <= n)
    c.op(BLOCK, VOID, LOOP, VOID);
    c.get(L_I).i32(rows).op(I32_ADD).get(P_N).op(I32_GT_S, BR_IF, 1);
    for (const [start, size] of groups) {
      for (let a = 0; a < rows * size; a++) c.op(...V128_ZERO).set(V_ACC + a);
      // px_r = rows + idx[i + r] * d * 8
      for (let r = 0; r < rows; r++) {
        c.get(L_I).i32(4).op(I32_MUL).get(P_IDX).op(I32_ADD).op(I32_LOAD, ...mem(2, 4 * r));
        c.get(P_D).op(I32_MUL).i32(8).op(I32_MUL).get(P_ROWS).op(I32_ADD).set(L_PX + r);
      }
      c.get(P_CT).i32(start * 16).op(I32_ADD).set(L_PC);
      c.get(P_D).set(L_F);
      // do { ... } while (--f > 0): d >= 1
      c.op(LOOP, VOID);
      for (let r = 0; r < rows; r++) c.get(L_PX + r).op(F64_LOAD, ...mem(3, 0), ...F64X2_SPLAT).set(V_X + r);
      for (let q = 0; q < size; q++) {
        c.get(L_PC).op(...V128_LOAD, ...mem(3, q * 16)).set(V_C);
        for (let r = 0; r < rows; r++) {
          const acc = V_ACC + r * size + q;
          c.get(V_X + r).get(V_C).op(...F64X2_SUB).set(V_T);
          c.get(acc).get(V_T).get(V_T).op(...F64X2_MUL, ...F64X2_ADD).set(acc);
        }
      }
      for (let r = 0; r < rows; r++) c.get(L_PX + r).i32(8).op(I32_ADD).set(L_PX + r);
      c.get(L_PC).i32(v * 16).op(I32_ADD).set(L_PC);
      c.get(L_F).i32(1).op(I32_SUB).tee(L_F).i32(0).op(I32_GT_S, BR_IF, 0);
      c.op(END);
      for (let r = 0; r < rows; r++) {
        c.get(L_I).i32(r).op(I32_ADD).i32(v * 16).op(I32_MUL).get(P_OUT).op(I32_ADD).set(L_PO);
        for (let q = 0; q < size; q++) c.get(L_PO).get(V_ACC + r * size + q).op(...V128_STORE, ...mem(3, (start + q) * 16));
      }
    }
    c.get(L_I).i32(rows).op(I32_ADD).set(L_I);
    c.op(BR, 0, END, END);
  };
  pass(R);
  if (R > 1) pass(1);
  return body([[4 + 4, I32], [4 + 2 + R * widest, V128]], c.c);
}

/** The relative margin by which Hamerly's bounds must clear each other (MARGIN in src/ops/kmeans-spmd.ts). */
export const BOUND_MARGIN = 1e-7;

// assign(): parameters (i32 but the last two), then locals.
const A = {
  r0: 0, r1: 1, fresh: 2, update: 3, sums: 4, ct: 5, rows: 6, up: 7, lo: 8, lab: 9, half: 10, move: 11, tmp: 12, d: 13, far: 14,
  move1: 15, move2: 16,
  i: 17, changed: 18, px: 19, j: 20, best: 21, q: 22, f: 23, pc: 24, was: 25, ps: 26, pr: 27,
  u: 28, l: 29, bestD: 30, second: 31, s: 32,
  X: 33, C: 34, T: 35, acc: 36,
} as const;

/**
 * assign(r0, r1, fresh, update, sums, ct, rows, up, lo, lab, half, move,
 * tmp, d, far, move1, move2) -> changed: Lloyd's assignment of rows
 * [r0, r1) (numbers among the copied rows) to the k centers at ct (held
 * transposed as for dist), with Hamerly's bounds: exactly Assign.block,
 * Assign.bounded and Assign.settle of src/ops/kmeans-spmd.ts, then (when
 * `update`) the block's sums at `sums` (k * d sums, then k counts) moved
 * for each row whose label changed, in row order: the same operations in
 * the same order as the JS path, so the same bits. All pointers are byte
 * offsets; labels are int32, the rest float64.
 */
function assignBody(k: number, v: number): number[] {
  const groups: Array<[number, number]> = [];
  const count = Math.ceil(v / MAX_GROUP);
  for (let g = 0, start = 0; g < count; g++) {
    const size = Math.floor((v * (g + 1)) / count) - Math.floor((v * g) / count);
    groups.push([start, size]);
    start += size;
  }
  const widest = Math.max(...groups.map(([, s]) => s));
  const c = new Code();
  const at8 = (base: number, index: number): void => void c.get(index).i32(3).op(I32_SHL).get(base).op(I32_ADD);
  const at4 = (base: number, index: number): void => void c.get(index).i32(2).op(I32_SHL).get(base).op(I32_ADD);
  const f64Load = (): void => void c.op(F64_LOAD, ...mem(3, 0));
  const f64Store = (): void => void c.op(F64_STORE, ...mem(3, 0));
  // Adds (sign +1) or subtracts (-1) row px's d features to the sums of center j, then its count.
  const move = (center: number, add: boolean): void => {
    c.get(center).get(A.d).op(I32_MUL).i32(3).op(I32_SHL).get(A.sums).op(I32_ADD).set(A.ps);
    c.get(A.px).set(A.pr);
    c.get(A.d).set(A.f);
    c.op(LOOP, VOID);
    c.get(A.ps).get(A.ps); f64Load(); c.get(A.pr); f64Load(); c.op(add ? F64_ADD : F64_SUB); f64Store();
    c.get(A.ps).i32(8).op(I32_ADD).set(A.ps);
    c.get(A.pr).i32(8).op(I32_ADD).set(A.pr);
    c.get(A.f).i32(1).op(I32_SUB).tee(A.f).i32(0).op(I32_GT_S, BR_IF, 0);
    c.op(END);
    // counts[center] +-= 1, at sums + (k d + center) 8
    c.get(A.sums).i32(k * 8).get(A.d).op(I32_MUL).op(I32_ADD).get(center).i32(3).op(I32_SHL).op(I32_ADD).set(A.ps);
    c.get(A.ps).get(A.ps); f64Load(); c.f64(1).op(add ? F64_ADD : F64_SUB); f64Store();
  };

  c.i32(0).set(A.changed);
  c.get(A.r0).set(A.i);
  // for (i = r0; i < r1; i++)
  c.op(BLOCK, VOID, LOOP, VOID);
  c.get(A.i).get(A.r1).op(I32_GE_S, BR_IF, 1);
  c.op(BLOCK, VOID); // `br 0` from here: next row
  c.get(A.i).get(A.d).op(I32_MUL).i32(3).op(I32_SHL).get(A.rows).op(I32_ADD).set(A.px);
  // Hamerly's test (Assign.bounded): keep the label when the bounds clear each other.
  c.get(A.fresh).op(I32_EQZ, IF, VOID);
  at4(A.lab, A.i); c.op(I32_LOAD, ...mem(2, 0)).set(A.j);
  at8(A.up, A.i); f64Load(); at8(A.move, A.j); f64Load(); c.op(F64_ADD).set(A.u);
  at8(A.lo, A.i); f64Load(); c.get(A.move2).get(A.move1).get(A.j).get(A.far).op(I32_EQ, SELECT, F64_SUB).set(A.l);
  // if (u * (1 + MARGIN) < max(half[j], l) * (1 - MARGIN)) { up = u; lo = l; next }
  c.get(A.u).f64(1 + BOUND_MARGIN).op(F64_MUL);
  at8(A.half, A.j); f64Load(); c.get(A.l).op(F64_MAX).f64(1 - BOUND_MARGIN).op(F64_MUL);
  c.op(F64_LT, IF, VOID);
  at8(A.up, A.i); c.get(A.u); f64Store();
  at8(A.lo, A.i); c.get(A.l); f64Store();
  c.op(BR, 2); // out of the if, the if, the row block
  c.op(END, END);
  // The k distances into tmp, as dist() computes them.
  for (const [start, size] of groups) {
    for (let a = 0; a < size; a++) c.op(...V128_ZERO).set(A.acc + a);
    c.get(A.px).set(A.pr);
    c.get(A.ct).i32(start * 16).op(I32_ADD).set(A.pc);
    c.get(A.d).set(A.f);
    c.op(LOOP, VOID);
    c.get(A.pr).op(F64_LOAD, ...mem(3, 0), ...F64X2_SPLAT).set(A.X);
    for (let q = 0; q < size; q++) {
      c.get(A.pc).op(...V128_LOAD, ...mem(3, q * 16)).set(A.C);
      c.get(A.X).get(A.C).op(...F64X2_SUB).set(A.T);
      c.get(A.acc + q).get(A.T).get(A.T).op(...F64X2_MUL, ...F64X2_ADD).set(A.acc + q);
    }
    c.get(A.pr).i32(8).op(I32_ADD).set(A.pr);
    c.get(A.pc).i32(v * 16).op(I32_ADD).set(A.pc);
    c.get(A.f).i32(1).op(I32_SUB).tee(A.f).i32(0).op(I32_GT_S, BR_IF, 0);
    c.op(END);
    for (let q = 0; q < size; q++) c.get(A.tmp).get(A.acc + q).op(...V128_STORE, ...mem(3, (start + q) * 16));
  }
  // Assign.settle: the nearest (first on ties) and the second nearest.
  c.i32(0).set(A.best);
  c.f64(Infinity).set(A.bestD);
  c.f64(Infinity).set(A.second);
  c.i32(0).set(A.q);
  c.op(LOOP, VOID);
  at8(A.tmp, A.q); f64Load(); c.set(A.s);
  c.get(A.s).get(A.bestD).op(F64_LT, IF, VOID);
  c.get(A.bestD).set(A.second);
  c.get(A.s).set(A.bestD);
  c.get(A.q).set(A.best);
  c.op(ELSE);
  c.get(A.s).get(A.second).op(F64_LT, IF, VOID);
  c.get(A.s).set(A.second);
  c.op(END, END);
  c.get(A.q).i32(1).op(I32_ADD).tee(A.q).i32(k).op(I32_LT_S, BR_IF, 0);
  c.op(END);
  at8(A.up, A.i); c.get(A.bestD).op(F64_SQRT); f64Store();
  at8(A.lo, A.i); c.get(A.second).op(F64_SQRT); f64Store();
  // A changed label: counted, stored, and (update) its row moved between the sums.
  at4(A.lab, A.i); c.op(I32_LOAD, ...mem(2, 0)).set(A.was);
  c.get(A.was).get(A.best).op(I32_NE, IF, VOID);
  c.get(A.changed).i32(1).op(I32_ADD).set(A.changed);
  at4(A.lab, A.i); c.get(A.best).op(I32_STORE, ...mem(2, 0));
  c.get(A.update).op(IF, VOID);
  move(A.best, true);
  c.get(A.was).i32(0).op(I32_GE_S, IF, VOID);
  move(A.was, false);
  c.op(END, END, END);
  c.op(END); // the row block
  c.get(A.i).i32(1).op(I32_ADD).set(A.i);
  c.op(BR, 0, END, END);
  c.get(A.changed);
  return body([[11, I32], [5, F64], [3 + widest, V128]], c.c);
}

const ASSIGN_PARAMS = [...new Array<number>(15).fill(I32), F64, F64];

/**
 * The bytes of a module exporting "memory", dist0, dist1, ... for each
 * center count in `m` (2 per vector), and assign (Lloyd's step for m[0] centers).
 */
export function kmeansWasmBytes(m: number[], pages: number): Uint8Array {
  const vs = m.map((x) => Math.ceil(x / 2));
  return moduleBytes(pages, [
    ...vs.map((v, i) => ({ name: `dist${i}`, params: 6, results: [], body: distBody(v) })),
    { name: "assign", params: ASSIGN_PARAMS, results: [I32], body: assignBody(m[0]!, vs[0]!) },
  ]);
}

type Dist = (idx: number, nrows: number, ct: number, d: number, out: number, rows: number) => void;
type Assign = (...args: number[]) => number;
interface Exports {
  memory: { buffer: ArrayBuffer };
  [fn: string]: unknown;
}

/** Where each part of a scan's memory starts, in float64 elements (idx and lab: int32 elements), and the bytes in all. */
interface Layout {
  idx: number;
  out: number;
  tmp: number;
  half: number;
  move: number;
  up: number;
  lo: number;
  lab: number;
  sums: number;
  rows: number;
  bytes: number;
}

function layoutOf(m: number[], d: number, rows: number, sums: number): Layout {
  const w = Math.max(...m.map((x) => 2 * Math.ceil(x / 2)));
  const k = m[0]!;
  const idx = w * d * 2; // after the transposed centers
  const out = (idx + SCAN_ROWS) / 2;
  const tmp = out + SCAN_ROWS * w;
  const half = tmp + w;
  const move = half + k;
  const up = move + k;
  const lo = up + rows;
  const lab = (lo + rows) * 2;
  const sumsAt = Math.ceil(lab / 2 + rows / 2);
  const first = sumsAt + sums;
  return { idx, out, tmp, half, move, up, lo, lab, sums: sumsAt, rows: first, bytes: (first + rows * d) * 8 };
}

/**
 * One thread's distance kernels for a k-means call, over its own copy of
 * the rows it owns: `m[i]` centers for kernel i (k for Lloyd, the
 * candidates for k-means++), d features, and Lloyd's per-row state of those
 * rows (bounds, labels) and per-block sums. A row is named by its number
 * among the copied rows; offsets are in float64 elements of `f64` (int32
 * elements of `i32` for idx and lab).
 */
export class KMeansScan {
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  /** Per kernel: the float64 stride of a transposed feature row and of an output row (2v). */
  readonly width: number[];
  readonly lay: Layout;
  private readonly fns: Dist[];
  private readonly assignFn: Assign;

  constructor(exports: Exports, readonly m: number[], readonly d: number, lay: Layout) {
    this.width = m.map((x) => 2 * Math.ceil(x / 2));
    this.lay = lay;
    this.f64 = new Float64Array(exports.memory.buffer, 0, lay.bytes / 8);
    this.i32 = new Int32Array(exports.memory.buffer, 0, lay.bytes / 4);
    this.fns = m.map((_, i) => exports[`dist${i}`] as Dist);
    this.assignFn = exports.assign as Assign;
  }

  /** Writes the m[kernel] centers (rows of `cs` from `at`, d apart) transposed, padding lanes with zeros. */
  centers(kernel: number, cs: Float64Array, at: number): void {
    const { f64, d } = this;
    const m = this.m[kernel]!;
    const w = this.width[kernel]!;
    for (let j = 0; j < w; j++) {
      const src = at + j * d;
      if (j < m) for (let f = 0; f < d; f++) f64[f * w + j] = cs[src + f]!;
      else for (let f = 0; f < d; f++) f64[f * w + j] = 0;
    }
  }

  /** Distances of the rows named in i32[idx .. idx + count) to kernel `kernel`'s centers: slot s, center j at out + s * width[kernel] + j. */
  run(kernel: number, count: number): void {
    this.fns[kernel]!(this.lay.idx * 4, count, 0, this.d, this.lay.out * 8, this.lay.rows * 8);
  }

  /**
   * Lloyd's assignment of copied rows [r0, r1) to the centers last written
   * by centers(0, ...), with the bounds and labels at lay.up/lo/lab and
   * half/move at lay.half/move (written by the caller); when `update`, the
   * sums at float64 `sums` follow the changed labels. Returns how many changed.
   */
  assign(r0: number, r1: number, fresh: boolean, update: boolean, sums: number, far: number, move1: number, move2: number): number {
    const l = this.lay;
    return this.assignFn(r0, r1, fresh ? 1 : 0, update ? 1 : 0, sums * 8, 0, l.rows * 8, l.up * 8, l.lo * 8, l.lab * 4, l.half * 8, l.move * 8, l.tmp * 8, this.d, far, move1, move2);
  }
}

const cache: { key: string; exports: Exports | null } = { key: "", exports: null };

/**
 * This thread's kernels for m[i] centers of d features over `rows` copied
 * rows with `sums` float64 of Lloyd sums, or null where WebAssembly SIMD is
 * missing or the memory would pass RESIDENT_BUDGET (the JS loops then run,
 * with the same bits).
 */
export function kmeansScan(m: number[], d: number, rows: number, sums: number): KMeansScan | null {
  if (!kmeansWasmOn) return null;
  const lay = layoutOf(m, d, rows, sums);
  if (lay.bytes > RESIDENT_BUDGET) return null;
  // The memory is sized once, at instantiation: growing it would detach its
  // old buffer, and the first detached buffer in a thread costs every typed
  // array access in that thread a detach check from then on (V8's
  // protector), which made the JS around the kernel ~2x slower. Powers of
  // two let calls of similar sizes reuse the last instance.
  const pages = 2 ** Math.ceil(Math.log2(Math.ceil(lay.bytes / 65536)));
  const key = `${m.join(",")}/${pages}`;
  if (cache.key === key && cache.exports !== null) return new KMeansScan(cache.exports, m, d, lay);
  const exports = instantiate<Exports>(kmeansWasmBytes(m, pages));
  if (pages * 65536 <= KEEP_BUDGET) {
    cache.key = key;
    cache.exports = exports;
  }
  return exports === null ? null : new KMeansScan(exports, m, d, lay);
}

let kmeansWasmOn = true;

/** Tests only: false makes this thread's k-means run the JS loops (to compare bits). */
export function setKMeansWasm(on: boolean): void {
  kmeansWasmOn = on;
}
