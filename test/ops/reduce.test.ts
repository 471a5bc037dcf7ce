// ops reductions against numpy (fixtures it wrote), closed forms and exact
// integer sums; bit-for-bit the same on 1, 2 and 3 threads (3 > the 2 cores);
// strided, transposed, reversed and empty views; NaN and infinities; every
// number dtype; non-shared inputs; bad input; many concurrent calls.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import ndarray from "ndarray";
import { AbortError, Engine, SabreTypeError, ops, shared, type NdArray } from "sabre";
import { rejectsTyped } from "../helpers.js";

let e1: Engine, e2: Engine, e3: Engine;
test.before(async () => {
  [e1, e2, e3] = await Promise.all([Engine.start({ threads: 1 }), Engine.start({ threads: 2 }), Engine.start({ threads: 3 })]);
});
test.after(async () => {
  await Promise.all([e1.close(), e2.close(), e3.close()]);
});

type Name = "sum" | "mean" | "variance" | "std" | "min" | "max" | "argmin" | "argmax" | "nansum" | "nanmean" | "nanmin" | "nanmax";
const NAMES: readonly Name[] = ["sum", "mean", "variance", "std", "min", "max", "argmin", "argmax", "nansum", "nanmean", "nanmin", "nanmax"];
const OP = ops as unknown as Record<Name, (x: unknown, o?: object) => Promise<number | NdArray>>;

/** A deterministic uniform [0, 1) stream. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The elements of a result, row-major, as float64 (results are fresh row-major arrays). */
function flat(r: number | NdArray): Float64Array {
  if (typeof r === "number") return Float64Array.of(r);
  assert.is(r.offset, 0);
  assert.is(r.data.length, Math.max(r.size, 1));
  return Float64Array.from(r.data as Float64Array).subarray(0, r.size);
}

function sameBits(a: Float64Array, b: Float64Array, what: string): void {
  assert.is(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) assert.unreachable(`${what}: element ${i} is ${a[i]} vs ${b[i]}`);
  }
}

function close(got: number, want: number, rel: number, what: string): void {
  if (Number.isNaN(want) || !Number.isFinite(want) || Number.isInteger(want) && Math.abs(want) < 2 ** 53 && rel === 0) {
    if (!Object.is(got, want) && !(got === 0 && want === 0)) assert.unreachable(`${what}: got ${got}, want ${want}`);
    return;
  }
  const tol = rel * Math.max(1, Math.abs(want));
  if (!(Math.abs(got - want) <= tol)) assert.unreachable(`${what}: got ${got}, want ${want} (tolerance ${tol})`);
}

// ---- numpy fixtures --------------------------------------------------------------------------

interface Fixture {
  arrays: Record<string, { dtype: string; shape: number[]; data: (number | string)[] }>;
  cases: { array: string; view: string; op: string; axis: number | null; ddof?: number; error?: boolean; shape?: number[]; value?: (number | string)[] }[];
}
const dec = (v: number | string): number => (typeof v === "number" ? v : Number(v));
const FIX = JSON.parse(readFileSync(new URL("../../../test/fixtures/ops-reduce/numpy.json", import.meta.url), "utf8")) as Fixture;

function view(x: NdArray, name: string): NdArray {
  switch (name) {
    case "full":
      return x;
    case "T":
      return x.transpose(1, 0);
    case "step":
      return x.shape.length === 2 ? x.lo(0, 1).step(2, 3) : x.lo(1, 0, 0).step(2, -3, 1);
    case "rev":
      return x.step(-1, 1);
    case "T201":
      return x.transpose(2, 0, 1);
  }
  throw new Error(`unknown view ${name}`);
}

function fixtureArray(name: string): NdArray {
  const a = FIX.arrays[name]!;
  return shared.from(a.data.map(dec), { dtype: a.dtype as "float64", shape: a.shape });
}

test("every reduction and cumsum matches numpy on the fixtures (views, NaN, infinities, dtypes, every axis)", async () => {
  let n = 0;
  for (const c of FIX.cases) {
    const x = view(fixtureArray(c.array), c.view);
    const what = `${c.op}(${c.array}.${c.view}, axis ${c.axis}${c.ddof ? `, ddof ${c.ddof}` : ""})`;
    const options: Record<string, unknown> = { engine: e3 };
    if (c.axis !== null) options["axis"] = c.axis;
    if (c.ddof !== undefined) options["ddof"] = c.ddof;
    const fn = c.op === "cumsum" ? (ops.cumsum as (x: unknown, o?: object) => Promise<NdArray>) : OP[c.op as Name];
    if (c.error) {
      await rejectsTyped(() => fn(x, options), SabreTypeError, /zero-size|no identity/);
      continue;
    }
    const r = await fn(x, options);
    if (c.axis === null && c.op !== "cumsum") assert.type(r, "number", what);
    else assert.equal((r as NdArray).shape, c.shape, `${what}: shape`);
    const got = flat(r);
    const want = c.value!.map(dec);
    assert.is(got.length, want.length, what);
    const exact = ["min", "max", "argmin", "argmax", "nanmin", "nanmax"].includes(c.op);
    const rel = exact ? 0 : c.op === "variance" || c.op === "std" ? 1e-10 : 1e-12;
    for (let i = 0; i < want.length; i++) close(got[i]!, want[i]!, rel, `${what} [${i}]`);
    n++;
  }
  assert.ok(n > 500, `${n} cases checked`);
});

// ---- closed forms ----------------------------------------------------------------------------

test("closed forms: sum, mean and variance of 1..n (whole array, on the workers and on the calling thread)", async () => {
  for (const n of [1, 7, 1000, 32768, 100_003, 1_000_003]) {
    for (const dtype of ["float64", "int32", "float32"] as const) {
      if (dtype === "float32" && n > 2 ** 24) continue;
      const x = shared.zeros(dtype, [n]);
      for (let i = 0; i < n; i++) x.data[i] = i + 1;
      assert.is(await ops.sum(x, { engine: e2 }), (n * (n + 1)) / 2, `sum 1..${n} ${dtype}`);
      assert.is(await ops.mean(x, { engine: e2 }), (n + 1) / 2, `mean 1..${n} ${dtype}`);
      close(await ops.variance(x, { engine: e2 }), (n * n - 1) / 12, 1e-13, `variance 1..${n}`);
      if (n > 1) close(await ops.variance(x, { engine: e2, ddof: 1 }), (n * (n + 1)) / 12, 1e-13, `variance ddof 1, 1..${n}`);
      close(await ops.std(x, { engine: e2 }), Math.sqrt((n * n - 1) / 12), 1e-13, `std 1..${n}`);
      assert.is(await ops.min(x, { engine: e2 }), 1);
      assert.is(await ops.max(x, { engine: e2 }), n);
      assert.is(await ops.argmin(x, { engine: e2 }), 0);
      assert.is(await ops.argmax(x, { engine: e2 }), n - 1);
    }
  }
});

test("summation accuracy: pairwise error, far below a sequential sum's (2M values, Neumaier reference)", async () => {
  const n = 2_000_000;
  const r = lcg(11);
  const x = shared.zeros("float64", [n]);
  for (let i = 0; i < n; i++) x.data[i] = 0.1 + r() * 1e3;
  let s = 0, comp = 0, seq = 0;
  for (const v of x.data) {
    seq += v;
    const t = s + v;
    comp += Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s;
    s = t;
  }
  const exact = s + comp;
  const got = await ops.sum(x, { engine: e2 });
  const err = Math.abs(got - exact) / exact;
  assert.ok(err < 1e-15, `relative error ${err}`);
  assert.ok(err * 10 < Math.abs(seq - exact) / exact || err === 0, `pairwise ${err} vs sequential ${Math.abs(seq - exact) / exact}`);
});

test("variance stays accurate on data with a large mean (1e9 + noise)", async () => {
  const n = 2_000_000;
  const r = lcg(7);
  const noise = new Float64Array(n);
  for (let i = 0; i < n; i++) noise[i] = Math.floor(r() * 2048 - 1024) / 1024; // exact in float64 next to 1e9
  const x = shared.zeros("float64", [n]);
  for (let i = 0; i < n; i++) x.data[i] = 1e9 + noise[i]!;
  let m = 0;
  for (const v of noise) m += v;
  m /= n;
  let m2 = 0;
  for (const v of noise) m2 += (v - m) * (v - m);
  close(await ops.variance(x, { engine: e3 }), m2 / n, 1e-9, "variance of 1e9 + noise");
  const t = shared.zeros("float32", [4000, 8]); // axis 0 tiles and axis 1 lanes on float32
  for (let i = 0; i < t.size; i++) t.data[i] = 1e6 + (i % 7) - 3;
  const v0 = (await ops.variance(t, { axis: 0, engine: e3 })) as NdArray;
  const v1 = (await ops.variance(t, { axis: 1, engine: e3 })) as NdArray;
  for (let j = 0; j < 8; j++) close(v0.get(j) as number, 4, 1e-3, `axis 0 variance [${j}]`); // 4000 rows of a 7-cycle: near 4
  for (let i = 0; i < 4000; i += 397) {
    const row = Array.from({ length: 8 }, (_, j) => ((i * 8 + j) % 7) - 3);
    const mu = row.reduce((a, b) => a + b) / 8;
    close(v1.get(i) as number, row.reduce((a, b) => a + (b - mu) ** 2, 0) / 8, 1e-12, `axis 1 variance [${i}]`);
  }
});

// ---- axis reductions on the workers: exact integer data ------------------------------------

/** Integer-valued data whose sums are exact in any order: exact expected values by a naive loop. */
const cell = (dtype: string, i: number, j: number): number => (dtype === "uint8" ? (i * 31 + j * 17) % 256 : ((i * 31 + j * 17) % 1000) - 500);
function intTable(dtype: "float64" | "float32" | "int32" | "int16" | "uint8", rows: number, cols: number): NdArray {
  const x = shared.zeros(dtype, [rows, cols]);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) x.data[i * cols + j] = cell(dtype, i, j);
  return x;
}

/** Per lane along `axis` of a rows x cols table given by `at`: sum, min, max, argmin, argmax. */
function naive(at: (i: number, j: number) => number, rows: number, cols: number, axis: number): Record<"sum" | "min" | "max" | "argmin" | "argmax", number[]> {
  const lanes = axis === 0 ? cols : rows;
  const m = axis === 0 ? rows : cols;
  const r = { sum: [] as number[], min: [] as number[], max: [] as number[], argmin: [] as number[], argmax: [] as number[] };
  for (let l = 0; l < lanes; l++) {
    let s = 0, lo = Infinity, hi = -Infinity, ilo = 0, ihi = 0;
    for (let k = 0; k < m; k++) {
      const v = axis === 0 ? at(k, l) : at(l, k);
      s += v;
      if (v < lo) [lo, ilo] = [v, k];
      if (v > hi) [hi, ihi] = [v, k];
    }
    r.sum.push(s);
    r.min.push(lo);
    r.max.push(hi);
    r.argmin.push(ilo);
    r.argmax.push(ihi);
  }
  return r;
}

test("axis reductions of large tables are exact on the workers (rows streamed in tiles, lanes, few lanes; views)", async () => {
  const cases = [
    [70_000, 24, ["float64", "float32"]],
    [24, 70_000, ["float32", "int16"]],
    [5, 20_000, ["float64", "uint8"]],
    [300, 301, ["float64", "float32", "int32", "int16", "uint8"]],
  ] as const;
  for (const [rows, cols, dtypes] of cases) {
    for (const dtype of dtypes) {
      const base = intTable(dtype, rows, cols);
      for (const transposed of [false, true]) {
        const x = transposed ? base.transpose(1, 0) : base;
        const at = transposed ? (i: number, j: number) => cell(dtype, j, i) : (i: number, j: number) => cell(dtype, i, j);
        const [R, C] = x.shape as [number, number];
        for (const axis of [0, 1]) {
          const want = naive(at, R, C, axis);
          for (const name of ["sum", "min", "max", "argmin", "argmax", "nansum", "nanmax"] as const) {
            const r = (await OP[name](x, { axis, engine: e3 })) as NdArray;
            const what = `${name} axis ${axis} of ${dtype} ${x.shape.join("x")}`;
            assert.is(r.dtype, name.startsWith("arg") ? "int32" : name.endsWith("sum") ? "float64" : dtype, what);
            const key = name === "nansum" ? "sum" : name === "nanmax" ? "max" : name;
            sameBits(flat(r), Float64Array.from(want[key]), what);
          }
          const mean = flat((await ops.mean(x, { axis, engine: e3 })) as NdArray);
          const m = x.shape[axis]!;
          want.sum.forEach((s, i) => close(mean[i]!, s / m, 1e-15, `mean axis ${axis} [${i}]`));
        }
      }
    }
  }
});

// ---- thread-count independence -------------------------------------------------------------

test("bits do not depend on the thread count: 1, 2 and 3 threads, whole array and every axis, views", async () => {
  const r = lcg(3);
  const x = shared.zeros("float64", [700, 600]);
  for (let i = 0; i < x.size; i++) x.data[i] = (r() - 0.3) * 10 ** (r() * 6);
  const f = shared.zeros("float32", [300_000]);
  for (let i = 0; i < f.size; i++) f.data[i] = r() * 1000 - 1;
  const inputs: [string, NdArray][] = [
    ["x", x],
    ["x.T", x.transpose(1, 0)],
    ["x stepped", x.lo(1, 2).step(3, -2)],
    ["f32 1-D", f],
    ["f32 reversed", f.step(-1)],
    ["f32 as 3-D", ndarray(f.data, [50, 60, 100]) as unknown as NdArray],
  ];
  for (const [label, a] of inputs) {
    for (const name of NAMES) {
      for (const axis of [null, ...a.shape.map((_, i) => i)]) {
        const o = axis === null ? {} : { axis };
        const [r1, r2, r3] = await Promise.all([e1, e2, e3].map((engine) => OP[name](a, { ...o, engine })));
        const what = `${name}(${label}, axis ${axis})`;
        sameBits(flat(r1!), flat(r2!), `${what}: 1 vs 2 threads`);
        sameBits(flat(r1!), flat(r3!), `${what}: 1 vs 3 threads`);
      }
    }
  }
});

test("contiguous float64 (the unit-stride block loops) gives the bits of the same values read through a stride", async () => {
  const r = lcg(5);
  for (const n of [1000, 4096, 200_003]) {
    const x = shared.zeros("float64", [n]);
    const y = shared.zeros("float64", [2 * n]);
    for (let i = 0; i < n; i++) {
      const v = (r() - 0.4) * 10 ** (r() * 4) + 1e6;
      x.data[i] = v;
      y.data[2 * i + 1] = v;
      y.data[2 * i] = NaN;
    }
    const strided = y.lo(1).step(2);
    for (const name of ["sum", "mean", "variance", "std"] as const) {
      const [a, b] = await Promise.all([OP[name](x, { engine: e2 }), OP[name](strided, { engine: e3 })]);
      sameBits(flat(a), flat(b), `${name} of ${n}: contiguous vs stride 2`);
    }
  }
  // Lanes along the last axis, both as few lanes (each one a whole-array reduction) and as many.
  for (const rows of [3, 40]) {
    const cols = 9000;
    const x = shared.zeros("float64", [rows, cols]);
    const y = shared.zeros("float64", [rows, 2 * cols]);
    for (let i = 0; i < rows * cols; i++) {
      const v = r() * 100 - 30;
      x.data[i] = v;
      y.data[2 * i] = v;
    }
    const strided = y.step(1, 2);
    for (const name of ["sum", "mean", "variance"] as const) {
      const [a, b] = await Promise.all([OP[name](x, { axis: 1, engine: e2 }), OP[name](strided, { axis: 1, engine: e2 })]);
      sameBits(flat(a), flat(b), `${name}(axis 1) of ${rows} x ${cols}: contiguous vs stride 2`);
    }
  }
});

// ---- NaN, infinities, empty ----------------------------------------------------------------

test("NaN propagates as in numpy; nan* variants skip it; infinities", async () => {
  const n = 300_000;
  const x = shared.zeros("float64", [n]);
  for (let i = 0; i < n; i++) x.data[i] = (i % 1000) - 500;
  x.data[200_001] = NaN;
  x.data[250_000] = NaN;
  for (const engine of [e1, e3]) {
    assert.ok(Number.isNaN(await ops.sum(x, { engine })));
    assert.ok(Number.isNaN(await ops.mean(x, { engine })));
    assert.ok(Number.isNaN(await ops.variance(x, { engine })));
    assert.ok(Number.isNaN(await ops.min(x, { engine })));
    assert.ok(Number.isNaN(await ops.max(x, { engine })));
    assert.is(await ops.argmin(x, { engine }), 200_001);
    assert.is(await ops.argmax(x, { engine }), 200_001);
    const exact = 300 * ((499 * 500) / 2 - (500 * 501) / 2) - (1 - 500) - (0 - 500); // minus the two overwritten
    assert.is(await ops.nansum(x, { engine }), exact);
    assert.is(await ops.nanmean(x, { engine }), exact / (n - 2));
    assert.is(await ops.nanmin(x, { engine }), -500);
    assert.is(await ops.nanmax(x, { engine }), 499);
  }
  const allNaN = shared.full("float64", [5000], NaN);
  assert.ok(Number.isNaN(await ops.nanmean(allNaN)));
  assert.ok(Number.isNaN(await ops.nanmin(allNaN)));
  assert.ok(Number.isNaN(await ops.nanmax(allNaN)));
  assert.is(await ops.nansum(allNaN), 0);
  assert.is(await ops.argmin(allNaN), 0);
  const inf = shared.from([1, Infinity, 3, -2]);
  assert.is(await ops.sum(inf), Infinity);
  assert.is(await ops.max(inf), Infinity);
  assert.is(await ops.argmax(inf), 1);
  assert.ok(Number.isNaN(await ops.variance(inf)));
  assert.ok(Number.isNaN(await ops.sum(shared.from([Infinity, -Infinity]))));
  assert.is(await ops.min(shared.from([Infinity, -Infinity, -Infinity])), -Infinity);
  assert.is(await ops.argmin(shared.from([Infinity, -Infinity, -Infinity])), 1);
});

test("empty inputs: sum 0, mean NaN, min/max/arg* raise as numpy does; along an empty axis too", async () => {
  const empty = shared.zeros("float64", [0]);
  assert.is(await ops.sum(empty), 0);
  assert.is(await ops.nansum(empty), 0);
  assert.ok(Number.isNaN(await ops.mean(empty)));
  assert.ok(Number.isNaN(await ops.variance(empty)));
  for (const name of ["min", "max", "argmin", "argmax", "nanmin", "nanmax"] as const) {
    await rejectsTyped(() => OP[name](empty), SabreTypeError, /zero-size array/);
    await rejectsTyped(() => OP[name](shared.zeros("float32", [0, 3]), { axis: 0 }), SabreTypeError, /zero-size array/);
  }
  const z = shared.zeros("float64", [0, 3]);
  sameBits(flat((await ops.sum(z, { axis: 0 })) as NdArray), new Float64Array(3), "sum over an empty axis");
  assert.ok(flat((await ops.mean(z, { axis: 0 })) as NdArray).every(Number.isNaN));
  const r = (await ops.min(z, { axis: 1 })) as NdArray;
  assert.equal(r.shape, [0]);
  const one = (await ops.sum(shared.from([1, 2, 3]), { axis: 0 })) as NdArray;
  assert.equal(one.shape, []);
  assert.is(one.get(), 6);
});

// ---- inputs --------------------------------------------------------------------------------

test("every number dtype, and non-shared inputs (typed arrays, number[][], plain ndarrays) copied once", async () => {
  for (const dtype of ["float32", "float64", "int8", "int16", "int32", "uint8", "uint16", "uint32", "uint8_clamped"] as const) {
    const x = shared.from([[1, 2, 3], [4, 5, 126]], { dtype });
    assert.is(await ops.sum(x), 141, dtype);
    assert.is(await ops.max(x), 126, dtype);
    const m = (await ops.max(x, { axis: 0 })) as NdArray;
    assert.is(m.dtype, dtype);
    assert.equal(Array.from(flat(m)), [4, 5, 126]);
  }
  assert.is(await ops.sum(new Float64Array([1, 2, 3.5])), 6.5);
  assert.is(await ops.sum(new Int16Array([-1, -2])), -3);
  assert.is(await ops.mean([[1, 2], [3, 4]]), 2.5);
  assert.equal(Array.from(flat((await ops.sum([[1, 2], [3, 4]], { axis: 1 })) as NdArray)), [3, 7]);
  assert.is(await ops.argmax(ndarray(new Float32Array([3, 9, 9, 1]), [2, 2])), 1);
  const big = new Float64Array(100_000).fill(0.5);
  assert.is(await ops.sum(big, { engine: e2 }), 50_000);
});

test("bad axes, options and inputs are SabreTypeErrors", async () => {
  const x = shared.zeros("float64", [3, 4]);
  await rejectsTyped(() => ops.sum(x, { axis: 2 }), SabreTypeError, /axis/);
  await rejectsTyped(() => ops.sum(x, { axis: -3 }), SabreTypeError, /axis/);
  await rejectsTyped(() => ops.sum(x, { axis: 0.5 }), SabreTypeError, /axis/);
  await rejectsTyped(() => ops.sum(x, { axis: "0" as unknown as number }), SabreTypeError, /axis/);
  await rejectsTyped(() => ops.variance(x, { ddof: -1 }), SabreTypeError, /ddof/);
  await rejectsTyped(() => ops.std(x, { ddof: 0.5 }), SabreTypeError, /ddof/);
  await rejectsTyped(() => ops.sum(x, { ddof: 1 } as object), SabreTypeError, /unknown option "ddof"/);
  await rejectsTyped(() => ops.mean(x, { axsi: 0 } as object), SabreTypeError, /unknown option/);
  await rejectsTyped(() => ops.max(x, 3 as unknown as object), SabreTypeError, /options/);
  await rejectsTyped(() => ops.min(x, { engine: {} as Engine }), SabreTypeError, /engine/);
  await rejectsTyped(() => ops.sum(shared.zeros("bigint64", [3])), SabreTypeError, /bigint64/);
  await rejectsTyped(() => ops.sum("abc" as unknown as number[]), SabreTypeError, /ndarray/);
  await rejectsTyped(() => ops.argmax(null as unknown as number[]), SabreTypeError, /ndarray/);
  await rejectsTyped(() => ops.sum(x, { signal: "no" as unknown as AbortSignal }), SabreTypeError);
  await rejectsTyped(() => ops.sum(ndarray(new Float64Array(1), []) as unknown as NdArray, { axis: 0 }), SabreTypeError, /axis/);
});

test("an aborted signal rejects with AbortError (calling thread and workers)", async () => {
  const ac = new AbortController();
  ac.abort();
  await rejectsTyped(() => ops.sum(shared.zeros("float64", [10]), { signal: ac.signal }), AbortError);
  await rejectsTyped(() => ops.sum(shared.zeros("float64", [1_000_000]), { signal: ac.signal, engine: e2 }), AbortError);
  await rejectsTyped(() => ops.mean(shared.zeros("float64", [1000, 1000]), { axis: 0, signal: ac.signal, engine: e2 }), AbortError);
});

// ---- stress --------------------------------------------------------------------------------

test("stress: 120 concurrent reductions on one 3-thread engine, every result exact", async () => {
  const x = intTable("float64", 40_000, 12);
  const v = shared.zeros("int32", [500_000]);
  for (let i = 0; i < v.size; i++) v.data[i] = (i % 2001) - 1000;
  const sum0 = naive((i, j) => cell("float64", i, j), 40_000, 12, 0).sum;
  const max1 = naive((i, j) => cell("float64", i, j), 40_000, 12, 1).max;
  const vsum = Array.from(v.data).reduce((a, b) => a + b, 0);
  const calls: Promise<void>[] = [];
  for (let k = 0; k < 120; k++) {
    switch (k % 4) {
      case 0:
        calls.push(ops.sum(v, { engine: e3 }).then((s) => assert.is(s, vsum)));
        break;
      case 1:
        calls.push(ops.sum(x, { axis: 0, engine: e3 }).then((r) => sameBits(flat(r), Float64Array.from(sum0), "axis 0 sums")));
        break;
      case 2:
        calls.push(ops.max(x, { axis: 1, engine: e3 }).then((r) => sameBits(flat(r), Float64Array.from(max1), "axis 1 max")));
        break;
      default:
        calls.push(ops.argmin(v, { engine: e3 }).then((i) => assert.is(i, 0)));
    }
  }
  await Promise.all(calls);
});

test("the fast path of sum and mean (no options, or only an engine) gives the general path's bits (float64, float32, offsets, 1..70,000 elements)", async () => {
  let seed = 12345;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const big = shared.zeros("float64", [70_000]);
  const big32 = shared.zeros("float32", [70_000]);
  for (let i = 0; i < big.size; i++) {
    // Magnitudes from 2^-20 to 2^20, both signs: the order of additions shows in the bits.
    const v = (rand() - 0.5) * 2 ** Math.floor(rand() * 40 - 20);
    big.data[i] = v;
    big32.data[i] = v;
  }
  for (const n of [1, 2, 7, 8, 9, 127, 128, 129, 1000, 1023, 1024, 1025, 5000, 65_536, 65_537, 69_999]) {
    for (const x of [big, big32]) {
      for (const start of [0, 3]) {
        const v = x.hi(start + n).lo(start) as NdArray;
        for (const op of [ops.sum, ops.mean] as const) {
          const fast = await op(v);
          const fastEngine = await op(v, { engine: e3 });
          // Any other key (here an explicit axis: undefined) takes the general path.
          const general = await op(v, { engine: e3, axis: undefined });
          sameBits(Float64Array.of(fast, fastEngine), Float64Array.of(general, general), `${x.dtype} n=${n} start=${start}`);
        }
      }
    }
  }
});

test("out: an axis reduction writes into a given shared array, with the same bits; bad outs are refused", async () => {
  const x = shared.zeros("float32", [3000, 24]);
  for (let i = 0; i < x.size; i++) x.data[i] = Math.sin(i) * 2 ** ((i % 17) - 8);
  for (const [axis, len] of [[0, 24], [1, 3000]] as const) {
    for (const op of [ops.mean, ops.variance, ops.sum] as const) {
      const fresh = await op(x, { axis, engine: e3 });
      const out = shared.zeros("float64", [len]);
      const got = await op(x, { axis, out, engine: e3 });
      assert.is(got, out);
      sameBits(flat(out), flat(fresh), `axis ${axis}`);
      // An out that starts inside a bigger buffer (a view with an offset).
      const big = shared.zeros("float64", [len + 5]);
      const view = big.lo(5) as NdArray;
      await op(x, { axis, out: view, engine: e3 });
      sameBits(Float64Array.from(big.data.subarray(5)), flat(fresh), `axis ${axis}, offset out`);
      assert.equal(Array.from(big.data.subarray(0, 5)), [0, 0, 0, 0, 0]);
    }
  }
  const minOut = shared.zeros("float32", [24]);
  await ops.min(x, { axis: 0, out: minOut, engine: e3 });
  sameBits(Float64Array.from(minOut.data), flat(await ops.min(x, { axis: 0, engine: e3 })), "min into float32");
  await rejectsTyped(ops.mean(x, { axis: 0, out: shared.zeros("float64", [25]) }), SabreTypeError, /out must be a shared float64 ndarray of shape \[24\], got a float64 ndarray of shape \[25\]/);
  await rejectsTyped(ops.mean(x, { axis: 0, out: shared.zeros("float32", [24]) }), SabreTypeError, /out must be a shared float64/);
  await rejectsTyped(ops.mean(x, { axis: 0, out: ndarray(new Float64Array(24)) as unknown as NdArray }), SabreTypeError, /out must be a shared float64/);
  await rejectsTyped(ops.mean(x, { axis: 0, out: shared.zeros("float64", [48]).step(2) as NdArray }), SabreTypeError, /C-contiguous/);
  await rejectsTyped(ops.min(x, { axis: 0, out: x.pick(0, null) as NdArray }), SabreTypeError, /must not share memory with x/);
  await rejectsTyped(ops.sum(x, { out: shared.zeros("float64", [1]) }), SabreTypeError, /out needs an axis/);
});

test.run();
