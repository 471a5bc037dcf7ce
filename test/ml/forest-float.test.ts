// Forests on float data (issue 9): the engine's binning gives the bins of a
// single-threaded fit for any thread count, float copies of integer pixels
// grow the same forests as the uint8 copy, and fit's options take every
// input form X and y take.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Engine, RandomForestClassifier, RandomForestRegressor, SabreTypeError, shared, type NdArray } from "sabre";
import { applyBinsBoth, fitBins, forestTuning, type FlatTree } from "../../kernels/forest/index.js";
// binOnEngine is internal: it runs on the source tree's Engine (the same workers; its clauses are this bundle's classes).
import { binOnEngine } from "../../src/ml/forest/binning.js";
import { Engine as SrcEngine } from "../../src/engine/engine.js";
import { SabreTypeError as SrcTypeError } from "../../src/errors.js";
import { ndarray } from "../../src/memory/ndarray-type.js";
import { digits, rows } from "../forest/util.js";
import { rejectsTyped } from "../helpers.js";

let engine: Engine;
test.before(async () => {
  engine = await Engine.start({ threads: 3 });
});
test.after(async () => {
  await engine.close();
});

const { X, y } = digits();
const n = 1200;
const pixels = (X.data as Float64Array).subarray(0, n * 64);
const trainY = y.slice(0, n);
const as = (data: ArrayLike<number> & { length: number }): NdArray => shared.from(ndarray(data as never, [n, 64], [64, 1], 0));
const u8 = as(Uint8Array.from(pixels));
const f32 = as(Float32Array.from(pixels));
const f64 = as(Float64Array.from(pixels));
const testX = rows(X, n, 1797);

function treeArrays(t: FlatTree): string {
  return JSON.stringify([t.feature, t.threshold, t.left, t.right, t.value, t.nNodeSamples, t.weightedNNodeSamples, t.impurity].map((a) => Array.from(a)));
}

test("binning on 1, 2, 3 and 8 threads gives fitBins' bins and both code layouts, float and integer data alike", async () => {
  // A float copy with a continuous column (quantile bins) beside exact ones.
  const mixed = shared.from(f64);
  for (let i = 0; i < n; i++) mixed.set(i, 5, Math.sin(i) * 1000 + i / 7);
  // Pixels / 255 (lattice bins, codes written by the scan), and a copy where features leave the lattice part way.
  const off = Float32Array.from(pixels, (v) => v / 255);
  off[900 * 64 + 20] = 0.123456;
  for (let i = n / 2; i < n; i++) off[i * 64 + 23] = pixels[i * 64 + 23]!;
  const engines = await Promise.all([1, 2, 3, 8].map((threads) => SrcEngine.start({ threads })));
  try {
    // Column-major float32 (other strides), int8 with negative values, uint16 and bigint (the 32- and 64-bit scans).
    const colMajor = shared.empty("float32", [64, n]);
    for (let q = 0; q < n * 64; q++) (colMajor.data as Float32Array)[q] = pixels[(q % n) * 64 + Math.floor(q / n)]!;
    const variants = [
      f32,
      mixed,
      as(Float32Array.from(pixels, (v) => v / 16)),
      as(Int32Array.from(pixels)),
      colMajor.transpose(1, 0),
      as(Int8Array.from(pixels, (v, q) => (q % 3 === 0 ? -v : v))),
      as(Uint16Array.from(pixels, (v, q) => v * 1000 + (q % 977))),
      shared.from(ndarray(BigInt64Array.from(pixels, (v) => BigInt(v) - 8n), [n, 64], [64, 1], 0)),
      as(Float32Array.from(pixels, (v) => v / 255)),
      as(Float64Array.from(pixels, (v) => v / 255)),
      as(off),
    ];
    assert.equal(variants[4]!.stride, [1, n], "a column-major view");
    for (const data of variants) {
      for (const maxBins of [256, 10]) {
        const bins = fitBins(data, maxBins, 9);
        const codes = new Uint8Array(n * 64);
        const rowCodes = new Uint8Array(n * 64);
        applyBinsBoth(data, bins, codes, rowCodes);
        // Passes split over the workers, and (a small table) all of it on one worker.
        for (const oneWorker of [0, n * 64]) {
          for (const e of engines) {
            const saved = forestTuning.binOneWorker;
            forestTuning.binOneWorker = oneWorker;
            const got = await binOnEngine(e, data, maxBins, 9).finally(() => (forestTuning.binOneWorker = saved));
            const how = `${e.threads} threads${oneWorker > 0 ? ", one worker" : ""}, maxBins ${maxBins}`;
            for (const k of ["nBins", "threshold", "binMin", "binMax"] as const) {
              assert.equal(Array.from(got.bins[k]), Array.from(bins[k]), `${how}: ${k}`);
            }
            assert.ok(Buffer.compare(got.codes, codes) === 0, `${how}: feature-major codes`);
            assert.ok(Buffer.compare(got.rowCodes, rowCodes) === 0, `${how}: sample-major codes`);
          }
        }
      }
    }
  } finally {
    await Promise.all(engines.map((e) => e.close()));
  }
});

test("NaN or Infinity in X is a typed error naming the value, binned on one worker or split over several", async () => {
  const bad = shared.from(f32);
  bad.set(700, 5, Number.NaN);
  const inf = shared.from(f64);
  inf.set(3, 60, -Infinity);
  // Through the public fit (a small table: one worker bins it).
  await rejectsTyped(new RandomForestClassifier({ nEstimators: 2, seed: 1, engine }).fit(bad, trainY), SabreTypeError, /X\[700\]\[5\] is NaN/);
  await rejectsTyped(new RandomForestRegressor({ nEstimators: 2, seed: 1, engine }).fit(inf, Float64Array.from(trainY)), SabreTypeError, /X\[3\]\[60\] is -Infinity/);
  // Both binning paths, on the source tree's engine (whose forestTuning this test sets).
  const e = await SrcEngine.start({ threads: 2 });
  const saved = forestTuning.binOneWorker;
  try {
    for (const oneWorker of [0, n * 64]) {
      forestTuning.binOneWorker = oneWorker;
      await rejectsTyped(binOnEngine(e, bad, 256, 1), SrcTypeError, /X\[700\]\[5\] is NaN/);
      await rejectsTyped(binOnEngine(e, inf, 256, 1), SrcTypeError, /X\[3\]\[60\] is -Infinity/);
    }
  } finally {
    forestTuning.binOneWorker = saved;
    await e.close();
  }
});

test("forests fitted on the float32, float64 and uint8 copies of the same pixels are identical", async () => {
  const fits: RandomForestClassifier[] = [];
  for (const data of [u8, f32, f64]) {
    const rf = new RandomForestClassifier({ nEstimators: 6, seed: 4, engine });
    await rf.fit(data, trainY);
    fits.push(rf);
  }
  const want = fits[0]!.trees.map(treeArrays);
  for (const rf of fits.slice(1)) assert.equal(rf.trees.map(treeArrays), want);
  const pred = Array.from((await fits[0]!.predict(testX)) as Int32Array);
  for (const rf of fits.slice(1)) assert.equal(Array.from((await rf.predict(testX)) as Int32Array), pred);
  // Scaled to [0, 1]: the same splits at scaled thresholds, so the same predictions on scaled data.
  const scaled = as(Float32Array.from(pixels, (v) => v / 16));
  const rs = new RandomForestClassifier({ nEstimators: 6, seed: 4, engine });
  await rs.fit(scaled, trainY);
  assert.equal(rs.trees.map((t) => Array.from(t.feature)), fits[0]!.trees.map((t) => Array.from(t.feature)));
  const scaledTest = shared.from(testX);
  for (let i = 0; i < scaledTest.size; i++) (scaledTest.data as Float64Array)[i] = Math.fround((scaledTest.data as Float64Array)[i]! / 16);
  assert.equal(Array.from((await rs.predict(scaledTest)) as Int32Array), pred);
  // Pixels / 255 (all 256 lattice points as bins, as the uint8 copy's identity bins): the same trees, thresholds / 255.
  for (const [name, scaled255] of [
    ["float32", as(Float32Array.from(pixels, (v) => v / 255))],
    ["float64", as(Float64Array.from(pixels, (v) => v / 255))],
  ] as const) {
    const r255 = new RandomForestClassifier({ nEstimators: 6, seed: 4, engine });
    await r255.fit(scaled255, trainY);
    const strip = (t: FlatTree) => JSON.stringify([t.feature, t.left, t.right, t.value, t.nNodeSamples, t.impurity].map((a) => Array.from(a)));
    assert.equal(r255.trees.map(strip), fits[0]!.trees.map(strip), `${name} / 255: the uint8 trees`);
    r255.trees.forEach((t, k) => {
      const want = fits[0]!.trees[k]!.threshold;
      for (let u = 0; u < t.nodeCount; u++) if (t.left[u]! >= 0) assert.ok(Math.abs(t.threshold[u]! * 255 - want[u]!) < 1e-4, `tree ${k} node ${u}`);
    });
    const test255 = shared.from(testX);
    for (let i = 0; i < test255.size; i++) (test255.data as Float64Array)[i] = (test255.data as Float64Array)[i]! / 255;
    assert.equal(Array.from((await r255.predict(test255)) as Int32Array), pred, `${name} / 255: predictions`);
  }
});

test("sampleWeight takes number[], typed arrays and ndarrays (shared or not), and bad weights are typed errors", async () => {
  const w = Array.from({ length: n }, (_, i) => (i % 5) + (i % 7 === 0 ? 0 : 0.5));
  const fit = async (sampleWeight: unknown) => {
    const rf = new RandomForestClassifier({ nEstimators: 3, seed: 2, engine });
    await rf.fit(f32, trainY, { sampleWeight: sampleWeight as number[] });
    return rf.trees.map(treeArrays);
  };
  const want = await fit(w);
  assert.equal(await fit(Float32Array.from(w)), want);
  assert.equal(await fit(Float64Array.from(w)), want);
  assert.equal(await fit(shared.from(Float64Array.from(w))), want);
  assert.equal(await fit(shared.from(Float32Array.from(w))), want);
  assert.equal(await fit(ndarray(Float64Array.from(w), [n, 1], [1, 1], 0)), want);
  const ints = w.map(Math.floor);
  assert.equal(await fit(shared.from(Int32Array.from(ints))), await fit(ints));
  assert.equal(await fit(BigInt64Array.from(ints, BigInt)), await fit(ints));
  const reg = new RandomForestRegressor({ nEstimators: 2, seed: 1, engine });
  await reg.fit(f32, Float64Array.from(trainY), { sampleWeight: shared.from(Float32Array.from(w)) });
  const rf = new RandomForestClassifier({ nEstimators: 2, seed: 1, engine });
  await rejectsTyped(rf.fit(f32, trainY, { sampleWeight: w.slice(1) }), SabreTypeError, /sampleWeight has 1199 weights, X has 1200 rows/);
  await rejectsTyped(rf.fit(f32, trainY, { sampleWeight: shared.zeros("float64", [n, 2]) as never }), SabreTypeError, /1-D.*\[1200, 2\]/);
  const nan = Float64Array.from(w);
  nan[9] = Number.NaN;
  await rejectsTyped(rf.fit(f32, trainY, { sampleWeight: shared.from(nan) }), SabreTypeError, /sampleWeight\[9\] must be a finite number >= 0, got NaN/);
  const neg = Float32Array.from(w);
  neg[3] = -1;
  await rejectsTyped(rf.fit(f32, trainY, { sampleWeight: neg }), SabreTypeError, /sampleWeight\[3\] must be a finite number >= 0, got -1/);
  await rejectsTyped(rf.fit(f32, trainY, { sampleWeight: [...w.slice(0, 4), Infinity, ...w.slice(5)] }), SabreTypeError, /sampleWeight\[4\].*Infinity/);
  await rejectsTyped(rf.fit(f32, trainY, { sampleWeight: "heavy" as never }), SabreTypeError, /sampleWeight must be an array, a typed array or a 1-D ndarray/);
  await rejectsTyped(rf.fit(f32, trainY, { sampleWeight: [[1]] as never }), SabreTypeError, /nested/);
});

test("errors name the public classes", async () => {
  await rejectsTyped(new RandomForestClassifier({ engine }).predict(testX), SabreTypeError, /^this RandomForestClassifier is not fitted yet/);
  await rejectsTyped(new RandomForestRegressor({ engine }).predict(testX), SabreTypeError, /^this RandomForestRegressor is not fitted yet/);
  assert.throws(() => new RandomForestClassifier().featureImportances, /this RandomForestClassifier is not fitted/);
});

test.run();
