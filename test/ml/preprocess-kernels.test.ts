// The fast paths of the preprocessing kernels against their generic loops,
// bit for bit: the lean moments pass (kernels/preprocess/moments.ts, taken
// when min and max are not wanted) against the one-column-at-a-time pass,
// and the unrolled contiguous-row affine loop (affine-rows.ts) against the
// per-value formula. Widths cover the 8- and 4-column groups and their
// tails; NaN, infinities and float64 overflow put columns of some blocks
// back on the generic pass.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { blockStats, ROW_BLOCK, STATS_SLOTS } from "../../kernels/preprocess/colstats.js";
import { affineRows } from "../../kernels/preprocess/scale.js";
import type { NdArray } from "../../src/memory/ndarray-type.js";
import { shared } from "../../src/memory/shared.js";

type Float = "float32" | "float64" | "int32";

/** A deterministic table of n x m values (xorshift), with specials sprinkled at the given (row, col) spots. */
function table(dtype: Float, n: number, m: number, seed: number, specials: Array<[number, number, number]> = []): NdArray {
  let s = seed >>> 0 || 1;
  const x = shared.empty(dtype, [n, m]);
  const d = x.data as Float64Array;
  for (let i = 0; i < n * m; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    // offsets per column so means and spreads differ; integers for int32
    const v = (s / 2 ** 32 - 0.4) * (1 + (i % m)) * 10 + (i % m) * 3;
    d[i] = dtype === "int32" ? Math.round(v) : v;
  }
  for (const [r, c, v] of specials) d[r * m + c] = v;
  return x;
}

function stats(x: NdArray, extremes: boolean): { part: Float64Array; infinities: number } {
  const blocks = Math.ceil(x.shape[0]! / ROW_BLOCK);
  const part = new Float64Array(blocks * x.shape[1]! * STATS_SLOTS);
  // two calls over split block ranges, as two chunks of a parallelFor
  const half = blocks >> 1;
  const infinities = blockStats(x, part, true, extremes, 0, half) + blockStats(x, part, true, extremes, half, blocks);
  return { part, infinities };
}

function sameMoments(x: NdArray, what: string): void {
  const lean = stats(x, false);
  const full = stats(x, true);
  assert.is(lean.infinities, full.infinities, `${what}: infinities`);
  for (let q = 0; q < full.part.length; q += STATS_SLOTS) {
    for (let k = 0; k < 3; k++) {
      if (!Object.is(lean.part[q + k], full.part[q + k])) assert.unreachable(`${what}: slot ${q / STATS_SLOTS} field ${k}: ${lean.part[q + k]} vs ${full.part[q + k]}`);
    }
  }
}

test("lean moments pass: count, mean and M2 bit for bit those of the generic pass (widths 1-19, 3 dtypes, NaN, infinities, partial blocks)", () => {
  const n = 2 * ROW_BLOCK + 37;
  for (const dtype of ["float64", "float32", "int32"] as const) {
    for (let m = 1; m <= 19; m++) {
      const specials: Array<[number, number, number]> =
        dtype === "int32"
          ? []
          : [
              [5, 0, NaN],
              [ROW_BLOCK + 3, m - 1, NaN],
              [ROW_BLOCK + 9, m >> 1, Infinity],
              [2 * ROW_BLOCK + 1, Math.min(m - 1, 5), -Infinity],
              [2 * ROW_BLOCK + 2, Math.min(m - 1, 5), NaN],
            ];
      sameMoments(table(dtype, n, m, 7 + m, specials), `${dtype} width ${m}`);
    }
  }
  // a column all NaN in a block, a single row, float64 sums that overflow
  sameMoments(table("float64", 300, 9, 3, Array.from({ length: 300 }, (_, i): [number, number, number] => [i, 4, NaN])), "all-NaN column");
  sameMoments(table("float32", 1, 12, 4), "one row");
  sameMoments(table("float64", 50, 8, 5, [[0, 2, 1.5e308], [1, 2, 1.5e308], [7, 3, -1.7e308], [8, 3, -1.7e308]]), "float64 overflow");
  // NaN in every column of the first 20 blocks (the lean try is skipped for a while), clean after
  const gaps: Array<[number, number, number]> = [];
  for (let blk = 0; blk < 20; blk++) for (let c = 0; c < 12; c++) gaps.push([blk * ROW_BLOCK + c * 7, c, NaN]);
  sameMoments(table("float32", 40 * ROW_BLOCK + 5, 12, 6, gaps), "NaN-dense blocks, then clean ones");
});

test("lean moments pass over strided views (transposed, every other column, reversed rows)", () => {
  const base = table("float32", 3000, 24, 11, [[100, 3, NaN], [2500, 20, NaN]]);
  sameMoments(base.step(1, 2), "every other column");
  sameMoments(base.step(-1, 1), "reversed rows");
  const t = table("float64", 16, 2500, 12, [[3, 40, NaN]]).transpose(1, 0);
  sameMoments(t, "transposed");
  sameMoments(base.hi(2900, 21).lo(5, 3), "an inner window");
});

/** The affine map value by value, as numpy's in-place steps (float32: rounded after each). */
function expected(x: NdArray, mode: 0 | 1, a: Float64Array, b: Float64Array, f32: boolean): { out: number[]; bad: number } {
  const [n, m] = x.shape as [number, number];
  const r = f32 ? Math.fround : (v: number): number => v;
  const out: number[] = [];
  let bad = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const v = x.get(i, j) as number;
      if (v === Infinity || v === -Infinity) bad++;
      out.push(mode === 0 ? r(r(v - a[j]!) / b[j]!) : r(r(v * a[j]!) + b[j]!));
    }
  }
  return { out, bad };
}

test("unrolled affine rows: each value as the per-value formula, infinities counted (widths 1-19, float32 and float64, both modes, in place)", () => {
  for (const dtype of ["float32", "float64"] as const) {
    const f32 = dtype === "float32";
    for (let m = 1; m <= 19; m++) {
      const x = table(dtype, 40, m, 20 + m, [[3, m - 1, NaN], [7, 0, Infinity], [7, m >> 1, -Infinity], [12, m >> 1, NaN]]);
      const a = Float64Array.from({ length: m }, (_, j) => 0.3 + j * 1.7);
      const b = Float64Array.from({ length: m }, (_, j) => 1.1 + j * 0.37);
      for (const mode of [0, 1] as const) {
        const want = expected(x, mode, a, b, f32);
        const out = shared.empty(dtype, [40, m]);
        // two chunks of rows, as a parallelFor
        const bad = affineRows({ x, out, mode, a, b, clip: false, lo: 0, hi: 0, f32 }, 0, 17) + affineRows({ x, out, mode, a, b, clip: false, lo: 0, hi: 0, f32 }, 17, 40);
        assert.is(bad, want.bad, `${dtype} width ${m} mode ${mode}: infinities`);
        for (let k = 0; k < want.out.length; k++) {
          if (!Object.is(out.data[k], want.out[k])) assert.unreachable(`${dtype} width ${m} mode ${mode} [${k}]: ${out.data[k]} vs ${want.out[k]}`);
        }
        // in place: out is x itself
        const y = table(dtype, 40, m, 20 + m, [[3, m - 1, NaN], [7, 0, Infinity], [7, m >> 1, -Infinity], [12, m >> 1, NaN]]);
        affineRows({ x: y, out: y, mode, a, b, clip: false, lo: 0, hi: 0, f32 }, 0, 40);
        for (let k = 0; k < want.out.length; k++) {
          if (!Object.is(y.data[k], want.out[k])) assert.unreachable(`in place ${dtype} width ${m} mode ${mode} [${k}]: ${y.data[k]} vs ${want.out[k]}`);
        }
      }
    }
  }
});

test("affine rows with a row stride wider than the row (a window of a wider table) and a column-strided view", () => {
  const wide = table("float32", 30, 21, 9, [[4, 5, Infinity]]);
  const a = Float64Array.from({ length: 16 }, (_, j) => j * 0.5);
  const b = Float64Array.from({ length: 16 }, (_, j) => 2 + j);
  for (const x of [wide.lo(2, 3).hi(25, 16), wide.step(1, -1).hi(30, 16)]) {
    const want = expected(x, 0, a, b, true);
    const out = shared.empty("float32", [x.shape[0]!, 16]);
    const bad = affineRows({ x, out, mode: 0, a, b, clip: false, lo: 0, hi: 0, f32: true }, 0, x.shape[0]!);
    assert.is(bad, want.bad);
    for (let k = 0; k < want.out.length; k++) if (!Object.is(out.data[k], want.out[k])) assert.unreachable(`[${k}]: ${out.data[k]} vs ${want.out[k]}`);
  }
});

test.run();
