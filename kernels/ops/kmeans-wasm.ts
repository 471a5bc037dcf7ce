// The distance pass of ops.kmeans in WebAssembly SIMD, emitted as bytes at
// run time (wasm-emit.ts; nothing to build or download). For each gathered
// row it computes the squared distances to m centers held transposed
// (feature-major, two centers per f64x2 lane pair), each lane summing
// (x_f - c_f)^2 over the features in order with separate rounding of the
// product and the sum (no FMA): the very operations of sq() in
// src/ops/kmeans-distances.ts, so each distance has the same bits as the JS
// loops and which path ran never shows in a result.
import {
  BLOCK, BR, BR_IF, body, Code, F64_LOAD, I32_LOAD, F64X2_ADD, F64X2_MUL, F64X2_SPLAT, F64X2_SUB, I32, I32_ADD, I32_GT_S, I32_MUL, I32_SUB,
  instantiate, LOOP, mem, moduleBytes, V128, V128_LOAD, V128_STORE, V128_ZERO, VOID, END,
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

/** The bytes of a module exporting "memory" and dist0, dist1, ... for each center-vector count in `vs`. */
export function kmeansWasmBytes(vs: number[], pages: number): Uint8Array {
  return moduleBytes(pages, vs.map((v, i) => ({ name: `dist${i}`, params: 6, results: [], body: distBody(v) })));
}

type Dist = (idx: number, nrows: number, ct: number, d: number, out: number, rows: number) => void;
interface Exports {
  memory: { buffer: ArrayBuffer };
  [fn: string]: unknown;
}

/** Offsets (float64 elements; idx in int32 elements) and total bytes of a scan's memory. */
interface Layout {
  idx: number;
  out: number;
  rows: number;
  bytes: number;
}

function layoutOf(m: number[], d: number, rows: number): Layout {
  const w = Math.max(...m.map((x) => 2 * Math.ceil(x / 2)));
  const idx = w * d * 2; // int32 elements after the transposed centers
  const out = (idx + SCAN_ROWS) / 2;
  const first = out + SCAN_ROWS * w;
  return { idx, out, rows: first, bytes: (first + rows * d) * 8 };
}

/**
 * One thread's distance kernels for a k-means call, over its own copy of
 * the rows it owns: `m[i]` centers for kernel i (k for Lloyd, the
 * candidates for k-means++), d features. A row is named by its number
 * among the copied rows; offsets are in float64 elements of `f64`.
 */
export class KMeansScan {
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  /** Per kernel: the float64 stride of a transposed feature row and of an output row (2v). */
  readonly width: number[];
  readonly idx: number;
  readonly out: number;
  readonly rows: number;
  private readonly fns: Dist[];

  constructor(exports: Exports, readonly m: number[], readonly d: number, lay: Layout) {
    this.width = m.map((x) => 2 * Math.ceil(x / 2));
    this.idx = lay.idx;
    this.out = lay.out;
    this.rows = lay.rows;
    this.f64 = new Float64Array(exports.memory.buffer, 0, lay.bytes / 8);
    this.i32 = new Int32Array(exports.memory.buffer, 0, this.idx + SCAN_ROWS);
    this.fns = m.map((_, i) => exports[`dist${i}`] as Dist);
  }

  /** Copies `count` rows of d float64 from xs at `at` in as rows 0 .. count - 1. */
  load(xs: Float64Array, at: number, count: number): void {
    this.f64.set(xs.subarray(at, at + count * this.d), this.rows);
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
    this.fns[kernel]!(this.idx * 4, count, 0, this.d, this.out * 8, this.rows * 8);
  }
}

const cache: { key: string; exports: Exports | null } = { key: "", exports: null };

/**
 * This thread's kernels for m[i] centers of d features over `rows` copied
 * rows, or null where WebAssembly SIMD is missing or the copy would pass
 * RESIDENT_BUDGET (the JS loops then run, with the same bits).
 */
export function kmeansScan(m: number[], d: number, rows: number): KMeansScan | null {
  const lay = layoutOf(m, d, rows);
  if (lay.bytes > RESIDENT_BUDGET) return null;
  const vs = m.map((x) => Math.ceil(x / 2));
  // The memory is sized once, at instantiation: growing it would detach its
  // old buffer, and the first detached buffer in a thread costs every typed
  // array access in that thread a detach check from then on (V8's
  // protector), which made the JS around the kernel ~2x slower. Powers of
  // two let calls of similar sizes reuse the last instance.
  const pages = 2 ** Math.ceil(Math.log2(Math.ceil(lay.bytes / 65536)));
  const key = `${vs.join(",")}/${pages}`;
  if (cache.key === key && cache.exports !== null) return new KMeansScan(cache.exports, m, d, lay);
  const exports = instantiate<Exports>(kmeansWasmBytes(vs, pages));
  if (pages * 65536 <= KEEP_BUDGET) {
    cache.key = key;
    cache.exports = exports;
  }
  return exports === null ? null : new KMeansScan(exports, m, d, lay);
}
