// Memory helpers given bad input answer with SabreTypeError, never a crash or a plain TypeError.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SabreTypeError, bytesPerElement, chunks, deserialize, partition, registerShareable, rowSlice, serialize, shared } from "sabre";
import { throwsTyped } from "../helpers.js";

test("chunks and partition refuse range counts that would run the heap out", () => {
  // chunks(1e12, 1) used to build 10^12 range objects and kill the process (heap out of memory).
  const err = throwsTyped(() => chunks(1e12, 1), SabreTypeError, /n \/ chunk gives 1000000000000 ranges; at most 16777216/);
  assert.is(err.code, "ERR_SABRE_TYPE");
  throwsTyped(() => partition(10, 1e12), SabreTypeError, /parts must be an integer in \[1, 16777216\]/);
  assert.is(chunks(10, 3).length, 4);
  assert.is(partition(1e12, 3).length, 3);
});

test("rowSlice, bytesPerElement and shared.wasmMemory name a bad argument", () => {
  throwsTyped(() => rowSlice(null as never, 0, 1), SabreTypeError, /rowSlice: array must be an ndarray, got null/);
  const fake = { data: new Float64Array(2), shape: [2], stride: [1], offset: 0 };
  throwsTyped(() => rowSlice(fake as never, 0, 1), SabreTypeError, /rowSlice: array must be an ndarray, got an object/);
  throwsTyped(() => bytesPerElement("float16" as never), SabreTypeError, /dtype must be one of .*got "float16"/);
  throwsTyped(() => shared.wasmMemory(null as never), SabreTypeError, /shared\.wasmMemory: x must be an ndarray or a typed array, got null/);
  assert.is(shared.wasmMemory(shared.zeros("float64", 2)), undefined);
});

test("registerShareable refuses a malformed shareable, so later serialize calls keep working", () => {
  throwsTyped(() => registerShareable(null as never), SabreTypeError, /registerShareable: shareable must be an object/);
  throwsTyped(() => registerShareable({} as never), SabreTypeError, /kind must be a non-empty string, got undefined/);
  throwsTyped(() => registerShareable({ kind: "audit-half", test: () => false } as never), SabreTypeError, /encode of kind "audit-half" must be a function/);
  // Before, registerShareable({}) was accepted and every later serialize threw "test is not a function".
  assert.equal(serialize({ a: 1 }).root, { a: 1 });
});

test("shared.full refuses a value an integer dtype cannot hold (it filled NaN as 0 and 300 as 44)", () => {
  throwsTyped(() => shared.full("int32", [2], Number.NaN), SabreTypeError, /shared\.full: value NaN does not fit a int32 array/);
  throwsTyped(() => shared.full("uint8", [2], 300), SabreTypeError, /value 300 does not fit a uint8 array \(range \[0, 255\]\)/);
  throwsTyped(() => shared.full("int8", [2], -Infinity), SabreTypeError, /does not fit a int8 array/);
  assert.is(shared.full("int32", [1], 1.5).get(0), 1); // fractions truncate, as numpy's do
  assert.is(shared.full("uint8_clamped", [1], 300).get(0), 255);
  assert.ok(Number.isNaN(shared.full("float64", [1], Number.NaN).get(0)));
});

test("shared.from refuses a value its integer dtype cannot hold, naming the dtype, the value and its index (it wrapped 300 to 44)", () => {
  // Before: shared.from([300, -1, NaN], { dtype: "uint8" }) gave [44, 255, 0].
  let err = throwsTyped(() => shared.from([300, -1, Number.NaN], { dtype: "uint8" }), SabreTypeError, /shared\.from: source\[0\] = 300 does not fit a uint8 array \(range \[0, 255\]\)/);
  assert.is(err.code, "ERR_SABRE_TYPE");
  throwsTyped(() => shared.from([1, Number.NaN], { dtype: "int32" }), SabreTypeError, /source\[1\] = NaN does not fit a int32 array \(NaN has no integer value\)/);
  throwsTyped(() => shared.from([[1, 2], [3, 1e10]], { dtype: "int32" }), SabreTypeError, /source\[1\]\[1\] = 10000000000 does not fit a int32 array/);
  // Typed-array and strided ndarray sources (the hot path) name the first bad element the same way.
  err = throwsTyped(() => shared.from(new Float64Array([1, 2, 3e9]), { dtype: "int32" }), SabreTypeError, /source\[2\] = 3000000000 does not fit a int32 array/);
  assert.is(err.code, "ERR_SABRE_TYPE");
  const m = shared.from([[1, -1], [2, 5]]);
  const transposed = m.transpose(1, 0);
  throwsTyped(() => shared.from(m, { dtype: "uint16" }), SabreTypeError, /source\[0\]\[1\] = -1 does not fit a uint16 array/);
  throwsTyped(() => shared.from(transposed, { dtype: "uint16" }), SabreTypeError, /source\[1\]\[0\] = -1 does not fit a uint16 array/);
  throwsTyped(() => shared.from(new Int32Array([7, -1]), { dtype: "uint8" }), SabreTypeError, /source\[1\] = -1 does not fit a uint8 array/);
  throwsTyped(() => shared.from(new Float32Array([Number.NaN]), { dtype: "uint8_clamped" }), SabreTypeError, /source\[0\] = NaN does not fit a uint8_clamped array/);
  throwsTyped(() => shared.from(new BigInt64Array([-1n]), { dtype: "biguint64" }), SabreTypeError, /source\[0\] = -1 does not fit a biguint64 array/);
  throwsTyped(() => shared.from([2n ** 64n], { dtype: "bigint64" }), SabreTypeError, /does not fit a bigint64 array/);
  throwsTyped(() => shared.from(new BigInt64Array([2n ** 40n]), { dtype: "int32" }), SabreTypeError, /source\[0\] = 1099511627776 does not fit a int32 array/);
  throwsTyped(() => shared.full("uint8_clamped", [1], Number.NaN), SabreTypeError, /shared\.full: value NaN does not fit a uint8_clamped array/);
  // What fits still copies: fractions truncate (as numpy's casts), uint8_clamped clamps, narrower integers widen.
  assert.equal(Array.from(shared.from(new Float64Array([1.9, -0.5, 255.5]), { dtype: "uint8" }).data), [1, 0, 255]);
  assert.equal(Array.from(shared.from([300, -5], { dtype: "uint8_clamped" }).data), [255, 0]);
  assert.equal(Array.from(shared.from(new Uint8Array([255]), { dtype: "int16" }).data), [255]);
  assert.equal(Array.from(shared.from(transposed, { dtype: "int8" }).data), [1, 2, -1, 5]);
  assert.ok(Number.isNaN(shared.from([Number.NaN], { dtype: "float32" }).get(0)));
});

test("a value nested too deeply to walk is a SabreTypeError, not the engine's stack-overflow RangeError", () => {
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  throwsTyped(() => serialize(deep), SabreTypeError, /serialize: value is nested too deeply/);
  throwsTyped(() => deserialize({ __sabre__: "message", v: 1, root: deep }), SabreTypeError, /deserialize: value is nested too deeply/);
  let ok: unknown = 1;
  for (let i = 0; i < 500; i++) ok = [ok];
  assert.equal(deserialize(serialize(ok)), ok);
});

test.run();
