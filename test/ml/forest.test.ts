// RandomForestClassifier / RandomForestRegressor end to end on real workers.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Buffer } from "node:buffer";
import { Engine, FormatError, RandomForestClassifier, RandomForestRegressor, rng, SabreTypeError, shared } from "sabre";
import { digits, rows } from "../forest/util.js";
import { rejectsTyped, throwsTyped } from "../helpers.js";

let engine: Engine;
test.before(async () => {
  engine = await Engine.start({ threads: 3 });
});
test.after(async () => {
  await engine.close();
});

const { X, y } = digits();
const trainX = rows(X, 0, 1200);
const trainY = y.slice(0, 1200);
const testX = rows(X, 1200, 1797);
const testY = y.slice(1200);

test("digits: accuracy within a point of scikit-learn 1.2 on the same split", async () => {
  const rf = new RandomForestClassifier({ nEstimators: 100, seed: 3, engine });
  await rf.fit(trainX, trainY);
  const acc = await rf.score(testX, testY);
  // scikit-learn 1.2.1 RandomForestClassifier(n_estimators=100) on this split: mean 0.9273 over 10 seeds
  // (see test/forest/forest.test.ts for how it was measured).
  assert.ok(acc >= 0.9273 - 0.01, `accuracy ${acc}`);
  assert.equal(rf.classes, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const fi = rf.featureImportances;
  assert.is(fi.length, 64);
  assert.ok(Math.abs(fi.reduce((a, b) => a + b, 0) - 1) < 1e-9, "importances sum to 1");
  assert.is(fi[0], 0, "pixel 0 is always 0 in digits: it never splits");
  const proba = await rf.predictProba(testX);
  assert.equal(proba.shape, [597, 10]);
  for (let r = 0; r < 597; r++) {
    let s = 0;
    for (let k = 0; k < 10; k++) s += proba.get(r, k);
    assert.ok(Math.abs(s - 1) < 1e-9);
  }
  const labels = (await rf.predict(testX)) as Int32Array;
  assert.instance(labels, Int32Array);
});

test("the same seed gives bit-identical forests (and OOB scores) for 1, 2 and 3 threads", async () => {
  const models: string[] = [];
  const oob: number[] = [];
  for (const threads of [1, 2, 3]) {
    const e = threads === 3 ? engine : await Engine.start({ threads });
    try {
      const rf = new RandomForestClassifier({ nEstimators: 12, seed: 11, engine: e, oobScore: true });
      await rf.fit(rows(X, 0, 900), y.slice(0, 900));
      models.push(JSON.stringify(rf.toJSON()));
      oob.push(rf.oobScore!);
    } finally {
      if (e !== engine) await e.close();
    }
  }
  assert.ok(models[0] === models[1] && models[1] === models[2], "identical models");
  assert.ok(oob[0] === oob[1] && oob[1] === oob[2], `identical OOB scores ${oob}`);
  assert.ok(oob[0]! > 0.8 && oob[0]! < 1, `oob ${oob[0]}`);
  const other = new RandomForestClassifier({ nEstimators: 12, seed: 12, engine });
  await other.fit(rows(X, 0, 900), y.slice(0, 900));
  assert.is.not(JSON.stringify(other.toJSON()), models[0]);
});

test("8-bit data (codes = values, no binning pass) grows the same forest as the same values in float64", async () => {
  const asBytes = shared.from(trainX, { dtype: "uint8" });
  const a = new RandomForestClassifier({ nEstimators: 8, seed: 21, engine });
  const b = new RandomForestClassifier({ nEstimators: 8, seed: 21, engine });
  await a.fit(asBytes, trainY);
  await b.fit(trainX, trainY);
  assert.is(JSON.stringify(a.toJSON()), JSON.stringify(b.toJSON()));
  // A strided (non row-major) uint8 view takes the general path, with the same result.
  const wide = shared.zeros("uint8", [1200, 128]);
  for (let r = 0; r < 1200; r++) for (let c = 0; c < 64; c++) wide.set(r, 2 * c, asBytes.get(r, c));
  const c = new RandomForestClassifier({ nEstimators: 8, seed: 21, engine });
  await c.fit(wide.step(1, 2), trainY);
  assert.is(JSON.stringify(c.toJSON()), JSON.stringify(a.toJSON()));
});

test("toJSON -> JSON text -> fromJSON predicts identically", async () => {
  const rf = new RandomForestClassifier({ nEstimators: 20, seed: 5, engine, maxDepth: 12 });
  await rf.fit(trainX, trainY);
  const text = JSON.stringify(rf.toJSON());
  const back = RandomForestClassifier.fromJSON(text, { engine });
  const a = await rf.predictProba(testX);
  const b = await back.predictProba(testX);
  assert.equal(Array.from(a.data), Array.from(b.data));
  assert.equal(back.classes, rf.classes);
  assert.equal(Array.from(back.featureImportances), Array.from(rf.featureImportances));
  assert.is(back.seed, 5);
});

test("corrupted, truncated or tampered models are FormatErrors", async () => {
  const rf = new RandomForestClassifier({ nEstimators: 3, seed: 5, engine, maxDepth: 6 });
  await rf.fit(trainX, trainY);
  const good = rf.toJSON();
  const text = JSON.stringify(good);
  const bad = (mutate: (m: Record<string, any>) => void): Record<string, unknown> => {
    const m = JSON.parse(text);
    mutate(m);
    return m;
  };
  throwsTyped(() => RandomForestClassifier.fromJSON(text.slice(0, text.length / 2)), FormatError, /not valid JSON/);
  throwsTyped(() => RandomForestClassifier.fromJSON(bad((m) => (m.version = 99))), FormatError, /version 99/);
  throwsTyped(() => RandomForestClassifier.fromJSON(bad((m) => (m.format = "pickle"))), FormatError, /not a sabre forest/);
  throwsTyped(() => RandomForestRegressor.fromJSON(text), FormatError, /not a RandomForestRegressor/);
  throwsTyped(() => RandomForestClassifier.fromJSON(bad((m) => (m.classes = [1, 1]))), FormatError, /classes/);
  throwsTyped(() => RandomForestClassifier.fromJSON(bad((m) => (m.trees = []))), FormatError, /trees/);
  throwsTyped(() => RandomForestClassifier.fromJSON(bad((m) => (m.options.nEstimators = -1))), FormatError, /options.*nEstimators/);
  throwsTyped(() => RandomForestClassifier.fromJSON(bad((m) => (m.trees[0].left = m.trees[0].left.slice(0, 8)))), FormatError, /left holds \d+ bytes/);
  // A child pointing back at the root would make predict loop forever: refused.
  const loop = bad((m) => {
    const left = new Int32Array(new Uint8Array(Buffer.from(m.trees[1].left, "base64")).buffer);
    left[1] = 0;
    m.trees[1].left = Buffer.from(left.buffer).toString("base64");
  });
  throwsTyped(() => RandomForestClassifier.fromJSON(loop), FormatError, /trees\[1\]/);
  // A feature index beyond the data: refused before any predict could read out of bounds.
  const feat = bad((m) => {
    const f = new Int32Array(new Uint8Array(Buffer.from(m.trees[0].feature, "base64")).buffer);
    f[0] = 64;
    m.trees[0].feature = Buffer.from(f.buffer).toString("base64");
  });
  throwsTyped(() => RandomForestClassifier.fromJSON(feat), FormatError, /trees\[0\]/);
  const nan = bad((m) => {
    const t = new Float64Array(new Uint8Array(Buffer.from(m.trees[0].threshold, "base64")).buffer);
    t[0] = Number.NaN;
    m.trees[0].threshold = Buffer.from(t.buffer).toString("base64");
  });
  throwsTyped(() => RandomForestClassifier.fromJSON(nan), FormatError, /threshold/);
  throwsTyped(() => RandomForestClassifier.fromJSON(42), FormatError, /must be an object/);
});

test("string labels, number[][] input, classWeight by label", async () => {
  const Xs: number[][] = [];
  const ys: string[] = [];
  for (let i = 0; i < 200; i++) {
    const a = (i * 7919) % 100;
    const b = (i * 104729) % 100;
    Xs.push([a, b]);
    ys.push(a + b > 100 ? "big" : "small");
  }
  const rf = new RandomForestClassifier({ nEstimators: 10, seed: 2, engine, classWeight: { big: 2, small: 1 } });
  await rf.fit(Xs, ys);
  assert.equal(rf.classes, ["big", "small"]);
  const pred = (await rf.predict([[90, 90], [1, 2]])) as string[];
  assert.equal(pred, ["big", "small"]);
  assert.ok((await rf.score(Xs, ys)) > 0.97);
  const balanced = new RandomForestClassifier({ nEstimators: 5, seed: 2, engine, classWeight: "balanced_subsample" });
  await balanced.fit(Xs, ys);
  assert.ok((await balanced.score(Xs, ys)) > 0.95);
});

test("a separable set is learned exactly; onProgress counts trees", async () => {
  const Xs = shared.zeros("float32", [100, 3]);
  const ys = new Int32Array(100);
  for (let i = 0; i < 100; i++) {
    Xs.set(i, 0, i);
    Xs.set(i, 1, (i * 37) % 11);
    Xs.set(i, 2, 5);
    ys[i] = i < 50 ? -3 : 7;
  }
  const seen: number[] = [];
  const rf = new RandomForestClassifier({ nEstimators: 16, seed: 1, engine });
  await rf.fit(Xs, ys, { onProgress: (done, total) => seen.push(done / total) });
  assert.is(await rf.score(Xs, ys), 1);
  assert.equal(Array.from((await rf.predict([[10, 0, 5], [90, 0, 5]])) as Int32Array), [-3, 7]);
  assert.is(seen[seen.length - 1], 1);
});

test("regressor: R^2 on a known function, OOB, JSON round trip", async () => {
  const n = 2000;
  const Xr = shared.zeros("float64", [n, 3]);
  const yr = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = ((i * 0.618) % 1) * 6 - 3;
    const b = ((i * 0.414) % 1) * 4 - 2;
    Xr.set(i, 0, a);
    Xr.set(i, 1, b);
    Xr.set(i, 2, (i * 0.732) % 1); // noise feature
    yr[i] = Math.sin(a) + b * b;
  }
  const rf = new RandomForestRegressor({ nEstimators: 30, seed: 4, engine, oobScore: true });
  await rf.fit(Xr, yr);
  const r2 = await rf.score(Xr, yr);
  assert.ok(r2 > 0.97, `train R^2 ${r2}`);
  assert.ok(rf.oobScore! > 0.9, `OOB R^2 ${rf.oobScore}`);
  assert.ok(rf.featureImportances[2]! < 0.05, "the noise feature matters little");
  const back = RandomForestRegressor.fromJSON(JSON.stringify(rf.toJSON()), { engine });
  assert.equal(Array.from(await back.predict(Xr)), Array.from(await rf.predict(Xr)));
  const pred = await rf.predict([[1, 1, 0.5]]);
  assert.ok(Math.abs(pred[0]! - (Math.sin(1) + 1)) < 0.3, `prediction ${pred[0]}`);
});

test("predictions are bit-identical whether workers split the trees or the rows", async () => {
  // Trees of >= 16k nodes are split across workers when each gets >= 4 of them: a 1-thread
  // engine splits these 8 trees, a 3-thread one splits the rows. Fully grown regression trees
  // on 20,000 noisy rows have ~25k nodes.
  const n = 20_000;
  const r = rng(17);
  const Xb = shared.empty("float64", [n, 4]);
  const yb = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = [r.normal(), r.normal(), r.normal(), r.normal()];
    v.forEach((x, f) => Xb.set(i, f, x));
    yb[i] = Math.sin(2 * v[0]!) + v[1]! * v[2]! + r.normal(0, 0.5);
  }
  const reg = new RandomForestRegressor({ nEstimators: 8, seed: 8, engine });
  await reg.fit(Xb, yb);
  assert.ok(reg.trees.every((t) => t.nodeCount >= 16_384), `big trees: ${reg.trees.map((t) => t.nodeCount)}`);
  const one = await Engine.start({ threads: 1 });
  try {
    const regOne = RandomForestRegressor.fromJSON(reg.toJSON(), { engine: one });
    const a = await regOne.predict(Xb);
    const b = await reg.predict(Xb);
    assert.ok(a.every((v, i) => Object.is(v, b[i])), "identical predictions");
    assert.ok((await reg.score(Xb, yb)) > 0.8, "and good ones");
    const bad = shared.full("float64", [5, 4], 0);
    bad.set(3, 2, NaN);
    await rejectsTyped(() => regOne.predict(bad), SabreTypeError, /X\[3\]\[2\] is NaN/);
  } finally {
    await one.close();
  }
});

test("bad input is a SabreTypeError saying what was wrong", async () => {
  throwsTyped(() => new RandomForestClassifier({ nEstimators: 0 }), SabreTypeError, /nEstimators must be an integer in \[1/);
  throwsTyped(() => new RandomForestClassifier({ nEstimators: 2.5 }), SabreTypeError, /nEstimators/);
  throwsTyped(() => new RandomForestClassifier({ maxBins: 1000 }), SabreTypeError, /maxBins/);
  throwsTyped(() => new RandomForestClassifier({ nTrees: 5 } as never), SabreTypeError, /unknown option "nTrees"/);
  throwsTyped(() => new RandomForestClassifier({ oobScore: true, bootstrap: false }), SabreTypeError, /oobScore needs bootstrap/);
  throwsTyped(() => new RandomForestClassifier({ engine: {} as Engine }), SabreTypeError, /engine must be an Engine/);
  throwsTyped(() => new RandomForestRegressor({ classWeight: "balanced" } as never), SabreTypeError, /unknown option "classWeight"/);
  const rf = new RandomForestClassifier({ nEstimators: 2, seed: 1, engine });
  await rejectsTyped(rf.predict(trainX), SabreTypeError, /not fitted yet/);
  await rejectsTyped(rf.fit(trainX, trainY.slice(0, 10)), SabreTypeError, /1200 rows but y has 10 labels/);
  await rejectsTyped(rf.fit(shared.zeros("float64", 10), new Int32Array(10)), SabreTypeError, /must be 2-D.*reshape/);
  await rejectsTyped(rf.fit(shared.zeros("float64", [0, 3]), new Int32Array(0)), SabreTypeError, /no rows/);
  await rejectsTyped(rf.fit(trainX, new Int32Array(1200).fill(4)), SabreTypeError, /single class/);
  const nanY = Float64Array.from(trainY);
  nanY[7] = Number.NaN;
  await rejectsTyped(rf.fit(trainX, nanY), SabreTypeError, /y\[7\] is NaN/);
  await rejectsTyped(rf.fit(trainX, Float64Array.from(trainY, (v) => v + 0.5)), SabreTypeError, /RandomForestRegressor/);
  const reg = new RandomForestRegressor({ nEstimators: 2, engine });
  const infY = new Float64Array(1200);
  infY[3] = Infinity;
  await rejectsTyped(reg.fit(trainX, infY), SabreTypeError, /y\[3\] is Infinity/);
  const nanX = shared.from(trainX);
  nanX.set(5, 2, Number.NaN);
  await rejectsTyped(rf.fit(nanX, trainY), SabreTypeError, /X\[5\]\[2\] is NaN/);
  await rejectsTyped(new RandomForestClassifier({ maxFeatures: 65, engine }).fit(trainX, trainY), SabreTypeError, /maxFeatures/);
  await rejectsTyped(new RandomForestClassifier({ maxFeatures: -1, engine }).fit(trainX, trainY), SabreTypeError, /maxFeatures/);
  await rejectsTyped(new RandomForestClassifier({ minSamplesLeaf: 0, engine }).fit(trainX, trainY), SabreTypeError, /minSamplesLeaf/);
  await rejectsTyped(new RandomForestClassifier({ classWeight: { 42: 1 }, engine }).fit(trainX, trainY), SabreTypeError, /label "42"/);
  await rejectsTyped(rf.fit(trainX, trainY, { sampleWeight: [1, 2] }), SabreTypeError, /sampleWeight has 2 weights/);
  await rf.fit(trainX, trainY);
  await rejectsTyped(rf.predict(rows(X, 0, 5).hi(5, 10)), SabreTypeError, /10 features, but this forest was fitted with 64/);
  const nanTest = shared.from(testX);
  nanTest.set(0, 0, Number.NaN);
  await rejectsTyped(rf.predict(nanTest), SabreTypeError, /NaN/);
  await rejectsTyped(rf.score(testX, testY.slice(1)), SabreTypeError, /597 rows but y has 596/);
});

test("a regressor's criterion is checked, not dropped", async () => {
  // { criterion: "gini" } or a typo used to fit squared_error without a word.
  const X = shared.from([[1, 2], [3, 4], [5, 6], [7, 8]]);
  const y = [0.5, 1, 1.5, 2];
  await rejectsTyped(new RandomForestRegressor({ nEstimators: 2, criterion: "x" as never, engine }).fit(X, y), SabreTypeError, /criterion must be .*got "x"/);
  await rejectsTyped(new RandomForestRegressor({ nEstimators: 2, criterion: "gini" as never, engine }).fit(X, y), SabreTypeError, /criterion "gini" is for classification/);
  await new RandomForestRegressor({ nEstimators: 2, criterion: "squared_error", engine, seed: 1 }).fit(X, y);
});

test("fit and predict options are checked: a non-object or a misspelt key is an error, not ignored", async () => {
  const X = shared.from([[1, 2], [3, 4], [5, 6], [7, 8]]);
  const y = [0, 1, 0, 1];
  const rf = new RandomForestClassifier({ nEstimators: 2, seed: 1, engine });
  await rejectsTyped(rf.fit(X, y, 5 as never), SabreTypeError, /fit options must be an object, got 5/);
  await rejectsTyped(rf.fit(X, y, { onProgres: () => undefined } as never), SabreTypeError, /fit options: unknown option "onProgres" \(known: onProgress, sampleWeight, signal, cluster\)/);
  await rf.fit(X, y);
  await rejectsTyped(rf.predict(X, { clustr: 1 } as never), SabreTypeError, /predict options: unknown option "clustr" \(known: cluster\)/);
  assert.is((await rf.predict(X)).length, 4);
});

test.run();
