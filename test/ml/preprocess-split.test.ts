// trainTestSplit and shuffle: sizes and errors as scikit-learn 1.2's
// (fixture), stratified class counts as its StratifiedShuffleSplit's, the
// same split for the same seed on 1, 2, 3 and 8 threads, rows gathered
// intact from any dtype, width and layout; bad input.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { AbortError, Engine, SabreTypeError, shared, shuffle, trainTestSplit, type NdArray } from "sabre";
import { rejectsTyped } from "../helpers.js";
import { FIXTURE } from "./preprocess-encoders-fixture.js";
import { shuffleHalves } from "../../src/ml/preprocess/permute.js";
import { rng } from "../../src/random/rng.js";

const engines: Engine[] = [];
test.before(async () => {
  engines.push(...(await Promise.all([1, 2, 3, 8].map((threads) => Engine.start({ threads })))));
});
test.after(async () => {
  await Promise.all(engines.map((e) => e.close()));
});

const values = (a: NdArray): number[] => Array.from(a.data as ArrayLike<number | bigint>, Number);

test("train and test sizes and size errors as scikit-learn's", async () => {
  for (const c of FIXTURE.sizes) {
    const X = shared.from(Array.from({ length: c.n }, (_, i) => i));
    const opts = { ...(c.testSize === null ? {} : { testSize: c.testSize }), ...(c.trainSize === null ? {} : { trainSize: c.trainSize }), seed: 1 };
    const what = `n=${c.n} test=${c.testSize} train=${c.trainSize}`;
    if (c.error === undefined || c.error === null) {
      const [tr, te] = await trainTestSplit(X, opts);
      if (c.nTrain !== undefined) {
        assert.is(tr!.shape[0], c.nTrain, `${what}: nTrain`);
        assert.is(te!.shape[0], c.nTest, `${what}: nTest`);
      }
    } else {
      // scikit-learn's message, with the camelCase option names.
      const key = c.error.split(/[=,.]/)[0]!.replace("test_size", "testSize").replace("train_size", "trainSize").replace("n_samples", "nSamples");
      const err = await rejectsTyped(trainTestSplit(X, opts), SabreTypeError);
      assert.ok(err.message.toLowerCase().includes(key.toLowerCase()), `${what}: ${err.message} should say ${key}`);
    }
  }
});

function bincount(a: ArrayLike<number>, k: number): number[] {
  const c = new Array<number>(k).fill(0);
  for (let i = 0; i < a.length; i++) c[a[i]!]!++;
  return c;
}

test("stratified class counts follow scikit-learn's (exactly where its draw has no ties)", async () => {
  for (const c of FIXTURE.stratified) {
    const y = shared.from(new Int32Array(c.counts.flatMap((n, k) => new Array<number>(n).fill(k))));
    const first = c.splits[0]!;
    const exact = c.splits.every((s) => JSON.stringify(s) === JSON.stringify(first));
    const total = c.counts.reduce((a, b) => a + b, 0);
    for (let seed = 0; seed < 5; seed++) {
      const [tr, te] = await trainTestSplit(y, { testSize: c.testSize, seed, stratify: y, engine: engines[1] });
      const train = bincount(tr!.data as Int32Array, c.counts.length);
      const testc = bincount(te!.data as Int32Array, c.counts.length);
      if (exact) {
        assert.equal(train, first.train, `${c.name} seed ${seed}: train counts`);
        assert.equal(testc, first.test, `${c.name} seed ${seed}: test counts`);
      } else {
        assert.is(train.reduce((a, b) => a + b, 0), first.train.reduce((a, b) => a + b, 0), `${c.name}: train total`);
        assert.is(testc.reduce((a, b) => a + b, 0), first.test.reduce((a, b) => a + b, 0), `${c.name}: test total`);
        const nTrain = tr!.shape[0]!;
        train.forEach((t, k) => {
          const share = (c.counts[k]! / total) * nTrain;
          assert.ok(t === Math.floor(share) || t === Math.ceil(share), `${c.name}: class ${k} train ${t} vs share ${share}`);
        });
      }
    }
  }
});

test("string and float labels stratify too; every row lands once", async () => {
  const labels = Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? "cat" : "dog"));
  const X = shared.from(Array.from({ length: 40 }, (_, i) => [i, -i]));
  const [tr, te] = await trainTestSplit(X, { testSize: 0.25, seed: 3, stratify: labels });
  const ids = [...values(tr!), ...values(te!)].filter((_, k) => k % 2 === 0).sort((a, b) => a - b);
  assert.equal(ids, Array.from({ length: 40 }, (_, i) => i));
  const testCats = values(te!).filter((_, k) => k % 2 === 0).filter((i) => i % 4 === 0).length;
  assert.is(testCats, 3, "10 cats of 40: ceil(0.25 * 40) = 10 test rows, 2.5 cats -> floor 2 or 3");
  const [a, b] = await trainTestSplit(X, { testSize: 0.5, seed: 3, stratify: new Float64Array(40).map((_, i) => (i % 2) * 0.5) });
  assert.is(a!.shape[0]! + b!.shape[0]!, 40);
});

test("the same split for the same seed on 1, 2, 3 and 8 threads; rows intact for any dtype, width and layout", async () => {
  const n = 30_001;
  const X = shared.zeros("float32", [n, 7]);
  for (let i = 0; i < n; i++) for (let j = 0; j < 7; j++) X.set(i, j, i + j / 8);
  const wide = shared.zeros("float64", [n, 64]);
  for (let i = 0; i < n; i++) wide.set(i, 63, i);
  const t = shared.zeros("int16", [9, n]).transpose(1, 0); // strided rows
  for (let i = 0; i < n; i++) t.set(i, 2, i % 30_000);
  const big = shared.zeros("bigint64", [n]);
  for (let i = 0; i < n; i++) big.set(i, BigInt(i) * 3n);
  const y = shared.from(new Int32Array(n).map((_, i) => (i * 7) % 5));
  const runs: NdArray[][] = [];
  for (const engine of engines) {
    runs.push(await trainTestSplit(X, wide, t, big, y, { testSize: 0.3, seed: 42, stratify: y, engine }));
    runs.push(await trainTestSplit(X, y, { trainSize: 1000, seed: 42, engine }));
  }
  for (let r = 2; r < runs.length; r++) {
    runs[r]!.forEach((a, k) => assert.equal(values(a), values(runs[r % 2]![k]!), `run ${r} output ${k} differs from 1 thread's`));
  }
  const [xTr, xTe, wTr, wTe, tTr, tTe, bTr, bTe, yTr, yTe] = runs[0]!;
  assert.equal(xTr!.shape, [21_000, 7]);
  assert.equal(xTe!.shape, [9_001, 7]);
  assert.is(bTr!.dtype, "bigint64");
  assert.is(tTr!.dtype, "int16");
  assert.equal(tTr!.shape, [21_000, 9]);
  const seen = new Uint8Array(n);
  for (const [x, w, tt, b, yy] of [[xTr, wTr, tTr, bTr, yTr], [xTe, wTe, tTe, bTe, yTe]] as NdArray[][]) {
    for (let i = 0; i < x!.shape[0]!; i++) {
      const src = x!.get(i, 0) as number;
      seen[src]!++;
      const ok = x!.get(i, 6) === src + 6 / 8 && w!.get(i, 63) === src && tt!.get(i, 2) === src % 30_000 && b!.get(i) === BigInt(src) * 3n && yy!.get(i) === (src * 7) % 5;
      if (!ok) assert.unreachable(`row ${i} (source row ${src}) was not copied intact`);
    }
  }
  assert.ok(seen.every((s) => s === 1), "every row in train or test, once");
  const other = await trainTestSplit(X, { testSize: 0.3, seed: 43, engine: engines[1] });
  assert.not.equal(values(other[1]!).slice(0, 50), values(runs[0]![1]!).slice(0, 50), "another seed, another split");
});

/** Per-class counts of a split's rows (X holds each row's index, y its class). */
function classCounts(ids: NdArray, y: Int32Array, k: number): number[] {
  const c = new Array<number>(k).fill(0);
  for (const i of values(ids)) c[y[i]!]!++;
  return c;
}

/** Checks every row lands once, sides' sizes, and each class's share on each side as _approximate_mode's floor or ceil. */
function checkStratified(what: string, tr: NdArray, te: NdArray, y: Int32Array, k: number, nTrain: number, nTest: number): void {
  const n = y.length;
  assert.is(tr.shape[0], nTrain, `${what}: train rows`);
  assert.is(te.shape[0], nTest, `${what}: test rows`);
  const seen = new Uint8Array(n);
  for (const i of [...values(tr), ...values(te)]) seen[i]!++;
  let twice = 0;
  for (let i = 0; i < n; i++) if (seen[i]! > 1) twice++;
  assert.is(twice, 0, `${what}: rows drawn twice`);
  const total = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) total[y[i]!]!++;
  for (const [side, ids, size] of [["train", tr, nTrain], ["test", te, nTest]] as const) {
    const got = classCounts(ids, y, k);
    got.forEach((g, c) => {
      // The train counts are shares of all rows; the test counts shares of the rows train left, within one of the share.
      const share = (total[c]! / n) * size;
      if (!(g >= Math.floor(share) - 1 && g <= Math.ceil(share) + 1)) assert.unreachable(`${what}: ${side} has ${g} rows of class ${c}, share ${share}`);
    });
  }
}

test("stratified on many blocks, buckets and classes: the same bits on 1, 2, 3 and 8 threads, every row once, shares kept", async () => {
  // 300,001 rows: 5 blocks of 65,536 labels, 32 train buckets and 16 test ones; skewed classes and one of 2 members.
  const n = 300_001;
  const ids = shared.from(new Int32Array(n).map((_, i) => i));
  const X = shared.zeros("float32", [n, 3]);
  for (let i = 0; i < n; i++) for (let j = 0; j < 3; j++) X.set(i, j, i + j / 4);
  const yData = new Int32Array(n).map((_, i) => (i % 10 < 6 ? 0 : i % 10 < 9 ? 1 : 2) * 10);
  yData[17] = 5;
  yData[299_999] = 5;
  const y = shared.from(yData);
  const codes = yData.map((v) => (v === 0 ? 0 : v === 5 ? 1 : v === 10 ? 2 : 3));
  const runs: NdArray[][] = [];
  for (const engine of engines) runs.push(await trainTestSplit(ids, X, y, { testSize: 0.2, seed: 11, stratify: y, engine }));
  for (let r = 1; r < runs.length; r++) {
    runs[r]!.forEach((a, k) => assert.equal(values(a), values(runs[0]![k]!), `${engines[r]!.threads} threads: output ${k} differs from 1 thread's`));
  }
  const [trIds, teIds, xTr, , yTr, yTe] = runs[0]!;
  checkStratified("4 classes", trIds!, teIds!, codes, 4, 240_000, 60_001);
  // The class of 2 members: a train share of 1.6 rounds up by _approximate_mode's largest remainder, as scikit-learn's does.
  assert.equal([classCounts(trIds!, codes, 4)[1], classCounts(teIds!, codes, 4)[1]], [2, 0], "the class of 2 members");
  for (let i = 0; i < 240_000; i += 997) {
    const src = values(trIds!)[i]!;
    assert.is(xTr!.get(i, 2), src + 0.5, `train row ${i}`);
    assert.is(yTr!.get(i), yData[src], `train label ${i}`);
  }
  assert.is(values(yTe!).filter((v) => v === 5).length, 0);
  // Not left in class order: the first 1,000 train rows mix the classes as the whole does.
  const head = values(trIds!).slice(0, 1000).filter((i) => codes[i] === 0).length;
  assert.ok(head > 520 && head < 680, `class 0 among the first 1,000 train rows: ${head}`);
  // Labels grouped by value (a shared int32 array) or by class code (float64, a plain array, strings): the same split.
  const byCode = await trainTestSplit(ids, { testSize: 0.2, seed: 11, stratify: Float64Array.from(yData), engine: engines[1] });
  const plainInts = await trainTestSplit(ids, { testSize: 0.2, seed: 11, stratify: Int32Array.from(yData), engine: engines[2] });
  const strings = await trainTestSplit(ids, { testSize: 0.2, seed: 11, stratify: Array.from(yData, (v) => `c${String(v).padStart(2, "0")}`), engine: engines[1] });
  for (const [what, other] of [["float64 labels", byCode], ["a plain Int32Array", plainInts], ["string labels", strings]] as const) {
    assert.equal(values(other[0]!), values(trIds!), `${what}: train rows`);
    assert.equal(values(other[1]!), values(teIds!), `${what}: test rows`);
  }
  const again = await trainTestSplit(ids, { testSize: 0.2, seed: 12, stratify: y, engine: engines[1] });
  assert.not.equal(values(again[1]!).slice(0, 50), values(teIds!).slice(0, 50), "another seed, another split");
});

test("stratified with thousands of classes (larger label blocks) and with one class", async () => {
  // 6,000 classes of 2 to 61 rows: the (block, class) table would pass its cap with 65,536-row blocks.
  const sizes = Array.from({ length: 6000 }, (_, c) => 2 + ((c * 37) % 60));
  const n = sizes.reduce((a, b) => a + b, 0);
  const yData = new Int32Array(n);
  let at = 0;
  // Rows of a class spread over the array: class c at positions where (order) maps to it.
  const order = new Int32Array(n).map((_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = (i * 7919 + 13) % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  sizes.forEach((m, c) => {
    for (let r = 0; r < m; r++) yData[order[at++]!] = c * 3 - 7000;
  });
  const codes = yData.map((v) => (v + 7000) / 3);
  const ids = shared.from(new Int32Array(n).map((_, i) => i));
  const y = shared.from(yData);
  const nTest = Math.ceil(0.5 * n);
  const a = await trainTestSplit(ids, { testSize: 0.5, seed: 3, stratify: y, engine: engines[0] });
  const b = await trainTestSplit(ids, { testSize: 0.5, seed: 3, stratify: y, engine: engines[2] });
  assert.equal(values(a[0]!), values(b[0]!), "1 and 3 threads: the same train rows");
  assert.equal(values(a[1]!), values(b[1]!), "1 and 3 threads: the same test rows");
  checkStratified("6,000 classes", a[0]!, a[1]!, codes, 6000, n - nTest, nTest);
  // One class: stratified is a plain random split of the sizes asked.
  const one = shared.from(new Int32Array(100_000).fill(4));
  const rows = shared.from(new Int32Array(100_000).map((_, i) => i));
  const [tr, te] = await trainTestSplit(rows, { testSize: 0.3, seed: 1, stratify: one, engine: engines[1] });
  checkStratified("one class", tr!, te!, new Int32Array(100_000), 1, 70_000, 30_000);
  const [tr8] = await trainTestSplit(rows, { testSize: 0.3, seed: 1, stratify: one, engine: engines[3] });
  assert.equal(values(tr8!), values(tr!), "8 threads as 2");
  // A class of 1 member in a large split: scikit-learn's error, before any work.
  const lone = shared.from(new Int32Array(100_000).map((_, i) => (i === 5 ? 1 : 0)));
  await rejectsTyped(trainTestSplit(rows, { stratify: lone, engine: engines[1] }), SabreTypeError, /only 1 member/);
});

test("stratified order is uniform: the class of a given train position follows the class shares (chi-square over 900 seeds)", async () => {
  // 12,000 rows (train 9,000: 2 buckets), classes 0, 1, 2 with shares 0.5, 0.3, 0.2, rows grouped by class in the input.
  const n = 12_000;
  const yData = new Int32Array(n).map((_, i) => (i < 6000 ? 0 : i < 9600 ? 1 : 2));
  const y = shared.from(yData);
  const ids = shared.from(new Int32Array(n).map((_, i) => i));
  const share = [0.5, 0.3, 0.2];
  for (const pos of [0, 4500, 8999]) {
    const seen = [0, 0, 0];
    for (let seed = 0; seed < 900; seed++) {
      const [tr] = await trainTestSplit(ids, { testSize: 0.25, seed, stratify: y });
      seen[yData[(tr!.data as Int32Array)[pos]!]!]!++;
    }
    let chi = 0;
    seen.forEach((c, k) => (chi += (c - 900 * share[k]!) ** 2 / (900 * share[k]!)));
    // 2 degrees of freedom: P(chi2 > 13.8) < 0.001.
    assert.ok(chi < 13.8, `train position ${pos}: classes ${seen.join(", ")}, chi-square ${chi.toFixed(2)}`);
  }
});

test("shuffle: false takes the first rows; shuffle() permutes arrays alike; plain arrays in", async () => {
  const [tr, te] = await trainTestSplit([1, 2, 3, 4, 5, 6, 7, 8], { testSize: 0.25, shuffle: false });
  assert.equal(values(tr!), [1, 2, 3, 4, 5, 6]);
  assert.equal(values(te!), [7, 8]);
  const rowsIn = [[0, 0], [1, 10], [2, 20], [3, 30], [4, 40]];
  const [a, b] = await shuffle(rowsIn, new Uint8Array([0, 1, 2, 3, 4]), { seed: 5 });
  assert.equal(a!.shape, [5, 2]);
  assert.is(b!.dtype, "uint8");
  for (let i = 0; i < 5; i++) {
    assert.is(a!.get(i, 1), 10 * (a!.get(i, 0) as number));
    assert.is(b!.get(i), a!.get(i, 0));
  }
  assert.equal(values(a!), values((await shuffle(rowsIn, { seed: 5 }))[0]!), "same seed, same order");
  const [c] = await shuffle(rowsIn, { seed: 5, nSamples: 2 });
  assert.equal(c!.shape, [2, 2]);
});

test("shuffle draws every order of 3 rows equally often (chi-square over 3,000 seeds)", async () => {
  const counts = new Map<string, number>();
  for (let seed = 0; seed < 3000; seed++) {
    const [p] = await shuffle([0, 1, 2], { seed });
    const key = values(p!).join("");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  assert.is(counts.size, 6);
  let chi = 0;
  for (const c of counts.values()) chi += (c - 500) ** 2 / 500;
  // 5 degrees of freedom: P(chi2 > 20.5) < 0.001.
  assert.ok(chi < 20.5, `chi-square ${chi.toFixed(2)}: ${JSON.stringify([...counts])}`);
});

test("shuffleHalves (the buckets' shuffle, 16-bit draws): every order of 4 equally often; ranges past 2^16 still uniform", () => {
  const counts = new Map<string, number>();
  for (let seed = 0; seed < 4800; seed++) {
    const a = Uint32Array.from([0, 1, 2, 3]);
    shuffleHalves(rng(seed, 9), a);
    const key = a.join("");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  assert.is(counts.size, 24);
  let chi = 0;
  for (const c of counts.values()) chi += (c - 200) ** 2 / 200;
  // 23 degrees of freedom: P(chi2 > 49.7) < 0.001.
  assert.ok(chi < 49.7, `chi-square ${chi.toFixed(2)}`);
  // 70,000 elements: the first draws take whole words, the rest halves; a permutation, and the first slot uniform over 7 bins.
  const bins = new Array<number>(7).fill(0);
  for (let seed = 0; seed < 700; seed++) {
    const a = new Uint32Array(70_000).map((_, i) => i);
    shuffleHalves(rng(seed, 10), a);
    if (seed === 0) assert.is(new Set(a).size, 70_000, "a permutation");
    bins[Math.floor(a[0]! / 10_000)]!++;
    bins[Math.floor(a[69_990]! / 10_000)]!++;
  }
  let chi2 = 0;
  for (const b of bins) chi2 += (b - 200) ** 2 / 200;
  // 6 degrees of freedom: P(chi2 > 22.5) < 0.001.
  assert.ok(chi2 < 22.5, `bins ${bins.join(", ")}, chi-square ${chi2.toFixed(2)}`);
});

test("bad input: typed errors", async () => {
  await rejectsTyped(trainTestSplit(), SabreTypeError, /at least one array/);
  await rejectsTyped(trainTestSplit([1, 2, 3], [1, 2]), SabreTypeError, /inconsistent numbers of samples: \[3, 2\]/);
  await rejectsTyped(trainTestSplit([1, 2, 3, 4], { tesSize: 0.5 } as never), SabreTypeError, /unknown option "tesSize"/);
  await rejectsTyped(trainTestSplit([1, 2, 3, 4], { seed: -1 }), SabreTypeError, /seed/);
  await rejectsTyped(trainTestSplit([1, 2, 3, 4], { shuffle: "yes" as never }), SabreTypeError, /shuffle must be a boolean/);
  await rejectsTyped(trainTestSplit([1, 2, 3, 4], { shuffle: false, stratify: [0, 0, 1, 1] }), SabreTypeError, /not implemented for shuffle=false/);
  await rejectsTyped(trainTestSplit([1, 2, 3, 4], { stratify: [0, 0, 0, 1], testSize: 2 }), SabreTypeError, /only 1 member/);
  await rejectsTyped(trainTestSplit([1, 2, 3, 4, 5, 6], { stratify: [0, 0, 1, 1, 2, 2], testSize: 2 }), SabreTypeError, /test size = 2 should be greater or equal to the number of classes = 3/);
  await rejectsTyped(trainTestSplit([1, 2, 3, 4], { stratify: [0, 1] }), SabreTypeError, /inconsistent/);
  await rejectsTyped(trainTestSplit([1, 2, 3, 4], { stratify: [0, "a", 1, 1] as never }), SabreTypeError, /all numbers or all strings/);
  await rejectsTyped(trainTestSplit(shared.zeros("float64", [2, 2, 2])), SabreTypeError, /1-D or 2-D/);
  await rejectsTyped(trainTestSplit("abc" as never), SabreTypeError, /must be an ndarray/);
  await rejectsTyped(shuffle([1, 2], { nSamples: 3 }), SabreTypeError, /cannot sample 3/);
  const ac = new AbortController();
  ac.abort();
  await rejectsTyped(trainTestSplit(shared.zeros("float32", [100_000, 4]), { signal: ac.signal, engine: engines[1] }), Error);
  const yBig = shared.from(new Int32Array(100_000).map((_, i) => i % 3));
  await rejectsTyped(trainTestSplit(shared.zeros("float32", [100_000, 4]), { stratify: yBig, signal: ac.signal, engine: engines[1] }), AbortError);
});

test.run();
