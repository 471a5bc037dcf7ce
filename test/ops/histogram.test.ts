// ops.histogram and ops.bincount against numpy 1.24 (fixture): values on
// edges, float32 arithmetic, single values, ranges, weights, density,
// explicit edges; multi-block inputs with weights bit for bit (numpy's
// per-block fold); the same bits for 1, 2 and 3 threads; bad input.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Engine, ops, SabreTypeError, shared } from "sabre";
import { rejectsTyped } from "../helpers.js";
import { FIXTURE, formula, formulaWeights, num, nums, sameArray } from "./fixture-data.js";

const engines: Engine[] = [];

test.before(async () => {
  engines.push(...(await Promise.all([1, 2, 3].map((threads) => Engine.start({ threads })))));
});
test.after(async () => {
  await Promise.all(engines.map((e) => e.close()));
});

test("small inputs match numpy: edges, counts, weights, density", async () => {
  for (const c of FIXTURE.histogram) {
    const x = shared.from(nums(c.x), { dtype: c.dtype as "float64" });
    const options = {
      ...(c.bins === undefined ? {} : { bins: typeof c.bins === "number" ? c.bins : nums(c.bins) }),
      ...(c.range === undefined ? {} : { range: c.range }),
      ...(c.weights === undefined ? {} : { weights: nums(c.weights) }),
      ...(c.density === undefined ? {} : { density: c.density }),
    };
    const { counts, edges } = await ops.histogram(x, { ...options, engine: engines[1] });
    sameArray(edges.data as ArrayLike<number>, nums(c.edges), `${c.name}: edges`);
    if (typeof c.bins !== "object") assert.is(edges.dtype, c.edgesDtype, `${c.name}: edges dtype`);
    const weighted = c.weights !== undefined || c.density === true;
    assert.is(counts.dtype, weighted ? "float64" : "int32", `${c.name}: counts dtype`);
    sameArray(counts.data as ArrayLike<number>, nums(c.counts), `${c.name}: counts`);
  }
});

test("large inputs (many 65,536-element blocks) match numpy bit for bit on 1, 2 and 3 threads", async () => {
  for (const c of FIXTURE.histogramFormula) {
    const data = formula(c.n);
    const x = shared.from(data, { dtype: c.dtype });
    const what = `n=${c.n} ${c.dtype} bins=${JSON.stringify(c.bins)}${c.weights ? " weights" : ""}${c.density ? " density" : ""}`;
    for (const engine of engines) {
      const { counts, edges } = await ops.histogram(x, {
        bins: c.bins,
        ...(c.range ? { range: c.range } : {}),
        ...(c.weights ? { weights: formulaWeights(c.n) } : {}),
        density: c.density,
        engine,
      });
      sameArray(edges.data as ArrayLike<number>, nums(c.edges), `${what}: edges (${engine.threads} threads)`);
      sameArray(counts.data as ArrayLike<number>, nums(c.counts), `${what}: counts (${engine.threads} threads)`);
    }
  }
});

test("strided, transposed and n-d inputs are raveled in row-major order", async () => {
  const base = shared.from(formula(120_000), { shape: [300, 400] });
  const t = base.transpose(1, 0);
  const copy = shared.from(t);
  const w = shared.from(formulaWeights(120_000), { shape: [400, 300] });
  for (const engine of engines) {
    const a = await ops.histogram(t, { bins: 9, weights: w, engine });
    const b = await ops.histogram(copy, { bins: 9, weights: w, engine });
    sameArray(a.counts.data as Float64Array, Array.from(b.counts.data as Float64Array), "transposed vs copied");
    const s = await ops.histogram(base.step(null, 3), { bins: [-3, 0, 1, 3], engine });
    const plain = shared.from(base.step(null, 3));
    const p = await ops.histogram(plain, { bins: [-3, 0, 1, 3], engine });
    sameArray(s.counts.data as Int32Array, Array.from(p.counts.data as Int32Array), "strided vs copied");
  }
});

test("the data's range must be finite unless a range is given", async () => {
  await rejectsTyped(ops.histogram([1, NaN, 2]), SabreTypeError, /autodetected range of \[NaN, NaN\] is not finite/);
  await rejectsTyped(ops.histogram([1, Infinity]), SabreTypeError, /not finite/);
  const big = formula(100_000);
  big[77_777] = NaN;
  await rejectsTyped(ops.histogram(big, { engine: engines[2] }), SabreTypeError, /autodetected range/);
  const { counts } = await ops.histogram(big, { range: [-3, 3], bins: 2, engine: engines[2] });
  assert.is((counts.data[0] as number) + (counts.data[1] as number), 99_999);
});

test("bincount matches numpy, on one and many blocks", async () => {
  for (const c of FIXTURE.bincount) {
    const got = await ops.bincount(c.x, { ...(c.weights ? { weights: c.weights } : {}), ...(c.minlength === undefined ? {} : { minlength: c.minlength }) });
    sameArray(got.data as ArrayLike<number>, nums(c.counts), `bincount ${c.name}`);
    assert.is(got.dtype, c.weights ? "float64" : "int32");
  }
  const n = 500_000;
  const x = shared.empty("int32", [n]);
  const want = new Array<number>(1000).fill(0);
  for (let i = 0; i < n; i++) {
    x.data[i] = (i * 7919) % 997;
    want[x.data[i]!]!++;
  }
  for (const engine of engines) {
    const got = await ops.bincount(x, { minlength: 1000, engine });
    sameArray(got.data as Int32Array, want, `large bincount (${engine.threads} threads)`);
    const u8 = await ops.bincount(shared.full("uint8", [n], 3), { engine });
    sameArray(u8.data as Int32Array, [0, 0, 0, n], "uint8");
  }
  const w = formulaWeights(n);
  const results = await Promise.all(engines.map((engine) => ops.bincount(x, { weights: w, engine })));
  for (const r of results.slice(1)) sameArray(r.data as Float64Array, Array.from(results[0]!.data as Float64Array), "weighted bincount across thread counts");
  let total = 0;
  for (const v of results[0]!.data as Float64Array) total += v;
  assert.ok(Math.abs(total - w.reduce((a, b) => a + b, 0)) < 1e-6);
});

test("many histograms at once on one engine with more threads than cores", async () => {
  const engine = await Engine.start({ threads: 5 });
  try {
    const c = FIXTURE.histogramFormula[3]!;
    const x = formula(c.n);
    const w = formulaWeights(c.n);
    const runs = await Promise.all(Array.from({ length: 10 }, (_, k) => (k % 2 ? ops.histogram(x, { bins: c.bins, weights: w, engine }) : ops.bincount(new Int32Array(x.length).fill(k), { engine }))));
    runs.forEach((r, k) => {
      if (k % 2) sameArray((r as { counts: { data: Float64Array } }).counts.data, nums(c.counts), `histogram ${k}`);
      else assert.is((r as { data: Int32Array }).data[k], c.n, `bincount ${k}`);
    });
  } finally {
    await engine.close();
  }
});

test("bad input is a SabreTypeError", async () => {
  await rejectsTyped(ops.histogram([1, 2], { bins: 0 }), SabreTypeError, /bins must be a positive integer/);
  await rejectsTyped(ops.histogram([1, 2], { bins: 2.5 }), SabreTypeError, /bins/);
  await rejectsTyped(ops.histogram([1, 2], { bins: [0, 2, 1] }), SabreTypeError, /increase monotonically/);
  await rejectsTyped(ops.histogram([1, 2], { bins: [[0, 1]] as never }), SabreTypeError, /1-d/);
  await rejectsTyped(ops.histogram([1, 2], { bins: [0, NaN] }), SabreTypeError, /NaN/);
  await rejectsTyped(ops.histogram([1, 2], { range: [2, 1] }), SabreTypeError, /max must be larger than min/);
  await rejectsTyped(ops.histogram([1, 2], { range: [0, Infinity] }), SabreTypeError, /supplied range/);
  await rejectsTyped(ops.histogram([1, 2], { range: [0] as never }), SabreTypeError, /range must be/);
  await rejectsTyped(ops.histogram([1, 2], { weights: [1] }), SabreTypeError, /weights must have x's shape/);
  await rejectsTyped(ops.histogram([1, 2], { density: 1 as never }), SabreTypeError, /density/);
  await rejectsTyped(ops.histogram([1, 2], { bin: 3 } as never), SabreTypeError, /unknown option "bin"/);
  await rejectsTyped(ops.bincount([0, -1, 2]), SabreTypeError, /x\[1\] = -1 is negative/);
  await rejectsTyped(ops.bincount([0, 1.5]), SabreTypeError, /x\[1\] = 1.5 is not an integer/);
  await rejectsTyped(ops.bincount([0, NaN]), SabreTypeError, /is NaN/);
  await rejectsTyped(ops.bincount([[0, 1]]), SabreTypeError, /1-d/);
  await rejectsTyped(ops.bincount([0, 1], { minlength: -1 }), SabreTypeError, /minlength/);
  await rejectsTyped(ops.bincount([0, 1], { weights: [1, 2, 3] }), SabreTypeError, /weights/);
  const bad = new Float64Array(200_000);
  bad[150_001] = -3;
  await rejectsTyped(ops.bincount(bad, { engine: engines[2] }), SabreTypeError, /x\[150001\] = -3 is negative/);
  assert.is(num("-0"), -0);
});

test.run();
