// ops.map against numpy's answers (map-numpy.json, written by map-numpy.py),
// closed forms, broadcasting, strides, aliasing and bad input.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { AbortError, Engine, SabreTypeError, ops, shared, type NdArray } from "sabre";
import { fixture, rejectsTyped } from "../helpers.js";

type Enc = Array<number | string>;
interface Fixture {
  values: Enc;
  unary: Record<string, Enc>;
  unary32: Record<string, Enc>;
  binary: Record<string, Enc>;
  int: Record<string, number[] | Enc | string>;
}
const np = JSON.parse(readFileSync(new URL("../../../test/ops/map-numpy.json", import.meta.url), "utf8")) as Fixture;
const dec = (a: Enc): number[] => a.map((v) => (v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : (v as number)));

function close(got: ArrayLike<number>, want: number[], rel: number, what: string): void {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w)) assert.ok(Number.isNaN(g), `${what}[${i}]: ${g}, want NaN`);
    else if (!Number.isFinite(w) || rel === 0) assert.ok(Object.is(g, w) || (g === w && w !== 0), `${what}[${i}]: ${g}, want ${w}`);
    else assert.ok(Math.abs(g - w) <= rel * Math.abs(w) + 1e-300, `${what}[${i}]: ${g}, want ${w}`);
  }
}

/** Row-major elements of any view. */
function values(a: NdArray): number[] {
  const out: number[] = [];
  const idx = new Array<number>(a.shape.length).fill(0);
  const total = a.shape.reduce((p, n) => p * n, 1);
  for (let k = 0; k < total; k++) {
    out.push(a.get(...idx) as number);
    for (let ax = a.shape.length - 1; ax >= 0; ax--) {
      if (++idx[ax]! < a.shape[ax]!) break;
      idx[ax] = 0;
    }
  }
  return out;
}

const EXACT = new Set(["sqrt", "abs", "neg", "square", "floor", "ceil", "round", "sign"]);

let engine: Engine;
test.before(async () => {
  engine = await Engine.start({ threads: 2, kernels: [fixture("map-kernels")] });
});
test.after(async () => {
  await engine.close();
});

test("unary functions on float64 give numpy's answers (NaN, infinities, -0, overflow)", async () => {
  const x = shared.from(dec(np.values));
  for (const [fn, want] of Object.entries(np.unary)) {
    const r = await ops.map(x, fn, { engine });
    assert.is(r.dtype, "float64", fn);
    close(r.data as Float64Array, dec(want), EXACT.has(fn) ? 0 : 4e-16, fn);
  }
});

test("unary functions on float32 stay float32 and match numpy's float32 within 3 ulp", async () => {
  const x = shared.from(dec(np.values), { dtype: "float32" });
  for (const [fn, want] of Object.entries(np.unary32)) {
    const r = await ops.map(x, fn, { engine });
    assert.is(r.dtype, "float32", fn);
    close(r.data as Float32Array, dec(want), EXACT.has(fn) ? 0 : 3.6e-7, `${fn} float32`);
  }
});

test("round is half to even, as numpy's", async () => {
  const r = await ops.map([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, 4.4999999999999991, 2 ** 53 + 2], "round", { engine });
  assert.equal([...r.data], [0, 2, 2, -0, -2, -2, 4, 4, 2 ** 53 + 2]);
  assert.ok(Object.is(r.data[3], -0));
});

test("binary functions broadcast as numpy (trailing axes, size-1 axes stretch, both sides)", async () => {
  const a = shared.from(dec(np.binary.a!), { shape: [3, 4] });
  const b = shared.from(dec(np.binary.b!));
  const c = shared.from(dec(np.binary.c!), { shape: [3, 1] });
  for (const fn of ["add", "sub", "mul", "div", "pow", "maximum", "minimum"]) {
    const ab = await ops.map(a, fn, { engine, other: b });
    assert.equal(ab.shape, [3, 4]);
    close(ab.data as Float64Array, dec(np.binary[`${fn}_ab`]!), 4e-16, `${fn} a,b`);
    close((await ops.map(a, fn, { engine, other: c })).data as Float64Array, dec(np.binary[`${fn}_ac`]!), 4e-16, `${fn} a,c`);
    const bc = await ops.map(b, fn, { engine, other: c });
    assert.equal(bc.shape, [3, 4]);
    close(bc.data as Float64Array, dec(np.binary[`${fn}_bc`]!), 4e-16, `${fn} b,c`);
    close((await ops.map(a, fn, { engine, other: 3 })).data as Float64Array, dec(np.binary[`${fn}_a3`]!), 4e-16, `${fn} a,3`);
  }
  close((await ops.map(a, "clip", { engine, min: -1, max: 2 })).data as Float64Array, dec(np.binary.clip!), 0, "clip");
});

test("integer arithmetic wraps as numpy's; division and sqrt of integers give float64", async () => {
  const i32 = shared.from(new Int32Array(np.int.i32 as number[]));
  const u8 = shared.from(new Uint8Array(np.int.u8 as number[]));
  const check = async (x: NdArray, fn: string, opts: Record<string, unknown>, key: string, dtype: string): Promise<void> => {
    const r = await ops.map(x, fn, { engine, ...opts });
    assert.is(r.dtype, dtype, key);
    close(r.data as ArrayLike<number>, dec(np.int[key] as Enc), 0, key);
  };
  await check(i32, "add", { other: 1 }, "i32_add_1", "int32");
  await check(i32, "mul", { other: i32 }, "i32_mul_i32", "int32");
  await check(i32, "square", {}, "i32_square", "int32");
  await check(i32, "neg", {}, "i32_neg", "int32");
  await check(i32, "abs", {}, "i32_abs", "int32");
  await check(u8, "add", { other: 10 }, "u8_add_10", "uint8");
  await check(u8, "sub", { other: 5 }, "u8_sub_5", "uint8");
  await check(u8, "mul", { other: 3 }, "u8_mul_3", "uint8");
  await check(i32, "div", { other: 2 }, "i32_div_2", "float64");
  await check(i32, "sqrt", {}, "i32_sqrt", "float64");
  assert.is(np.int.u8_plus_i8_dtype, "int16");
  await check(u8, "add", { other: new Int8Array([-1, 2, -3, 4, -5]) }, "u8_plus_i8", "int16");
  // A float scalar widens an integer array to float64; a float32 array stays float32 with any scalar.
  assert.is((await ops.map(i32, "mul", { engine, other: 0.5 })).dtype, "float64");
  assert.is((await ops.map(new Float32Array([1, 2]), "mul", { engine, other: 1e10 })).dtype, "float32");
  assert.is((await ops.map(new Float32Array([1, 2]), "add", { engine, other: new Float64Array([1, 2]) })).dtype, "float64");
  assert.is((await ops.map(new Int16Array([1, 2]), "add", { engine, other: new Float32Array([1, 2]) })).dtype, "float32");
  assert.is((await ops.map(new Uint32Array([1, 2]), "add", { engine, other: new Int32Array([1, 2]) })).dtype, "float64");
  assert.is((await ops.map(new Int32Array([-5, 0, 9]), "clip", { engine, min: 0, max: 5 })).dtype, "int32");
  assert.is((await ops.map(new Int32Array([-5, 0, 9]), "clip", { engine, min: 0.5 })).dtype, "float64");
});

/** A float64 array of n pseudo-random values in [-2, 2) (a fixed LCG, so the test is reproducible). */
function randomArray(shape: number[], seed = 1): NdArray<Float64Array> {
  const n = shape.reduce((p, q) => p * q, 1);
  const a = shared.zeros("float64", shape);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a.data[i] = (s / 2 ** 32) * 4 - 2;
  }
  return a;
}

test("large strided, transposed and reversed views: same answer as element-by-element, on workers", async () => {
  const base = randomArray([300, 400]);
  const x = base.transpose(1, 0).step(-1, 2); // [400, 150], non-contiguous, negative stride
  const other = randomArray([150], 7).step(-1);
  const r = await ops.map(x, "mul", { engine, other });
  const xv = values(x);
  const ov = values(other);
  assert.equal(r.shape, [400, 150]);
  const want = xv.map((v, k) => v * ov[k % 150]!);
  close(r.data as Float64Array, want, 0, "mul strided");
  const s = await ops.map(x, "exp", { engine });
  close(s.data as Float64Array, xv.map(Math.exp), 0, "exp strided");
});

test("the result does not depend on the thread count (1, 2, 3 threads, bit for bit)", async () => {
  const x = randomArray([64, 50, 30]).transpose(2, 0, 1);
  const other = randomArray([64, 1], 3);
  const results: Float64Array[] = [];
  for (const threads of [1, 2, 3]) {
    const e = await Engine.start({ threads });
    try {
      const a = await ops.map(x, "div", { engine: e, other });
      const b = await ops.map(a, "sigmoid", { engine: e, out: a });
      results.push(b.data as Float64Array);
    } finally {
      await e.close();
    }
  }
  const bytes = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  assert.equal(bytes(results[1]!), bytes(results[0]!));
  assert.equal(bytes(results[2]!), bytes(results[0]!));
});

test("out may alias x (in place), be a strided view, or overlap x in another order", async () => {
  const x = randomArray([200, 300]);
  const before = Float64Array.from(x.data);
  const r = await ops.map(x, "add", { engine, other: 1, out: x });
  assert.is(r, x);
  close(x.data, [...before].map((v) => v + 1), 0, "in place");

  const outBase = shared.zeros("float64", [300, 400]);
  const out = outBase.transpose(1, 0).hi(200, 300);
  await ops.map(x, "neg", { engine, out });
  assert.is(outBase.get(7, 5), -x.get(5, 7));
  assert.is(outBase.get(299, 199), -x.get(199, 299));

  // out is x transposed: every element is read before any write can reach it.
  const sq = randomArray([250, 250], 5);
  const orig = Float64Array.from(sq.data);
  await ops.map(sq, "add", { engine, other: 1, out: sq.transpose(1, 0) });
  for (const [i, j] of [[0, 1], [3, 200], [249, 0]] as const) assert.is(sq.get(j, i), orig[i * 250 + j]! + 1);
});

test("an integer result may go into a float out (same_kind); a float result into an integer out is refused", async () => {
  const out = shared.zeros("float64", [3]);
  await ops.map(new Int32Array([1, 2, 3]), "mul", { engine, other: 3, out });
  assert.equal([...out.data], [3, 6, 9]);
  // numpy computes in the result dtype (wrapping), then casts into out.
  await ops.map(new Uint8Array([250, 100, 7]), "add", { engine, other: 10, out });
  assert.equal([...out.data], [4, 110, 17]);
  await ops.map(new Uint32Array([4000000000, 3, 2 ** 31]), "mul", { engine, other: 3, out });
  assert.equal([...out.data], [(4000000000 * 3) % 2 ** 32, 9, 2 ** 31]);
  await ops.map(new Int8Array([100, -100, 5]), "square", { engine, out: shared.zeros("float32", [3]) }).then((r) => assert.equal([...r.data], [16, 16, 25]));
  await rejectsTyped(ops.map([1.5, 2], "sqrt", { engine, out: shared.zeros("int32", [2]) }), SabreTypeError, /dtype int32.*float64/);
});

test("a signed integer result into an unsigned out is refused as numpy's same_kind does; unsigned into signed and uint8_clamped saturation are allowed", async () => {
  const x = shared.from(new Int32Array([300, -1, 7]));
  for (const od of ["uint8", "uint16", "uint32"] as const) {
    const out = shared.full(od, [3], 9);
    await rejectsTyped(ops.map(x, "add", { engine, other: 0, out }), SabreTypeError, new RegExp(`out has dtype ${od} but the result is int32.*signed result cannot go into an unsigned out`));
    assert.equal([...out.data], [9, 9, 9], `${od} out untouched`);
  }
  await rejectsTyped(ops.map(new Int8Array([-3]), "neg", { engine, out: shared.zeros("uint8", [1]) }), SabreTypeError, /int8.*unsigned/);
  // numpy: np.add(a_uint8, 0, out=int8) is same_kind and wraps; uint8_clamped saturates.
  const s8 = shared.zeros("int8", [2]);
  await ops.map(new Uint8Array([200, 5]), "add", { engine, other: 0, out: s8 });
  assert.equal([...s8.data], [-56, 5]);
  const clamped = shared.zeros("uint8_clamped", [3]);
  await ops.map(x, "add", { engine, other: 0, out: clamped });
  assert.equal([...clamped.data], [255, 0, 7]);
});

test("empty inputs give empty results of the broadcast shape", async () => {
  const r = await ops.map(shared.zeros("float64", [0, 3]), "add", { engine, other: [1, 2, 3] });
  assert.equal(r.shape, [0, 3]);
  assert.equal((await ops.map([], "exp", { engine })).shape, [0]);
});

test("0-d arrays, uint8_clamped saturation, and a row broadcast into a reversed out", async () => {
  const z = shared.full("float64", [], 9);
  const r = await ops.map(z, "sqrt", { engine });
  assert.equal(r.shape, []);
  assert.is(r.get(), 3);
  const c = await ops.map(new Uint8ClampedArray([250, 10]), "add", { engine, other: 10 });
  assert.is(c.dtype, "uint8_clamped");
  assert.equal([...c.data], [255, 20]);
  const x = randomArray([500, 80]);
  const row = randomArray([80], 2);
  const outBase = shared.zeros("float64", [500, 80]);
  await ops.map(x, "minimum", { engine, other: row, out: outBase.step(-1, -1) });
  for (const [i, j] of [[0, 0], [499, 79], [123, 45]] as const) {
    assert.is(outBase.get(499 - i, 79 - j), Math.min(x.get(i, j) as number, row.get(j) as number));
  }
});

test("small inputs run on the calling thread and give the same answer", async () => {
  const x = randomArray([100]);
  const big = randomArray([100_000]);
  const small = await ops.map(x, "tanh", { engine });
  const large = await ops.map(big, "tanh", { engine });
  close(small.data as Float64Array, [...(large.data as Float64Array).subarray(0, 100)], 0, "inline vs workers");
});

test("concurrent maps on one engine", async () => {
  const xs = Array.from({ length: 8 }, (_, i) => randomArray([50_000], i + 1));
  const rs = await Promise.all(xs.map((x, i) => ops.map(x, "mul", { engine, other: i })));
  rs.forEach((r, i) => close(r.data as Float64Array, [...xs[i]!.data].map((v) => v * i), 0, `map ${i}`));
});

test("a user kernel from a module the engine loaded, with params, strided input and out", async () => {
  const x = randomArray([120, 500]);
  const r = await ops.map(x, "affine", { engine, scale: 2, shift: -1 });
  close(r.data as Float64Array, [...x.data].map((v) => v * 2 - 1), 0, "affine");
  const t = x.transpose(1, 0);
  const outBase = shared.zeros("float64", [120, 500]);
  await ops.map(t, "affine", { engine, scale: 3, shift: 0, out: outBase.transpose(1, 0) });
  close(outBase.data, [...x.data].map((v) => v * 3), 0, "affine strided");
  await ops.map(x, "affine", { engine, scale: 1, shift: 1, out: x });
  close(x.data, [...(r.data as Float64Array)].map((v) => (v + 1) / 2 + 1), 1e-15, "affine in place");
});

test("shape mismatches, bad dtypes, bad options and unknown functions are SabreTypeError", async () => {
  const a = shared.zeros("float64", [3, 4]);
  await rejectsTyped(ops.map(a, "add", { engine, other: shared.zeros("float64", [3]) }), SabreTypeError, /shape \[3, 4\].*shape \[3\]/);
  await rejectsTyped(ops.map(a, "add", { engine }), SabreTypeError, /needs \{ other \}/);
  await rejectsTyped(ops.map(a, "sqrt", { engine, other: 2 }), SabreTypeError, /unknown option "other"/);
  await rejectsTyped(ops.map(a, "clip", { engine }), SabreTypeError, /min/);
  await rejectsTyped(ops.map(a, "clip", { engine, min: "0" as unknown as number }), SabreTypeError, /min must be a number/);
  await rejectsTyped(ops.map(a, "nope", { engine }), SabreTypeError, /neither a built-in/);
  await rejectsTyped(ops.map(a, "sabre.ops.map", { engine }), SabreTypeError, /not a map function/);
  await rejectsTyped(ops.map(a, 3 as unknown as string, { engine }), SabreTypeError, /fn must be/);
  await rejectsTyped(ops.map(shared.zeros("bigint64", [2]), "abs", { engine }), SabreTypeError, /bigint64/);
  await rejectsTyped(ops.map(a, "add", { engine, other: shared.zeros("biguint64", [4]) }), SabreTypeError, /biguint64/);
  await rejectsTyped(ops.map(a, "abs", { engine, out: shared.zeros("float64", [4, 3]) }), SabreTypeError, /out has shape \[4, 3\].*\[3, 4\]/);
  await rejectsTyped(ops.map(a, "abs", { engine, out: new Float64Array(12) as unknown as NdArray }), SabreTypeError, /shared ndarray/);
  await rejectsTyped(ops.map(a, "abs", { engine, out: shared.zeros("float64", [1, 4]).step(0, 1) as NdArray }), SabreTypeError, /out has shape/);
  await rejectsTyped(ops.map(new Uint8Array([1]), "add", { engine, other: 300 }), SabreTypeError, /300 does not fit the uint8/);
  await rejectsTyped(ops.map(new Int32Array([2]), "pow", { engine, other: -1 }), SabreTypeError, /negative integer powers/);
  await rejectsTyped(ops.map(a, "affine", { engine, x: 1 }), SabreTypeError, /shadow/);
  await rejectsTyped(ops.map(a, "abs", { engine, axis: 0 } as never), SabreTypeError, /unknown option "axis"/);
  const ac = new AbortController();
  ac.abort();
  await rejectsTyped(ops.map(a, "abs", { engine, signal: ac.signal }), AbortError);
});

test.run();
