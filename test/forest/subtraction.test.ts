import { test } from "uvu";
import * as assert from "uvu/assert";
import { accumulatePredictions, forestTuning, growTree, subtractionStats, type FlatTree, type ForestData, type TreeParams } from "../../kernels/forest/index.js";
import { digits, prepare, rows } from "./util.js";

// Sibling subtraction must not change a classification tree: with integer
// weights a class histogram derived as parent minus sibling equals the
// directly summed one, so the trees are bit-identical. A regression tree's
// target sums keep rounding residues, which can break exact ties the other
// way: its trees are held to the same root and the same quality. The digits
// trees are small, so histograms are forced on every node (histMin 0) to
// exercise subtraction on many node pairs.

const { X, y } = digits();
const train = rows(X, 0, 1200);

function grown(data: ForestData, params: TreeParams, tuning: Partial<typeof forestTuning>, nTrees = 3): { trees: FlatTree[]; filled: number; derived: number } {
  const saved = { ...forestTuning };
  Object.assign(forestTuning, { histMin: 0, rowMax: 0 }, tuning);
  const before = { ...subtractionStats };
  try {
    const trees = Array.from({ length: nTrees }, (_, i) => growTree(data, params, i, 11));
    return { trees, filled: subtractionStats.filled - before.filled, derived: subtractionStats.derived - before.derived };
  } finally {
    Object.assign(forestTuning, saved);
  }
}

function assertSameTrees(a: FlatTree[], b: FlatTree[], what: string): void {
  a.forEach((t, i) => {
    const u = b[i]!;
    assert.is(u.nodeCount, t.nodeCount, `${what}: tree ${i} node count`);
    for (const k of ["feature", "threshold", "left", "right", "value", "impurity", "nNodeSamples", "weightedNNodeSamples"] as const) {
      assert.equal(Array.from(u[k]), Array.from(t[k]), `${what}: tree ${i} ${k}`);
    }
  });
}

const labels = (k: number): Int32Array => Int32Array.from(y.subarray(0, 1200), (v) => v % k);

const heldOut = rows(X, 1200, 1797);

/** Mean squared error of a forest's mean prediction on the held-out rows. */
function mse(trees: FlatTree[]): number {
  const out = accumulatePredictions(trees, heldOut, 0, 597, new Float64Array(597), 1 / trees.length);
  let ss = 0;
  out.forEach((p, i) => (ss += (p - y[1200 + i]!) ** 2));
  return ss / 597;
}

const CASES: [string, ForestData, TreeParams][] = [
  ["2 classes, gini", prepare(train, labels(2), 2), { maxFeatures: null }],
  ["3 classes, entropy, minSamplesLeaf 3, maxDepth 9", prepare(train, labels(3), 3), { maxFeatures: null, criterion: "entropy", minSamplesLeaf: 3, maxDepth: 9 }],
  ["4 classes, no bootstrap, integer sample weights", { ...prepare(train, labels(4), 4), sampleWeight: Float64Array.from({ length: 1200 }, (_, i) => 1 + (i % 3)) }, { maxFeatures: 1, bootstrap: false }],
  ["regression (maxFeatures 1.0 by default)", prepare(train, Float64Array.from(y.subarray(0, 1200)), 0), {}],
  ["regression, minSamplesLeaf 4", prepare(train, Float64Array.from(y.subarray(0, 1200)), 0), { minSamplesLeaf: 4 }],
];

for (const [name, data, params] of CASES) {
  test(`sibling subtraction grows the same trees as direct histograms: ${name}`, () => {
    const direct = grown(data, params, { subtract: false });
    assert.is(direct.derived, 0, "subtraction off: nothing derived");
    const sub = grown(data, params, { subtract: true });
    assert.ok(sub.derived > 20, `subtraction on: ${sub.derived} histograms derived`);
    // A budget of one buffer: no node can hold its own and a child's, so every node fills its own.
    const K = (data.nClasses > 0 ? data.nClasses : 2) + ((params.minSamplesLeaf ?? 1) > 1 ? 1 : 0);
    const oneBuffer = (64 * 256 * K * 8 * 1.5) / 2 ** 20;
    const tight = grown(data, params, { subtract: true, histBudgetMB: oneBuffer });
    assert.is(tight.derived, 0, "one buffer: nothing derived");
    assert.ok(tight.filled > 20, `one buffer: ${tight.filled} filled`);
    assertSameTrees(direct.trees, tight.trees, `${name}, one buffer`);
    if (data.nClasses > 0) {
      assertSameTrees(direct.trees, sub.trees, name);
      return;
    }
    direct.trees.forEach((t, i) => {
      assert.is(sub.trees[i]!.feature[0], t.feature[0], `tree ${i}: root feature`);
      assert.is(sub.trees[i]!.threshold[0], t.threshold[0], `tree ${i}: root threshold`);
    });
    const [a, b] = [mse(direct.trees), mse(sub.trees)];
    assert.ok(Math.abs(a - b) < 0.1 * a, `held-out MSE ${b} with subtraction vs ${a} without`);
  });
}

test("sibling subtraction is not used where it cannot apply or does not pay", () => {
  const cases: [string, ForestData, TreeParams][] = [
    ["sqrt feature sampling", prepare(train, labels(2), 2), { maxFeatures: "sqrt" }],
    ["10 classes", prepare(train, labels(10), 10), { maxFeatures: null }],
    ["best-first growth", prepare(train, labels(2), 2), { maxFeatures: null, maxLeafNodes: 30 }],
    ["fractional sample weights", { ...prepare(train, labels(2), 2), sampleWeight: new Float64Array(1200).fill(0.5) }, { maxFeatures: null }],
  ];
  for (const [name, data, params] of cases) {
    const r = grown(data, params, { subtract: true }, 1);
    assert.is(r.derived + r.filled, 0, name);
  }
});

test.run();
