// The binary form of trees (model-json.ts treesToBinary / treesFromBinary):
// what cluster hosts send back. It must give exactly what the saved-model
// JSON gives, and refuse any corruption with a FormatError saying where.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Engine } from "../../src/engine/engine.js";
import { FormatError } from "../../src/errors.js";
import { RandomForestClassifier } from "../../src/ml/forest/classifier.js";
import { RandomForestRegressor } from "../../src/ml/forest/regressor.js";
import { treeArraysFromJSON, treeArraysToJSON, treesFromBinary, treesToBinary, type TreeExpect } from "../../src/ml/forest/model-json.js";
import type { FlatTree } from "../../kernels/forest/tree.js";
import type { ForestCluster, GrownTrees } from "../../src/ml/forest/remote.js";
import { digits, rows } from "../forest/util.js";
import { rejectsTyped, throwsTyped } from "../helpers.js";

const ARRAYS = ["feature", "threshold", "left", "right", "value", "nNodeSamples", "weightedNNodeSamples", "impurity"] as const;

let engine: Engine;
let cls: FlatTree[];
let reg: FlatTree[];
let two: FlatTree[];
const { X, y } = digits();
const CLS: TreeExpect = { nFeatures: 64, nOutputs: 10, classification: true };
const REG: TreeExpect = { nFeatures: 64, nOutputs: 1, classification: false };
const TWO: TreeExpect = { nFeatures: 64, nOutputs: 2, classification: true };

test.before(async () => {
  engine = await Engine.start({ threads: 2 });
  const Xs = rows(X, 0, 1000);
  cls = [...(await new RandomForestClassifier({ nEstimators: 6, seed: 4, engine }).fit(Xs, y.slice(0, 1000))).trees];
  reg = [...(await new RandomForestRegressor({ nEstimators: 4, seed: 4, engine }).fit(Xs, Float64Array.from(y.slice(0, 1000), (v, i) => v * 1.5 + (i % 7) / 10))).trees];
  two = [...(await new RandomForestClassifier({ nEstimators: 3, seed: 4, engine }).fit(Xs, Int32Array.from(y.slice(0, 1000), (v) => (v < 5 ? 0 : 1)))).trees];
});

test.after(async () => {
  await engine.close();
});

function sameBits(a: FlatTree, b: FlatTree, what: string): void {
  assert.is(a.nodeCount, b.nodeCount, `${what} nodeCount`);
  assert.is(a.maxDepth, b.maxDepth, `${what} maxDepth`);
  assert.is(a.nOutputs, b.nOutputs, `${what} nOutputs`);
  assert.is(a.classification, b.classification, `${what} classification`);
  for (const k of ARRAYS) {
    const x = a[k];
    const z = b[k];
    assert.is(x.length, z.length, `${what} ${k} length`);
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], z[i])) assert.unreachable(`${what} ${k}[${i}]: ${x[i]} vs ${z[i]}`);
  }
  assert.ok(b.walk instanceof Float64Array && b.walk.buffer instanceof SharedArrayBuffer, `${what}: walk records in shared memory`);
  for (const k of ARRAYS) assert.ok(b[k].buffer instanceof SharedArrayBuffer, `${what} ${k} shared`);
  assert.equal(Array.from(b.walk), Array.from(a.walk ?? b.walk), `${what} walk`);
}

test("binary round trip equals the JSON round trip and the trees grown, bit for bit (sparse and dense values)", () => {
  for (const [name, trees, expect] of [["classifier", cls, CLS], ["regressor", reg, REG], ["2 classes", two, TWO]] as const) {
    const bin = treesToBinary(trees);
    const back = treesFromBinary(bin, expect, name);
    assert.is(back.length, trees.length);
    trees.forEach((t, i) => {
      const viaJson = treeArraysFromJSON(JSON.parse(JSON.stringify(treeArraysToJSON(t))), expect, `${name} json ${i}`);
      sameBits(t, back[i]!, `${name} binary ${i}`);
      sameBits(viaJson, back[i]!, `${name} binary vs json ${i}`);
    });
    // A buffer that does not start on 8 bytes (a slice of a larger one) reads the same.
    const shifted = new Uint8Array(bin.byteLength + 3).subarray(3);
    shifted.set(bin);
    sameBits(trees[0]!, treesFromBinary(shifted, expect, name)[0]!, `${name} unaligned`);
  }
  // Ten classes: most stored values are zero, so the sparse form is much smaller than dense float64.
  const dense = cls.reduce((s, t) => s + t.value.byteLength, 0);
  const bin = treesToBinary(cls).byteLength;
  const rest = cls.reduce((s, t) => s + t.nodeCount * (3 * 8 + 4 * 4), 0);
  assert.ok(bin - rest < dense / 2, `values took ${bin - rest} bytes, dense ${dense}`);
  assert.is(treesFromBinary(treesToBinary([]), CLS, "none").length, 0);
});

/** Offsets into tree 0 of a classifier's binary form. */
function layout(bin: Uint8Array): { n: number; stored: number; f64: number; i32: number } {
  const u32 = new Uint32Array(bin.buffer, bin.byteOffset, 12);
  const n = u32[8]!;
  const sparse = u32[10] !== 0xffffffff;
  const stored = sparse ? u32[10]! : n * u32[4]!;
  const f64 = 48;
  return { n, stored, f64, i32: f64 + 8 * (3 * n + stored) };
}

test("corrupted binary trees are FormatErrors that say where and what", () => {
  const good = (): Uint8Array => treesToBinary(cls.slice(0, 2));
  const where = "trees [0, 2) from host evil";
  const cases: Array<[string, (b: Uint8Array) => Uint8Array, RegExp]> = [
    ["truncated by 8 bytes", (b) => b.subarray(0, b.byteLength - 8), /evil.*truncated or tampered/],
    ["truncated inside the header", (b) => b.subarray(0, 20), /end inside the header/],
    ["cut after tree 0", (b) => b.subarray(0, 48 + layout(b).i32 - 48 + 4 * (4 * layout(b).n + layout(b).stored)), /truncated or tampered/],
    ["trailing bytes", (b) => { const c = new Uint8Array(b.byteLength + 8); c.set(b); return c; }, /8 bytes after the last of 2 trees/],
    ["wrong magic", (b) => { b[0] = 0; return b; }, /not binary sabre trees/],
    ["another version", (b) => { new Uint32Array(b.buffer, b.byteOffset, 8)[1] = 9; return b; }, /version 9/],
    ["wrong feature count", (b) => { new Uint32Array(b.buffer, b.byteOffset, 8)[3] = 63; return b; }, /63 features/],
    ["more trees than bytes", (b) => { new Uint32Array(b.buffer, b.byteOffset, 8)[2] = 1e6; return b; }, /1000000 trees/],
    ["root's left child points back at the root", (b) => { const L = layout(b); new Int32Array(b.buffer, b.byteOffset + L.i32, 4 * L.n)[L.n] = 0; return b; }, /tree 0: node 0: left child 0 must be an integer in \(0, \d+\)/],
    ["a child index past the end", (b) => { const L = layout(b); new Int32Array(b.buffer, b.byteOffset + L.i32, 4 * L.n)[2 * L.n] = L.n + 5; return b; }, /right child \d+ must be an integer/],
    ["NaN threshold", (b) => { new Float64Array(b.buffer, b.byteOffset + 48, 1)[0] = NaN; return b; }, /tree 0: threshold\[0\] must be a finite number, got NaN/],
    ["feature out of range", (b) => { const L = layout(b); new Int32Array(b.buffer, b.byteOffset + L.i32, 1)[0] = 64; return b; }, /feature 64 must be an integer in \[0, 64\)/],
    ["a sparse index going backwards", (b) => { const L = layout(b); const idx = new Int32Array(b.buffer, b.byteOffset + L.i32 + 16 * L.n, L.stored); idx[1] = idx[0]!; return b; }, /value index \d+ after \d+/],
    ["a sparse index out of range", (b) => { const L = layout(b); new Int32Array(b.buffer, b.byteOffset + L.i32 + 16 * L.n, L.stored)[L.stored - 1] = 10 * L.n; return b; }, /value index \d+ after \d+ \(indices must increase, below/],
    ["a probability above 1", (b) => { const L = layout(b); new Float64Array(b.buffer, b.byteOffset + L.f64 + 24 * L.n, 1)[0] = 2; return b; }, /is not a probability in \[0, 1\]/],
    ["more value entries than values", (b) => { new Uint32Array(b.buffer, b.byteOffset, 12)[10] = 1e9; return b; }, /1000000000 value entries/],
  ];
  for (const [name, corrupt, re] of cases) {
    const bytes = corrupt(good());
    const err = throwsTyped(() => treesFromBinary(bytes, CLS, where), FormatError, re);
    assert.ok(err.message.startsWith(where), `${name}: ${err.message}`);
  }
  assert.ok(layout(good()).stored < layout(good()).n * 10, "tree 0 is stored sparse (the index cases above need it)");
  throwsTyped(() => treesFromBinary(treesToBinary(reg), CLS, "r"), FormatError, /1 outputs, regression; the forest has 64, 10, classification/);
  throwsTyped(() => treesFromBinary("x" as unknown as Uint8Array, CLS, "s"), FormatError, /expected binary trees/);
});

test("a fit's accept callback refuses trees out of range, twice, too few, or missing (any ForestCluster)", async () => {
  const Xs = rows(X, 0, 1000);
  const ys = y.slice(0, 1000);
  const bin = (a: number, b: number): Uint8Array => treesToBinary(cls.slice(a, b));
  // A cluster that answers with whatever `script` hands to accept (the forest duck-types its cluster).
  const fake = (script: (accept: (t: GrownTrees) => void) => void): ForestCluster => ({
    growForest: async (_data, _n, options) => script(options.accept),
    predictForest: async () => new Float64Array(0),
  });
  const fit = (script: (accept: (t: GrownTrees) => void) => void): Promise<unknown> =>
    new RandomForestClassifier({ nEstimators: 6, seed: 4, engine }).fit(Xs, y.slice(0, 1000), { cluster: fake(script) });
  const ok = await new RandomForestClassifier({ nEstimators: 6, seed: 4, engine }).fit(Xs, ys, {
    cluster: fake((accept) => {
      accept({ first: 4, count: 2, bytes: bin(4, 6), host: "h2" });
      accept({ first: 0, count: 4, bytes: bin(0, 4), host: "h1" });
    }),
  });
  const reference = await new RandomForestClassifier({ nEstimators: 6, seed: 4, engine }).fit(Xs, ys);
  assert.equal(JSON.stringify(ok.toJSON()), JSON.stringify(reference.toJSON()), "ranges in any order make the local model");
  await rejectsTyped(fit((accept) => accept({ first: 4, count: 3, bytes: bin(3, 6), host: "h9" })), FormatError, /^trees \[4, 7\) from host h9: not a range of the 6 trees/);
  await rejectsTyped(fit((accept) => accept({ first: 0, count: 3, bytes: bin(0, 2), host: "h9" })), FormatError, /^trees \[0, 3\) from host h9: 2 trees came back, expected 3/);
  await rejectsTyped(
    fit((accept) => {
      accept({ first: 0, count: 3, bytes: bin(0, 3), host: "h1" });
      accept({ first: 2, count: 4, bytes: bin(2, 6), host: "h2" });
    }),
    FormatError,
    /^trees \[2, 6\) from host h2: tree 2 came back twice/,
  );
  await rejectsTyped(fit((accept) => accept({ first: 0, count: 5, bytes: bin(0, 5), host: "h1" })), FormatError, /finished without tree 5 of 6/);
});

test.run();
