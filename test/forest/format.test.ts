import { test } from "uvu";
import * as assert from "uvu/assert";
import { FormatError } from "../../src/errors.js";
import { growTree, treeFromJSON, treeToJSON, type TreeJSON } from "../../kernels/forest/index.js";
import { throwsTyped } from "../helpers.js";
import { digits, predict, prepare, rows } from "./util.js";

const { X, y } = digits();
const data = prepare(rows(X, 0, 500), y.slice(0, 500), 10);
const tree = growTree(data, {}, 0, 3);
const good = (): TreeJSON => JSON.parse(JSON.stringify(treeToJSON(tree))) as TreeJSON;

test("JSON round trip gives identical arrays and predictions", () => {
  const back = treeFromJSON(good(), { nFeatures: 64, nOutputs: 10, classification: true });
  for (const key of ["feature", "threshold", "left", "right", "value", "nNodeSamples", "weightedNNodeSamples", "impurity"] as const) {
    assert.equal(Array.from(back[key]), Array.from(tree[key]), key);
  }
  assert.is(back.maxDepth, tree.maxDepth);
  const test = rows(X, 500, 1797);
  assert.equal(Array.from(predict([back], test)), Array.from(predict([tree], test)));
  const reg = prepare(rows(X, 0, 300), Float64Array.from(y.slice(0, 300)), 0);
  const rt = growTree(reg, {}, 1, 1);
  assert.equal(Array.from(predict([treeFromJSON(good2(rt))], test)), Array.from(predict([rt], test)));
  function good2(t: typeof rt) {
    return JSON.parse(JSON.stringify(treeToJSON(t)));
  }
});

test("tampered or truncated models are FormatErrors that say what is wrong", () => {
  const firstSplit = good().left.findIndex((l) => l >= 0);
  const cases: [(j: TreeJSON) => unknown, RegExp][] = [
    [() => null, /expected a tree object/],
    [(j) => ({ ...j, format: "other" }), /format must be "sabre-tree"/],
    [(j) => ({ ...j, version: 2 }), /unsupported version 2/],
    [(j) => ({ ...j, nodeCount: j.nodeCount + 1 }), /has \d+ entries, expected/],
    [(j) => ({ ...j, left: j.left.slice(0, -1) }), /left has \d+ entries, expected \d+ \(truncated or tampered\)/],
    [(j) => ({ ...j, value: j.value.slice(0, -3) }), /value has/],
    [(j) => ({ ...j, impurity: "x" }), /impurity must be an array/],
    [(j) => { j.threshold[firstSplit] = NaN; return j; }, /threshold\[\d+\] must be a finite number/],
    [(j) => { j.threshold[firstSplit] = null as never; return j; }, /threshold\[\d+\] must be a finite number, got null/],
    [(j) => { j.left[firstSplit] = firstSplit; return j; }, /left child \d+ must be an integer in/],
    [(j) => { j.right[firstSplit] = 0; return j; }, /right child 0 must be/],
    [(j) => { j.left[firstSplit] = j.nodeCount; return j; }, /children follow their parent/],
    [(j) => { j.left[firstSplit] = 1.5; return j; }, /left child 1.5/],
    [(j) => { j.feature[firstSplit] = 64; return j; }, /feature 64 must be an integer in \[0, 64\)/],
    [(j) => { j.feature[firstSplit] = -5; return j; }, /feature -5/],
    [(j) => { const l = j.left.indexOf(-1); j.feature[l] = 3; return j; }, /leaf \d+ has feature 3/],
    [(j) => { const l = j.left.indexOf(-1); j.left[l] = j.nodeCount - 1; return j; }, /has one child/],
    [(j) => { j.value[5] = 1.5; return j; }, /value\[5\] = 1.5 is not a probability/],
    [(j) => { j.nNodeSamples[2] = -1; return j; }, /nNodeSamples\[2\]/],
    [(j) => { j.impurity[2] = -0.5; return j; }, /impurity\[2\]/],
    [(j) => ({ ...j, maxDepth: j.maxDepth + 1 }), /maxDepth|deepest leaf/],
    [(j) => ({ ...j, nFeatures: 0 }), /nFeatures must be an integer/],
    [(j) => ({ ...j, nodeCount: 2 ** 40 }), /nodeCount must be an integer/],
    [(j) => ({ ...j, classification: "yes" }), /classification must be a boolean/],
    [(j) => ({ ...j, classification: false }), /a regression tree has 1 output/],
    [
      (j) => {
        // Two internal nodes q < q2 share q2's left child; q's old left child is orphaned.
        const q = j.left.findIndex((l, i) => i > 0 && l >= 0);
        const q2 = j.left.findIndex((l, i) => i > q && l >= 0);
        j.left[q] = j.left[q2]!;
        return j;
      },
      /two parents/,
    ],
  ];
  cases.forEach(([tamper, re], k) => {
    try {
      treeFromJSON(tamper(good()));
    } catch (err) {
      assert.ok(err instanceof FormatError && re.test(err.message), `case ${k}: ${String(err)}`);
      return;
    }
    assert.unreachable(`case ${k} (${re}) loaded`);
  });
  throwsTyped(() => treeFromJSON(good(), { nFeatures: 63 }), FormatError, /nFeatures is 64, the model has 63/);
  throwsTyped(() => treeFromJSON(good(), { nOutputs: 3 }), FormatError, /nOutputs is 10/);
  throwsTyped(() => treeFromJSON(good(), { classification: false }), FormatError, /classification tree in a regressor/);
});

test("a cycle or self-loop can never be loaded, so predict cannot loop forever", () => {
  // Hand-made 3-node tree, then every child pointer aimed backwards or at itself.
  const base = {
    format: "sabre-tree",
    version: 1,
    nFeatures: 1,
    nOutputs: 1,
    classification: false,
    nodeCount: 3,
    maxDepth: 1,
    feature: [0, -1, -1],
    threshold: [0.5, 0, 0],
    left: [1, -1, -1],
    right: [2, -1, -1],
    value: [1, 0, 2],
    nNodeSamples: [2, 1, 1],
    weightedNNodeSamples: [2, 1, 1],
    impurity: [1, 0, 0],
  };
  assert.is(treeFromJSON(base).nodeCount, 3);
  for (const [l, r] of [[0, 2], [1, 1], [2, 0], [1, 0]]) {
    throwsTyped(() => treeFromJSON({ ...base, left: [l, -1, -1], right: [r, -1, -1] }), FormatError);
  }
  throwsTyped(() => treeFromJSON({ ...base, left: [1, 2, -1], right: [2, 2, -1], feature: [0, 0, -1] }), FormatError, /two parents|same node/);
});

test.run();
