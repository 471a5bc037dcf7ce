// OneHotEncoder against scikit-learn 1.2 (fixture, and live when python3 has
// it): categories, outputs, drop, unknowns, NaN as a category, feature
// names, inverse; large inputs on 1, 2 and 3 threads; JSON round trip and
// corrupted JSON; bad input.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ClosedError, Engine, FormatError, OneHotEncoder, SabreTypeError, shared, type OneHotEncoderOptions } from "sabre";
import { rejectsTyped, throwsTyped } from "../helpers.js";
import { FIXTURE, liveFixture, rows, v, type OneHotCase } from "./preprocess-encoders-fixture.js";

const engines: Engine[] = [];
test.before(async () => {
  engines.push(...(await Promise.all([1, 2, 3].map((threads) => Engine.start({ threads })))));
});
test.after(async () => {
  await Promise.all(engines.map((e) => e.close()));
});

const same = (a: number, b: number): boolean => a === b || (a !== a && b !== b);

function toRows(a: { shape: number[]; get(i: number, j: number): number | bigint }): number[][] {
  return Array.from({ length: a.shape[0]! }, (_, i) => Array.from({ length: a.shape[1]! }, (_, j) => Number(a.get(i, j))));
}

function sameRows(got: number[][], want: number[][], what: string): void {
  assert.is(got.length, want.length, `${what}: rows`);
  got.forEach((r, i) => {
    assert.is(r.length, want[i]!.length, `${what}: row ${i} width`);
    r.forEach((x, j) => assert.ok(same(x, want[i]![j]!), `${what}: [${i}, ${j}] = ${x}, expected ${want[i]![j]}`));
  });
}

function optionsOf(c: OneHotCase): OneHotEncoderOptions {
  const p = c.params as { categories?: Array<Array<number | "NaN">>; drop?: unknown; handle_unknown?: "error" | "ignore" };
  return {
    ...(p.categories ? { categories: p.categories.map((col) => col.map(v)) } : {}),
    ...(p.drop !== undefined ? { drop: Array.isArray(p.drop) ? (p.drop as Array<number | "NaN">).map(v) : (p.drop as "first") } : {}),
    ...(p.handle_unknown ? { handleUnknown: p.handle_unknown } : {}),
  };
}

async function checkCase(c: OneHotCase, engine: Engine): Promise<void> {
  const X = shared.from(rows(c.X), { dtype: c.dtype as "float64" });
  const enc = await new OneHotEncoder(optionsOf(c)).fit(X, { engine });
  assert.is(enc.nFeaturesIn, c.X[0]!.length, `${c.name}: nFeaturesIn`);
  assert.is(enc.categories!.length, c.categories.length, `${c.name}: columns`);
  enc.categories!.forEach((cats, j) => sameRows([Array.from(cats)], [c.categories[j]!.map(v)], `${c.name}: categories[${j}]`));
  assert.equal(enc.dropIdx, c.dropIdx, `${c.name}: dropIdx`);
  const out = await enc.transform(shared.from(rows(c.Xt), { dtype: c.dtype as "float64" }), { engine });
  assert.is(out.dtype, "float64");
  sameRows(toRows(out as never), rows(c.out), `${c.name}: transform`);
  sameRows(toRows((await enc.inverseTransform(out)) as never), rows(c.inverse), `${c.name}: inverse`);
  assert.equal(enc.getFeatureNamesOut(), c.names, `${c.name}: feature names`);
  assert.equal(enc.getFeatureNamesOut(c.X[0]!.map((_, j) => `f${j}`)), c.namesGiven, `${c.name}: given feature names`);
  // Saved and revived, the encoder gives the same output.
  const back = OneHotEncoder.fromJSON(JSON.parse(JSON.stringify(enc.toJSON())));
  sameRows(toRows((await back.transform(shared.from(rows(c.Xt), { dtype: c.dtype as "float64" }))) as never), rows(c.out), `${c.name}: after JSON`);
  assert.equal(back.getFeatureNamesOut(), c.names, `${c.name}: names after JSON`);
}

test("matches scikit-learn 1.2 on the fixture (NaN, constant columns, a single row, negatives, drop, unknowns, given categories)", async () => {
  for (const c of FIXTURE.onehot) await checkCase(c, engines[1]!);
});

test("the fixture script run live gives the checked-in fixture", async () => {
  const live = liveFixture();
  if (live === null) return;
  assert.equal(live, FIXTURE);
});

/** Column j of row i: 50 categories, some negative and fractional in column 2, NaN now and then in column 3. */
function bigTable(n: number): { X: ReturnType<typeof shared.zeros<"float64">>; cats: number[][] } {
  const X = shared.zeros("float64", [n, 4]);
  for (let i = 0; i < n; i++) {
    X.set(i, 0, (i * 7) % 50);
    X.set(i, 1, ((i * 13) % 50) * 1000);
    X.set(i, 2, ((i * 31) % 50) * 0.5 - 10);
    X.set(i, 3, i % 97 === 0 ? NaN : (i * 3) % 50);
  }
  const cats = [0, 1, 2, 3].map((j) => {
    const set = new Set<number>();
    for (let i = 0; i < n; i++) set.add(X.get(i, j));
    return [...set].sort((a, b) => (a !== a ? 1 : b !== b ? -1 : a - b));
  });
  return { X, cats };
}

test("large inputs: the same categories and rows on 1, 2 and 3 threads, every row one-hot", async () => {
  const n = 100_003;
  const { X, cats } = bigTable(n);
  for (const engine of engines) {
    for (const drop of [null, "first"] as const) {
      const enc = await new OneHotEncoder({ drop, dtype: "uint8" }).fit(X, { engine });
      enc.categories!.forEach((c, j) => sameRows([Array.from(c)], [cats[j]!], `categories[${j}] (${engine.threads} threads)`));
      const out = await enc.transform(X, { engine });
      const m = out.shape[1]!;
      assert.is(m, cats.reduce((s, c) => s + c.length - (drop ? 1 : 0), 0));
      const data = out.data as Uint8Array;
      let ones = 0;
      for (let k = 0; k < data.length; k++) ones += data[k]!;
      // Each row has one 1 per column, less the dropped first categories.
      let dropped = 0;
      if (drop) for (let i = 0; i < n; i++) for (let j = 0; j < 4; j++) if (same(X.get(i, j), cats[j]![0]!)) dropped++;
      assert.is(ones, n * 4 - dropped, `ones (${engine.threads} threads, drop ${drop})`);
      const inv = await enc.inverseTransform(out);
      for (let i = 0; i < n; i += 997) for (let j = 0; j < 4; j++) assert.ok(same(inv.get(i, j) as number, X.get(i, j)), `inverse [${i}, ${j}]`);
    }
  }
});

test("out: rows written into a caller's array (zeroed first), other dtypes, fitTransform", async () => {
  const X = shared.from([[1, 2], [2, 2], [1, 3]]);
  const enc = new OneHotEncoder({ dtype: "float32" });
  const y = await enc.fitTransform(X);
  assert.is(y.dtype, "float32");
  assert.equal(Array.from(y.data as Float32Array), [1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 0, 1]);
  const out = shared.full("int32", [3, 4], 7);
  const got = await enc.transform(X, { out });
  assert.is(got, out);
  assert.equal(Array.from(out.data as Int32Array), [1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 0, 1]);
  // Integer input of every kind.
  const yi = await new OneHotEncoder().fitTransform(shared.from(new Int16Array([-3, 5, -3, 5]), { shape: [4, 1] }));
  assert.equal(Array.from(yi.data as Float64Array), [1, 0, 0, 1, 1, 0, 0, 1]);
});

test("unknown categories: error names the value and column (large and small inputs), ignore gives zeros", async () => {
  const enc = await new OneHotEncoder().fit([[1, 2], [2, 3]]);
  await rejectsTyped(enc.transform([[1, 2], [2, 4]]), SabreTypeError, /unknown categories \[4\.0\] in column 1/);
  const { X } = bigTable(70_000);
  const big = await new OneHotEncoder().fit(X.hi(60_000, 4), { engine: engines[1] });
  // Row 60,001 onward repeat values seen before, except where a new value appears; use an explicit NaN.
  X.set(65_000, 2, 12345);
  await rejectsTyped(big.transform(X, { engine: engines[1] }), SabreTypeError, /unknown categories \[12345\.0\] in column 2 during transform \(row 65000\)/);
  await rejectsTyped(new OneHotEncoder({ categories: [[1, 2], [2]] }).fit([[1, 2], [2, 3]]), SabreTypeError, /unknown categories \[3\.0\] in column 1 during fit/);
});

test("JSON round trip of an unfitted encoder and corrupted JSON (FormatError)", async () => {
  const enc = new OneHotEncoder({ drop: "if_binary", handleUnknown: "ignore", dtype: "float32" });
  const back = OneHotEncoder.fromJSON(JSON.parse(JSON.stringify(enc.toJSON())));
  assert.is(back.drop, "if_binary");
  assert.is(back.handleUnknown, "ignore");
  assert.is(back.dtype, "float32");
  assert.is(back.categories, undefined);
  await enc.fit([[1, NaN], [2, 3]]);
  const json = JSON.parse(JSON.stringify(enc.toJSON())) as { state: Record<string, unknown>; params: Record<string, unknown> };
  const bad = (mutate: (j: typeof json) => void, pattern: RegExp): void => {
    const copy = JSON.parse(JSON.stringify(json)) as typeof json;
    mutate(copy);
    throwsTyped(() => OneHotEncoder.fromJSON(copy), FormatError, pattern);
  };
  bad((j) => ((j as Record<string, unknown>).format = "nope"), /format/);
  bad((j) => ((j as Record<string, unknown>).version = 99), /version/);
  bad((j) => ((j as Record<string, unknown>).estimator = "StandardScaler"), /not a OneHotEncoder/);
  bad((j) => (j.state.categories = [[2, 1], [3]]), /sorted/);
  bad((j) => (j.state.categories = [[1, 2]]), /categories must hold 2/);
  bad((j) => (j.state.categories = [["x"], [3]]), /number or "NaN"/);
  bad((j) => (j.state.dropIdx = [5, null]), /dropIdx\[0\]/);
  bad((j) => (j.state.nFeaturesIn = -1), /nFeaturesIn/);
  bad((j) => (j.params.handleUnknown = "maybe"), /handleUnknown/);
  throwsTyped(() => OneHotEncoder.fromJSON("not an object"), FormatError);
});

test("bad input: typed errors", async () => {
  throwsTyped(() => new OneHotEncoder({ sparseOutput: true }), SabreTypeError, /dense/);
  throwsTyped(() => new OneHotEncoder({ handleUnknown: "infrequent_if_exist" as "error" }), SabreTypeError, /handleUnknown/);
  throwsTyped(() => new OneHotEncoder({ drop: "last" as "first" }), SabreTypeError, /drop/);
  throwsTyped(() => new OneHotEncoder({ dtype: "bigint64" as "float64" }), SabreTypeError, /dtype/);
  throwsTyped(() => new OneHotEncoder({ categories: [[2, 1]] }), SabreTypeError, /unsorted/);
  throwsTyped(() => new OneHotEncoder({ categories: [[NaN, 1]] }), SabreTypeError, /NaN must be the last/);
  throwsTyped(() => new OneHotEncoder({ colour: 1 } as never), SabreTypeError, /unknown option/);
  const enc = new OneHotEncoder();
  await rejectsTyped(enc.transform([[1]]), SabreTypeError, /not fitted/);
  throwsTyped(() => enc.getFeatureNamesOut(), SabreTypeError, /not fitted/);
  await rejectsTyped(enc.fit([1, 2, 3] as never), SabreTypeError, /2-D/);
  await rejectsTyped(enc.fit(shared.zeros("float64", [0, 2])), SabreTypeError, /0 sample/);
  await rejectsTyped(new OneHotEncoder({ categories: [[1]] }).fit([[1, 2]]), SabreTypeError, /shape mismatch/);
  await rejectsTyped(new OneHotEncoder({ drop: [5] }).fit([[1], [2]]), SabreTypeError, /supposed to be dropped/);
  await enc.fit([[1, 2], [3, 4]]);
  await rejectsTyped(enc.transform([[1, 2, 3]]), SabreTypeError, /3 features, but OneHotEncoder is expecting 2/);
  await rejectsTyped(enc.transform([[1, 2]], { out: shared.zeros("float64", [1, 3]) }), SabreTypeError, /out must be/);
  await rejectsTyped(enc.inverseTransform([[1, 0, 1]]), SabreTypeError, /expected 4 columns/);
  throwsTyped(() => enc.getFeatureNamesOut(["a"]), SabreTypeError, /inputFeatures/);
});

test("fit/transform options are checked like the other estimators' (a typo or a number was ignored)", async () => {
  const X = shared.from([[0, 1], [1, 0]]);
  const enc = new OneHotEncoder();
  await rejectsTyped(enc.fit(X, { engin: engines[0] } as never), SabreTypeError, /OneHotEncoder\.fit: unknown option "engin" \(known: engine, signal\)/);
  await rejectsTyped(enc.fit(X, 5 as never), SabreTypeError, /OneHotEncoder\.fit: options must be an object, got 5/);
  await enc.fit(X, { engine: engines[0]! });
  await rejectsTyped(enc.transform(X, { ot: null } as never), SabreTypeError, /OneHotEncoder\.transform: unknown option "ot"/);
  await rejectsTyped(enc.fitTransform(X, { sgnal: 1 } as never), SabreTypeError, /OneHotEncoder\.fitTransform: unknown option "sgnal"/);
  assert.equal((await enc.transform(X)).shape, [2, 4]);
});

test("OneHotEncoder takes an engine option with the other estimators' meaning (it was refused as an unknown option)", async () => {
  const enc = new OneHotEncoder({ handleUnknown: "ignore", engine: engines[1]! });
  assert.is(enc.engine, engines[1]);
  assert.is(new OneHotEncoder().engine, undefined);
  throwsTyped(() => new OneHotEncoder({ engine: 5 as never }), SabreTypeError, /OneHotEncoder: engine must be an Engine, got 5/);
  // A table past the calling-thread limit runs on the estimator's engine when the call names none:
  // a closed one is refused by the call, and a call's own engine still wins.
  const big = shared.zeros("float64", [1 << 18, 4]);
  const closed = await Engine.start({ threads: 1 });
  await closed.close();
  const onClosed = new OneHotEncoder({ engine: closed });
  await rejectsTyped(onClosed.fit(big), ClosedError, /is closed/);
  await onClosed.fit(big, { engine: engines[0]! });
  assert.equal((await enc.fitTransform(big)).shape, [1 << 18, 4]);
  assert.is(OneHotEncoder.fromJSON(enc.toJSON()).engine, undefined, "the engine is not saved, as for the other estimators");
});

test.run();
