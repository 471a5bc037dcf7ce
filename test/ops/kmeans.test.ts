import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { AbortError, Engine, ops, rng, SabreTypeError, shared } from "sabre";
import { rejectsTyped } from "../helpers.js";

interface Run {
  init: number[][];
  maxIter: number;
  tol: number;
  labels: number[];
  centers: number[][];
  inertia: number;
  iterations: number;
}
interface Dataset {
  X: number[][];
  runs: Record<string, Run>;
}

function load<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../../test/fixtures/kmeans/${name}.json`, import.meta.url), "utf8")) as T;
}

function close(actual: number, expected: number, what: string): void {
  const rel = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-12);
  assert.ok(rel <= 1e-6 || Math.abs(actual - expected) <= 1e-9, `${what}: ${actual} vs scikit-learn ${expected}`);
}

/** A deterministic blob dataset: `c` gaussian clusters in d dimensions. */
function blobs(n: number, d: number, c: number, seed: number): Float64Array {
  const r = rng(seed);
  const means = Array.from({ length: c * d }, () => r.float() * 20 - 10);
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const j = r.int(0, c);
    for (let f = 0; f < d; f++) x[i * d + f] = means[j * d + f]! + r.normal(0, 1.5);
  }
  return x;
}

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.is(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) assert.unreachable(`${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
}

let engine: Engine;
test.before(async () => {
  engine = await Engine.start({ threads: 3 });
});
test.after(async () => {
  await engine.close();
});

for (const [file, cases] of [["small", ["small"]], ["blocks", ["blocks", "maxiter", "tol"]], ["empty", ["empty"]]] as const) {
  for (const name of cases) {
    test(`same labels, centers, inertia and iterations as scikit-learn 1.2 from the same centers: ${name}`, async () => {
      const data = load<Dataset>(file);
      const run = data.runs[name]!;
      const k = run.init.length;
      const r = await ops.kmeans(data.X, { k, init: run.init, maxIter: run.maxIter, tol: run.tol, engine });
      assert.is(r.iterations, run.iterations, "iterations");
      assert.equal(Array.from(r.labels.data), run.labels, "labels");
      close(r.inertia, run.inertia, "inertia");
      for (let j = 0; j < k; j++) {
        for (let f = 0; f < data.X[0]!.length; f++) close(r.centers.get(j, f), run.centers[j]![f]!, `centers[${j}][${f}]`);
      }
      assert.equal(r.centers.shape, [k, data.X[0]!.length]);
      assert.equal(r.labels.shape, [data.X.length]);
      assert.ok(shared.isShared(r.centers) && shared.isShared(r.labels));
    });
  }
}

/** Plain Lloyd as scikit-learn runs it (every distance computed, no bounds), for clusterings without empty clusters. */
function plainLloyd(x: Float64Array, n: number, d: number, init: number[][], maxIter: number, tolAbs: number): { labels: Int32Array; centers: Float64Array; iterations: number } {
  const k = init.length;
  let centers = Float64Array.from(init.flat());
  const labels = new Int32Array(n).fill(-1);
  let strict = false;
  let iterations = maxIter;
  const assign = (): number => {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestD = Infinity;
      for (let j = 0; j < k; j++) {
        let s = 0;
        for (let f = 0; f < d; f++) s += (x[i * d + f]! - centers[j * d + f]!) ** 2;
        if (s < bestD) [best, bestD] = [j, s];
      }
      if (labels[i] !== best) changed++;
      labels[i] = best;
    }
    return changed;
  };
  for (let it = 0; it < maxIter; it++) {
    const changed = assign();
    const sums = new Float64Array(k * d);
    const counts = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      counts[labels[i]!]! += 1;
      for (let f = 0; f < d; f++) sums[labels[i]! * d + f]! += x[i * d + f]!;
    }
    assert.ok(!counts.includes(0), "the reference has no empty-cluster rule");
    for (let q = 0; q < k * d; q++) sums[q]! /= counts[Math.floor(q / d)]!;
    let shift = 0;
    for (let q = 0; q < k * d; q++) shift += (sums[q]! - centers[q]!) ** 2;
    centers = sums;
    if (changed === 0) {
      strict = true;
      iterations = it + 1;
      break;
    }
    if (shift <= tolAbs) {
      iterations = it + 1;
      break;
    }
  }
  if (!strict) assign();
  return { labels, centers, iterations };
}

test("the distance bounds change no label: same labels and iterations as plain Lloyd on overlapping clusters", async () => {
  const n = 8000;
  const d = 3;
  const x = blobs(n, d, 6, 21);
  const X = shared.from(x, { shape: [n, d] });
  for (const k of [2, 5, 13]) {
    const init = Array.from({ length: k }, (_, j) => Array.from(x.subarray(j * 577 * d, (j * 577 + 1) * d)));
    const r = await ops.kmeans(X, { k, init, tol: 0, engine });
    const ref = plainLloyd(x, n, d, init, 300, 0);
    assert.is(r.iterations, ref.iterations, `k = ${k}: iterations`);
    assert.equal(Array.from(r.labels.data), Array.from(ref.labels), `k = ${k}: labels`);
    for (let q = 0; q < k * d; q++) assert.ok(Math.abs(r.centers.data[q]! - ref.centers[q]!) < 1e-9, `k = ${k}: centers`);
  }
});

test("the empty-cluster fixture does have an empty cluster in its first iteration", () => {
  const data = load<Dataset>("empty");
  const init = data.runs.empty!.init;
  const used = new Set(
    data.X.map((x) => {
      let best = 0;
      let bestD = Infinity;
      init.forEach((c, j) => {
        const dd = c.reduce((s, v, f) => s + (v - x[f]!) ** 2, 0);
        if (dd < bestD) [best, bestD] = [j, dd];
      });
      return best;
    }),
  );
  assert.is(used.size, init.length - 1);
});

test("k-means++ with seeds lands no worse than scikit-learn's on blobs (mean inertia over 10 seeds, within 2%)", async () => {
  const data = load<{ X: number[][]; k: number; inertias: number[] }>("plusplus");
  const X = shared.from(data.X, { dtype: "float64" });
  let ours = 0;
  for (let seed = 0; seed < 10; seed++) ours += (await ops.kmeans(X, { k: data.k, seed, engine })).inertia;
  const theirs = data.inertias.reduce((a, b) => a + b, 0);
  assert.ok(ours <= theirs * 1.02, `mean inertia ${ours / 10} vs scikit-learn ${theirs / 10}`);
  // The same seed gives the same clustering.
  const a = await ops.kmeans(X, { k: data.k, seed: 5, engine });
  const b = await ops.kmeans(X, { k: data.k, seed: 5, engine });
  sameBits(a.centers.data, b.centers.data, "centers");
});

test("nInit keeps the run with the lowest inertia", async () => {
  const data = load<{ X: number[][]; k: number }>("plusplus");
  const X = shared.from(data.X, { dtype: "float64" });
  const best = await ops.kmeans(X, { k: data.k, seed: 1, nInit: 6, engine });
  // Run r of a call with seed s starts like rng(s, r): no single run of the call does better.
  assert.ok(Number.isFinite(best.inertia));
  const one = await ops.kmeans(X, { k: data.k, seed: 1, nInit: 1, engine });
  assert.ok(best.inertia <= one.inertia);
});

test("bit for bit the same result on 1, 2, 3 and 5 threads (k-means++, nInit 2, empty clusters)", async () => {
  const n = 20_000;
  const d = 6;
  const X = shared.from(blobs(n, d, 5, 11), { shape: [n, d] });
  const results = [];
  for (const threads of [1, 2, 3, 5]) {
    const e = await Engine.start({ threads });
    try {
      // k = 9 on 5 blobs, and an init with two centers far away: both paths.
      results.push(await ops.kmeans(X, { k: 9, seed: 3, nInit: 2, engine: e }));
      const init = Array.from({ length: 4 }, (_, j) => Array.from({ length: d }, (_, f) => (j < 2 ? 1000 + j + f : Number(X.data[j * 997 * d + f]))));
      results.push(await ops.kmeans(X, { k: 4, init, engine: e }));
    } finally {
      await e.close();
    }
  }
  for (let t = 2; t < results.length; t++) {
    const a = results[t % 2]!;
    const b = results[t]!;
    sameBits(b.centers.data, a.centers.data, `centers (run ${t})`);
    sameBits(b.labels.data, a.labels.data, `labels (run ${t})`);
    assert.ok(Object.is(b.inertia, a.inertia), `inertia ${b.inertia} vs ${a.inertia}`);
    assert.is(b.iterations, a.iterations);
  }
});

test("any number dtype, strided and transposed views and plain arrays give the float64 answer", async () => {
  const n = 3000;
  const d = 4;
  const f64 = blobs(n, d, 4, 2).map((v) => Math.round(v * 8) / 8); // exact in float32 and int after scaling
  const X = shared.from(f64, { shape: [n, d] });
  const ref = await ops.kmeans(X, { k: 5, seed: 9, engine });
  const check = async (x: Parameters<typeof ops.kmeans>[0], what: string): Promise<void> => {
    const r = await ops.kmeans(x, { k: 5, seed: 9, engine });
    sameBits(r.centers.data, ref.centers.data, `${what} centers`);
    sameBits(r.labels.data, ref.labels.data, `${what} labels`);
    assert.ok(Object.is(r.inertia, ref.inertia), what);
  };
  await check(shared.from(f64, { dtype: "float32", shape: [n, d] }), "float32");
  // Transposed: the data stored as [d, n], viewed as [n, d].
  const t = shared.zeros("float64", [d, n]);
  for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) t.set(f, i, f64[i * d + f]!);
  await check(t.transpose(1, 0), "transposed");
  // Every other row of a [2n, d] array, and a view that starts at an offset.
  const big = shared.zeros("float64", [2 * n + 1, d]);
  for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) big.set(2 * i + 1, f, f64[i * d + f]!);
  await check(big.lo(1, 0).step(2, 1), "strided");
  const off = shared.zeros("float64", [n + 3, d]);
  for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) off.set(i + 3, f, f64[i * d + f]!);
  await check(off.lo(3, 0), "offset");
  await check(Array.from({ length: n }, (_, i) => Array.from(f64.subarray(i * d, (i + 1) * d))), "number[][]");
  const ints = shared.from(f64.map((v) => v * 8), { dtype: "int32", shape: [n, d] });
  const scaled = await ops.kmeans(shared.from(f64.map((v) => v * 8), { shape: [n, d] }), { k: 5, seed: 9, engine });
  const r = await ops.kmeans(ints, { k: 5, seed: 9, engine });
  sameBits(r.centers.data, scaled.centers.data, "int32 centers");
});

test("k = 1 and k = n", async () => {
  const X = [[0, 0], [1, 0], [0, 1], [3, 3]];
  const one = await ops.kmeans(X, { k: 1, seed: 0 });
  assert.equal(Array.from(one.centers.data), [1, 1]);
  assert.equal(Array.from(one.labels.data), [0, 0, 0, 0]);
  assert.is(one.inertia, 2 + 1 + 1 + 8);
  const all = await ops.kmeans(X, { k: 4, seed: 0 });
  assert.is(all.inertia, 0);
  assert.is(new Set(all.labels.data).size, 4);
});

test("bad input is a SabreTypeError", async () => {
  const X = [[0, 0], [1, 1], [2, 2]];
  const bad: Array<[unknown, unknown, RegExp]> = [
    [X, { k: 4 }, /k = 4 clusters need at least 4 rows/],
    [X, { k: 0 }, /k must be an integer >= 1/],
    [X, { k: 1.5 }, /k must be an integer/],
    [X, { k: "2" }, /k must be an integer/],
    [X, {}, /option k .* is required/],
    [X, undefined, /options with k are required/],
    [X, { k: 2, kk: 1 }, /unknown option "kk"/],
    [X, { k: 2, maxIter: 0 }, /maxIter must be a positive integer/],
    [X, { k: 2, nInit: 2.5 }, /nInit must be a positive integer/],
    [X, { k: 2, tol: -1 }, /tol must be a finite number >= 0/],
    [X, { k: 2, tol: NaN }, /tol must be a finite number >= 0/],
    [X, { k: 2, seed: -1 }, /seed must be an integer/],
    [X, { k: 2, init: "kmeans++" }, /init must be "k-means\+\+", "random" or a k x d array/],
    [X, { k: 2, init: [[0, 0]] }, /init must have shape \[k, d\] = \[2, 2\]/],
    [X, { k: 2, init: [[0, 0], [1, NaN]] }, /init\[1\]\[1\] is NaN/],
    [[1, 2, 3], { k: 1 }, /X must be 2-d/],
    [shared.zeros("float64", [0, 3]), { k: 1 }, /X is empty/],
    [shared.zeros("float64", [3, 0]), { k: 1 }, /X is empty/],
    [shared.zeros("bigint64", [3, 2]), { k: 1 }, /bigint64/],
    ["abc", { k: 1 }, /X must be an ndarray/],
    [[[0, 0], [NaN, 1], [2, 2]], { k: 2 }, /X contains NaN or infinity/],
    [[[0, 0], [Infinity, 1], [2, 2]], { k: 2 }, /X contains NaN or infinity/],
  ];
  for (const [x, o, pattern] of bad) {
    await rejectsTyped(() => ops.kmeans(x as never, o as never), SabreTypeError, pattern);
  }
  // NaN found by the workers, in a block far from the first.
  const big = shared.from(blobs(30_000, 5, 3, 1), { shape: [30_000, 5] });
  big.set(29_000, 3, NaN);
  await rejectsTyped(ops.kmeans(big, { k: 3, seed: 0, engine }), SabreTypeError, /NaN or infinity/);
  // The engine is fine afterwards.
  big.set(29_000, 3, 0);
  assert.ok((await ops.kmeans(big, { k: 3, seed: 0, engine })).inertia > 0);
});

test("abort rejects with AbortError and leaves no worker stuck at the barrier", async () => {
  const n = 200_000;
  const X = shared.from(blobs(n, 8, 20, 4), { shape: [n, 8] });
  await rejectsTyped(ops.kmeans(X, { k: 20, seed: 0, engine, signal: AbortSignal.abort() }), AbortError);
  for (const delay of [0, 5, 40]) {
    const ac = new AbortController();
    const p = ops.kmeans(X, { k: 50, seed: 0, tol: 0, maxIter: 1000, engine, signal: ac.signal });
    setTimeout(() => ac.abort(), delay);
    await rejectsTyped(p, AbortError);
    // Every worker must have left the aborted call: a new SPMD call needs all of them.
    const r = await ops.kmeans(X.lo(0, 0).hi(5000, 8), { k: 3, seed: 1, engine });
    assert.ok(r.inertia > 0);
  }
});

test("a huge nInit on a tiny X runs on the workers, where a signal stops it (it blocked the calling thread for good)", async () => {
  const X = shared.from([[0, 0], [1, 1], [5, 5], [6, 6]]);
  const ticks: number[] = [];
  const timer = setInterval(() => ticks.push(Date.now()), 20);
  const started = Date.now();
  try {
    await rejectsTyped(ops.kmeans(X, { k: 2, nInit: 1e9, seed: 1, engine, signal: AbortSignal.timeout(300) }), AbortError, /ops\.kmeans|aborted/);
  } finally {
    clearInterval(timer);
  }
  assert.ok(Date.now() - started < 10_000, "the abort ended the call");
  assert.ok(ticks.length > 0, "the event loop ran while the runs went on");
  const { labels } = await ops.kmeans(X, { k: 2, nInit: 3, seed: 1, engine });
  assert.is(labels.get(0) === labels.get(1), true);
});

test.run();
