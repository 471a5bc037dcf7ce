// Prediction's labels and input checks: the workers' argmax gives the labels
// a plain argmax of predictProba gives, for any thread count and either
// predict path (rows or trees split), whatever the labels are; the
// branch-free finiteness check refuses NaN and both infinities wherever they
// sit in a row.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Engine } from "../../src/engine/engine.js";
import { SabreTypeError } from "../../src/errors.js";
import { RandomForestClassifier } from "../../src/ml/forest/classifier.js";
import { accumulatePredictions, argmaxRows, checkFiniteRows, float32AtOrBelow, treeLeaves } from "../../kernels/forest/predict.js";
import { growTree } from "../../kernels/forest/grow.js";
import { ndarray } from "../../src/memory/ndarray-type.js";
import { shared } from "../../src/memory/shared.js";
import { rng } from "../../src/random/rng.js";
import { argmax, digits, prepare, rows } from "./util.js";
import { rejectsTyped, throwsTyped } from "../helpers.js";

const THREADS = [1, 2, 3];
const engines = new Map<number, Engine>();

test.before(async () => {
  for (const t of THREADS) engines.set(t, await Engine.start({ threads: t }));
});
test.after(async () => {
  for (const e of engines.values()) await e.close();
});

const { X, y } = digits();
const trainX = rows(X, 0, 1200);
const trainY = y.slice(0, 1200);
const testX = rows(X, 1200, 1797);

test("argmaxRows: the first largest class of each row in the range, nothing else written", () => {
  const out = Float64Array.from([0.2, 0.5, 0.3, 0.4, 0.4, 0.2, 0, 0, 1, 0.1, 0.1, 0.8]);
  const ids = Int32Array.from([9, 9, 9, 9]);
  argmaxRows(out, 3, 1, 3, ids);
  assert.equal(Array.from(ids), [9, 0, 2, 9]);
  argmaxRows(out, 3, 0, 4, ids);
  assert.equal(Array.from(ids), [1, 0, 2, 2]);
  throwsTyped(() => argmaxRows(out, 3, 0, 5, ids), SabreTypeError, /ids must be an Int32Array of at least 5/);
  throwsTyped(() => argmaxRows(out, 4, 0, 4, ids), SabreTypeError, /out must be a Float64Array of at least 16/);
});

test("checkFiniteRows refuses NaN, Infinity and -Infinity in any lane of the check, and passes finite rows", () => {
  // 11 features: two groups of four, then a tail of three; float32 and float64.
  for (const make of [(n: number) => new Float64Array(n), (n: number) => new Float32Array(n)]) {
    const d = 11;
    const data = make(6 * d);
    const r = rng(3);
    for (let i = 0; i < data.length; i++) data[i] = r.normal() * 1e30;
    const Xf = ndarray(data, [6, d]);
    checkFiniteRows(Xf, 0, 6);
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const f of [0, 3, 5, 8, 10]) {
        const copy = data.slice();
        copy[4 * d + f] = bad;
        throwsTyped(() => checkFiniteRows(ndarray(copy, [6, d]), 0, 6), SabreTypeError, new RegExp(`X\\[4\\]\\[${f}\\] is ${bad}`));
        checkFiniteRows(ndarray(copy, [6, d]), 0, 4);
      }
    }
  }
});

test("predict's labels are the argmax of predictProba, for 1, 2 and 3 threads and both predict paths", async () => {
  const rf = new RandomForestClassifier({ nEstimators: 16, seed: 4, engine: engines.get(1)! });
  await rf.fit(trainX, trainY);
  const want = argmax((await rf.predictProba(testX)).data, 10);
  for (const t of THREADS) {
    const back = RandomForestClassifier.fromJSON(rf.toJSON(), { engine: engines.get(t)! });
    const got = (await back.predict(testX)) as Int32Array;
    assert.instance(got, Int32Array);
    assert.not.instance(got.buffer, SharedArrayBuffer);
    assert.equal(Array.from(got), Array.from(want), `${t} threads`);
  }
  // Labels that are not 0..C-1 (shifted, and as strings) map the same class ids.
  const shifted = new RandomForestClassifier({ nEstimators: 16, seed: 4, engine: engines.get(2)! });
  await shifted.fit(trainX, Int32Array.from(trainY, (v) => 3 * v - 7));
  assert.equal(Array.from((await shifted.predict(testX)) as Int32Array), Array.from(want, (v) => 3 * v - 7));
  const named = new RandomForestClassifier({ nEstimators: 16, seed: 4, engine: engines.get(3)! });
  await named.fit(trainX, Array.from(trainY, (v) => `c${v}`));
  const labels = named.classes.map(String);
  assert.equal(await named.predict(testX), Array.from(want, (v) => labels[v]));
});

test("tree-parallel predict (big trees, few threads) gives the labels the row-parallel one gives; NaN is refused on both", async () => {
  // 8 noisy 3-class trees of >= 16k nodes: 1 thread splits the trees, 3 threads the rows.
  const n = 36_000;
  const r = rng(9);
  const Xb = shared.empty("float64", [n, 4]);
  const yb = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = [r.normal(), r.normal(), r.normal(), r.normal()];
    v.forEach((x, f) => Xb.set(i, f, x));
    const s = Math.sin(2 * v[0]!) + v[1]! * v[2]! + r.normal(0, 1);
    yb[i] = s > 0.5 ? 2 : s > -0.5 ? 1 : 0;
  }
  const rf = new RandomForestClassifier({ nEstimators: 8, seed: 2, engine: engines.get(1)! });
  await rf.fit(Xb, yb);
  assert.ok(rf.trees.every((t) => t.nodeCount >= 16_384), `big trees: ${rf.trees.map((t) => t.nodeCount)}`);
  const want = argmax((await rf.predictProba(Xb)).data, 3);
  const byTrees = (await rf.predict(Xb)) as Int32Array;
  const byRows = (await RandomForestClassifier.fromJSON(rf.toJSON(), { engine: engines.get(3)! }).predict(Xb)) as Int32Array;
  assert.equal(Array.from(byTrees), Array.from(want));
  assert.equal(Array.from(byRows), Array.from(want));
  const bad = shared.full("float64", [5, 4], 0);
  bad.set(3, 1, -Infinity);
  await rejectsTyped(() => rf.predict(bad), SabreTypeError, /X\[3\]\[1\] is -Infinity/);
});

test("float32AtOrBelow: the largest float32 at or below t", () => {
  const r = rng(5);
  const cases = [0, -0, 1, -1, 0.1, -0.1, 1e-46, -1e-46, 3.4028235677973366e38, 3.5e38, -3.5e38, 2 ** -149, -(2 ** -149)];
  for (let i = 0; i < 2000; i++) cases.push(r.normal() * 10 ** Math.floor(r.float() * 20 - 10));
  const up = (f: number): number => {
    const b = new Float32Array([f]);
    const u = new Int32Array(b.buffer);
    if (f === 0) u[0] = 1;
    else if (f > 0) u[0]!++;
    else u[0]!--;
    return b[0]!;
  };
  for (const t of cases) {
    const f = float32AtOrBelow(t);
    assert.is(Math.fround(f), f, `${t}: ${f} is a float32`);
    assert.ok(f <= t, `${f} <= ${t}`);
    assert.ok(up(f) > t, `the next float32 after ${f} is above ${t}`);
  }
});

test("float32 and 8/16-bit X walk compact records: the same leaves and sums as the same values in float64, at and beside every threshold", () => {
  const n = 3000;
  const d = 12;
  const r = rng(21);
  const data = new Float32Array(n * d);
  for (let i = 0; i < data.length; i++) data[i] = r.normal();
  const X32 = ndarray(data, [n, d]);
  const labels = Int32Array.from({ length: n }, (_, i) => (data[i * d]! + data[i * d + 1]! * data[i * d + 2]! + r.normal() > 0 ? 1 : data[i * d + 3]! > 0.5 ? 2 : 0));
  const prep = prepare(X32, labels, 3);
  const trees = Array.from({ length: 6 }, (_, i) => growTree(prep, { maxFeatures: 4 }, i, 7));
  // Test rows made of the float32 values just at and just above thresholds the trees hold.
  const thresholds: number[][] = Array.from({ length: d }, () => []);
  for (const t of trees) for (let i = 0; i < t.nodeCount; i++) if (t.left[i]! >= 0) thresholds[t.feature[i]!]!.push(t.threshold[i]!);
  const m = 4000;
  const edge = new Float32Array(m * d);
  for (let i = 0; i < m; i++) {
    for (let f = 0; f < d; f++) {
      const ts = thresholds[f]!;
      const below = float32AtOrBelow(ts[Math.floor(r.float() * ts.length)] ?? 0);
      edge[i * d + f] = r.float() < 0.5 ? below : below + Math.abs(below) * 2 ** -23 + 2 ** -149;
    }
  }
  const want = (X: Float32Array | Float64Array, rowsN: number): Float64Array => accumulatePredictions(trees, ndarray(Float64Array.from(X), [rowsN, d]), 0, rowsN, new Float64Array(rowsN * 3), 1 / 6);
  for (const [X, rowsN] of [[data, n], [edge, m]] as const) {
    const got = accumulatePredictions(trees, ndarray(X, [rowsN, d]), 0, rowsN, new Float64Array(rowsN * 3), 1 / 6);
    assert.equal(Array.from(got), Array.from(want(X, rowsN)), `float32, ${rowsN} rows`);
    const leaves32 = new Int32Array(6 * rowsN);
    const leaves64 = new Int32Array(6 * rowsN);
    treeLeaves(trees, ndarray(X, [rowsN, d]), 0, 6, 0, rowsN, leaves32);
    treeLeaves(trees, ndarray(Float64Array.from(X), [rowsN, d]), 0, 6, 0, rowsN, leaves64);
    assert.equal(Array.from(leaves32), Array.from(leaves64), "tree-parallel leaves");
  }
  // Integer dtypes (values 0..255 and -300..300) against their float64 copy.
  for (const [Ctor, lo, span] of [[Uint8Array, 0, 256], [Int16Array, -300, 601]] as const) {
    const ints = new Ctor(n * d);
    for (let i = 0; i < ints.length; i++) ints[i] = lo + Math.floor(r.float() * span);
    const XI = ndarray(ints, [n, d]);
    const yI = Int32Array.from({ length: n }, (_, i) => (ints[i * d]! + ints[i * d + 1]! > 2 * lo + span ? 1 : 0));
    const tI = Array.from({ length: 4 }, (_, i) => growTree(prepare(XI, yI, 2), {}, i, 3));
    const a = accumulatePredictions(tI, XI, 0, n, new Float64Array(n * 2), 0.25);
    const b = accumulatePredictions(tI, ndarray(Float64Array.from(ints), [n, d]), 0, n, new Float64Array(n * 2), 0.25);
    assert.equal(Array.from(a), Array.from(b), Ctor.name);
  }
});

test.run();
