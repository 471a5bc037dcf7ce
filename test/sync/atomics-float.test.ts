import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  SabreTypeError,
  atomicAddFloat32,
  atomicAddFloat64,
  atomicExchangeFloat32,
  atomicExchangeFloat64,
  atomicLoadFloat32,
  atomicLoadFloat64,
  atomicMaxFloat32,
  atomicMaxFloat64,
  atomicMinFloat32,
  atomicMinFloat64,
  atomicStoreFloat32,
  atomicStoreFloat64,
  serialize,
  shared,
} from "sabre";
import ndarray from "ndarray";
import { fixture, runWorkers, throwsTyped } from "../helpers.js";

const worker = fixture("coord-float");

test("8 workers x 100k atomicAddFloat64 of 1: exact sum, and the values returned are 0..n-1 each once", async () => {
  const workers = 8;
  const adds = 100_000;
  const total = workers * adds;
  const acc = shared.zeros("float64", [2, 3]);
  const index = acc.index(1, 2);
  const seen = new Uint8Array(new SharedArrayBuffer(total));
  const reports = await runWorkers<{ bad: number }>(worker, workers, () => serialize({ mode: "add64", acc, index, seen, adds }));
  assert.equal(reports.map((r) => r.bad), new Array(workers).fill(0));
  assert.is(acc.get(1, 2), total);
  let missing = 0;
  let twice = 0;
  for (let i = 0; i < total; i++) {
    if (seen[i] === 0) missing++;
    else if (seen[i]! > 1) twice++;
  }
  assert.is(missing, 0, `${missing} previous values were never returned`);
  assert.is(twice, 0, `${twice} previous values were returned twice`);
  // Its neighbours are untouched.
  assert.equal(Array.from(acc.data), [0, 0, 0, 0, 0, total]);
});

test("4 workers x 20k atomicAddFloat32 of 1 on a Float32Array: exact sum", async () => {
  const acc = new Float32Array(new SharedArrayBuffer(16));
  await runWorkers(worker, 4, () => serialize({ mode: "add32", acc, index: 3, adds: 20_000 }));
  assert.is(acc[3], 80_000);
  assert.equal(Array.from(acc.subarray(0, 3)), [0, 0, 0]);
});

test("min and max under contention (float64 array, float32 ndarray view)", async () => {
  const workers = 6;
  const values = 20_000;
  const f64 = new Float64Array(new SharedArrayBuffer(16));
  f64.set([-Infinity, Infinity]);
  // A strided view (every other element) checks that ndarray indices reach the right data.
  const base = shared.full("float32", [4], 0);
  base.set(0, -Infinity);
  base.set(2, Infinity);
  const f32 = base.step(2);
  await runWorkers(worker, workers, (me) => serialize({ mode: "minmax", f64, f32, me, values }));
  assert.is(f64[0], (workers - 1) * 1e6 + values - 1);
  assert.is(f64[1], -((workers - 1) * 1e6 + values - 1));
  assert.is(f32.get(0), (workers - 1) * 1000 + 999);
  assert.is(f32.get(1), -((workers - 1) * 1000 + 999));
  assert.is(base.get(1), 0);
  assert.is(base.get(3), 0);
});

test("IEEE semantics: NaN, -0, Infinity (documented in atomics-float.ts)", () => {
  const a = new Float64Array(new SharedArrayBuffer(8 * 4));
  // add returns the previous value; -0 + -0 is -0, -0 + 0 is 0
  a[0] = -0;
  assert.ok(Object.is(atomicAddFloat64(a, 0, -0), -0));
  assert.ok(Object.is(a[0], -0));
  atomicAddFloat64(a, 0, 0);
  assert.ok(Object.is(a[0], 0));
  // Infinity + -Infinity is NaN, and NaN is contagious for add, min and max
  a[1] = Infinity;
  assert.is(atomicAddFloat64(a, 1, -Infinity), Infinity);
  assert.ok(Number.isNaN(a[1]));
  assert.ok(Number.isNaN(atomicAddFloat64(a, 1, 5)));
  assert.ok(Number.isNaN(atomicMinFloat64(a, 1, -1)));
  assert.ok(Number.isNaN(atomicMaxFloat64(a, 1, 1)));
  assert.ok(Number.isNaN(a[1]));
  a[2] = 3;
  atomicMaxFloat64(a, 2, NaN);
  assert.ok(Number.isNaN(a[2]));
  // min/max order -0 below +0, as Math.min / Math.max
  a[3] = 0;
  assert.is(atomicMinFloat64(a, 3, -0), 0);
  assert.ok(Object.is(a[3], -0));
  assert.ok(Object.is(atomicMaxFloat64(a, 3, 0), -0));
  assert.ok(Object.is(a[3], 0));
  // Infinity behaves as a number
  assert.is(atomicMaxFloat64(a, 3, Infinity), 0);
  assert.is(a[3], Infinity);
  assert.is(atomicMinFloat64(a, 3, -Infinity), Infinity);
  assert.is(a[3], -Infinity);

  const f = new Float32Array(new SharedArrayBuffer(8));
  // float32: the result is rounded to float32, like f[i] += v
  assert.is(atomicAddFloat32(f, 0, 0.1), 0);
  assert.is(f[0], Math.fround(0.1));
  f[1] = 2 ** 24;
  atomicAddFloat32(f, 1, 1); // 2^24 + 1 is not a float32: rounds back to 2^24
  assert.is(f[1], 2 ** 24);
  atomicAddFloat32(f, 1, Infinity);
  assert.is(f[1], Infinity);
  atomicAddFloat32(f, 1, -Infinity);
  assert.ok(Number.isNaN(f[1]));
  f[0] = 0;
  atomicMinFloat32(f, 0, -0);
  assert.ok(Object.is(f[0], -0));
  assert.ok(Number.isNaN(atomicMaxFloat32(f, 1, 1e30)));
});

test("load, store and exchange", () => {
  const a = shared.zeros("float64", [3]);
  assert.is(atomicStoreFloat64(a, 2, 1.5), 1.5);
  assert.is(atomicLoadFloat64(a, 2), 1.5);
  assert.is(atomicExchangeFloat64(a, 2, -2.25), 1.5);
  assert.is(a.get(2), -2.25);
  const f = shared.zeros("float32", [2]);
  assert.is(atomicStoreFloat32(f, 1, 0.1), Math.fround(0.1));
  assert.is(atomicLoadFloat32(f, 1), Math.fround(0.1));
  assert.is(atomicExchangeFloat32(f, 1, 3), Math.fround(0.1));
  assert.is(f.get(1), 3);
});

test("a typed array at a byte offset into its buffer and a sliced ndarray address the right element", () => {
  const sab = new SharedArrayBuffer(8 * 8);
  const whole = new Float64Array(sab);
  const tail = new Float64Array(sab, 8 * 5, 3);
  atomicAddFloat64(tail, 1, 7);
  assert.is(whole[6], 7);
  const m = shared.zeros("float64", [3, 4]);
  const row = m.pick(2, null).lo(1);
  atomicAddFloat64(row, row.index(0), 4);
  assert.is(m.get(2, 1), 4);
});

test("bad input is a SabreTypeError naming what was wrong", () => {
  const local = new Float64Array(4);
  throwsTyped(() => atomicAddFloat64(local, 0, 1), SabreTypeError, /non-shared memory/);
  const f32 = new Float32Array(new SharedArrayBuffer(8));
  // @ts-expect-error: wrong element type
  throwsTyped(() => atomicAddFloat64(f32, 0, 1), SabreTypeError, /must hold float64 elements \(a Float64Array\), got a Float32Array/);
  const f64 = new Float64Array(new SharedArrayBuffer(16));
  // @ts-expect-error: wrong element type
  throwsTyped(() => atomicMaxFloat32(f64, 0, 1), SabreTypeError, /must hold float32 elements/);
  // @ts-expect-error: wrong element type
  throwsTyped(() => atomicMinFloat64(new Int32Array(new SharedArrayBuffer(16)), 0, 1), SabreTypeError, /float64/);
  // @ts-expect-error: wrong dtype
  throwsTyped(() => atomicAddFloat64(shared.zeros("float32", [2]), 0, 1), SabreTypeError, /float64/);
  throwsTyped(() => atomicAddFloat64(ndarray(new Float64Array(2)) as never, 0, 1), SabreTypeError, /non-shared/);
  for (const bad of [null, undefined, 5, "array", [1, 2], {}]) {
    throwsTyped(() => atomicAddFloat64(bad as never, 0, 1), SabreTypeError, /array must be a Float64Array or a float64 ndarray/);
    throwsTyped(() => atomicLoadFloat32(bad as never, 0), SabreTypeError, /array must be a Float32Array/);
  }
  for (const bad of [-1, 2, 1.5, NaN, Infinity, "0", null]) {
    throwsTyped(() => atomicAddFloat64(f64, bad as number, 1), SabreTypeError, /index must be an integer in \[0, 1\]/);
    throwsTyped(() => atomicStoreFloat32(f32, bad as number, 1), SabreTypeError, /index must be an integer/);
  }
  for (const bad of ["1", 1n, null, undefined, {}]) {
    throwsTyped(() => atomicAddFloat64(f64, 0, bad as number), SabreTypeError, /value must be a number/);
    throwsTyped(() => atomicExchangeFloat32(f32, 0, bad as number), SabreTypeError, /value must be a number/);
  }
  assert.equal(Array.from(f64), [0, 0], "refused calls must not write");
});

test.run();
