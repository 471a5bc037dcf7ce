// The hot loops of ops.kmeans in WebAssembly SIMD, emitted as bytes at run
// time (wasm-emit.ts; nothing to build or download): Lloyd's assignment
// step (assign), a k-means++ step (plusPlus), each row's distance to its
// own center (rowDist) and phase 0's sums (stats, devs), each over one
// worker's copy of the rows it owns, in the module's memory (WebAssembly
// cannot address the caller's SharedArrayBuffer). Lloyd's distances are
// computed against centers held transposed (feature-major, two centers per
// f64x2 lane pair; k-means++ and rowDist put two rows on the lanes instead),
// each lane summing (x_f - c_f)^2 over the features in order with separate
// rounding of the product and the sum (no FMA): the very operations of sq()
// in src/ops/kmeans-distances.ts. Everything else (bounds, ties, sums) is
// the JS path's arithmetic in the JS path's order, so which path ran never
// shows in a result (test/ops/kmeans-wasm.test.ts compares them).
import {
  BLOCK, BR, BR_IF, body, Code, ELSE, END, F64, F64_ADD, F64_EQ, F64_GE, F64_LOAD, F64_LT, F64_MAX, F64_MUL, F64_SQRT, F64_STORE, F64_SUB, F64X2_ADD,
  F64X2_EQ, F64X2_EXTRACT_LANE, F64X2_MUL, F64X2_PMAX, F64X2_PMIN, F64X2_REPLACE_LANE, F64X2_SPLAT, F64X2_SUB, I32_AND, I32_CTZ, I32_OR, I32X4_REPLACE_LANE, I32X4_SPLAT, V128_BITSELECT, I64X2_BITMASK, I8X16_SHUFFLE, I32, I32_ADD, I32_EQ, I32_EQZ, I32_GE_S, I32_GT_S, I32_LOAD, I32_LT_S, I32_MUL, I32_NE, I32_SHL,
  I32_STORE, I32_SUB, IF, instantiate, LOOP, mem, moduleBytes, SELECT, V128, V128_LOAD, V128_LOAD64_LANE, V128_STORE, V128_ZERO, VOID,
} from "./wasm-emit.js";

/** Center vectors (of two centers) summed at once per row: more spill out of the 16 vector registers. */
const MAX_GROUP = 6;

/**
 * The v vector lanes cut into groups of at most MAX_GROUP (as even as
 * possible), each [first lane, size], and the widest group's size: a
 * group's accumulators are the v128 locals a pass keeps live at once.
 */
function laneGroups(v: number): { groups: Array<[number, number]>; widest: number } {
  const groups: Array<[number, number]> = [];
  const count = Math.ceil(v / MAX_GROUP);
  for (let g = 0, start = 0; g < count; g++) {
    const size = Math.floor((v * (g + 1)) / count) - Math.floor((v * g) / count);
    groups.push([start, size]);
    start += size;
  }
  return { groups, widest: Math.max(...groups.map(([, s]) => s)) };
}

/** The most memory one thread's copy of its rows may take; beyond it the JS loops run. */
const RESIDENT_BUDGET = 256 * 2 ** 20;
/** The most memory a thread keeps for its next call. */
const KEEP_BUDGET = 64 * 2 ** 20;

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
 * transposed), with Hamerly's bounds: exactly Assign.block,
 * Assign.bounded and Assign.settle of src/ops/kmeans-spmd.ts, then (when
 * `update`) the block's sums at `sums` (k * d sums, then k counts) moved
 * for each row whose label changed, in row order: the same operations in
 * the same order as the JS path, so the same bits. All pointers are byte
 * offsets; labels are int32, the rest float64.
 */
function assignBody(k: number, v: number): number[] {
  const { groups, widest } = laneGroups(v);
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
  if (k <= SIMD_SETTLE) settleLanes(c, k, v);
  else {
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
  }
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

/** Up to this many centers, settle() runs on the vector lanes without a branch (the lane mask of the nearest fits an i32). */
const SIMD_SETTLE = 32;
/** i8x16.shuffle indices that swap the two f64 lanes of a v128. */
const SWAP = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];

/**
 * Assign.settle over the k distances at tmp (v lanes pairs) without a
 * branch: the distances are data-dependent, and the scalar loop's two
 * comparisons per center missed the branch predictor about half as long as
 * the distances themselves took (200k x 32, k = 10: 119 -> 65 ns per row
 * without it). Each lane keeps the smallest and second smallest of its
 * centers (pmin/pmax: `b < a ? b : a`, one minpd/maxpd), then the two lanes
 * meet; the nearest is the first center whose distance equals the smallest
 * (the lanes' equality bitmask, lowest set bit). Values are picked, never
 * computed, so bestD and second are the scalar loop's bits, and the first
 * of equal distances still wins. A padding lane (k odd) reads as infinity.
 */
function settleLanes(c: Code, k: number, v: number): void {
  const [LO, HI, P, M] = [A.X, A.C, A.T, A.acc];
  const pair = (q: number): void => {
    c.get(A.tmp).op(...V128_LOAD, ...mem(3, q * 16));
    if (q === v - 1 && k % 2 === 1) c.f64(Infinity).op(...F64X2_REPLACE_LANE(1));
  };
  pair(0);
  c.set(LO);
  c.f64(Infinity).op(...F64X2_SPLAT).set(HI);
  for (let q = 1; q < v; q++) {
    pair(q);
    c.set(P);
    // second = min(second, max(smallest, x)); smallest = min(smallest, x)
    c.get(HI).get(LO).get(P).op(...F64X2_PMAX, ...F64X2_PMIN).set(HI);
    c.get(LO).get(P).op(...F64X2_PMIN).set(LO);
  }
  // Across the two lanes: M = the smallest in both lanes; second = min(larger of the smallests, both seconds).
  c.get(LO).get(LO).op(...I8X16_SHUFFLE(SWAP)).set(P);
  c.get(LO).get(P).op(...F64X2_PMIN).set(M);
  c.get(LO).get(P).op(...F64X2_PMAX);
  c.get(HI).get(HI).op(...I8X16_SHUFFLE(SWAP)).get(HI).op(...F64X2_PMIN);
  c.op(...F64X2_PMIN, ...F64X2_EXTRACT_LANE(0)).set(A.second);
  c.get(M).op(...F64X2_EXTRACT_LANE(0)).set(A.bestD);
  // The lanes equal to the smallest, as bits 2q and 2q + 1; the lowest set one is the nearest.
  for (let q = 0; q < v; q++) {
    pair(q);
    c.get(M).op(...F64X2_EQ, ...I64X2_BITMASK);
    if (q > 0) c.i32(2 * q).op(I32_SHL).get(A.q).op(I32_OR);
    c.set(A.q);
  }
  // No lane equal (only a NaN distance, from centers that overflowed): center 0, as the scalar loop, never out of range.
  c.get(A.q).op(I32_CTZ).i32(0).get(A.q).op(SELECT).set(A.best);
}

const ASSIGN_PARAMS = [...new Array<number>(15).fill(I32), F64, F64];

// plusPlus(): parameters, then locals.
const P = {
  r0: 0, r1: 1, c: 2, cur: 3, prev: 4, ct: 5, rows: 6, dist: 7, owned: 8, near: 9, gap: 10, bufs: 11, tmp: 12, d: 13, out: 14,
  i: 15, pa: 16, pb: 17, pc: 18, f: 19, ib: 20, nr: 21, ka: 22, kb: 23,
  haveA: 24, haveB: 25,
  X: 26, C: 27, T: 28, H: 29, K: 30, acc: 31,
} as const;

/** Candidates whose distances one pass over a row pair's features sums at once (one v128 accumulator each). */
const MAX_CANDIDATES = 8;

/**
 * plusPlus(r0, r1, c, cur, prev, ct, rows, dist, owned, near, gap, bufs,
 * tmp, d, out): one k-means++ step of the rows [r0, r1) (numbers among the
 * copied rows), exactly the JS loop of plusPlus() in
 * src/ops/kmeans-spmd.ts over this thread's mirror of its rows' distance
 * rows (dist: L + 1 rows of `owned` float64; row r of the mirror is row r
 * of job.dist): the nearest chosen center of each row (near), the pruning
 * by gap, the L candidate distances lowered to the row's current one into
 * the rows bufs[0 .. L), then the block's sum of each, in row order, into
 * out[0 .. L).
 *
 * Rows go two at a time, one per f64x2 lane, against each candidate
 * splatted on both lanes (at ct: feature-major, candidate, 2 lanes): with
 * only L = 2 + ln k candidates, a lane per candidate left L / 2 chains of
 * additions, each waiting on the last (latency-bound); a lane per row gives
 * L independent chains. Each lane still sums (x_f - c_f)^2 in feature
 * order: sq()'s bits. A pair is skipped only when both rows are pruned; a
 * pruned row's distances are `have`, as in the JS loop.
 */
function plusPlusBody(L: number): number[] {
  const groups: Array<[number, number]> = [];
  const count = Math.ceil(L / MAX_CANDIDATES);
  for (let g = 0, start = 0; g < count; g++) {
    const size = Math.floor((L * (g + 1)) / count) - Math.floor((L * g) / count);
    groups.push([start, size]);
    start += size;
  }
  const widest = Math.max(...groups.map(([, size]) => size));
  // The sums pass: one f64 accumulator and one row pointer per candidate, after the v128 locals.
  const S_ACC = P.acc + widest;
  const S_PTR = S_ACC + L;
  const c = new Code();
  const f64Load = (): void => void c.op(F64_LOAD, ...mem(3, 0));
  const f64Store = (): void => void c.op(F64_STORE, ...mem(3, 0));
  // byte address of dist row `row()` (its number on the stack), element `at` (a local)
  const distAt = (row: () => void, at: number): void => {
    row();
    c.get(P.owned).op(I32_MUL).get(at).op(I32_ADD).i32(3).op(I32_SHL).get(P.dist).op(I32_ADD);
  };
  const bufAt = (j: number): void => void c.get(P.bufs).op(I32_LOAD, ...mem(2, 4 * j));
  // A row's current distance, its nearest chosen center, and whether the gap prunes it (an i32).
  const rowState = (row: number, have: number, pruned: number): void => {
    distAt(() => c.get(P.cur), row); f64Load(); c.set(have);
    // near = (c > 1 && have < dist[prev]) ? c - 1 : near, as an i32 select (no branch on the data)
    c.get(row).i32(2).op(I32_SHL).get(P.near).op(I32_ADD).tee(P.nr);
    c.get(P.c).i32(1).op(I32_SUB);
    c.get(P.nr).op(I32_LOAD, ...mem(2, 0));
    c.get(have); distAt(() => c.get(P.prev), row); f64Load(); c.op(F64_LT).get(P.c).i32(1).op(I32_GT_S, I32_AND);
    c.op(SELECT).tee(P.nr).op(I32_STORE, ...mem(2, 0));
    // gap[near] >= 2 * sqrt(have) * (1 + MARGIN): every candidate is at least as far as the chosen center
    c.get(P.nr).i32(3).op(I32_SHL).get(P.gap).op(I32_ADD); f64Load();
    c.f64(2).get(have).op(F64_SQRT, F64_MUL).f64(1 + BOUND_MARGIN).op(F64_MUL);
    c.op(F64_GE).set(pruned);
  };
  // The row's L values (lane `lane` of tmp) into its candidate rows.
  const store = (row: number, lane: number): void => {
    for (let j = 0; j < L; j++) {
      distAt(() => bufAt(j), row); c.get(P.tmp).op(F64_LOAD, ...mem(3, 16 * j + 8 * lane)); f64Store();
    }
  };
  c.get(P.r0).set(P.i);
  c.op(BLOCK, VOID, LOOP, VOID);
  c.get(P.i).get(P.r1).op(I32_GE_S, BR_IF, 1);
  // The pair (i, i + 1), or (i, i) for a last odd row: its lane 1 repeats lane 0.
  c.get(P.i).i32(1).op(I32_ADD).get(P.i).get(P.i).i32(1).op(I32_ADD).get(P.r1).op(I32_LT_S, SELECT).set(P.ib);
  rowState(P.i, P.haveA, P.ka);
  rowState(P.ib, P.haveB, P.kb);
  c.get(P.haveA).op(...F64X2_SPLAT).get(P.haveB).op(...F64X2_REPLACE_LANE(1)).set(P.H);
  c.get(P.ka).get(P.kb).op(I32_AND, IF, VOID);
  // Both rows pruned: `have` for every candidate, nothing to compute.
  for (let j = 0; j < L; j++) c.get(P.tmp).get(P.H).op(...V128_STORE, ...mem(3, j * 16));
  c.op(ELSE);
  // A pruned row keeps `have` in its lane: all ones in the mask where pruned.
  c.i32(0).get(P.ka).op(I32_SUB, ...I32X4_SPLAT);
  c.i32(0).get(P.kb).op(I32_SUB, ...I32X4_REPLACE_LANE(2));
  c.i32(0).get(P.kb).op(I32_SUB, ...I32X4_REPLACE_LANE(3)).set(P.K);
  for (const [start, size] of groups) {
    for (let a = 0; a < size; a++) c.op(...V128_ZERO).set(P.acc + a);
    c.get(P.i).get(P.d).op(I32_MUL).i32(3).op(I32_SHL).get(P.rows).op(I32_ADD).set(P.pa);
    c.get(P.ib).get(P.d).op(I32_MUL).i32(3).op(I32_SHL).get(P.rows).op(I32_ADD).set(P.pb);
    c.get(P.ct).i32(start * 16).op(I32_ADD).set(P.pc);
    c.get(P.d).set(P.f);
    c.op(LOOP, VOID);
    c.get(P.pb).get(P.pa).op(F64_LOAD, ...mem(3, 0), ...F64X2_SPLAT, ...V128_LOAD64_LANE, ...mem(3, 0), 1).set(P.X);
    for (let q = 0; q < size; q++) {
      c.get(P.pc).op(...V128_LOAD, ...mem(3, q * 16)).set(P.C);
      c.get(P.X).get(P.C).op(...F64X2_SUB).set(P.T);
      c.get(P.acc + q).get(P.T).get(P.T).op(...F64X2_MUL, ...F64X2_ADD).set(P.acc + q);
    }
    c.get(P.pa).i32(8).op(I32_ADD).set(P.pa);
    c.get(P.pb).i32(8).op(I32_ADD).set(P.pb);
    c.get(P.pc).i32(L * 16).op(I32_ADD).set(P.pc);
    c.get(P.f).i32(1).op(I32_SUB).tee(P.f).i32(0).op(I32_GT_S, BR_IF, 0);
    c.op(END);
    // v < have ? v : have, as pmin(have, v) per lane (an f64 select is a branch on x64); `have` where pruned.
    for (let q = 0; q < size; q++) {
      c.get(P.tmp).get(P.H).get(P.H).get(P.acc + q).op(...F64X2_PMIN).get(P.K).op(...V128_BITSELECT, ...V128_STORE, ...mem(3, (start + q) * 16));
    }
  }
  c.op(END);
  store(P.i, 0);
  store(P.ib, 1);
  c.get(P.i).i32(2).op(I32_ADD).set(P.i);
  c.op(BR, 0, END, END);
  // The block's sum of each candidate row, in row order (L chains side by side).
  for (let j = 0; j < L; j++) {
    c.f64(0).set(S_ACC + j);
    bufAt(j); c.get(P.owned).op(I32_MUL).get(P.r0).op(I32_ADD).i32(3).op(I32_SHL).get(P.dist).op(I32_ADD).set(S_PTR + j);
  }
  c.get(P.r0).set(P.i);
  c.op(BLOCK, VOID, LOOP, VOID);
  c.get(P.i).get(P.r1).op(I32_GE_S, BR_IF, 1);
  for (let j = 0; j < L; j++) {
    c.get(S_ACC + j).get(S_PTR + j); f64Load(); c.op(F64_ADD).set(S_ACC + j);
    c.get(S_PTR + j).i32(8).op(I32_ADD).set(S_PTR + j);
  }
  c.get(P.i).i32(1).op(I32_ADD).set(P.i);
  c.op(BR, 0, END, END);
  for (let j = 0; j < L; j++) {
    c.get(P.out).get(S_ACC + j).op(F64_STORE, ...mem(3, 8 * j));
  }
  return body([[9, I32], [2, F64], [5 + widest, V128], [L, F64], [L, I32]], c.c);
}

/**
 * rowDist(r0, r1, rows, lab, ct, w, d, out, write) -> f64: the sum, in row
 * order, of each copied row's squared distance to its own center (center
 * lab[i] of the transposed centers at ct, w lanes per feature), each summed
 * over the features in order: sq()'s bits, as the JS loops that compute the
 * inertia and k-means++'s first distances. When `write`, each row's
 * distance also goes to out[i]. Rows go two at a time, one per f64x2 lane,
 * so that two chains of additions overlap (one row alone waits on each of
 * its d additions); a last odd row fills both lanes and counts once.
 */
function rowDistBody(): number[] {
  const [r0, r1, rows, lab, ct, w, d, out, write] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [i, ib, pa, pb, ca, cb, f] = [9, 10, 11, 12, 13, 14, 15];
  const sum = 16;
  const [X, C, T, acc] = [17, 18, 19, 20];
  const c = new Code();
  const rowAt = (row: number, into: number): void => void c.get(row).get(d).op(I32_MUL).i32(3).op(I32_SHL).get(rows).op(I32_ADD).set(into);
  const centerAt = (row: number, into: number): void => {
    c.get(row).i32(2).op(I32_SHL).get(lab).op(I32_ADD).op(I32_LOAD, ...mem(2, 0)).i32(3).op(I32_SHL).get(ct).op(I32_ADD).set(into);
  };
  c.f64(0).set(sum);
  c.get(r0).set(i);
  c.op(BLOCK, VOID, LOOP, VOID);
  c.get(i).get(r1).op(I32_GE_S, BR_IF, 1);
  c.get(i).i32(1).op(I32_ADD).get(i).get(i).i32(1).op(I32_ADD).get(r1).op(I32_LT_S, SELECT).set(ib);
  rowAt(i, pa);
  rowAt(ib, pb);
  centerAt(i, ca);
  centerAt(ib, cb);
  c.op(...V128_ZERO).set(acc);
  c.get(d).set(f);
  c.op(LOOP, VOID);
  c.get(pb).get(pa).op(F64_LOAD, ...mem(3, 0), ...F64X2_SPLAT, ...V128_LOAD64_LANE, ...mem(3, 0), 1).set(X);
  c.get(cb).get(ca).op(F64_LOAD, ...mem(3, 0), ...F64X2_SPLAT, ...V128_LOAD64_LANE, ...mem(3, 0), 1).set(C);
  c.get(X).get(C).op(...F64X2_SUB).set(T);
  c.get(acc).get(T).get(T).op(...F64X2_MUL, ...F64X2_ADD).set(acc);
  c.get(pa).i32(8).op(I32_ADD).set(pa);
  c.get(pb).i32(8).op(I32_ADD).set(pb);
  c.get(ca).get(w).i32(3).op(I32_SHL).op(I32_ADD).set(ca);
  c.get(cb).get(w).i32(3).op(I32_SHL).op(I32_ADD).set(cb);
  c.get(f).i32(1).op(I32_SUB).tee(f).i32(0).op(I32_GT_S, BR_IF, 0);
  c.op(END);
  c.get(write).op(IF, VOID);
  c.get(ib).i32(3).op(I32_SHL).get(out).op(I32_ADD).get(acc).op(...F64X2_EXTRACT_LANE(1), F64_STORE, ...mem(3, 0));
  c.get(i).i32(3).op(I32_SHL).get(out).op(I32_ADD).get(acc).op(...F64X2_EXTRACT_LANE(0), F64_STORE, ...mem(3, 0));
  c.op(END);
  c.get(sum).get(acc).op(...F64X2_EXTRACT_LANE(0), F64_ADD).set(sum);
  c.get(ib).get(i).op(I32_NE, IF, VOID);
  c.get(sum).get(acc).op(...F64X2_EXTRACT_LANE(1), F64_ADD).set(sum);
  c.op(END);
  c.get(i).i32(2).op(I32_ADD).set(i);
  c.op(BR, 0, END, END);
  c.get(sum);
  return body([[7, I32], [1, F64], [4, V128]], c.c);
}

/**
 * stats(r0, r1, rows, d, out) -> i32: out[f] += x[f] for each copied row in
 * [r0, r1) in row order, two features per f64x2 lane pair (then the odd
 * one), as phase 0a of prepare() in src/ops/kmeans-spmd.ts; returns 1 when
 * every value is finite. (x - x is 0 for a finite x and NaN otherwise, and
 * a NaN stays in the running sum of those: the sums of X themselves could
 * overflow from finite values.)
 */
function statsBody(): number[] {
  const [r0, r1, rows, d, out] = [0, 1, 2, 3, 4];
  const [i, px, po, f] = [5, 6, 7, 8];
  const [V, Z] = [9, 10];
  const [v, zs] = [11, 12];
  const c = new Code();
  c.op(...V128_ZERO).set(Z);
  c.f64(0).set(zs);
  c.get(r0).set(i);
  c.op(BLOCK, VOID, LOOP, VOID);
  c.get(i).get(r1).op(I32_GE_S, BR_IF, 1);
  c.get(i).get(d).op(I32_MUL).i32(3).op(I32_SHL).get(rows).op(I32_ADD).set(px);
  c.get(out).set(po);
  c.get(d).set(f);
  c.op(BLOCK, VOID, LOOP, VOID);
  c.get(f).i32(2).op(I32_LT_S, BR_IF, 1);
  c.get(px).op(...V128_LOAD, ...mem(3, 0)).set(V);
  c.get(po).get(po).op(...V128_LOAD, ...mem(3, 0)).get(V).op(...F64X2_ADD, ...V128_STORE, ...mem(3, 0));
  c.get(Z).get(V).get(V).op(...F64X2_SUB, ...F64X2_ADD).set(Z);
  c.get(px).i32(16).op(I32_ADD).set(px);
  c.get(po).i32(16).op(I32_ADD).set(po);
  c.get(f).i32(2).op(I32_SUB).set(f);
  c.op(BR, 0, END, END);
  c.get(f).op(IF, VOID);
  c.get(px).op(F64_LOAD, ...mem(3, 0)).set(v);
  c.get(po).get(po).op(F64_LOAD, ...mem(3, 0)).get(v).op(F64_ADD, F64_STORE, ...mem(3, 0));
  c.get(zs).get(v).get(v).op(F64_SUB, F64_ADD).set(zs);
  c.op(END);
  c.get(i).i32(1).op(I32_ADD).set(i);
  c.op(BR, 0, END, END);
  // finite: zs + both lanes of Z is 0 (NaN otherwise)
  c.get(zs).get(Z).op(...F64X2_EXTRACT_LANE(0), F64_ADD).get(Z).op(...F64X2_EXTRACT_LANE(1), F64_ADD).f64(0).op(F64_EQ);
  return body([[4, I32], [2, V128], [2, F64]], c.c);
}

/**
 * devs(r0, r1, rows, d, mean, out): out[f] += (x[f] - mean[f])^2 for each
 * copied row in [r0, r1) in row order, two features per f64x2 lane pair
 * (then the odd one): each feature's sum has the JS loop's operations in
 * its order (phase 0b of prepare() in src/ops/kmeans-spmd.ts).
 */
function devsBody(): number[] {
  const [r0, r1, rows, d, mean, out] = [0, 1, 2, 3, 4, 5];
  const [i, px, pm, po, f] = [6, 7, 8, 9, 10];
  const T = 11, TS = 12;
  const c = new Code();
  c.get(r0).set(i);
  c.op(BLOCK, VOID, LOOP, VOID);
  c.get(i).get(r1).op(I32_GE_S, BR_IF, 1);
  c.get(i).get(d).op(I32_MUL).i32(3).op(I32_SHL).get(rows).op(I32_ADD).set(px);
  c.get(mean).set(pm);
  c.get(out).set(po);
  c.get(d).set(f);
  // pairs: while (f >= 2)
  c.op(BLOCK, VOID, LOOP, VOID);
  c.get(f).i32(2).op(I32_LT_S, BR_IF, 1);
  c.get(px).op(...V128_LOAD, ...mem(3, 0)).get(pm).op(...V128_LOAD, ...mem(3, 0), ...F64X2_SUB).set(T);
  c.get(po).get(po).op(...V128_LOAD, ...mem(3, 0)).get(T).get(T).op(...F64X2_MUL, ...F64X2_ADD, ...V128_STORE, ...mem(3, 0));
  c.get(px).i32(16).op(I32_ADD).set(px);
  c.get(pm).i32(16).op(I32_ADD).set(pm);
  c.get(po).i32(16).op(I32_ADD).set(po);
  c.get(f).i32(2).op(I32_SUB).set(f);
  c.op(BR, 0, END, END);
  // the odd feature
  c.get(f).op(IF, VOID);
  c.get(px).op(F64_LOAD, ...mem(3, 0)).get(pm).op(F64_LOAD, ...mem(3, 0), F64_SUB).set(TS);
  c.get(po).get(po).op(F64_LOAD, ...mem(3, 0)).get(TS).get(TS).op(F64_MUL, F64_ADD, F64_STORE, ...mem(3, 0));
  c.op(END);
  c.get(i).i32(1).op(I32_ADD).set(i);
  c.op(BR, 0, END, END);
  return body([[5, I32], [1, V128], [1, F64]], c.c);
}

/**
 * The bytes of a module exporting "memory", assign (Lloyd's step for m[0]
 * centers) and plusPlus (a k-means++ step for m[1] candidates).
 */
export function kmeansWasmBytes(m: number[], pages: number): Uint8Array {
  const vs = m.map((x) => Math.ceil(x / 2));
  return moduleBytes(pages, [
    { name: "assign", params: ASSIGN_PARAMS, results: [I32], body: assignBody(m[0]!, vs[0]!) },
    { name: "plusPlus", params: 15, results: [], body: plusPlusBody(m[1]!) },
    { name: "devs", params: 6, results: [], body: devsBody() },
    { name: "rowDist", params: 9, results: [F64], body: rowDistBody() },
    { name: "stats", params: 5, results: [I32], body: statsBody() },
  ]);
}

type Assign = (...args: number[]) => number;
interface Exports {
  memory: { buffer: ArrayBuffer };
  [fn: string]: unknown;
}

/** Where each part of a scan's memory starts, in float64 elements (bufs, lab and near: int32 elements), and the bytes in all. */
interface Layout {
  /** k-means++: the candidates' distance rows (L int32) and their block sums (L). */
  bufs: number;
  out: number;
  tmp: number;
  half: number;
  move: number;
  up: number;
  lo: number;
  lab: number;
  sums: number;
  /** k-means++: the mirror of the distance rows (L + 1 rows of `owned`), the nearest chosen centers (int32), the gaps (k). */
  dist: number;
  near: number;
  gap: number;
  /** Phase 0b: the feature means and the block's sums of squared deviations (d each). */
  mean: number;
  dev: number;
  rows: number;
  bytes: number;
}

function layoutOf(m: number[], d: number, rows: number, sums: number): Layout {
  const w = Math.max(...m.map((x) => 2 * Math.ceil(x / 2)));
  const k = m[0]!;
  const L = m[1]!;
  // int32 units, after the centers: Lloyd's transposed (w lanes x d) or k-means++'s splatted candidates (2L x d)
  const bufs = Math.max(w, 2 * L) * d * 2;
  const out = (bufs + 2 * Math.ceil(L / 2)) / 2;
  const tmp = out + L;
  // tmp: Lloyd's k distances (w lanes), or k-means++'s L candidates x 2 rows
  const half = tmp + Math.max(w, 2 * L);
  const move = half + k;
  const up = move + k;
  const lo = up + rows;
  const lab = (lo + rows) * 2;
  const sumsAt = Math.ceil(lab / 2 + rows / 2);
  const dist = sumsAt + sums;
  const near = (dist + (m[1]! + 1) * rows) * 2;
  const gap = Math.ceil(near / 2 + rows / 2);
  const mean = gap + k;
  const dev = mean + d;
  const first = dev + d;
  return { bufs, out, tmp, half, move, up, lo, lab, sums: sumsAt, dist, near, gap, mean, dev, rows: first, bytes: (first + rows * d) * 8 };
}

/**
 * One thread's distance kernels for a k-means call, over its own copy of
 * the rows it owns: `m[i]` centers for kernel i (k for Lloyd, the
 * candidates for k-means++), d features, and Lloyd's per-row state of those
 * rows (bounds, labels) and per-block sums. A row is named by its number
 * among the copied rows; offsets are in float64 elements of `f64` (int32
 * elements of `i32` for bufs, lab and near).
 */
export class KMeansScan {
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  /** Per kernel: the float64 stride of a transposed feature row and of an output row (2v). */
  readonly width: number[];
  readonly lay: Layout;
  private readonly assignFn: Assign;
  private readonly plusPlusFn: Assign;
  private readonly devsFn: Assign;
  private readonly rowDistFn: Assign;
  private readonly statsFn: Assign;

  constructor(exports: Exports, readonly m: number[], readonly d: number, lay: Layout) {
    this.width = m.map((x) => 2 * Math.ceil(x / 2));
    this.lay = lay;
    this.f64 = new Float64Array(exports.memory.buffer, 0, lay.bytes / 8);
    this.i32 = new Int32Array(exports.memory.buffer, 0, lay.bytes / 4);
    this.assignFn = exports.assign as Assign;
    this.plusPlusFn = exports.plusPlus as Assign;
    this.devsFn = exports.devs as Assign;
    this.rowDistFn = exports.rowDist as Assign;
    this.statsFn = exports.stats as Assign;
    this.owned = (lay.near / 2 - lay.dist) / (m[1]! + 1);
  }

  /** How many rows were copied in. */
  readonly owned: number;

  /** Phase 0a for copied rows [r0, r1): f64[dev .. dev + d) += the rows, in row order (the caller zeroes dev); false if a value is not finite. */
  stats(r0: number, r1: number): boolean {
    const l = this.lay;
    return this.statsFn(r0, r1, l.rows * 8, this.d, l.dev * 8) === 1;
  }

  /** Phase 0b for copied rows [r0, r1): f64[dev .. dev + d) += the squared deviations from f64[mean ..] (the caller zeroes dev). */
  devs(r0: number, r1: number): void {
    const l = this.lay;
    this.devsFn(r0, r1, l.rows * 8, this.d, l.mean * 8, l.dev * 8);
  }

  /**
   * One k-means++ step for copied rows [r0, r1): the candidates last written
   * by candidates(), bufs at i32[bufs ..], gaps at f64[gap ..], step c,
   * the chosen-distance row `cur` and the previous one `prev`; the
   * candidates' block sums land at f64[out .. out + L).
   */
  plusPlus(r0: number, r1: number, c: number, cur: number, prev: number): void {
    const l = this.lay;
    this.plusPlusFn(r0, r1, c, cur, prev, 0, l.rows * 8, l.dist * 8, this.owned, l.near * 4, l.gap * 8, l.bufs * 4, l.tmp * 8, this.d, l.out * 8);
  }

  /**
   * The row-order sum of copied rows [r0, r1)'s squared distances to their
   * own centers (labels at i32[labels ..], centers last written by
   * centers(0, ...)); when `out` is given (a float64 offset), each row's
   * distance also lands at f64[out + row].
   */
  rowDist(r0: number, r1: number, labels: number, out = -1): number {
    const l = this.lay;
    return this.rowDistFn(r0, r1, l.rows * 8, labels * 4, 0, this.width[0]!, this.d, Math.max(out, 0) * 8, out >= 0 ? 1 : 0);
  }

  /** Writes the L k-means++ candidates (rows of `cs`, d apart) for plusPlus: feature-major, each value on both lanes. */
  candidates(cs: Float64Array): void {
    const { f64, d } = this;
    const L = this.m[1]!;
    for (let f = 0; f < d; f++) {
      for (let j = 0; j < L; j++) {
        const v = cs[j * d + f]!;
        f64[2 * (f * L + j)] = v;
        f64[2 * (f * L + j) + 1] = v;
      }
    }
  }

  /** Writes the m[kernel] centers (rows of `cs` from `at`, d apart) transposed, padding lanes with zeros (kernel 0: what assign and rowDist read; the k-means++ candidates go through candidates()). */
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
  // old buffer, and after the first detached buffer in a thread V8's
  // optimized code checks typed array accesses for detachment (its
  // detaching protector): a fit took ~25% longer. Powers of two let calls
  // of similar sizes reuse the last instance.
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
