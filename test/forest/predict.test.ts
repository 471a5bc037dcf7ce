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
import { argmaxRows, checkFiniteRows } from "../../kernels/forest/predict.js";
import { ndarray } from "../../src/memory/ndarray-type.js";
import { shared } from "../../src/memory/shared.js";
import { rng } from "../../src/random/rng.js";
import { argmax, digits, rows } from "./util.js";
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

test.run();
