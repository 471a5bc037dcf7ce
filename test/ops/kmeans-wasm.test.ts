// The WebAssembly distance pass and Lloyd step of ops.kmeans give the same
// bits as the JS loops: same labels, centers, inertia and iterations, with
// k odd and even (a padded lane), d odd, several blocks, empty clusters,
// k-means++ and given centers. Both paths run here on the calling thread.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rng } from "sabre";
import { kmeansScan, kmeansWasmBytes, setKMeansWasm } from "../../kernels/ops/kmeans-wasm.js";
import { kmeansJob } from "../../src/ops/kmeans-job.js";
import type { KMeansOptions } from "../../src/ops/kmeans.js";
import { kmeansSpmd } from "../../src/ops/kmeans-spmd.js";
import { DONE, NOT_FINITE } from "../../src/ops/kmeans-layout.js";

function blobs(n: number, d: number, c: number, seed: number, std: number): number[][] {
  const r = rng(seed);
  const means = Array.from({ length: c * d }, () => r.float() * 20 - 10);
  return Array.from({ length: n }, () => {
    const j = r.int(0, c);
    return Array.from({ length: d }, (_, f) => means[j * d + f]! + r.normal(0, std));
  });
}

function fit(X: number[][], options: KMeansOptions, wasm: boolean): { centers: Float64Array; labels: Int32Array; info: Float64Array } {
  const { job } = kmeansJob(X, options);
  setKMeansWasm(wasm);
  try {
    assert.is(kmeansSpmd(0, 1, job), DONE);
  } finally {
    setKMeansWasm(true);
  }
  return { centers: job.centers, labels: job.labels, info: job.info };
}

function same(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.is(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) assert.unreachable(`${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

test("the generated module validates", () => {
  const wasm = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly;
  for (const m of [[1, 2], [2, 2], [9, 4], [10, 4], [13, 4], [31, 5], [32, 5], [33, 5], [40, 5], [10, 9], [10, 17]]) assert.ok(wasm.validate(kmeansWasmBytes(m, 1)), `m = ${m}`);
});

test("WebAssembly and JS paths agree bit for bit", () => {
  const cases: Array<[number, number, number, number, KMeansOptions]> = [
    // n, d, blobs, std, options
    [5000, 3, 6, 4, { k: 7, seed: 1, nInit: 2 }],
    [4500, 5, 4, 6, { k: 10, seed: 2 }],
    [3000, 1, 3, 1, { k: 2, seed: 3, tol: 0 }],
    [2500, 8, 5, 3, { k: 3, seed: 4, init: "random", maxIter: 5 }],
    [2100, 2, 5, 2, { k: 13, seed: 5 }],
    // the widest lane-settled k (16 lane pairs: bits 0-31 of the mask), and past it the scalar loop
    [3000, 3, 8, 3, { k: 32, seed: 6 }],
    [3000, 3, 8, 3, { k: 40, seed: 7 }],
    // an odd last block: k-means++ pairs its last row with itself
    [2049 + 2048, 4, 3, 2, { k: 6, seed: 8 }],
  ];
  for (const [n, d, c, std, o] of cases) {
    const X = blobs(n, d, c, n + d, std);
    const a = fit(X, o, true);
    const b = fit(X, o, false);
    const what = `n ${n} d ${d} k ${o.k}`;
    same(a.labels, b.labels, `${what} labels`);
    same(a.centers, b.centers, `${what} centers`);
    same(a.info, b.info, `${what} inertia, iterations`);
  }
});

test("an empty cluster (two initial centers far away) takes the same path on both", () => {
  const d = 4;
  const X = blobs(4000, d, 3, 7, 2);
  const init = Array.from({ length: 5 }, (_, j) => Array.from({ length: d }, (_, f) => (j < 2 ? 1000 + j + f : X[j * 701]![f]!)));
  const a = fit(X, { k: 5, init }, true);
  const b = fit(X, { k: 5, init }, false);
  same(a.labels, b.labels, "labels");
  same(a.centers, b.centers, "centers");
  same(a.info, b.info, "inertia, iterations");
});

test("the assignment kernel: first of equal distances, second nearest and bounds, ties included", () => {
  // Integer rows and centers with duplicates: many rows are exactly as far
  // from two or more centers (nearest and second nearest tie). Each row's
  // label, upper and lower bound must be those of the scalar settle.
  const d = 3;
  const grid: number[] = [];
  for (let a = -3; a <= 3; a++) for (let b = -3; b <= 3; b++) for (let c = -1; c <= 1; c++) grid.push(a, b, c);
  const n = grid.length / d;
  for (const k of [1, 2, 5, 8, 9, 32, 33, 40]) {
    const C = new Float64Array(k * d);
    for (let j = 0; j < k; j++) {
      const t = j % 9; // a center repeats every 9: duplicates once k > 9
      C[j * d] = (t % 3) - 1;
      C[j * d + 1] = Math.floor(t / 3) - 1;
      C[j * d + 2] = j % 2;
    }
    const scan = kmeansScan([k, 2], d, n, k * d + k);
    if (scan === null) throw new Error("no WebAssembly SIMD here");
    const { f64, i32, lay } = scan;
    f64.set(grid, lay.rows);
    scan.centers(0, C, 0);
    i32.fill(-1, lay.lab, lay.lab + n);
    scan.assign(0, n, true, false, 0, -1, 0, 0);
    let ties = 0;
    for (let i = 0; i < n; i++) {
      const ds = Array.from({ length: k }, (_, j) => {
        let s = 0;
        for (let f = 0; f < d; f++) s += (grid[i * d + f]! - C[j * d + f]!) * (grid[i * d + f]! - C[j * d + f]!);
        return s;
      });
      const sorted = [...ds].sort((x, y) => x - y);
      if (k > 1 && sorted[0] === sorted[1]) ties++;
      assert.is(i32[lay.lab + i], ds.indexOf(sorted[0]!), `k ${k} row ${i} label`);
      assert.is(f64[lay.up + i], Math.sqrt(sorted[0]!), `k ${k} row ${i} upper`);
      assert.is(f64[lay.lo + i], k > 1 ? Math.sqrt(sorted[1]!) : Infinity, `k ${k} row ${i} lower`);
    }
    if (k > 1) assert.ok(ties > 0, `k ${k}: no tie`);
  }
});

test("the k-means++ kernel: candidates lowered, pruned rows kept, block sums; odd row counts, 3 and 9 candidates", () => {
  const d = 5;
  const n = 41;
  const r = rng(11);
  for (const L of [3, 9]) {
    const k = 10;
    const scan = kmeansScan([k, L], d, n, k * d + k);
    if (scan === null) throw new Error("no WebAssembly SIMD here");
    const { f64, i32, lay, owned } = scan;
    const X = Array.from({ length: n * d }, () => r.int(-4, 5));
    f64.set(X, lay.rows);
    const cand = Float64Array.from({ length: L * d }, () => r.int(-4, 5));
    scan.candidates(cand);
    const c = 4;
    const cur = 2;
    const prev = 5;
    const bufs = Array.from({ length: L + 1 }, (_, q) => q).filter((q) => q !== cur);
    i32.set(bufs, lay.bufs);
    const dist = (row: number, i: number): number => lay.dist + row * owned + i;
    for (let i = 0; i < n; i++) {
      f64[dist(cur, i)] = r.int(0, 60);
      f64[dist(prev, i)] = r.int(0, 60);
      i32[lay.near + i] = r.int(0, c - 1);
    }
    // gaps: some centers prune every row, some none
    const gap = Array.from({ length: k }, (_, q) => (q % 2 === 0 ? 1000 : 0.5));
    f64.set(gap, lay.gap);
    for (const [r0, r1] of [[0, n], [3, 40], [7, 8]] as Array<[number, number]>) {
      const have = Array.from({ length: n }, (_, i) => f64[dist(cur, i)]!);
      const before = Array.from({ length: n }, (_, i) => f64[dist(prev, i)]!);
      const near = Array.from({ length: n }, (_, i) => i32[lay.near + i]!);
      const old = bufs.map((row) => Array.from({ length: n }, (_, i) => f64[dist(row, i)]!));
      scan.plusPlus(r0, r1, c, cur, prev);
      let pruned = 0;
      const sums = new Array<number>(L).fill(0);
      for (let i = 0; i < n; i++) {
        if (i < r0 || i >= r1) {
          bufs.forEach((row, j) => assert.is(f64[dist(row, i)], old[j]![i], `row ${i} outside untouched`));
          continue;
        }
        const h = have[i]!;
        const nr = h < before[i]! ? c - 1 : near[i]!;
        assert.is(i32[lay.near + i], nr, `L ${L} row ${i} near`);
        const skip = gap[nr]! >= 2 * Math.sqrt(h) * (1 + 1e-7);
        if (skip) pruned++;
        for (let j = 0; j < L; j++) {
          let v = 0;
          for (let f = 0; f < d; f++) v += (X[i * d + f]! - cand[j * d + f]!) * (X[i * d + f]! - cand[j * d + f]!);
          const want = skip ? h : v < h ? v : h;
          assert.is(f64[dist(bufs[j]!, i)], want, `L ${L} rows ${r0}-${r1} row ${i} candidate ${j}`);
          sums[j] = sums[j]! + want;
        }
      }
      for (let j = 0; j < L; j++) assert.is(f64[lay.out + j], sums[j], `L ${L} rows ${r0}-${r1} sum ${j}`);
      if (r1 - r0 > 10) assert.ok(pruned > 0 && pruned < r1 - r0, `L ${L}: ${pruned} pruned`);
      // the candidates' rows now hold this step's values; put back random ones for the next range
      for (let i = 0; i < n; i++) for (const row of bufs) f64[dist(row, i)] = r.int(0, 60);
    }
  }
});

test("phase 0 finds a NaN or an infinity in any feature on both paths, and finite values whose sums overflow are finite", () => {
  const d = 3; // features 0-1 in a lane pair, feature 2 alone
  for (const wasm of [true, false]) {
    for (const [f, bad] of [[0, NaN], [1, Infinity], [2, -Infinity], [2, NaN]] as Array<[number, number]>) {
      const X = blobs(300, d, 2, 9, 1);
      X[217]![f] = bad;
      const { job } = kmeansJob(X, { k: 2, seed: 0 });
      setKMeansWasm(wasm);
      try {
        assert.is(kmeansSpmd(0, 1, job), NOT_FINITE, `wasm ${wasm} feature ${f} ${bad}`);
      } finally {
        setKMeansWasm(true);
      }
    }
  }
  // 1e308 + 1e308 overflows, but every value is finite: the fit runs (its numbers are moot).
  const X = Array.from({ length: 40 }, (_, i) => [1e308, -1e308, i % 2 === 0 ? 1e308 : 0]);
  for (const wasm of [true, false]) {
    const { job } = kmeansJob(X, { k: 2, seed: 0, maxIter: 2 });
    setKMeansWasm(wasm);
    try {
      assert.is(kmeansSpmd(0, 1, job), DONE, `wasm ${wasm}: overflowing sums`);
    } finally {
      setKMeansWasm(true);
    }
  }
});

test.run();
