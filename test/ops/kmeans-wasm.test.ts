// The WebAssembly distance pass and Lloyd step of ops.kmeans give the same
// bits as the JS loops: same labels, centers, inertia and iterations, with
// k odd and even (a padded lane), d odd, several blocks, empty clusters,
// k-means++ and given centers. Both paths run here on the calling thread.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rng } from "sabre";
import { kmeansWasmBytes, setKMeansWasm } from "../../kernels/ops/kmeans-wasm.js";
import { kmeansJob } from "../../src/ops/kmeans-job.js";
import type { KMeansOptions } from "../../src/ops/kmeans.js";
import { kmeansSpmd } from "../../src/ops/kmeans-spmd.js";
import { DONE } from "../../src/ops/kmeans-layout.js";

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
  for (const m of [[1, 2], [2, 2], [9, 4], [10, 4], [13, 4], [31, 5]]) assert.ok(wasm.validate(kmeansWasmBytes(m, 1)), `m = ${m}`);
});

test("WebAssembly and JS paths agree bit for bit", () => {
  const cases: Array<[number, number, number, number, KMeansOptions]> = [
    // n, d, blobs, std, options
    [5000, 3, 6, 4, { k: 7, seed: 1, nInit: 2 }],
    [4500, 5, 4, 6, { k: 10, seed: 2 }],
    [3000, 1, 3, 1, { k: 2, seed: 3, tol: 0 }],
    [2500, 8, 5, 3, { k: 3, seed: 4, init: "random", maxIter: 5 }],
    [2100, 2, 5, 2, { k: 13, seed: 5 }],
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

test.run();
