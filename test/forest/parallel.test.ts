// Growing one tree on many workers (kernels/forest/parallel.md): the forest
// is bit-identical for any number of threads, with subtree tasks handed
// between workers (taskMin lowered so that the digits trees make hundreds),
// and a failure or an abort in the middle of a fit rejects without leaving
// a worker waiting. Everything comes from the sources, so that the tests
// and the fit share one forestTuning.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Engine } from "../../src/engine/engine.js";
import { AbortError, KernelError, WorkerCrashedError } from "../../src/errors.js";
import { RandomForestClassifier } from "../../src/ml/forest/classifier.js";
import { RandomForestRegressor } from "../../src/ml/forest/regressor.js";
import { forestTuning, growTree } from "../../kernels/forest/grow.js";
import type { FlatTree } from "../../kernels/forest/tree.js";
import { packTree } from "../../kernels/forest/predict.js";
import { ndarray } from "../../src/memory/ndarray-type.js";
import { rng } from "../../src/random/rng.js";
import { digits, prepare, rows } from "./util.js";
import { rejectsTyped } from "../helpers.js";

const THREADS = [1, 2, 3, 8];
const engines = new Map<number, Engine>();
const saved = { ...forestTuning };

test.before(async () => {
  for (const t of THREADS) engines.set(t, await Engine.start({ threads: t }));
  forestTuning.taskMin = 24;
});
test.after(async () => {
  Object.assign(forestTuning, saved);
  for (const e of engines.values()) await e.close();
});

const { X, y } = digits();
const trainX = rows(X, 0, 1200);
const trainY = y.slice(0, 1200);
const trainYf = Float64Array.from(trainY, (v, i) => v + ((i * 7) % 5) * 0.1);

function assertSameTrees(a: readonly FlatTree[], b: readonly FlatTree[], what: string): void {
  assert.is(b.length, a.length, `${what}: tree count`);
  a.forEach((t, i) => {
    const u = b[i]!;
    assert.is(u.nodeCount, t.nodeCount, `${what}: tree ${i} node count`);
    assert.is(u.maxDepth, t.maxDepth, `${what}: tree ${i} depth`);
    for (const k of ["feature", "threshold", "left", "right", "value", "impurity", "nNodeSamples", "weightedNNodeSamples"] as const) {
      assert.equal(Array.from(u[k]), Array.from(t[k]), `${what}: tree ${i} ${k}`);
    }
  });
}

// A larger table, so that nodes above the histogram threshold (2048 samples)
// and sibling subtraction (regression, 2 classes with maxFeatures 1.0) are
// handed between workers too.
const big = (() => {
  const n = 7000;
  const d = 8;
  const X = new Float64Array(n * d);
  const r = rng(31);
  r.fillNormal(X);
  const yr = new Float64Array(n);
  const yc = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    yr[i] = Math.sin(2 * X[o]!) + X[o + 1]! * X[o + 2]! + 0.3 * r.normal();
    yc[i] = yr[i]! > 0.2 ? 1 : 0;
  }
  return { X: ndarray(X, [n, d], [d, 1], 0), yr, yc };
})();

type Make = (engine: Engine) => RandomForestClassifier | RandomForestRegressor;

const CASES: Array<[string, Make, boolean]> = [
  ["classification, gini, 5 trees", (engine) => new RandomForestClassifier({ nEstimators: 5, seed: 4, engine, oobScore: true }), true],
  ["classification, entropy, minSamplesLeaf 2, balanced class weights, 1 tree", (engine) => new RandomForestClassifier({ nEstimators: 1, seed: 5, engine, criterion: "entropy", minSamplesLeaf: 2, classWeight: "balanced" }), true],
  ["classification, maxLeafNodes 40 (best-first), 4 trees", (engine) => new RandomForestClassifier({ nEstimators: 4, seed: 6, engine, maxLeafNodes: 40 }), true],
  ["regression, maxFeatures 1.0 (sibling subtraction), 3 trees", (engine) => new RandomForestRegressor({ nEstimators: 3, seed: 7, engine, oobScore: true }), false],
  ["regression, maxFeatures 0.3, maxLeafNodes 60, 2 trees", (engine) => new RandomForestRegressor({ nEstimators: 2, seed: 8, engine, maxFeatures: 0.3, maxLeafNodes: 60 }), false],
];

const BIG_CASES: Array<[string, Make, boolean]> = [
  ["7,000 x 8 regression (histograms, sibling subtraction), 2 trees", (engine) => new RandomForestRegressor({ nEstimators: 2, seed: 3, engine }), false],
  ["7,000 x 8, 2 classes, maxFeatures 1.0 (histograms, sibling subtraction), 2 trees", (engine) => new RandomForestClassifier({ nEstimators: 2, seed: 3, engine, maxFeatures: null }), true],
];

for (const [name, make, cls] of [...CASES, ...BIG_CASES]) {
  const isBig = BIG_CASES.some((c) => c[0] === name);
  test(`the same forest on 1, 2, 3 and 8 threads: ${name}`, async () => {
    const forests: Array<RandomForestClassifier | RandomForestRegressor> = [];
    for (const t of THREADS) {
      const rf = make(engines.get(t)!);
      if (isBig) await rf.fit(big.X, cls ? big.yc : big.yr);
      else await rf.fit(trainX, cls ? trainY : trainYf);
      forests.push(rf);
    }
    const [first, ...rest] = forests;
    assert.ok(first!.trees[0]!.nodeCount > 20, "trees big enough to make tasks");
    // The walk records built while assembling are packTree's.
    for (const t of first!.trees) assert.equal(Array.from(t.walk!), Array.from(packTree(t)), "walk records");
    rest.forEach((rf, i) => {
      assertSameTrees(first!.trees, rf.trees, `${THREADS[i + 1]} threads`);
      if (first!.oobScore !== undefined) assert.is(rf.oobScore, first!.oobScore, `${THREADS[i + 1]} threads: OOB score`);
      assert.equal(Array.from(rf.featureImportances), Array.from(first!.featureImportances));
    });
  });
}

test("growTree on one thread grows the trees a fit grows on many, whatever taskMin (classification)", async () => {
  const data = prepare(trainX, trainY, 10);
  const here = [0, 1, 2].map((i) => growTree(data, {}, i, 9));
  forestTuning.taskMin = 1e9;
  try {
    const untasked = [0, 1, 2].map((i) => growTree(data, {}, i, 9));
    assertSameTrees(here, untasked, "no tasks");
  } finally {
    forestTuning.taskMin = 24;
  }
});

test("a task that cannot carry its known constants finds them again: the same trees", () => {
  const cases: Array<[ReturnType<typeof prepare>, Parameters<typeof growTree>[1]]> = [
    [prepare(trainX, trainY, 10), {}],
    [prepare(trainX, trainY, 10), { criterion: "entropy", maxFeatures: 0.5 }],
    [prepare(trainX, trainYf, 0), {}],
  ];
  for (const [data, params] of cases) {
    const all = [0, 1].map((i) => growTree(data, params, i, 12));
    forestTuning.taskConsts = 1;
    try {
      assertSameTrees(all, [0, 1].map((i) => growTree(data, params, i, 12)), `at most 1 constant per task: ${JSON.stringify(params)}`);
    } finally {
      forestTuning.taskConsts = 256;
    }
  }
});

test("a kernel error in the middle of a parallel fit rejects it, and the engine goes on working", async () => {
  const engine = engines.get(3)!;
  forestTuning.failAtTask = 30;
  try {
    const rf = new RandomForestClassifier({ nEstimators: 6, seed: 1, engine });
    await rejectsTyped(rf.fit(trainX, trainY), KernelError, /injected failure/);
  } finally {
    forestTuning.failAtTask = 0;
  }
  const rf = new RandomForestClassifier({ nEstimators: 6, seed: 1, engine });
  await rf.fit(trainX, trainY);
  assert.is(rf.trees.length, 6);
});

test("a worker that dies in the middle of a parallel fit rejects it with WorkerCrashedError, and the engine goes on working", async () => {
  const engine = engines.get(2)!;
  forestTuning.failAtTask = -20;
  try {
    const rf = new RandomForestClassifier({ nEstimators: 6, seed: 1, engine });
    await rejectsTyped(rf.fit(trainX, trainY), WorkerCrashedError);
  } finally {
    forestTuning.failAtTask = 0;
  }
  const rf = new RandomForestClassifier({ nEstimators: 6, seed: 1, engine });
  await rf.fit(trainX, trainY);
  assert.is(rf.trees.length, 6);
});

test("aborting a parallel fit rejects with AbortError, and the engine goes on working", async () => {
  const engine = engines.get(8)!;
  for (const delay of [0, 5, 40]) {
    const ac = new AbortController();
    const rf = new RandomForestClassifier({ nEstimators: 400, seed: 2, engine });
    const fit = rf.fit(trainX, trainY, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error("enough")), delay);
    await rejectsTyped(fit, AbortError);
  }
  const rf = new RandomForestRegressor({ nEstimators: 4, seed: 2, engine });
  await rf.fit(trainX, trainYf);
  assert.is(rf.trees.length, 4);
});

test.run();
