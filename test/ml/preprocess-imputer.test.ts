import { test } from "uvu";
import * as assert from "uvu/assert";
import { Engine, FormatError, SabreTypeError, shared, SimpleImputer } from "sabre";
import type { ImputeStrategy } from "sabre";
import { rejectsTyped, throwsTyped } from "../helpers.js";
import { closeArray, closeRows, fixtureCases, haveSklearn, randomTable, rowsOf, sameBits, sklearnLive, toJ, type Case } from "./preprocess-fixtures.js";

let engine: Engine;
test.before(async () => {
  engine = await Engine.start({ threads: 3 });
});
test.after(async () => {
  await engine.close();
});

async function check(c: Case, expected = c.result!, what = `SimpleImputer ${JSON.stringify(c.params)} on ${c.data ?? "live data"}`): Promise<void> {
  const s = new SimpleImputer({ ...(c.params as object), engine });
  const X = shared.from(rowsOf(c.X), { dtype: "float64" });
  await s.fit(X);
  closeArray(s.statistics, expected.attrs.statistics, `${what}: statistics`);
  const out = await s.transform(X);
  closeRows(out, expected.out, `${what}: transform`);
}

test("statistics and transform as scikit-learn 1.2 for every strategy (fixtures: NaN, all-NaN column dropped, a single row, ties)", async () => {
  const cases = fixtureCases("SimpleImputer");
  assert.ok(cases.length >= 12);
  for (const c of cases) await check(c);
});

test("live against scikit-learn on fresh random data (skipped without /usr/bin/python3 + sklearn)", async () => {
  if (!haveSklearn()) return;
  const seed = Date.now() % 100000;
  const cases: Case[] = [];
  for (const [i, [n, m, nan]] of ([[400, 5, 0.1], [1, 3, 0], [41, 4, 0.5]] as const).entries()) {
    const X = toJ(randomTable(n, m, seed + i, nan));
    for (const strategy of ["mean", "median", "most_frequent"]) cases.push({ estimator: "SimpleImputer", params: { strategy }, X });
    cases.push({ estimator: "SimpleImputer", params: { strategy: "constant", fillValue: 3.25 }, X });
  }
  const results = sklearnLive(cases);
  for (let i = 0; i < cases.length; i++) await check(cases[i]!, results[i]!, `live seed ${seed} case ${i} ${JSON.stringify(cases[i]!.params)}`);
});

test("median: even and odd counts, float32 sums the two middle values in float32", async () => {
  const s = await new SimpleImputer({ strategy: "median", engine }).fit([[1, 5], [NaN, 1], [4, NaN], [2, 2]]);
  assert.equal(Array.from(s.statistics), [2, 2]);
  // 2^24 + (2^24 + 2) = 2^25 + 2 rounds to 2^25 in float32 (ties to even)
  const f = shared.from([[16777216], [16777218]], { dtype: "float32" });
  const m = await new SimpleImputer({ strategy: "median", engine }).fit(f);
  assert.is(m.statistics[0], Math.fround(16777216 + 16777218) / 2);
  const out = await m.transform(shared.from([[NaN], [1]], { dtype: "float32" }));
  assert.is(out.dtype, "float32");
  assert.is(out.data[0], 16777216);
});

test("the same bits for 1, 2, 3 and 5 threads, every strategy, float64 and float32", async () => {
  const rows = randomTable(7000, 6, 21, 0.05);
  const Xs = [shared.from(rows, { dtype: "float64" }), shared.from(rows, { dtype: "float32" })];
  const runs: Float64Array[][] = [];
  for (const threads of [1, 2, 3, 5]) {
    const e = await Engine.start({ threads });
    try {
      const got: Float64Array[] = [];
      for (const strategy of ["mean", "median", "most_frequent", "constant"] as ImputeStrategy[]) {
        for (const X of Xs) {
          const s = new SimpleImputer({ strategy, engine: e });
          const out = await s.fitTransform(X);
          got.push(Float64Array.from(out.data as Float64Array), Float64Array.from(s.statistics));
        }
      }
      runs.push(got);
    } finally {
      await e.close();
    }
  }
  for (let r = 1; r < runs.length; r++) for (let k = 0; k < runs[0]!.length; k++) sameBits(runs[r]![k]!, runs[0]![k]!, `threads run ${r} array ${k}`);
});

test("an all-NaN column is dropped (keepEmptyFeatures false, as sklearn 1.2), except with constant", async () => {
  const X = [[1, NaN, 3], [NaN, NaN, 4]];
  const s = await new SimpleImputer({ engine }).fit(X);
  const out = await s.transform(X);
  assert.equal(out.shape, [2, 2]);
  assert.equal(Array.from(out.data as Float64Array), [1, 3, 1, 4]);
  const c = await new SimpleImputer({ strategy: "constant", fillValue: -1, engine }).fit(X);
  assert.equal(Array.from((await c.transform(X)).data as Float64Array), [1, -1, 3, -1, -1, 4]);
  const allNaN = await new SimpleImputer({ engine }).fit([[NaN], [NaN]]);
  const empty = await allNaN.transform([[NaN], [2]]);
  assert.equal(empty.shape, [2, 0]);
});

test("out, bad input and not fitted: typed errors", async () => {
  const s = new SimpleImputer({ strategy: "median", engine });
  await rejectsTyped(s.transform([[1]]), SabreTypeError, /SimpleImputer.transform: this SimpleImputer is not fitted yet/);
  throwsTyped(() => s.statistics, SabreTypeError, /SimpleImputer/);
  await rejectsTyped(s.fit([1, 2, 3] as unknown as number[][]), SabreTypeError, /2-D/);
  await rejectsTyped(s.fit(shared.zeros("biguint64", [2, 2])), SabreTypeError, /biguint64/);
  await rejectsTyped(s.fit([["x"]] as unknown as number[][]), SabreTypeError);
  await rejectsTyped(s.fit(shared.zeros("float64", [0, 2])), SabreTypeError, /0 samples/);
  await rejectsTyped(s.fit([[1, Infinity]]), SabreTypeError, /infinity/);
  await s.fit([[1, 2], [NaN, 3]]);
  await rejectsTyped(s.transform([[1]]), SabreTypeError, /1 features, but this estimator was fitted with 2/);
  await rejectsTyped(s.transform([[1, Infinity]]), SabreTypeError, /infinity/);
  await rejectsTyped(s.transform([[1, 2]], { out: shared.empty("float64", [1, 3]) }), SabreTypeError, /out has shape/);
  await rejectsTyped(s.transform([[1, 2]], { out: shared.empty("int32", [1, 2]) }), SabreTypeError, /out has dtype int32/);
  const out = shared.empty("float64", [2, 2]);
  assert.ok((await s.transform([[NaN, NaN], [5, 6]], { out })) === out);
  assert.equal(Array.from(out.data), [1, 2.5, 5, 6]);
  throwsTyped(() => new SimpleImputer({ strategy: "mode" as never }), SabreTypeError, /strategy must be one of/);
  throwsTyped(() => new SimpleImputer({ fillValue: "a" as never }), SabreTypeError, /fillValue/);
  throwsTyped(() => new SimpleImputer({ missingValues: 0 }), SabreTypeError, /missingValues must be NaN/);
});

test("toJSON / fromJSON round trip and corrupted JSON (FormatError)", async () => {
  const X = shared.from(randomTable(60, 4, 8, 0.2).concat([[NaN, 7.5, NaN, NaN]]).map((r) => [r[0]!, r[1]!, NaN, r[3]!]), { dtype: "float64" });
  for (const strategy of ["mean", "median", "most_frequent", "constant"] as ImputeStrategy[]) {
    const s = await new SimpleImputer({ strategy, fillValue: 2, engine }).fit(X);
    const t = SimpleImputer.fromJSON(JSON.parse(JSON.stringify(s.toJSON())));
    assert.is(JSON.stringify(t.toJSON()), JSON.stringify(s.toJSON()));
    sameBits((await t.transform(X, { engine })).data as Float64Array, (await s.transform(X)).data as Float64Array, strategy);
  }
  const s = await new SimpleImputer({ engine }).fit([[1, NaN], [3, NaN]]);
  const good = JSON.parse(JSON.stringify(s.toJSON())) as { state: Record<string, unknown>; params: Record<string, unknown> };
  const mutate = (f: (j: typeof good) => void): unknown => {
    const j = JSON.parse(JSON.stringify(good)) as typeof good;
    f(j);
    return j;
  };
  for (const c of [
    mutate((j) => (j.state.statistics = [1])),
    mutate((j) => (j.state.statistics = [1, null])),
    mutate((j) => (j.state.statistics = "1,2")),
    mutate((j) => (j.state.dtype = "float16")),
    mutate((j) => (j.state.nFeaturesIn = 0)),
    mutate((j) => (j.params.strategy = "avg")),
    mutate((j) => ((j as Record<string, unknown>).estimator = "StandardScaler")),
  ]) {
    throwsTyped(() => SimpleImputer.fromJSON(c), FormatError);
  }
  const c = await new SimpleImputer({ strategy: "constant", engine }).fit([[1]]);
  const cj = JSON.parse(JSON.stringify(c.toJSON())) as { state: Record<string, unknown> };
  cj.state.statistics = ["NaN"];
  throwsTyped(() => SimpleImputer.fromJSON(cj), FormatError, /NaN/);
});

test.run();
