import { test } from "uvu";
import * as assert from "uvu/assert";
import { SabreTypeError } from "../../src/errors.js";
import { ndarray } from "../../src/memory/ndarray-type.js";
import {
  accumulateOob,
  accumulatePredictions,
  applyTree,
  bootstrapCounts,
  gatherLeafValues,
  gatherLeaves,
  growTree,
  resolveParams,
  treeLeafValues,
  treeLeaves,
  type FlatTree,
  type ForestData,
  type TreeParams,
} from "../../kernels/forest/index.js";
import { throwsTyped } from "../helpers.js";
import { rng } from "../../src/random/rng.js";
import { matrix, prepare } from "./util.js";

const X = matrix(Array.from({ length: 20 }, (_, i) => [i, (i * 7) % 5]));
const cls = prepare(X, Int32Array.from({ length: 20 }, (_, i) => i % 3), 3);
const reg = prepare(X, Float64Array.from({ length: 20 }, (_, i) => i / 2), 0);

test("options resolve as scikit-learn's", () => {
  const d784 = { ...cls, nFeatures: 784 } as ForestData;
  assert.is(resolveParams({}, d784).maxFeatures, 28);
  assert.is(resolveParams({ maxFeatures: "log2" }, d784).maxFeatures, 9);
  assert.is(resolveParams({ maxFeatures: 0.1 }, d784).maxFeatures, 78);
  assert.is(resolveParams({ maxFeatures: 1 }, d784).maxFeatures, 784);
  assert.is(resolveParams({ maxFeatures: 5 }, d784).maxFeatures, 5);
  assert.is(resolveParams({ maxFeatures: null }, d784).maxFeatures, 784);
  assert.is(resolveParams({}, reg).maxFeatures, 2, "regression default 1.0");
  const p = resolveParams({ minSamplesLeaf: 0.1, minSamplesSplit: 0.5, maxSamples: 0.5 }, cls);
  assert.is(p.minSamplesLeaf, 2);
  assert.is(p.minSamplesSplit, 10);
  assert.is(p.nDraws, 10);
  assert.is(resolveParams({ minSamplesLeaf: 4 }, cls).minSamplesSplit, 8, "at least 2 * minSamplesLeaf");
  assert.is(resolveParams({ criterion: "log_loss" }, cls).criterion, 1);
  assert.is(resolveParams({ maxSamples: 7 }, cls).nDraws, 7);
});

test("every bad option value is a SabreTypeError naming the option", () => {
  const bad: [TreeParams, RegExp][] = [
    [{ criterion: "mse" as never }, /criterion must be/],
    [{ criterion: "squared_error" }, /is for regression/],
    [{ maxDepth: 0 }, /maxDepth must be null or an integer >= 1/],
    [{ maxDepth: 2.5 }, /maxDepth/],
    [{ maxDepth: NaN }, /maxDepth/],
    [{ minSamplesSplit: 1.5 }, /minSamplesSplit must be an integer >= 2 or a fraction in \(0, 1\]/],
    [{ minSamplesSplit: 0 }, /minSamplesSplit/],
    [{ minSamplesSplit: -3 }, /minSamplesSplit/],
    [{ minSamplesLeaf: 0 }, /minSamplesLeaf must be an integer >= 1 or a fraction in \(0, 1\)/],
    [{ minSamplesLeaf: NaN }, /minSamplesLeaf/],
    [{ maxFeatures: 0 }, /maxFeatures must be/],
    [{ maxFeatures: 3 }, /maxFeatures must be "sqrt", "log2", null, an integer in \[1, 2\]/],
    [{ maxFeatures: "auto" as never }, /maxFeatures/],
    [{ maxFeatures: -0.5 }, /maxFeatures/],
    [{ bootstrap: "yes" as never }, /bootstrap must be true or false/],
    [{ bootstrap: false, maxSamples: 0.5 }, /maxSamples needs bootstrap/],
    [{ maxSamples: 21 }, /maxSamples = 21 is more than the 20 samples/],
    [{ maxSamples: 0 }, /maxSamples must be/],
    [{ maxSamples: 1.5 }, /maxSamples must be/],
    [{ minImpurityDecrease: -1 }, /minImpurityDecrease must be a finite number >= 0/],
    [{ minImpurityDecrease: Infinity }, /minImpurityDecrease/],
    [{ maxLeafNodes: 1 }, /maxLeafNodes must be null or an integer >= 2/],
    [{ classWeight: "auto" as never }, /classWeight must be null, "balanced"/],
    [{ classWeight: [1, 2] }, /2 weights for 3 classes/],
    [{ classWeight: { 5: 1 } }, /not a class id in \[0, 3\)/],
    [{ classWeight: [1, -1, 1] }, /classWeight for class 1 must be a finite number >= 0/],
    [{ classWeight: [1, NaN, 1] }, /classWeight for class 1/],
    [{ maxdepth: 3 } as never, /unknown tree option "maxdepth"/],
  ];
  for (const [params, re] of bad) throwsTyped(() => growTree(cls, params, 0, 1), SabreTypeError, re);
  throwsTyped(() => growTree(reg, { criterion: "gini" }, 0, 1), SabreTypeError, /is for classification/);
  throwsTyped(() => growTree(reg, { classWeight: "balanced" }, 0, 1), SabreTypeError, /classification only/);
  throwsTyped(() => growTree(cls, null as never, 0, 1), SabreTypeError, /params must be an object/);
  throwsTyped(() => growTree(cls, {}, -1, 1), SabreTypeError, /treeIndex must be an integer >= 0/);
  throwsTyped(() => growTree(cls, {}, 0, 1.5), SabreTypeError, /seed must be an integer/);
  throwsTyped(() => growTree(cls, {}, 0, NaN), SabreTypeError, /seed/);
});

test("bad data: empty, mismatched lengths, NaN in y, class ids out of range, bad weights", () => {
  throwsTyped(() => growTree({ ...cls, nSamples: 0 }, {}, 0, 1), SabreTypeError, /empty data/);
  throwsTyped(() => growTree({ ...cls, y: new Int32Array(19) }, {}, 0, 1), SabreTypeError, /y has 19 values but X has 20 samples/);
  throwsTyped(() => growTree({ ...cls, y: Int32Array.of(...new Array(19).fill(0), 3) }, {}, 0, 1), SabreTypeError, /y\[19\] = 3 is not a class id in \[0, 3\)/);
  throwsTyped(() => growTree({ ...cls, y: new Float64Array(20) }, {}, 0, 1), SabreTypeError, /Int32Array of class ids/);
  const yNaN = new Float64Array(20);
  yNaN[4] = NaN;
  throwsTyped(() => growTree({ ...reg, y: yNaN }, {}, 0, 1), SabreTypeError, /y\[4\] is NaN: regression targets must be finite/);
  yNaN[4] = Infinity;
  throwsTyped(() => growTree({ ...reg, y: yNaN }, {}, 0, 1), SabreTypeError, /y\[4\] is Infinity/);
  throwsTyped(() => growTree({ ...cls, codes: new Uint8Array(39) }, {}, 0, 1), SabreTypeError, /data.codes must be a Uint8Array of nSamples \* nFeatures = 40/);
  throwsTyped(() => growTree({ ...cls, rowCodes: new Uint8Array(3) }, {}, 0, 1), SabreTypeError, /rowCodes/);
  throwsTyped(() => growTree({ ...cls, nFeatures: 3 }, {}, 0, 1), SabreTypeError, /codes|bins/);
  throwsTyped(() => growTree({ ...cls, nClasses: -1 }, {}, 0, 1), SabreTypeError, /nClasses/);
  throwsTyped(() => growTree({ ...cls, sampleWeight: new Float64Array(3) }, {}, 0, 1), SabreTypeError, /sampleWeight must be a Float64Array of 20/);
  const sw = new Float64Array(20).fill(1);
  sw[2] = -1;
  throwsTyped(() => growTree({ ...cls, sampleWeight: sw }, {}, 0, 1), SabreTypeError, /sampleWeight\[2\] = -1/);
  throwsTyped(() => growTree({ ...cls, sampleWeight: new Float64Array(20) }, { bootstrap: false }, 0, 1), SabreTypeError, /weight 0/);
  throwsTyped(() => growTree(null as never, {}, 0, 1), SabreTypeError, /ForestData/);
  throwsTyped(() => bootstrapCounts(0, 5, 1, 0), SabreTypeError, /nSamples/);
});

test("predict, apply and OOB refuse bad rows, outputs and NaN", () => {
  const tree = growTree(cls, {}, 0, 1);
  const out = new Float64Array(60);
  throwsTyped(() => accumulatePredictions(tree, X, 0, 21, out), SabreTypeError, /row range \[0, 21\) must lie within \[0, 20\]/);
  throwsTyped(() => accumulatePredictions(tree, X, 0, 20, new Float64Array(59)), SabreTypeError, /at least 60 elements/);
  throwsTyped(() => accumulatePredictions(tree, matrix([[1, 2, 3]]), 0, 1, out), SabreTypeError, /X has 3 features but tree 0 was fitted on 2/);
  throwsTyped(() => accumulatePredictions(tree, matrix([[NaN, 2]]), 0, 1, out), SabreTypeError, /X\[0\]\[0\] is NaN/);
  throwsTyped(() => accumulatePredictions(tree, X, 0, 20, out, NaN), SabreTypeError, /scale/);
  throwsTyped(() => accumulatePredictions([tree, growTree(reg, {}, 0, 1)], X, 0, 20, out), SabreTypeError, /tree 1 has 1 outputs/);
  throwsTyped(() => accumulatePredictions({} as never, X, 0, 20, out), SabreTypeError, /not a FlatTree/);
  throwsTyped(() => applyTree(tree, X, 0, 20, new Int32Array(5)), SabreTypeError, /Int32Array of at least 20/);
  throwsTyped(() => accumulateOob(tree, X, 0, 20, new Int32Array(3), out, new Int32Array(20)), SabreTypeError, /inBag/);
  // Predicting from an integer-typed X and a sub-range touches only those rows.
  const Xi = ndarray(Int32Array.from(X.data as Float64Array), [20, 2], [2, 1], 0);
  const a = new Float64Array(60);
  const b = new Float64Array(60);
  accumulatePredictions(tree, X, 0, 20, a);
  accumulatePredictions(tree, Xi, 5, 9, b);
  assert.equal(Array.from(b.subarray(15, 27)), Array.from(a.subarray(15, 27)));
  assert.is(b[14], 0);
  assert.is(b[27], 0);
  const leaves = applyTree(tree, X, 0, 20, new Int32Array(20));
  for (let r = 0; r < 20; r++) for (let c = 0; c < 3; c++) assert.is(a[r * 3 + c], tree.value[leaves[r]! * 3 + c]);
});

test("prediction walks (four rows in lockstep) reach the leaf a plain walk reaches: deep tree, strided X, odd ranges", () => {
  const n = 2603;
  const d = 5;
  const r = rng(3);
  const rows = Array.from({ length: n }, () => Array.from({ length: d }, () => r.normal()));
  const y = Float64Array.from(rows, (x) => Math.sin(3 * x[0]!) + x[1]! * x[2]! + 0.3 * r.normal());
  const data = prepare(matrix(rows), y, 0);
  // Depth-first trees are numbered in preorder already; best-first ones are renumbered by packTree.
  for (const params of [{ maxFeatures: 1 }, { maxFeatures: 1, maxLeafNodes: 400 }]) {
    const tree = growTree(data, params, 0, 7);
    checkWalks(tree, rows, n, d);
  }
});

function checkWalks(tree: FlatTree, rows: number[][], n: number, d: number): void {
  assert.ok(tree.maxDepth >= 12, `a deep tree (depth ${tree.maxDepth})`);
  // X stored column-major at an offset: strides [1, n], not [d, 1].
  const colMajor = new Float64Array(3 + n * d);
  rows.forEach((x, i) => x.forEach((v, f) => (colMajor[3 + f * n + i] = v)));
  const Xt = ndarray(colMajor, [n, d], [1, n], 3);
  const plain = (i: number): number => {
    let node = 0;
    while (tree.left[node]! >= 0) node = rows[i]![tree.feature[node]!]! <= tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
    return node;
  };
  for (const [start, end] of [[0, n], [1, 1030], [1021, 2050], [n - 3, n], [5, 5]] as const) {
    const leaves = applyTree(tree, Xt, start, end, new Int32Array(n).fill(-7));
    for (let i = 0; i < n; i++) assert.is(leaves[i], i >= start && i < end ? plain(i) : -7, `row ${i} of [${start}, ${end})`);
    const out = accumulatePredictions(tree, Xt, start, end, new Float64Array(n));
    for (let i = start; i < end; i++) assert.is(out[i], tree.value[plain(i)]);
  }
}

test("one-output tree-parallel prediction (leaf values from the walk records) equals accumulatePredictions bit for bit, for float64, float32 and bigint X", () => {
  const n = 1300;
  const r = rng(6);
  const rowsX = Array.from({ length: n }, () => [r.normal(), r.normal(), r.normal()]);
  const targets = Float64Array.from(rowsX, (x) => Math.sin(2 * x[0]!) + x[1]! * x[2]! + 0.1 * r.normal());
  const X64 = matrix(rowsX);
  const trees = [0, 1, 2, 3, 4, 5].map((i) => growTree(prepare(X64, targets, 0), { maxFeatures: 2 }, i, 4));
  assert.ok(trees.every((t) => t.nodeCount > 500), "deep trees");
  const X32 = ndarray(Float32Array.from(X64.data as Float64Array), [n, 3]);
  const Xbig = ndarray(BigInt64Array.from(rowsX.flat(), (v) => BigInt(Math.round(v * 4))), [n, 3]);
  for (const [name, X] of [["float64", X64], ["float32", X32], ["bigint64", Xbig]] as const) {
    const want = accumulatePredictions(trees, X, 0, n, new Float64Array(n), 1 / 6);
    // An independent walk over the tree arrays, adding tree.value in tree order.
    const at = (i: number, f: number): number => Number((X.data as ArrayLike<number | bigint>)[i * 3 + f]!);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (const t of trees) {
        let node = 0;
        while (t.left[node]! >= 0) node = at(i, t.feature[node]!) <= t.threshold[node]! ? t.left[node]! : t.right[node]!;
        sum += (1 / 6) * t.value[node]!;
      }
      if (!Object.is(sum, want[i])) assert.unreachable(`${name}: row ${i}: ${want[i]} != ${sum}`);
    }
    const got = new Float64Array(n);
    for (const [r0, r1] of [[0, 997], [997, n]] as const) {
      const vals = new Float64Array(trees.length * (r1 - r0)).fill(NaN);
      treeLeafValues(trees, X, 0, 4, r0, r1, vals);
      treeLeafValues(trees, X, 4, 6, r0, r1, vals);
      gatherLeafValues(trees, X, vals, r0, r1, r0, r0 + 5, got, 1 / 6);
      gatherLeafValues(trees, X, vals, r0, r1, r0 + 5, r1, got, 1 / 6);
    }
    assert.ok(got.every((v, i) => Object.is(v, want[i])), `${name}: identical sums`);
  }
  const vals = new Float64Array(6 * 20);
  throwsTyped(() => treeLeafValues(trees, X64, 0, 7, 0, 20, vals), SabreTypeError, /tree range \[0, 7\) must lie within \[0, 6\]/);
  throwsTyped(() => treeLeafValues(trees, X64, 0, 6, 0, 20, new Float64Array(119)), SabreTypeError, /vals must be a Float64Array of at least 120/);
  throwsTyped(() => treeLeafValues([growTree(cls, {}, 0, 1)], X, 0, 1, 0, 20, vals), SabreTypeError, /3 outputs: leaf values are for one-output trees/);
  throwsTyped(() => gatherLeafValues(trees, X64, vals, 0, 20, 0, 20, new Float64Array(19)), SabreTypeError, /at least 20 elements/);
  throwsTyped(() => gatherLeafValues(trees, matrix([[NaN, 1, 2]]), new Float64Array(6), 0, 1, 0, 1, new Float64Array(1)), SabreTypeError, /X\[0\]\[0\] is NaN/);
});

test("tree-parallel prediction (treeLeaves per tree, then gatherLeaves per row, in row blocks) equals accumulatePredictions bit for bit", () => {
  const n = 1500;
  const r = rng(5);
  const rowsX = Array.from({ length: n }, () => [r.normal(), r.normal(), r.normal(), r.normal()]);
  const Xn = matrix(rowsX);
  const labels = Int32Array.from(rowsX, (x) => (x[0]! * x[1]! > 0 ? 1 : 0) + (x[2]! > 0.5 ? 1 : 0));
  const targets = Float64Array.from(rowsX, (x) => Math.sin(2 * x[0]!) + x[1]! * x[2]!);
  for (const [data, C] of [[prepare(Xn, labels, 3), 3], [prepare(Xn, targets, 0), 1]] as const) {
    const trees = [0, 1, 2, 3, 4].map((i) => growTree(data, { maxFeatures: 2 }, i, 9));
    const want = accumulatePredictions(trees, Xn, 0, n, new Float64Array(n * C), 1 / 5);
    const got = new Float64Array(n * C);
    for (const [r0, r1] of [[0, 1001], [1001, n]] as const) {
      const leaves = new Int32Array(trees.length * (r1 - r0));
      treeLeaves(trees, Xn, 0, 2, r0, r1, leaves);
      treeLeaves(trees, Xn, 2, 5, r0, r1, leaves);
      gatherLeaves(trees, Xn, leaves, r0, r1, r0, r0 + 7, got, 1 / 5);
      gatherLeaves(trees, Xn, leaves, r0, r1, r0 + 7, r1, got, 1 / 5);
    }
    assert.equal(Array.from(got), Array.from(want), `${C} outputs`);
  }
  const trees = [growTree(cls, {}, 0, 1), growTree(cls, {}, 1, 1)];
  const leaves = new Int32Array(40);
  throwsTyped(() => treeLeaves(trees, X, 1, 3, 0, 20, leaves), SabreTypeError, /tree range \[1, 3\) must lie within \[0, 2\]/);
  throwsTyped(() => treeLeaves(trees, X, 0, 2, 0, 20, new Int32Array(39)), SabreTypeError, /leaves must be an Int32Array of at least 40/);
  throwsTyped(() => treeLeaves(trees, X, 0, 2, 0, 21, leaves), SabreTypeError, /row range/);
  treeLeaves(trees, X, 0, 2, 0, 20, leaves);
  const out = new Float64Array(60);
  throwsTyped(() => gatherLeaves(trees, X, leaves, 0, 20, 5, 21, out), SabreTypeError, /within the block \[0, 20\)/);
  throwsTyped(() => gatherLeaves(trees, X, leaves, 0, 20, 0, 20, new Float64Array(59)), SabreTypeError, /at least 60 elements/);
  const tampered = leaves.slice();
  tampered[23] = 1e6;
  throwsTyped(() => gatherLeaves(trees, X, tampered, 0, 20, 0, 20, out), SabreTypeError, /leaves\[23\] = 1000000 is not a node of tree 1/);
  throwsTyped(() => gatherLeaves(trees, matrix([[NaN, 1]]), new Int32Array(2), 0, 1, 0, 1, out), SabreTypeError, /X\[0\]\[0\] is NaN/);
});


test("wide rows: prediction in tiles (row blocks x tree groups) equals the trees added one at a time, bit for bit; NaN in a late block is refused", () => {
  // 64 float64 features = 512 bytes a row: tiled (blocks of 128 rows); 60 trees of ~1.6k nodes make two groups (up to 1 MB of walk records each).
  const n = 4000;
  const d = 64;
  const r = rng(11);
  const data = new Float64Array(n * d);
  for (let i = 0; i < data.length; i++) data[i] = r.normal();
  const Xw = ndarray(data, [n, d]);
  const targets = Float64Array.from({ length: n }, (_, i) => Math.sin(2 * data[i * d]!) + data[i * d + 1]! * data[i * d + 2]!);
  // Noisy labels: fully grown trees of ~3k nodes either way.
  const labels = Int32Array.from(targets, (t) => { const u = t + r.normal(); return u > 0.5 ? 2 : u > -0.5 ? 1 : 0; });
  for (const [prep, C] of [[prepare(Xw, labels, 3), 3], [prepare(Xw, targets, 0), 1]] as const) {
    const trees = Array.from({ length: 60 }, (_, i) => growTree(prep, { maxFeatures: 8 }, i, 3));
    const nodes = trees.reduce((s, t) => s + t.nodeCount, 0);
    assert.ok(nodes * 16 > 1 << 20, `at least two groups of walk records (${nodes} nodes)`);
    const want = new Float64Array(n * C);
    for (const t of trees) accumulatePredictions([t], Xw, 0, n, want, 1 / 60);
    for (const [start, end] of [[0, n], [3, 3001]] as const) {
      const got = accumulatePredictions(trees, Xw, start, end, new Float64Array(n * C), 1 / 60);
      assert.equal(Array.from(got.subarray(start * C, end * C)), Array.from(want.subarray(start * C, end * C)), `${C} outputs, rows [${start}, ${end})`);
    }
    const bad = data.slice();
    bad[3100 * d + 5] = Infinity;
    throwsTyped(() => accumulatePredictions(trees, ndarray(bad, [n, d]), 0, n, new Float64Array(n * C)), SabreTypeError, /X\[3100\]\[5\] is Infinity/);
  }
});

test.run();
