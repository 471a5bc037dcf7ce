import { test } from "uvu";
import * as assert from "uvu/assert";
import { Engine, FormatError, MinMaxScaler, RobustScaler, SabreTypeError, shared, StandardScaler } from "sabre";
import type { NdArray } from "sabre";
import { rejectsTyped, throwsTyped } from "../helpers.js";
import { closeArray, closeRows, fixtureCases, haveSklearn, randomTable, rowsOf, sameBits, sklearnLive, toJ, type Case } from "./preprocess-fixtures.js";

type Scaler = StandardScaler | MinMaxScaler | RobustScaler;
const CLASSES = { StandardScaler, MinMaxScaler, RobustScaler } as const;
type Name = keyof typeof CLASSES;

function make(name: Name, params: Record<string, unknown>, engine?: Engine): Scaler {
  return new CLASSES[name]({ ...params, ...(engine ? { engine } : {}) } as never);
}

function attr(s: Scaler, key: string): ArrayLike<number> | number | null {
  return (s as unknown as Record<string, ArrayLike<number> | number | null>)[key]!;
}

let engine: Engine;
test.before(async () => {
  engine = await Engine.start({ threads: 3 });
});
test.after(async () => {
  await engine.close();
});

async function check(c: Case, expected = c.result!, what = `${c.estimator} ${JSON.stringify(c.params)} on ${c.data ?? "live data"}`): Promise<void> {
  const s = make(c.estimator as Name, c.params, engine);
  const X = shared.from(rowsOf(c.X), { dtype: "float64" });
  await s.fit(X);
  for (const [key, value] of Object.entries(expected.attrs)) closeArray(attr(s, key), value, `${what}: ${key}`);
  assert.is(s.nFeaturesIn, X.shape[1]);
  const out = await s.transform(X);
  assert.is(out.dtype, "float64");
  closeRows(out, expected.out, `${what}: transform`);
  const back = await s.inverseTransform(out);
  closeRows(back, expected.inverse!, `${what}: inverseTransform`);
}

for (const name of ["StandardScaler", "MinMaxScaler", "RobustScaler"] as const) {
  test(`${name}: fitted attributes, transform and inverse as scikit-learn 1.2 (fixtures: NaN, constant column, a single row, all-NaN column, negatives)`, async () => {
    const cases = fixtureCases(name);
    assert.ok(cases.length >= 8);
    for (const c of cases) await check(c);
  });
}

test("live against scikit-learn on fresh random data (skipped without /usr/bin/python3 + sklearn)", async () => {
  if (!haveSklearn()) return;
  const cases: Case[] = [];
  const seed = Date.now() % 100000;
  for (const [i, [n, m, nan]] of ([[300, 5, 0.1], [1, 3, 0], [50, 4, 0.3]] as const).entries()) {
    const X = toJ(randomTable(n, m, seed + i, nan));
    cases.push({ estimator: "StandardScaler", params: {}, X });
    cases.push({ estimator: "StandardScaler", params: { withMean: false }, X });
    cases.push({ estimator: "MinMaxScaler", params: { featureRange: [-1, 2] }, X });
    cases.push({ estimator: "RobustScaler", params: { quantileRange: [5, 60], unitVariance: true }, X });
  }
  const results = sklearnLive(cases);
  for (let i = 0; i < cases.length; i++) await check(cases[i]!, results[i]!, `live seed ${seed} case ${i} ${cases[i]!.estimator}`);
});

/** np.nanpercentile (linear) and np.nanmedian by a full sort: the reference for the histogram route. */
function sortedRef(col: number[]): { median: number; pct: (q: number) => number } {
  const s = Float64Array.from(col.filter((v) => !Number.isNaN(v))).sort();
  const n = s.length;
  const k = (n - 1) >>> 1;
  return {
    median: n % 2 ? s[k]! : (s[k]! + s[k + 1]!) / 2,
    pct(q: number): number {
      const vi = (n - 1) * q;
      const p = Math.min(Math.floor(vi), n - 1);
      const nx = Math.min(p + 1, n - 1);
      const t = vi - Math.floor(vi);
      const d = s[nx]! - s[p]!;
      return t >= 0.5 ? s[nx]! - d * (1 - t) : s[p]! + d * t;
    },
  };
}

test("RobustScaler on 60,000 skewed rows (outliers, long runs of equal values, -0 and 0, NaN): center and scale exactly those of a full sort", async () => {
  let seed = 7;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const rows: number[][] = [];
  for (let i = 0; i < 60000; i++) {
    const u = rnd();
    rows.push([
      -Math.log(1 - u) * 3, // exponential
      u < 0.6 ? 2.5 : u < 0.7 ? NaN : u * 100, // a long run of one value
      i === 5 ? 1e300 : i === 6 ? -1e300 : u - 0.5, // two huge outliers: one histogram bin holds almost everything
      u < 0.5 ? -0 : u < 0.9 ? 0 : 1,
    ]);
  }
  const X = shared.from(rows, { dtype: "float64" });
  for (const qr of [[25, 75], [0, 100], [1, 99.5]] as [number, number][]) {
    const s = await new RobustScaler({ engine, quantileRange: qr }).fit(X);
    for (let j = 0; j < 4; j++) {
      const ref = sortedRef(rows.map((r) => r[j]!));
      assert.ok(Object.is(s.center![j], ref.median) || s.center![j] === ref.median, `center[${j}]: ${s.center![j]} vs ${ref.median}`);
      const d = ref.pct(qr[1] / 100) - ref.pct(qr[0] / 100);
      assert.is(s.scale![j], d < 10 * 2 ** -52 ? 1 : d, `scale[${j}] for ${qr}`);
    }
  }
});

test("inverseTransform(transform(X)) gives X back", async () => {
  const rows = randomTable(500, 6, 11, 0.1);
  const X = shared.from(rows, { dtype: "float64" });
  for (const s of [new StandardScaler({ engine }), new MinMaxScaler({ engine, featureRange: [-3, 5] }), new RobustScaler({ engine, unitVariance: true })] as Scaler[]) {
    const back = await s.inverseTransform(await s.fitTransform(X));
    for (let i = 0; i < X.size; i++) {
      const a = back.data[i] as number;
      const b = X.data[i] as number;
      if (Number.isNaN(b)) assert.ok(Number.isNaN(a));
      else assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${s.constructor.name}[${i}]: ${a} vs ${b}`);
    }
  }
});

test("the same bits for 1, 2, 3 and 5 threads (more threads than cores), across many row blocks", async () => {
  const rows = randomTable(9000, 7, 5, 0.05);
  const X = shared.from(rows, { dtype: "float64" });
  const X32 = shared.from(rows, { dtype: "float32" });
  const runs: Float64Array[][] = [];
  for (const threads of [1, 2, 3, 5]) {
    const e = await Engine.start({ threads });
    try {
      const got: Float64Array[] = [];
      for (const s of [new StandardScaler(), new MinMaxScaler({ clip: true }), new RobustScaler()] as Scaler[]) {
        for (const x of [X, X32]) {
          const out = await s.fitTransform(x, { engine: e });
          got.push(Float64Array.from(out.data as Float64Array));
          for (const key of ["mean", "var", "scale", "center", "dataMin", "min"]) {
            const v = key in s ? attr(s, key) : null;
            if (v && typeof v === "object") got.push(Float64Array.from(v));
          }
        }
      }
      runs.push(got);
    } finally {
      await e.close();
    }
  }
  for (let r = 1; r < runs.length; r++) {
    assert.is(runs[r]!.length, runs[0]!.length);
    for (let k = 0; k < runs[0]!.length; k++) sameBits(runs[r]![k]!, runs[0]![k]!, `run ${r} array ${k}`);
  }
});

test("float32 in, float32 out (as sklearn keeps the dtype); integer input gives float64", async () => {
  const rows = randomTable(200, 4, 3, 0.1);
  const X32 = shared.from(rows, { dtype: "float32" });
  const X64 = shared.from(rows.map((r) => r.map((v) => Math.fround(v))), { dtype: "float64" });
  for (const name of ["StandardScaler", "MinMaxScaler", "RobustScaler"] as const) {
    const a = await make(name, {}, engine).fitTransform(X32);
    const b = await make(name, {}, engine).fitTransform(X64);
    assert.is(a.dtype, "float32");
    for (let i = 0; i < a.size; i++) {
      const u = a.data[i] as number;
      const v = b.data[i] as number;
      assert.ok(Object.is(u, Math.fround(v)) || Math.abs(u - v) <= 1e-6 * Math.max(1, Math.abs(v)), `${name}[${i}]: ${u} vs ${v}`);
    }
  }
  const ints = shared.from([[1, 2], [3, 5], [5, 9]], { dtype: "int32" });
  const out = await new StandardScaler({ engine }).fitTransform(ints);
  assert.is(out.dtype, "float64");
  closeArray(Array.from(out.data as Float64Array), [-1.224744871391589, -1.1624763874381927, 0, -0.11624763874381917, 1.224744871391589, 1.2787240261820123], "int32 input");
});

test("transform into out (numpy's out=): shape, dtype and shared memory checked", async () => {
  const X = shared.from(randomTable(30, 3, 2, 0), { dtype: "float64" });
  const s = await new StandardScaler({ engine }).fit(X);
  const out = shared.empty("float64", [30, 3]);
  const r = await s.transform(X, { out });
  assert.ok(r === out);
  sameBits(out.data as Float64Array, (await s.transform(X)).data as Float64Array, "out");
  await rejectsTyped(s.transform(X, { out: shared.empty("float64", [30, 2]) }), SabreTypeError, /out has shape \[30, 2\], expected \[30, 3\]/);
  await rejectsTyped(s.transform(X, { out: shared.empty("float32", [30, 3]) }), SabreTypeError, /out has dtype float32, expected float64/);
  const plain = shared.from(randomTable(30, 3, 2, 0), { dtype: "float64" });
  const notShared = { ...plain, data: new Float64Array(90) } as unknown as NdArray;
  await rejectsTyped(s.transform(X, { out: notShared }), SabreTypeError, /out/);
  await rejectsTyped(s.transform(X, { out: [1, 2] as unknown as NdArray }), SabreTypeError, /out must be a shared ndarray/);
});

test("bad input: typed errors", async () => {
  for (const name of ["StandardScaler", "MinMaxScaler", "RobustScaler"] as const) {
    const s = make(name, {}, engine);
    await rejectsTyped(s.transform([[1, 2]]), SabreTypeError, new RegExp(`${name}.transform: this ${name} is not fitted yet`));
    await rejectsTyped(s.inverseTransform([[1, 2]]), SabreTypeError, /not fitted/);
    throwsTyped(() => (s as StandardScaler).nFeaturesIn, SabreTypeError, new RegExp(`${name}`));
    await rejectsTyped(s.fit(shared.from([1, 2, 3], { dtype: "float64" })), SabreTypeError, /must be 2-D/);
    await rejectsTyped(s.fit(new BigInt64Array(4)), SabreTypeError, /bigint64|2-D/);
    await rejectsTyped(s.fit(shared.zeros("bigint64", [2, 2])), SabreTypeError, /bigint64/);
    await rejectsTyped(s.fit([["a", "b"]] as unknown as number[][]), SabreTypeError);
    await rejectsTyped(s.fit("X" as unknown as number[][]), SabreTypeError);
    await rejectsTyped(s.fit(shared.zeros("float64", [0, 3])), SabreTypeError, /0 samples/);
    await rejectsTyped(s.fit(shared.zeros("float64", [3, 0])), SabreTypeError, /0 features/);
    await rejectsTyped(s.fit([[1, Infinity], [2, 3]]), SabreTypeError, /infinity/);
    await s.fit([[1, 2], [3, 4]]);
    await rejectsTyped(s.transform([[1, 2, 3]]), SabreTypeError, /3 features, but this estimator was fitted with 2/);
    await rejectsTyped(s.transform([[1, -Infinity]]), SabreTypeError, /infinity/);
    await rejectsTyped(s.fit([[1, 2]], { bogus: 1 } as never), SabreTypeError, /unknown option "bogus"/);
  }
  throwsTyped(() => new StandardScaler({ withMean: 1 } as never), SabreTypeError, /withMean must be a boolean/);
  throwsTyped(() => new StandardScaler({ withMeans: true } as never), SabreTypeError, /unknown option "withMeans"/);
  throwsTyped(() => new MinMaxScaler({ featureRange: [1, 1] }), SabreTypeError, /smaller than maximum/);
  throwsTyped(() => new MinMaxScaler({ featureRange: [0] as never }), SabreTypeError, /featureRange/);
  throwsTyped(() => new RobustScaler({ quantileRange: [80, 20] }), SabreTypeError, /quantile range/);
  throwsTyped(() => new RobustScaler({ quantileRange: [-1, 20] }), SabreTypeError, /quantile range/);
});

test("an aborted signal rejects with AbortError", async () => {
  const ac = new AbortController();
  ac.abort();
  const err = await new StandardScaler({ engine }).fit([[1, 2]], { signal: ac.signal }).then(
    () => null,
    (e: unknown) => e,
  );
  assert.is((err as { code?: string }).code, "ERR_SABRE_ABORTED");
});

test("toJSON / fromJSON round trip: the same attributes and the same transform bits", async () => {
  const X = shared.from(randomTable(100, 5, 9, 0.2).concat([[NaN, 7.5, NaN, NaN, NaN]]), { dtype: "float64" });
  const Xall = shared.from(randomTable(10, 3, 4, 0).map((r) => [r[0]!, NaN, r[2]!]), { dtype: "float64" });
  for (const [name, params] of [
    ["StandardScaler", {}],
    ["StandardScaler", { withMean: false }],
    ["StandardScaler", { withMean: false, withStd: false }],
    ["MinMaxScaler", { featureRange: [-1, 1], clip: true }],
    ["RobustScaler", { withCentering: false, quantileRange: [10, 90] }],
    ["RobustScaler", {}],
  ] as [Name, Record<string, unknown>][]) {
    for (const x of [X, Xall]) {
      const s = make(name, params, engine);
      await s.fit(x);
      const json = JSON.parse(JSON.stringify(s.toJSON())) as unknown;
      const t = (CLASSES[name] as unknown as { fromJSON(o: unknown): Scaler }).fromJSON(json);
      assert.equal(JSON.stringify(t.toJSON()), JSON.stringify(s.toJSON()));
      sameBits((await t.transform(x, { engine })).data as Float64Array, (await s.transform(x)).data as Float64Array, `${name} round trip`);
    }
    const unfitted = (CLASSES[name] as unknown as { fromJSON(o: unknown): Scaler }).fromJSON(JSON.parse(JSON.stringify(make(name, params).toJSON())));
    await rejectsTyped(unfitted.transform(X), SabreTypeError, /not fitted/);
  }
});

test("corrupted JSON is a FormatError", async () => {
  const s = await new StandardScaler({ engine }).fit([[1, 2], [3, 5], [4, 4]]);
  const good = JSON.parse(JSON.stringify(s.toJSON())) as Record<string, unknown> & { state: Record<string, unknown>; params: Record<string, unknown> };
  const bad = (f: (j: typeof good) => void): unknown => {
    const j = JSON.parse(JSON.stringify(good)) as typeof good;
    f(j);
    return j;
  };
  const corrupt: unknown[] = [
    null,
    "x",
    bad((j) => (j.format = "other")),
    bad((j) => (j.version = 99)),
    bad((j) => (j.estimator = "MinMaxScaler")),
    bad((j) => (j.state.mean = [1])),
    bad((j) => (j.state.mean = [1, "a"])),
    bad((j) => (j.state.scale = [1, "NaN-ish"])),
    bad((j) => (j.state.scale = [1, -2])),
    bad((j) => (j.state.var = [1, -2])),
    bad((j) => (j.state.var = "x")),
    bad((j) => delete j.state.scale),
    bad((j) => (j.state.nFeaturesIn = 2.5)),
    bad((j) => (j.state.nSamplesSeen = -1)),
    bad((j) => (j.state.mean = [1, "Infinity"])),
    bad((j) => (j.params.withMean = "yes")),
    bad((j) => (j.params.extra = 1)),
  ];
  for (const [i, c] of corrupt.entries()) {
    try {
      StandardScaler.fromJSON(c);
      assert.unreachable(`case ${i} accepted`);
    } catch (err) {
      assert.ok(err instanceof FormatError, `case ${i}: ${String(err)}`);
    }
  }
  const m = await new MinMaxScaler({ engine }).fit([[1, 2], [3, 5]]);
  const mj = JSON.parse(JSON.stringify(m.toJSON())) as { state: Record<string, unknown> };
  mj.state.dtype = "int8";
  throwsTyped(() => MinMaxScaler.fromJSON(mj), FormatError, /dtype/);
  const r = await new RobustScaler({ engine }).fit([[1, 2], [3, 5]]);
  const rj = JSON.parse(JSON.stringify(r.toJSON())) as { state: Record<string, unknown> };
  rj.state.center = [1, 2, 3];
  throwsTyped(() => RobustScaler.fromJSON(rj), FormatError, /center/);
});

test.run();
