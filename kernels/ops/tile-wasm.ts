// The axis-0 tile leaves in WebAssembly SIMD (reduce-axis.ts's fastTiles):
// a row-major table in a shared WebAssembly.Memory, lanes adjacent in memory,
// two lanes per f64x2 so that each vector lane is one output lane and every
// operation is the scalar leaf's on that lane (reduce-core.ts's `piece`):
// row i of a block of TILE_ROWS = 128 rows into accumulator i % 8, then
// ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)); with squares, the block's
// mean (its sum / 128) then the squared deviations from it (momentsLeaf).
//
// Two shapes of leaf, float32 (widened exactly) and float64:
// - `tileBody`: one block of 128 rows; each lane's partial stored for the JS
//   tree (partial groups, at most one per lane per call);
// - `groupBody`: a whole group of ROW_GROUP = 16 blocks (2,048 rows) and
//   the lanes' tree over those 16 blocks as well, lanewise in f64x2, in the
//   order of reduce-core's sumTree / momentsTree (same operations on each
//   lane: the same bits). The JS tree of 16 partials per lane per group and
//   16 calls per group were ~2-3 ms of an 11-13 ms mean along axis 0 of
//   1M x 24 float32.
import {
  BLOCK as BLOCK_OP, BR, BR_IF, Code, END, F64_STORE, F64X2_ADD, F64X2_EXTRACT_LANE, F64X2_MUL, F64X2_PROMOTE_LOW_F32X4, F64X2_SPLAT, F64X2_SUB,
  I32, I32_ADD, I32_AND, I32_EQ, I32_EQZ, I32_LT_U, I32_MUL, I32_SUB, LOOP, V128, V128_LOAD, V128_LOAD64_ZERO, V128_STORE, V128_ZERO, VOID, body, mem, simd,
} from "./wasm-emit.js";

/** Rows per block of the tile leaves: one ROW_BLOCK (reduce-core.ts), one `piece`. */
export const TILE_ROWS = 128;
/** Blocks per group of `groupBody`: one ROW_GROUP (reduce-core.ts). */
export const GROUP_BLOCKS = 16;
/** Bytes from the group leaf's scratch address to its block partials; the finished lanes go below (at most 65 lanes x 3 values). */
export const GROUP_PART_OFF = 2048;
/** Lane pairs (an odd last lane counting as one) the group leaf's scratch has room for: COL_TILE = 64 lanes. */
const GROUP_MAX_PAIRS = 32;
/** Bytes from the group leaf's scratch address to the row pass's accumulators (after the block partials). */
const GROUP_ACC_OFF = GROUP_PART_OFF + GROUP_MAX_PAIRS * GROUP_BLOCKS * 32;
/** Bytes of scratch the group leaf needs: the finished lanes, the block partials, 8 accumulators per lane pair. */
export const GROUP_SCRATCH_BYTES = GROUP_ACC_OFF + 8 * GROUP_MAX_PAIRS * 16;

/** f64x2.div (lanewise IEEE division, as JS's). */
const F64X2_DIV = simd(0xf3);
/** i32.shr_u (wasm-emit.ts does not name it). */
const I32_SHR_U = 0x76;
/** v128.load32_zero: 4 bytes into lane 0 (one float32 lane; the other reads as 0). */
const V128_LOAD32_ZERO = simd(0x5c);

/** Locals shared by the walk: the v128 accumulators and temporaries after the caller's own locals. */
interface Walk {
  c: Code;
  f32: boolean;
  /** i32 locals: the row pointer, the row counter; the row step (bytes) parameter. */
  q: number;
  r: number;
  sa: number;
  /** v128 locals: v(0..7) accumulators, v(8) the result, v(9) a temporary, v(10) the splatted shift. */
  v: (k: number) => number;
}

/**
 * One lane pair's pass over TILE_ROWS rows from the address in local `from`:
 * row i into accumulator i % 8, combined into v(8). With `dev`, (x - shift)^2,
 * the shift splatted in v(10). `half`: only the pair's first lane is loaded
 * (an odd last lane; the second vector lane reads 0 and is never stored).
 */
function walk(w: Walk, from: number, dev: boolean, half: boolean): void {
  const { c, v } = w;
  for (let k = 0; k < 8; k++) c.op(...V128_ZERO).set(v(k));
  c.get(from).set(w.q);
  c.i32(TILE_ROWS / 8).set(w.r);
  c.op(LOOP, VOID);
  for (let k = 0; k < 8; k++) {
    c.get(v(k)).get(w.q);
    if (w.f32) c.op(...(half ? V128_LOAD32_ZERO : V128_LOAD64_ZERO), ...mem(half ? 2 : 3, 0), ...F64X2_PROMOTE_LOW_F32X4);
    else c.op(...(half ? V128_LOAD64_ZERO : V128_LOAD), ...mem(3, 0));
    if (dev) c.get(v(10)).op(...F64X2_SUB).tee(v(9)).get(v(9)).op(...F64X2_MUL);
    c.op(...F64X2_ADD).set(v(k));
    c.get(w.q).get(w.sa).op(I32_ADD).set(w.q);
  }
  c.get(w.r).i32(1).op(I32_SUB).tee(w.r).op(BR_IF, 0);
  c.op(END);
  // ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)), lanewise.
  c.get(v(0)).get(v(1)).op(...F64X2_ADD).get(v(2)).get(v(3)).op(...F64X2_ADD, ...F64X2_ADD);
  c.get(v(4)).get(v(5)).op(...F64X2_ADD).get(v(6)).get(v(7)).op(...F64X2_ADD, ...F64X2_ADD, ...F64X2_ADD).set(v(8));
}

/**
 * One block (TILE_ROWS rows) of `pairs` lane pairs. Params: ptr (the
 * block's first element of lane 0), sa (bytes between rows), pairs, out
 * (where lane 0's partial goes), ls (bytes between consecutive lanes'
 * partials). A partial is the sum, or with squares (count, mean, sum of
 * squared deviations).
 */
export function tileBody(f32: boolean, squares: boolean): number[] {
  const P_PTR = 0, P_SA = 1, P_PAIRS = 2, P_OUT = 3, P_LS = 4;
  const w: Walk = { c: new Code(), f32, q: 6, r: 5, sa: P_SA, v: (k) => 7 + k };
  const { c, v } = w;
  /** f64.store at out (+ ls for lane 1) + off. */
  const store = (lane: number, off: number, value: () => void): void => {
    c.get(P_OUT);
    if (lane === 1) c.get(P_LS).op(I32_ADD);
    value();
    c.op(F64_STORE, ...mem(3, off));
  };
  c.op(BLOCK_OP, VOID, LOOP, VOID);
  c.get(P_PAIRS).op(I32_EQZ, BR_IF, 1);
  walk(w, P_PTR, false, false);
  if (!squares) {
    for (const lane of [0, 1]) store(lane, 0, () => c.get(v(8)).op(...F64X2_EXTRACT_LANE(lane)));
  } else {
    c.get(v(8)).f64(TILE_ROWS).op(...F64X2_SPLAT, ...F64X2_DIV).set(v(10));
    walk(w, P_PTR, true, false);
    for (const lane of [0, 1]) {
      store(lane, 0, () => c.f64(TILE_ROWS));
      store(lane, 8, () => c.get(v(10)).op(...F64X2_EXTRACT_LANE(lane)));
      store(lane, 16, () => c.get(v(8)).op(...F64X2_EXTRACT_LANE(lane)));
    }
  }
  c.get(P_PTR).i32(f32 ? 8 : 16).op(I32_ADD).set(P_PTR);
  c.get(P_OUT).get(P_LS).i32(2).op(I32_MUL, I32_ADD).set(P_OUT);
  c.get(P_PAIRS).i32(1).op(I32_SUB).set(P_PAIRS);
  c.op(BR, 0, END, END);
  return body([[2, I32], [11, V128]], c.c);
}

/**
 * A whole group: GROUP_BLOCKS blocks of TILE_ROWS rows of `cols` lanes, and
 * each lane's tree over them. Params: ptr (block 0's first element of lane
 * 0), sa (bytes between rows), cols (lanes, at most 64), scr (scratch bytes,
 * GROUP_SCRATCH_BYTES of them). Lane j's finished group partial (the sum, or
 * count, mean, M2) goes to scr + j * W * 8 (W = 1 or 3) as float64; the block
 * partials, as f64x2 per lane pair, at scr + GROUP_PART_OFF: pair p's block b
 * at (p * 16 + b) * 16 (sums) or * 32 (mean, then M2).
 *
 * A block's sums are one pass over its rows in address order (`rowPass`):
 * row i's lane pair p added into accumulator (i % 8, p), kept in the scratch
 * (8 per pair do not fit in registers). Walking each lane pair down the
 * block instead (`walk`, accumulators in registers) is faster in cache but
 * reads the block in 12 strided sweeps, which the hardware prefetcher follows
 * poorly from DRAM (4 KiB pages of a Memory): 1M x 24 float32, one thread,
 * the leaf alone, 5.4-5.6 ms against 7.0-7.3 from DRAM, 4.9 against 4.0 in
 * cache. The squared deviations (the block is in cache by then) keep `walk`.
 *
 * The trees then run per lane pair on both lanes at once: sumTree(16) is
 * ((b0 + b1) + (b2 + b3)) + ... ; the moments' Chan merges take their counts
 * as constants (every block is whole: 128 * 2^k on each side), computed as
 * momentsTree computes them: mean_a + (delta * nb) / n,
 * M2_a + M2_b + ((delta * delta * na) / n) * nb.
 */
export function groupBody(f32: boolean, squares: boolean): number[] {
  const P_PTR = 0, P_SA = 1, P_COLS = 2, P_SCR = 3;
  const L_B = 4, L_BP = 5, L_LP = 6, L_SP = 7, L_P = 8, L_R = 9, L_Q = 10, L_PP = 11;
  const L_A = 12, L_X = 13, L_RO = 14, L_KS = 15, L_N = 16;
  const V0 = 17;
  const w: Walk = { c: new Code(), f32, q: L_Q, r: L_R, sa: P_SA, v: (k) => V0 + k };
  const { c, v } = w;
  const VB = squares ? 32 : 16; // bytes of one block partial of a pair
  const esz = f32 ? 4 : 8;
  const W = squares ? 3 : 1;
  /** Loads the lane pair at L_X + off as an f64x2 (one lane with `half`). */
  const loadX = (off: number, half: boolean): void => {
    c.get(L_X);
    if (f32) c.op(...(half ? V128_LOAD32_ZERO : V128_LOAD64_ZERO), ...mem(half ? 2 : 3, off), ...F64X2_PROMOTE_LOW_F32X4);
    else c.op(...(half ? V128_LOAD64_ZERO : V128_LOAD), ...mem(3, off));
  };
  /** acc[L_A + u * 16] (+)= the pair at L_X + u * 2 * esz; `first`: 0 + x, nothing loaded. */
  const step = (u: number, first: boolean, half: boolean): void => {
    c.get(L_A);
    if (first) c.op(...V128_ZERO);
    else c.get(L_A).op(...V128_LOAD, ...mem(4, u * 16));
    loadX(u * 2 * esz, half);
    c.op(...F64X2_ADD, ...V128_STORE, ...mem(4, u * 16));
  };
  /**
   * One row from L_X: its full pairs four, then one at a time, then the odd last lane; L_A moves
   * on by a pair's accumulator each (so after a row it is the next row's accumulator k).
   */
  const row = (first: boolean): void => {
    const UNROLL = 4;
    c.get(P_COLS).i32(3).op(I32_SHR_U).set(L_N);
    c.op(BLOCK_OP, VOID, LOOP, VOID);
    c.get(L_N).op(I32_EQZ, BR_IF, 1);
    for (let u = 0; u < UNROLL; u++) step(u, first, false);
    c.get(L_A).i32(UNROLL * 16).op(I32_ADD).set(L_A);
    c.get(L_X).i32(UNROLL * 2 * esz).op(I32_ADD).set(L_X);
    c.get(L_N).i32(1).op(I32_SUB).set(L_N);
    c.op(BR, 0, END, END);
    c.get(P_COLS).i32(1).op(I32_SHR_U).i32(UNROLL - 1).op(I32_AND).set(L_N);
    c.op(BLOCK_OP, VOID, LOOP, VOID);
    c.get(L_N).op(I32_EQZ, BR_IF, 1);
    step(0, first, false);
    c.get(L_A).i32(16).op(I32_ADD).set(L_A);
    c.get(L_X).i32(2 * esz).op(I32_ADD).set(L_X);
    c.get(L_N).i32(1).op(I32_SUB).set(L_N);
    c.op(BR, 0, END, END);
    c.op(BLOCK_OP, VOID);
    c.get(P_COLS).i32(1).op(I32_AND, I32_EQZ, BR_IF, 0);
    step(0, first, true);
    c.get(L_A).i32(16).op(I32_ADD).set(L_A);
    c.op(END);
  };
  /** Rows of the block at L_BP in address order: 8 rows at a time, row k of the 8 into accumulator k. */
  const rowPass = (): void => {
    c.get(P_SCR).i32(GROUP_ACC_OFF).op(I32_ADD).set(L_A);
    c.get(L_BP).set(L_Q);
    for (let k = 0; k < 8; k++) {
      c.get(L_Q).set(L_X);
      row(true);
      c.get(L_Q).get(P_SA).op(I32_ADD).set(L_Q);
    }
    c.i32(TILE_ROWS / 8 - 1).set(L_RO);
    c.op(LOOP, VOID);
    c.get(P_SCR).i32(GROUP_ACC_OFF).op(I32_ADD).set(L_A);
    c.i32(8).set(L_R);
    c.op(LOOP, VOID);
    c.get(L_Q).set(L_X);
    row(false);
    c.get(L_Q).get(P_SA).op(I32_ADD).set(L_Q);
    c.get(L_R).i32(1).op(I32_SUB).tee(L_R).op(BR_IF, 0);
    c.op(END);
    c.get(L_RO).i32(1).op(I32_SUB).tee(L_RO).op(BR_IF, 0);
    c.op(END);
  };
  // Blocks: L_BP the block's lane-0 address, L_SP the slot of pair 0 for this block.
  c.get(P_COLS).i32(1).op(I32_ADD).i32(1).op(I32_SHR_U).i32(16).op(I32_MUL).set(L_KS);
  c.get(P_PTR).set(L_BP);
  c.i32(0).set(L_B);
  c.op(LOOP, VOID);
  rowPass();
  // Per pair: ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) from the accumulators (pair p's
  // accumulator k at GROUP_ACC_OFF + (k * pairs + p) * 16), then the squared deviations.
  c.get(L_BP).set(L_LP);
  c.get(P_SCR).i32(GROUP_PART_OFF).op(I32_ADD).get(L_B).i32(VB).op(I32_MUL, I32_ADD).set(L_SP);
  c.get(P_SCR).i32(GROUP_ACC_OFF).op(I32_ADD).set(L_A);
  c.get(P_COLS).i32(1).op(I32_ADD).i32(1).op(I32_SHR_U).set(L_P);
  c.op(LOOP, VOID);
  const acc = (k: number): void => {
    c.get(L_A);
    if (k > 0) c.get(L_KS).i32(k).op(I32_MUL, I32_ADD);
    c.op(...V128_LOAD, ...mem(4, 0));
  };
  acc(0); acc(1); c.op(...F64X2_ADD); acc(2); acc(3); c.op(...F64X2_ADD, ...F64X2_ADD);
  acc(4); acc(5); c.op(...F64X2_ADD); acc(6); acc(7); c.op(...F64X2_ADD, ...F64X2_ADD, ...F64X2_ADD).set(v(8));
  if (!squares) {
    c.get(L_SP).get(v(8)).op(...V128_STORE, ...mem(4, 0));
  } else {
    c.get(v(8)).f64(TILE_ROWS).op(...F64X2_SPLAT, ...F64X2_DIV).set(v(10));
    // The last pair of an odd count is one lane: its walk loads that lane only.
    c.op(BLOCK_OP, VOID, BLOCK_OP, VOID);
    c.get(L_P).i32(1).op(I32_EQ).get(P_COLS).i32(1).op(I32_AND).op(I32_AND, BR_IF, 0);
    walk(w, L_LP, true, false);
    c.op(BR, 1, END);
    walk(w, L_LP, true, true);
    c.op(END);
    c.get(L_SP).get(v(10)).op(...V128_STORE, ...mem(4, 0));
    c.get(L_SP).get(v(8)).op(...V128_STORE, ...mem(4, 16));
  }
  c.get(L_SP).i32(GROUP_BLOCKS * VB).op(I32_ADD).set(L_SP);
  c.get(L_LP).i32(2 * esz).op(I32_ADD).set(L_LP);
  c.get(L_A).i32(16).op(I32_ADD).set(L_A);
  c.get(L_P).i32(1).op(I32_SUB).tee(L_P).op(BR_IF, 0);
  c.op(END);
  c.get(L_BP).get(P_SA).i32(TILE_ROWS).op(I32_MUL, I32_ADD).set(L_BP);
  c.get(L_B).i32(1).op(I32_ADD).tee(L_B).i32(GROUP_BLOCKS).op(I32_LT_U, BR_IF, 0);
  c.op(END);

  // Trees: per pair (L_PP its block partials, L_SP where its lane 0 goes), both lanes at once.
  c.get(P_SCR).i32(GROUP_PART_OFF).op(I32_ADD).set(L_PP);
  c.get(P_SCR).set(L_SP);
  c.get(P_COLS).i32(1).op(I32_ADD).i32(1).op(I32_SHR_U).set(L_P);
  c.op(BLOCK_OP, VOID, LOOP, VOID);
  c.get(L_P).op(I32_EQZ, BR_IF, 1);
  const load = (b: number, at: number): void => {
    c.get(L_PP).op(...V128_LOAD, ...mem(4, b * VB + at));
  };
  if (!squares) {
    // sumTree(lo, n): n = 1 a load, n = 2 one add, else the halves' totals added.
    const sumTree = (lo: number, n: number): void => {
      if (n === 1) return load(lo, 0);
      if (n === 2) {
        load(lo, 0);
        load(lo + 1, 0);
        c.op(...F64X2_ADD);
        return;
      }
      const h = n >> 1;
      sumTree(lo, h);
      sumTree(lo + h, n - h);
      c.op(...F64X2_ADD);
    };
    sumTree(0, GROUP_BLOCKS);
    c.set(v(8));
  } else {
    // momentsTree(lo, n) in place: the halves, then b = lo + h merged into a = lo.
    const DELTA = v(9);
    const momentsTree = (lo: number, n: number): void => {
      if (n <= 1) return;
      const h = n >> 1;
      momentsTree(lo, h);
      momentsTree(lo + h, n - h);
      const na = h * TILE_ROWS, nb = (n - h) * TILE_ROWS, m = na + nb;
      const a = lo, b = lo + h;
      load(b, 0);
      load(a, 0);
      c.op(...F64X2_SUB).set(DELTA);
      // M2: a.M2 + b.M2 + ((delta * delta * na) / m) * nb
      c.get(L_PP);
      load(a, 16);
      load(b, 16);
      c.op(...F64X2_ADD);
      c.get(DELTA).get(DELTA).op(...F64X2_MUL).f64(na).op(...F64X2_SPLAT, ...F64X2_MUL).f64(m).op(...F64X2_SPLAT, ...F64X2_DIV);
      c.f64(nb).op(...F64X2_SPLAT, ...F64X2_MUL, ...F64X2_ADD);
      c.op(...V128_STORE, ...mem(4, a * VB + 16));
      // mean: a.mean + (delta * nb) / m
      c.get(L_PP);
      load(a, 0);
      c.get(DELTA).f64(nb).op(...F64X2_SPLAT, ...F64X2_MUL).f64(m).op(...F64X2_SPLAT, ...F64X2_DIV, ...F64X2_ADD);
      c.op(...V128_STORE, ...mem(4, a * VB));
    };
    momentsTree(0, GROUP_BLOCKS);
  }
  // Lane 0 of the pair to L_SP, lane 1 to L_SP + W * 8 (an odd last lane writes one slot past
  // the lanes: the scratch has room for it).
  for (const lane of [0, 1]) {
    if (!squares) {
      c.get(L_SP).get(v(8)).op(...F64X2_EXTRACT_LANE(lane), F64_STORE, ...mem(3, lane * 8));
    } else {
      c.get(L_SP).f64(GROUP_BLOCKS * TILE_ROWS).op(F64_STORE, ...mem(3, lane * 24));
      c.get(L_SP);
      load(0, 0);
      c.op(...F64X2_EXTRACT_LANE(lane), F64_STORE, ...mem(3, lane * 24 + 8));
      c.get(L_SP);
      load(0, 16);
      c.op(...F64X2_EXTRACT_LANE(lane), F64_STORE, ...mem(3, lane * 24 + 16));
    }
  }
  c.get(L_SP).i32(2 * W * 8).op(I32_ADD).set(L_SP);
  c.get(L_PP).i32(GROUP_BLOCKS * VB).op(I32_ADD).set(L_PP);
  c.get(L_P).i32(1).op(I32_SUB).set(L_P);
  c.op(BR, 0, END, END);
  return body([[13, I32], [11, V128]], c.c);
}
