// The whole-array sum and moments leaves in WebAssembly SIMD, run over a
// user's array in place: the array lives in a shared WebAssembly.Memory
// (src/memory/wasm-memory.ts) and the module imports that very memory, so
// nothing is copied. One call reduces one whole contiguous block of
// BLOCK = 1024 elements and returns its partial; the blocks' partials are
// merged by the same `tree` as the JS leaves'.
//
// Same additions in the same order as reduce-core.ts's leaves, so the same
// bits (tested on the same data, both paths): a block is 8 pieces of 128;
// a piece has 8 accumulators, element i of the piece going to accumulator
// i % 8 — here accumulators (0,1) (2,3) (4,5) (6,7) are the two lanes of four
// f64x2 vectors, and 8 consecutive elements are one add into each; a piece
// ends as a0 + a1 + (a2 + a3) + (a4 + a5 + (a6 + a7)) (lanes extracted) and
// the block as q0 + q1 + (q2 + q3) + (q4 + q5 + (q6 + q7)). Squares subtract
// the shift, multiply and add as separate operations (no FMA), as JS does.
// float32 data is widened to float64 exactly (f64x2.promote_low_f32x4 of
// two lanes loaded at a time), as the JS leaf reads it.
import {
  BLOCK as BLOCK_OP, BR, BR_IF, Code, END, F32_LOAD, F64, F64_MUL, F64_SQRT, F64_STORE, F64_SUB, I32_EQZ, I32_MUL, SELECT, simd, F64_ADD, F64X2_ADD, F64X2_EXTRACT_LANE, F64X2_MUL, F64X2_PROMOTE_LOW_F32X4, F64X2_SPLAT, F64X2_SUB,
  I32, I32_ADD, I32_SUB, I8X16_SHUFFLE, F64X2_REPLACE_LANE, LOOP, V128, V128_LOAD, V128_LOAD64_ZERO, V128_ZERO, VOID, body, importedMemoryModuleBytes, mem,
} from "./wasm-emit.js";
import { groupBody, tileBody } from "./tile-wasm.js";

/** The few WebAssembly JS API members used here (the project's lib has no wasm types). */
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
};

/** Blocks (whole-array leaves) and tile blocks run in WebAssembly in this thread: tests check that the path ran. @internal */
export const wasmLeafStats = { blocks: 0, tiles: 0 };

/** Elements per call: one reduce-core BLOCK. */
export const WASM_BLOCK = 1024;
const PIECE = 128;

/** The exported leaves: ptr is the block's byte address in the memory. */
export interface ReduceWasm {
  sum64(ptr: number): number;
  sq64(ptr: number, shift: number): number;
  sum32(ptr: number): number;
  sq32(ptr: number, shift: number): number;
  sum64pair(a: number, b: number, out: number): void;
  sum32pair(a: number, b: number, out: number): void;
  /** One block of an axis-0 tile (tile-wasm.ts's tileBody), float32 / float64 lanes. */
  tile32(ptr: number, sa: number, pairs: number, out: number, ls: number): void;
  tileMoments32(ptr: number, sa: number, pairs: number, out: number, ls: number): void;
  tile64(ptr: number, sa: number, pairs: number, out: number, ls: number): void;
  tileMoments64(ptr: number, sa: number, pairs: number, out: number, ls: number): void;
  /** A whole group of 16 blocks and the lanes' tree over them (tile-wasm.ts's groupBody). */
  group32(ptr: number, sa: number, cols: number, scr: number): void;
  groupMoments32(ptr: number, sa: number, cols: number, scr: number): void;
  group64(ptr: number, sa: number, cols: number, scr: number): void;
  groupMoments64(ptr: number, sa: number, cols: number, scr: number): void;
  rows32(ptr: number, step: number, rows: number, m: number, out: number, div: number): void;
  rowsVar32(ptr: number, step: number, rows: number, m: number, out: number, div: number, root: number): void;
}

// Locals: parameters first (ptr, then shift for squares), then the scratch.
const P_PTR = 0, P_SHIFT = 1;

/** One leaf over a whole block: float32 or float64, sums or squared deviations. */
function leafBody(f32: boolean, squares: boolean): number[] {
  // Locals: the parameters, then (in declaration order) the i32 loop counter, six v128 (four
  // accumulators, the splat shift, a loaded pair) and eight f64 piece sums.
  const first = squares ? 2 : 1;
  const li = first;
  const lv = (k: number): number => first + 1 + k;
  const lq = (k: number): number => first + 7 + k;
  const c = new Code();
  if (squares) c.get(P_SHIFT).op(...F64X2_SPLAT).set(lv(4));
  const esz = f32 ? 4 : 8;
  /** Loads elements 2h, 2h+1 of the 8 at ptr + off as an f64x2 (widened for float32). */
  const load = (h: number, off: number): void => {
    c.get(P_PTR);
    if (f32) c.op(...V128_LOAD64_ZERO, ...mem(3, off + h * 8), ...F64X2_PROMOTE_LOW_F32X4);
    else c.op(...V128_LOAD, ...mem(4, off + h * 16));
  };
  const UNROLL = 4; // groups of 8 elements per loop turn
  for (let k = 0; k < 8; k++) {
    for (let h = 0; h < 4; h++) c.op(...V128_ZERO).set(lv(h));
    c.i32(PIECE / (8 * UNROLL)).set(li);
    c.op(LOOP, VOID);
    for (let u = 0; u < UNROLL; u++) {
      for (let h = 0; h < 4; h++) {
        c.get(lv(h));
        load(h, u * 8 * esz);
        if (squares) {
          c.get(lv(4)).op(...F64X2_SUB).tee(lv(5)).get(lv(5)).op(...F64X2_MUL);
        }
        c.op(...F64X2_ADD).set(lv(h));
      }
    }
    c.get(P_PTR).i32(UNROLL * 8 * esz).op(I32_ADD).set(P_PTR);
    c.get(li).i32(1).op(I32_SUB).tee(li).op(BR_IF, 0);
    c.op(END);
    // a0 + a1 + (a2 + a3) + (a4 + a5 + (a6 + a7)), accumulator 2h + lane in vector h.
    const pair = (h: number): void => {
      c.get(lv(h)).op(...F64X2_EXTRACT_LANE(0)).get(lv(h)).op(...F64X2_EXTRACT_LANE(1), F64_ADD);
    };
    pair(0); pair(1); c.op(F64_ADD);
    pair(2); pair(3); c.op(F64_ADD, F64_ADD);
    c.set(lq(k));
  }
  // q0 + q1 + (q2 + q3) + (q4 + q5 + (q6 + q7))
  c.get(lq(0)).get(lq(1)).op(F64_ADD).get(lq(2)).get(lq(3)).op(F64_ADD, F64_ADD);
  c.get(lq(4)).get(lq(5)).op(F64_ADD).get(lq(6)).get(lq(7)).op(F64_ADD, F64_ADD, F64_ADD);
  return body([[1, I32], [6, V128], [8, F64]], c.c);
}

/**
 * `leafBody`'s sum over two whole blocks at once (params: their addresses A
 * and B, and where the two sums go: out, out + 8): each block's additions
 * exactly as the one-block leaf makes them, the loads of the two interleaved,
 * so a thread has two streams of misses in flight instead of one. (An array
 * in a Memory sits on 4 KiB pages, where the hardware prefetcher restarts at
 * each page.)
 */
function pairLeafBody(f32: boolean): number[] {
  const P_A = 0, P_B = 1, P_OUT = 2;
  const li = 3;
  const lv = (s: number, k: number): number => 4 + s * 4 + k;
  const lq = (s: number, k: number): number => 12 + s * 8 + k;
  const c = new Code();
  const esz = f32 ? 4 : 8;
  const UNROLL = 4;
  for (let k = 0; k < 8; k++) {
    for (let s = 0; s < 2; s++) for (let h = 0; h < 4; h++) c.op(...V128_ZERO).set(lv(s, h));
    c.i32(PIECE / (8 * UNROLL)).set(li);
    c.op(LOOP, VOID);
    for (let u = 0; u < UNROLL; u++) {
      for (let h = 0; h < 4; h++) {
        for (let s = 0; s < 2; s++) {
          c.get(lv(s, h)).get(s === 0 ? P_A : P_B);
          const off = u * 8 * esz;
          if (f32) c.op(...V128_LOAD64_ZERO, ...mem(3, off + h * 8), ...F64X2_PROMOTE_LOW_F32X4);
          else c.op(...V128_LOAD, ...mem(4, off + h * 16));
          c.op(...F64X2_ADD).set(lv(s, h));
        }
      }
    }
    c.get(P_A).i32(UNROLL * 8 * esz).op(I32_ADD).set(P_A);
    c.get(P_B).i32(UNROLL * 8 * esz).op(I32_ADD).set(P_B);
    c.get(li).i32(1).op(I32_SUB).tee(li).op(BR_IF, 0);
    c.op(END);
    for (let s = 0; s < 2; s++) {
      const pair = (h: number): void => {
        c.get(lv(s, h)).op(...F64X2_EXTRACT_LANE(0)).get(lv(s, h)).op(...F64X2_EXTRACT_LANE(1), F64_ADD);
      };
      pair(0); pair(1); c.op(F64_ADD);
      pair(2); pair(3); c.op(F64_ADD, F64_ADD);
      c.set(lq(s, k));
    }
  }
  for (let s = 0; s < 2; s++) {
    c.get(P_OUT);
    c.get(lq(s, 0)).get(lq(s, 1)).op(F64_ADD).get(lq(s, 2)).get(lq(s, 3)).op(F64_ADD, F64_ADD);
    c.get(lq(s, 4)).get(lq(s, 5)).op(F64_ADD).get(lq(s, 6)).get(lq(s, 7)).op(F64_ADD, F64_ADD, F64_ADD);
    c.op(F64_STORE, ...mem(3, s * 8));
  }
  return body([[1, I32], [8, V128], [16, F64]], c.c);
}

/** f64x2.div (lanewise IEEE division, as JS's). */
const F64X2_DIV = simd(0xf3);

const F64_PROMOTE_F32 = 0xbb, F64_DIV = 0xa3, F64_CONVERT_I32_S = 0xb7, I32_AND = 0x71, I32_SHR_U = 0x76;
const F64X2_SQRT = simd(0xef);
/** select with a v128 result type (the untyped select takes numbers only). */
const SELECT_V128 = [0x1c, 1, V128];

/**
 * The short-row leaves (axis 1 of a float32 table whose rows are at most 128
 * contiguous elements, reduce-axis.ts's rowsUnit): for each of `rows` rows
 * (the first at ptr, the next `step` bytes on), the row's sum exactly as the
 * JS loop adds it — elements 8g + k (k < 8) into accumulator k, accumulators
 * (0,1) (2,3) (4,5) (6,7) being the lanes of four f64x2; the m % 8 tail into
 * a0; then a0 + a1 + (a2 + a3) + (a4 + a5 + (a6 + a7)) — divided by `div`
 * (1 for a sum: s / 1 is s to the bit) and stored at out, out + 8, ...
 * With squares: the deviations from the row's mean (its sum / m) summed the
 * same way, divided by div, then the square root when `root` is non-zero.
 */
function rowsBody(squares: boolean): number[] {
  const P_STEP = 1, P_ROWS = 2, P_M = 3, P_OUT = 4, P_DIV = 5, P_ROOT = 6;
  const np = squares ? 7 : 6;
  const L_G = np, L_T = np + 1, L_Q = np + 2;
  const L_A0 = np + 3, L_SH = np + 4, L_TMP = np + 5;
  // v128 locals: row A's four accumulators (vb = 0), row B's (vb = 4), a widened pair (8), row A's
  // and row B's shift (9, 10), the two rows' results (11).
  const V0 = np + 6;
  const v = (k: number): number => V0 + k;
  const c = new Code();
  /**
   * One row's pass from address L_Q: elements 8g + k into accumulator k (lanes of v(vb) .. v(vb + 3)),
   * the m % 8 tail into a0, which goes back into lane 0 of v(vb); with `dev`, (x - shift)^2, the
   * shift splatted in v(sh).
   */
  const pass = (vb: number, dev: boolean, sh: number): void => {
    for (let k = 0; k < 4; k++) c.op(...V128_ZERO).set(v(vb + k));
    c.get(P_M).i32(3).op(I32_SHR_U).set(L_G);
    c.op(BLOCK_OP, VOID, LOOP, VOID);
    c.get(L_G).op(I32_EQZ, BR_IF, 1);
    for (let h = 0; h < 4; h++) {
      c.get(v(vb + h)).get(L_Q).op(...V128_LOAD64_ZERO, ...mem(3, h * 8), ...F64X2_PROMOTE_LOW_F32X4);
      if (dev) c.get(v(sh)).op(...F64X2_SUB).tee(v(8)).get(v(8)).op(...F64X2_MUL);
      c.op(...F64X2_ADD).set(v(vb + h));
    }
    c.get(L_Q).i32(32).op(I32_ADD).set(L_Q);
    c.get(L_G).i32(1).op(I32_SUB).set(L_G);
    c.op(BR, 0, END, END);
    c.get(P_M).i32(7).op(I32_AND).set(L_T);
    c.op(BLOCK_OP, VOID);
    c.get(L_T).op(I32_EQZ, BR_IF, 0);
    c.get(v(vb)).op(...F64X2_EXTRACT_LANE(0)).set(L_A0);
    if (dev) c.get(v(sh)).op(...F64X2_EXTRACT_LANE(0)).set(L_SH);
    c.op(LOOP, VOID);
    c.get(L_A0).get(L_Q).op(F32_LOAD, ...mem(2, 0), F64_PROMOTE_F32);
    if (dev) c.get(L_SH).op(F64_SUB).tee(L_TMP).get(L_TMP).op(F64_MUL);
    c.op(F64_ADD).set(L_A0);
    c.get(L_Q).i32(4).op(I32_ADD).set(L_Q);
    c.get(L_T).i32(1).op(I32_SUB).tee(L_T).op(BR_IF, 0);
    c.op(END);
    c.get(v(vb)).get(L_A0).op(...F64X2_REPLACE_LANE(0)).set(v(vb));
    c.op(END);
  };
  /**
   * Rows A and B's ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) as the two lanes of one
   * f64x2: lanes 0 of both rows' vectors k against lanes 1, then the pairwise sums, lanewise.
   */
  const LO = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
  const HI = [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31];
  const pairOf = (k: number): void => {
    c.get(v(k)).get(v(4 + k)).op(...I8X16_SHUFFLE(LO));
    c.get(v(k)).get(v(4 + k)).op(...I8X16_SHUFFLE(HI));
    c.op(...F64X2_ADD);
  };
  const combine2 = (): void => {
    pairOf(0); pairOf(1); c.op(...F64X2_ADD);
    pairOf(2); pairOf(3); c.op(...F64X2_ADD, ...F64X2_ADD);
  };
  /** The same for one row (A): a0 + a1 + (a2 + a3) + (a4 + a5 + (a6 + a7)) as a scalar. */
  const combine1 = (): void => {
    c.get(v(0)).op(...F64X2_EXTRACT_LANE(0)).get(v(0)).op(...F64X2_EXTRACT_LANE(1), F64_ADD);
    c.get(v(1)).op(...F64X2_EXTRACT_LANE(0)).get(v(1)).op(...F64X2_EXTRACT_LANE(1), F64_ADD, F64_ADD);
    c.get(v(2)).op(...F64X2_EXTRACT_LANE(0)).get(v(2)).op(...F64X2_EXTRACT_LANE(1), F64_ADD);
    c.get(v(3)).op(...F64X2_EXTRACT_LANE(0)).get(v(3)).op(...F64X2_EXTRACT_LANE(1), F64_ADD, F64_ADD, F64_ADD);
  };
  // Two rows a turn, i and i + half (two streams of misses), their sums (and squared deviations)
  // combined and divided as one f64x2; lane 0 to out[i], lane 1 to out[i + half].
  const L_HALF = np + 18, L_BOFF = np + 19, L_OOFF = np + 20;
  c.get(P_ROWS).i32(1).op(I32_SHR_U).tee(L_HALF).get(P_STEP).op(I32_MUL).set(L_BOFF);
  c.get(L_HALF).i32(8).op(I32_MUL).set(L_OOFF);
  c.op(BLOCK_OP, VOID, LOOP, VOID);
  c.get(L_HALF).op(I32_EQZ, BR_IF, 1);
  c.get(P_PTR).set(L_Q);
  pass(0, false, 0);
  c.get(P_PTR).get(L_BOFF).op(I32_ADD).set(L_Q);
  pass(4, false, 0);
  combine2();
  if (squares) {
    // The rows' means (sum / m, lanewise), each splatted for its row's second pass.
    c.get(P_M).op(F64_CONVERT_I32_S, ...F64X2_SPLAT, ...F64X2_DIV).set(v(11));
    c.get(v(11)).get(v(11)).op(...I8X16_SHUFFLE(LO.slice(0, 8).concat(LO.slice(0, 8)))).set(v(9));
    c.get(v(11)).get(v(11)).op(...I8X16_SHUFFLE(HI.slice(0, 8).concat(HI.slice(0, 8)))).set(v(10));
    c.get(P_PTR).set(L_Q);
    pass(0, true, 9);
    c.get(P_PTR).get(L_BOFF).op(I32_ADD).set(L_Q);
    pass(4, true, 10);
    combine2();
  }
  c.get(P_DIV).op(...F64X2_SPLAT, ...F64X2_DIV);
  if (squares) c.tee(v(11)).op(...F64X2_SQRT).get(v(11)).get(P_ROOT).op(...SELECT_V128);
  c.set(v(11));
  c.get(P_OUT).get(v(11)).op(...F64X2_EXTRACT_LANE(0), F64_STORE, ...mem(3, 0));
  c.get(P_OUT).get(L_OOFF).op(I32_ADD).get(v(11)).op(...F64X2_EXTRACT_LANE(1), F64_STORE, ...mem(3, 0));
  c.get(P_PTR).get(P_STEP).op(I32_ADD).set(P_PTR);
  c.get(P_OUT).i32(8).op(I32_ADD).set(P_OUT);
  c.get(L_HALF).i32(1).op(I32_SUB).set(L_HALF);
  c.op(BR, 0, END, END);
  // Row 2 * half, the last of an odd count, alone.
  c.get(P_PTR).get(L_BOFF).op(I32_ADD).set(P_PTR);
  c.get(P_OUT).get(L_OOFF).op(I32_ADD).set(P_OUT);
  c.get(P_ROWS).i32(1).op(I32_AND).set(P_ROWS);
  // The last row of an odd count alone.
  c.op(BLOCK_OP, VOID);
  c.get(P_ROWS).op(I32_EQZ, BR_IF, 0);
  c.get(P_PTR).set(L_Q);
  if (!squares) {
    c.get(P_OUT);
    pass(0, false, 0);
    combine1();
    c.get(P_DIV).op(F64_DIV, F64_STORE, ...mem(3, 0));
  } else {
    pass(0, false, 0);
    combine1();
    c.get(P_M).op(F64_CONVERT_I32_S, F64_DIV).op(...F64X2_SPLAT).set(v(9));
    c.get(P_PTR).set(L_Q);
    pass(0, true, 9);
    combine1();
    c.get(P_DIV).op(F64_DIV).set(L_TMP);
    c.get(P_OUT).get(L_TMP).op(F64_SQRT).get(L_TMP).get(P_ROOT).op(SELECT, F64_STORE, ...mem(3, 0));
  }
  c.op(END);
  return body([[3, I32], [3, F64], [12, V128], [3, I32]], c.c);
}

let compiled: object | null | undefined;

/** The compiled module, once per thread; null where WebAssembly SIMD is missing or refuses it. */
function reduceModule(): object | null {
  if (compiled === undefined) {
    try {
      const bytes = importedMemoryModuleBytes([
        { name: "sum64", params: [I32], results: [F64], body: leafBody(false, false) },
        { name: "sq64", params: [I32, F64], results: [F64], body: leafBody(false, true) },
        { name: "sum32", params: [I32], results: [F64], body: leafBody(true, false) },
        { name: "sq32", params: [I32, F64], results: [F64], body: leafBody(true, true) },
        { name: "sum64pair", params: [I32, I32, I32], results: [], body: pairLeafBody(false) },
        { name: "sum32pair", params: [I32, I32, I32], results: [], body: pairLeafBody(true) },
        { name: "tile32", params: 5, results: [], body: tileBody(true, false) },
        { name: "tileMoments32", params: 5, results: [], body: tileBody(true, true) },
        { name: "tile64", params: 5, results: [], body: tileBody(false, false) },
        { name: "tileMoments64", params: 5, results: [], body: tileBody(false, true) },
        { name: "group32", params: 4, results: [], body: groupBody(true, false) },
        { name: "groupMoments32", params: 4, results: [], body: groupBody(true, true) },
        { name: "group64", params: 4, results: [], body: groupBody(false, false) },
        { name: "groupMoments64", params: 4, results: [], body: groupBody(false, true) },
        { name: "rows32", params: [I32, I32, I32, I32, I32, F64], results: [], body: rowsBody(false) },
        { name: "rowsVar32", params: [I32, I32, I32, I32, I32, F64, I32], results: [], body: rowsBody(true) },
      ]);
      compiled = typeof WebAssembly === "object" && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

const instances = new WeakMap<object, ReduceWasm | null>();

/**
 * The leaves instantiated over `memory` (cached per Memory in this thread),
 * or null where WebAssembly SIMD is unavailable: the caller keeps the JS leaf.
 */
export function reduceWasmFor(memory: object): ReduceWasm | null {
  let inst = instances.get(memory);
  if (inst === undefined) {
    const mod = reduceModule();
    try {
      inst = mod === null ? null : (new WebAssembly.Instance(mod, { env: { memory } }).exports as ReduceWasm);
    } catch {
      inst = null;
    }
    instances.set(memory, inst);
  }
  return inst;
}

/** Test hook: forget the compiled module so the next call compiles again. @internal */
export function resetReduceWasm(): void {
  compiled = undefined;
}
