// trainTestSplit and shuffle: sizes and errors as scikit-learn 1.2's
// (fixture), stratified class counts as its StratifiedShuffleSplit's, the
// same split for the same seed on 1, 2, 3 and 8 threads, rows gathered
// intact from any dtype, width and layout; bad input.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Engine, SabreTypeError, shared, shuffle, trainTestSplit, type NdArray } from "sabre";
import { rejectsTyped } from "../helpers.js";
import { FIXTURE } from "./preprocess-encoders-fixture.js";

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
});

test.run();
