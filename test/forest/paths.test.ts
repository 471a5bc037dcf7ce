import { test } from "uvu";
import * as assert from "uvu/assert";
import { forestTuning, growTree, type FlatTree, type ForestData, type TreeParams } from "../../kernels/forest/index.js";
import { accuracy, argmax, digits, predict, prepare, rows } from "./util.js";

// The digits trees are small, so by default every node takes the gathered
// per-bin-list path. Force each path in turn: histograms for every node,
// lists over feature-major codes (no sample-major copy), gathered batches.
const PATHS: [string, { histMin: number; rowMax: number }, boolean][] = [
  ["histograms everywhere", { histMin: 0, rowMax: 0 }, true],
  ["lists over feature-major codes", { histMin: 1e9, rowMax: 2048 }, false],
  ["gathered batches", { histMin: 1e9, rowMax: 4096 }, true],
];

function withTuning<T>(t: Partial<typeof forestTuning>, fn: () => T): T {
  const saved = { ...forestTuning };
  Object.assign(forestTuning, t);
  try {
    return fn();
  } finally {
    Object.assign(forestTuning, saved);
  }
}

const { X, y } = digits();
const train = rows(X, 0, 1000);
const testX = rows(X, 1000, 1797);

function grow(data: ForestData, params: TreeParams, n: number): FlatTree[] {
  return Array.from({ length: n }, (_, i) => growTree(data, params, i, 21));
}

for (const [criterion, nClasses] of [["gini", 10], ["entropy", 10], ["squared_error", 0]] as const) {
  test(`every code path grows the same root split and equally good trees (${criterion})`, () => {
    const yy = nClasses > 0 ? y.slice(0, 1000) : Float64Array.from(y.subarray(0, 1000));
    const full = prepare(train, yy, nClasses);
    const results = PATHS.map(([name, tuning, sampleMajor]) =>
      withTuning(tuning, () => {
        const data = sampleMajor ? full : { ...full, rowCodes: null };
        const trees = grow(data, { criterion, maxFeatures: nClasses > 0 ? "sqrt" : 0.3 }, 12);
        const pred = predict(trees, testX);
        let score: number;
        if (nClasses > 0) score = accuracy(argmax(pred, 10), y, 1000);
        else {
          let ss = 0;
          pred.forEach((p, i) => (ss += (p - y[1000 + i]!) ** 2));
          score = -ss / pred.length;
        }
        return { name, root: [trees[0]!.feature[0], trees[0]!.threshold[0]], score, trees };
      }),
    );
    const [a, ...others] = results;
    for (const o of others) {
      assert.equal(o.root, a!.root, `${o.name} vs ${a!.name}: root split`);
      const tol = nClasses > 0 ? 0.03 : 0.3;
      assert.ok(Math.abs(o.score - a!.score) < tol, `${o.name} ${o.score} vs ${a!.name} ${a!.score}`);
    }
    if (nClasses > 0) for (const r of results) assert.ok(r.score > 0.85, `${r.name}: accuracy ${r.score}`);
    // Fully grown classification trees fit their in-bag samples: every leaf pure.
    if (nClasses > 0) {
      for (const r of results) {
        const t = r.trees[0]!;
        for (let i = 0; i < t.nodeCount; i++) {
          if (t.left[i] !== -1) continue;
          const v = t.value.subarray(i * 10, i * 10 + 10);
          assert.ok(v.some((p) => p === 1), `${r.name}: leaf ${i} is not pure`);
        }
      }
    }
  });
}

test("minSamplesLeaf counts samples on the histogram path too", () => {
  const data = prepare(train, y.slice(0, 1000), 10);
  for (const [name, tuning] of PATHS) {
    const t = withTuning(tuning, () => growTree(data, { minSamplesLeaf: 9 }, 0, 2));
    for (let i = 0; i < t.nodeCount; i++) if (t.left[i] === -1) assert.ok(t.nNodeSamples[i]! >= 9, `${name}: leaf ${i} has ${t.nNodeSamples[i]}`);
  }
});

// Tiny nodes sort their few samples by code instead of walking 256-bin lists
// (split-tiny.ts): the same sums in the same order, so the same trees bit for bit.
test("tiny nodes grow the same trees as the per-bin lists (gini, squared error, minSamplesLeaf, weights)", () => {
  const yc = y.slice(0, 1000);
  const yr = Float64Array.from(yc, (v, i) => v * 1.5 + (i % 7) * 0.125);
  const weights = Float64Array.from({ length: 1000 }, (_, i) => 0.5 + (i % 5) * 0.75);
  const cases: [string, ForestData, TreeParams][] = [
    ["gini", prepare(train, yc, 10), {}],
    ["gini, minSamplesLeaf 2", prepare(train, yc, 10), { minSamplesLeaf: 2 }],
    ["gini, sample and class weights", { ...prepare(train, yc, 10), sampleWeight: weights }, { classWeight: "balanced" }],
    ["squared error", prepare(train, yr, 0), { maxFeatures: 1 }],
    ["squared error, minSamplesLeaf 3", prepare(train, yr, 0), { minSamplesLeaf: 3, maxFeatures: 0.5 }],
    ["squared error, sample weights", { ...prepare(train, yr, 0), sampleWeight: weights }, {}],
  ];
  for (const [name, data, params] of cases) {
    const lists = withTuning({ tinyMax: 0 }, () => grow(data, params, 3));
    for (const tinyMax of [2, 8, 64]) {
      const tiny = withTuning({ tinyMax }, () => grow(data, params, 3));
      for (let k = 0; k < 3; k++) {
        const a = lists[k]!;
        const b = tiny[k]!;
        assert.equal(b.nodeCount, a.nodeCount, `${name}, tinyMax ${tinyMax}, tree ${k}: node count`);
        for (const key of ["feature", "threshold", "left", "right", "value", "impurity", "weightedNNodeSamples"] as const) {
          assert.ok(Buffer.from(b[key].buffer, b[key].byteOffset, b[key].byteLength).equals(Buffer.from(a[key].buffer, a[key].byteOffset, a[key].byteLength)), `${name}, tinyMax ${tinyMax}, tree ${k}: ${key}`);
        }
      }
    }
  }
});

// Small nodes of narrow tables read each code in place from its sample's row
// instead of gathering a batch first (forestTuning.gatherMinFeatures): the
// same codes in the same order, so the same trees bit for bit, on the list
// and the tiny-sort paths alike.
test("codes read in place from the rows grow the same trees as gathered batches", () => {
  const yc = y.slice(0, 1000);
  const yr = Float64Array.from(yc, (v, i) => v * 1.5 + (i % 7) * 0.125);
  const weights = Float64Array.from({ length: 1000 }, (_, i) => 0.5 + (i % 5) * 0.75);
  const cases: [string, ForestData, TreeParams][] = [
    ["gini", prepare(train, yc, 10), {}],
    ["entropy, minSamplesLeaf 2", prepare(train, yc, 10), { criterion: "entropy", minSamplesLeaf: 2 }],
    ["gini, sample and class weights", { ...prepare(train, yc, 10), sampleWeight: weights }, { classWeight: "balanced" }],
    ["squared error, all features", prepare(train, yr, 0), {}],
    ["squared error, minSamplesLeaf 3", prepare(train, yr, 0), { minSamplesLeaf: 3, maxFeatures: 0.5 }],
    ["squared error, sample weights, one feature", { ...prepare(train, yr, 0), sampleWeight: weights }, { maxFeatures: 1 }],
  ];
  for (const [name, data, params] of cases) {
    for (const tinyMax of [0, 8]) {
      const gathered = withTuning({ tinyMax, gatherMinFeatures: 0 }, () => grow(data, params, 3));
      const inPlace = withTuning({ tinyMax, gatherMinFeatures: 1e9 }, () => grow(data, params, 3));
      for (let k = 0; k < 3; k++) {
        const a = gathered[k]!;
        const b = inPlace[k]!;
        assert.equal(b.nodeCount, a.nodeCount, `${name}, tinyMax ${tinyMax}, tree ${k}: node count`);
        for (const key of ["feature", "threshold", "left", "right", "value", "impurity", "weightedNNodeSamples"] as const) {
          assert.ok(Buffer.from(b[key].buffer, b[key].byteOffset, b[key].byteLength).equals(Buffer.from(a[key].buffer, a[key].byteOffset, a[key].byteLength)), `${name}, tinyMax ${tinyMax}, tree ${k}: ${key}`);
        }
      }
    }
  }
});

test.run();
