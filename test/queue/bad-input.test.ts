// Every bad argument to Queue is a SabreTypeError that says what was wrong,
// thrown before the queue changes: a refused push never takes a slot and a
// refused pop never loses an item.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Queue, SabreTypeError, deserialize, serialize, shared } from "sabre";
import { rejectsTyped, throwsTyped } from "../helpers.js";

// The constructor as untyped code would call it.
const make = (options: unknown) => new (Queue as unknown as new (o: unknown) => Queue)(options);
const base = { capacity: 4, dtype: "float64" };

test("capacity must be an integer in [1, 2^27]", () => {
  for (const capacity of [0, -1, 1.5, NaN, Infinity, "8", undefined, null, 2 ** 27 + 1, 2 ** 40]) {
    throwsTyped(() => make({ ...base, capacity }), SabreTypeError, /capacity must be an integer in \[1, 134217728\]/);
  }
});

test("a queue too large to address or allocate is refused", () => {
  throwsTyped(() => make({ capacity: 2 ** 27, dtype: "float64", shape: [16] }), SabreTypeError, /at most 2147483647/);
  throwsTyped(() => make({ capacity: 2 ** 20, dtype: "uint8", shape: [2 ** 12] }), SabreTypeError, /at most/);
});

test("dtype and shape are validated", () => {
  throwsTyped(() => make({ capacity: 4, dtype: "float128" }), SabreTypeError, /dtype must be one of float32, float64/);
  throwsTyped(() => make({ capacity: 4 }), SabreTypeError, /dtype must be one of/);
  throwsTyped(() => make({ ...base, shape: [-1] }), SabreTypeError, /shape\[0\] must be a non-negative integer, got -1/);
  throwsTyped(() => make({ ...base, shape: [2, 1.5] }), SabreTypeError, /shape\[1\] must be a non-negative integer, got 1\.5/);
  throwsTyped(() => make({ ...base, shape: [NaN] }), SabreTypeError, /shape\[0\]/);
  throwsTyped(() => make({ ...base, shape: "4" }), SabreTypeError, /shape must be a non-negative integer or an array/);
  throwsTyped(() => make({ ...base, shape: [3, 0] }), SabreTypeError, /has no elements/);
  throwsTyped(() => make({ ...base, shape: [2 ** 16, 2 ** 16] }), SabreTypeError, /2\^31 - 1/);
  throwsTyped(() => make(null), SabreTypeError, /needs an object like \{ capacity, dtype, shape\? \}, got null/);
  throwsTyped(() => make(8), SabreTypeError, /got 8/);
  // shape as a number is a 1-D record; [] is a scalar queue.
  assert.equal(make({ ...base, shape: 3 }).shape, [3]);
  assert.equal(make({ ...base, shape: [] }).recordSize, 1);
});

test("scalar push refuses wrong types, NaN into integers, out-of-range and non-integer values", () => {
  const i32 = new Queue({ capacity: 2, dtype: "int32" }) as Queue;
  const push = (q: Queue, v: unknown) => (q.push as (v: unknown) => void).call(q, v);
  throwsTyped(() => push(i32, "1"), SabreTypeError, /Queue\.push: the value must be a number for a int32 queue, got "1"/);
  throwsTyped(() => push(i32, NaN), SabreTypeError, /must be an integer in \[-2147483648, 2147483647\].*got NaN/);
  throwsTyped(() => push(i32, 1.5), SabreTypeError, /got 1\.5/);
  throwsTyped(() => push(i32, 2 ** 31), SabreTypeError, /got 2147483648/);
  throwsTyped(() => push(i32, 3n), SabreTypeError, /must be a number/);
  throwsTyped(() => push(i32, [1]), SabreTypeError, /got an array of length 1/);
  throwsTyped(() => push(i32, undefined), SabreTypeError, /got undefined/);
  throwsTyped(() => push(new Queue({ capacity: 2, dtype: "uint8" }), -1), SabreTypeError, /\[0, 255\]/);
  throwsTyped(() => push(new Queue({ capacity: 2, dtype: "uint8_clamped" }), NaN), SabreTypeError, /not NaN/);
  const big = new Queue({ capacity: 2, dtype: "bigint64" }) as Queue;
  throwsTyped(() => push(big, 2 ** 60), SabreTypeError, /must be a bigint \(or a safe integer number\)/);
  throwsTyped(() => push(big, 0.5), SabreTypeError, /bigint/);
  throwsTyped(() => push(big, 2n ** 63n), SabreTypeError, /outside the bigint64 range/);
  throwsTyped(() => push(new Queue({ capacity: 2, dtype: "biguint64" }), -1n), SabreTypeError, /outside the biguint64 range/);
  // Floats take anything numeric, NaN included.
  const f = new Queue({ capacity: 2, dtype: "float32" });
  f.push(NaN);
  assert.ok(Number.isNaN(f.pop()));
  assert.is(i32.size, 0, "refused pushes took no slot");
  assert.is(big.size, 0);
});

test("record push refuses the wrong size, kind or element type and takes no slot", async () => {
  const q = new Queue({ capacity: 2, dtype: "float32", shape: [2, 2] }) as Queue;
  const push = (v: unknown) => (q.push as (v: unknown) => void).call(q, v);
  throwsTyped(() => push(new Float32Array(3)), SabreTypeError, /records of 4 elements; got a Float32Array of length 3/);
  throwsTyped(() => push([1, 2, 3, 4, 5]), SabreTypeError, /got an array of length 5/);
  throwsTyped(() => push(shared.zeros("float32", [2, 3])), SabreTypeError, /got an ndarray of shape \[2, 3\] \(6 elements\)/);
  throwsTyped(() => push(new BigInt64Array(4)), SabreTypeError, /takes a number typed array, an array or an ndarray of 4 elements; got a BigInt64Array/);
  throwsTyped(() => push(shared.zeros("bigint64", [4])), SabreTypeError, /ndarray over a BigInt64Array/);
  throwsTyped(() => push([1, 2, "3", 4]), SabreTypeError, /value\[2\] must be a number/);
  throwsTyped(() => push(new DataView(new ArrayBuffer(16))), SabreTypeError, /got a DataView/);
  throwsTyped(() => push(5), SabreTypeError, /got 5/);
  throwsTyped(() => push({ length: 4 }), SabreTypeError, /got an object/);
  throwsTyped(() => (q.tryPush as (v: unknown) => boolean).call(q, [1]), SabreTypeError, /Queue\.tryPush/);
  await rejectsTyped((q.pushAsync as (v: unknown) => Promise<void>).call(q, [1]), SabreTypeError, /Queue\.pushAsync/);
  const i8 = new Queue({ capacity: 2, dtype: "int8", shape: [2] }) as Queue;
  throwsTyped(() => (i8.push as (v: unknown) => void).call(i8, [1, 200]), SabreTypeError, /value\[1\] must be an integer in \[-128, 127\]/);
  const big = new Queue({ capacity: 2, dtype: "bigint64", shape: [2] }) as Queue;
  throwsTyped(() => (big.push as (v: unknown) => void).call(big, new Float64Array(2)), SabreTypeError, /BigInt64Array or BigUint64Array/);
  assert.equal([q.size, i8.size, big.size], [0, 0, 0]);
});

test("a bad out or timeout is refused before an item is taken", async () => {
  const q = new Queue({ capacity: 2, dtype: "float64", shape: [3] }) as Queue;
  q.push([1, 2, 3]);
  const pop = (out: unknown, t?: unknown) => (q.pop as (o: unknown, t: unknown) => unknown).call(q, out, t);
  throwsTyped(() => pop(new Float64Array(2)), SabreTypeError, /out must have 3 elements .* got a Float64Array of length 2/);
  throwsTyped(() => pop(shared.zeros("float64", [2, 2])), SabreTypeError, /ndarray of shape \[2, 2\] \(4 elements\)/);
  throwsTyped(() => pop(new BigInt64Array(3)), SabreTypeError, /out must be a number typed array/);
  throwsTyped(() => pop([0, 0, 0]), SabreTypeError, /out must be a typed array or an ndarray of 3 elements/);
  throwsTyped(() => pop(undefined, -1), SabreTypeError, /timeout must be a number of milliseconds >= 0/);
  throwsTyped(() => pop(undefined, NaN), SabreTypeError, /timeout/);
  throwsTyped(() => pop(undefined, "10"), SabreTypeError, /timeout/);
  throwsTyped(() => (q.tryPop as (o: unknown) => unknown).call(q, new Float32Array(1)), SabreTypeError, /Queue\.tryPop/);
  await rejectsTyped((q.popAsync as (o: unknown) => Promise<unknown>).call(q, 7), SabreTypeError, /Queue\.popAsync/);
  await rejectsTyped(q.popAsync(undefined, { timeout: -5 }), SabreTypeError, /timeout/);
  await rejectsTyped(q.popAsync(undefined, { signal: "stop" as unknown as AbortSignal }), SabreTypeError, /signal must be an AbortSignal/);
  await rejectsTyped(q.popAsync(undefined, 100 as unknown as object), SabreTypeError, /options must be an object like \{ timeout, signal \}, got 100/);
  await rejectsTyped(q.pushAsync([1, 2, 3], { timeout: "1" as unknown as number }), SabreTypeError, /timeout/);
  throwsTyped(() => (q.push as (v: unknown, t: unknown) => void).call(q, [1, 2, 3], -1), SabreTypeError, /timeout/);
  assert.is(q.size, 1, "no item was taken or added");
  assert.equal(Array.from(q.pop() as Float64Array), [1, 2, 3]);
});

test("pop refuses an out that cannot hold the record dtype exactly, naming both dtypes (float records were truncated into an Int32Array)", () => {
  const q = new Queue({ capacity: 2, dtype: "float64", shape: [2] });
  q.push([1.5, 2.5]);
  // Before: q.pop(new Int32Array(2)) returned [1, 2] and the item was gone.
  const err = throwsTyped(() => q.pop(new Int32Array(2)), SabreTypeError, /Queue\.pop: out is a Int32Array \(int32\), which cannot hold every value of a float64 queue.*use a Float64Array \(float64\)/);
  assert.is(err.code, "ERR_SABRE_TYPE");
  throwsTyped(() => q.tryPop(new Float32Array(2)), SabreTypeError, /Queue\.tryPop: out is a Float32Array \(float32\)/);
  throwsTyped(() => q.pop(shared.zeros("int32", [2])), SabreTypeError, /out is a Int32Array \(int32\)/);
  assert.is(q.size, 1, "the refused pops took nothing");
  assert.equal(Array.from(q.pop(new Float64Array(2))), [1.5, 2.5]);
  // A lossless widening is allowed: int16 records into int32 or float64, float32 into float64.
  const s = new Queue({ capacity: 2, dtype: "int16", shape: [2] });
  s.push([-3, 7]);
  s.push([1, 2]);
  assert.equal(Array.from(s.pop(new Int32Array(2))), [-3, 7]);
  throwsTyped(() => s.pop(new Uint16Array(2)), SabreTypeError, /out is a Uint16Array \(uint16\), which cannot hold every value of a int16 queue/);
  assert.equal(Array.from(s.pop(new Float64Array(2))), [1, 2]);
});

test("push of a typed array or ndarray of another dtype refuses values the queue's integer dtype cannot hold (they wrapped)", () => {
  const q = new Queue({ capacity: 2, dtype: "int32", shape: [2] });
  throwsTyped(() => q.push(new Float64Array([1, 3e9])), SabreTypeError, /Queue\.push: value\[1\] \(of the float64 record\) must be an integer in \[-2147483648, 2147483647\].*got 3000000000/);
  throwsTyped(() => q.push(new Float32Array([1.5, 2])), SabreTypeError, /value\[0\] \(of the float32 record\).*got 1\.5/);
  throwsTyped(() => q.push(shared.from([[1], [Number.NaN]]) as never), SabreTypeError, /value\[1\] \(of the float64 record\).*got NaN/);
  const u = new Queue({ capacity: 2, dtype: "biguint64", shape: [1] });
  throwsTyped(() => u.push(new BigInt64Array([-1n])), SabreTypeError, /value\[0\] \(of the bigint64 record\) -1 is outside the biguint64 range/);
  assert.equal([q.size, u.size], [0, 0]);
  q.push(new Float64Array([1, -2])); // whole numbers in range convert
  q.push(new Int16Array([3, 4])); // a narrower integer dtype always fits: no check
  assert.equal([Array.from(q.pop()), Array.from(q.pop())], [[1, -2], [3, 4]]);
});

test("a scalar queue takes no out; a number there is pointed at pop(undefined, timeout)", () => {
  const q = new Queue({ capacity: 2, dtype: "int32" });
  q.push(1);
  throwsTyped(
    () => (q.pop as (o: unknown) => unknown).call(q, 100),
    SabreTypeError,
    /out must be undefined for a int32 queue .* got 100\. To pass only a timeout, call Queue\.pop\(undefined, timeout\)/,
  );
  throwsTyped(() => (q.pop as (o: unknown) => unknown).call(q, new Int32Array(1)), SabreTypeError, /out must be undefined/);
  assert.is(q.pop(), 1);
});

test("forged or foreign payloads are refused with SabreTypeError", () => {
  const q = new Queue({ capacity: 4, dtype: "int32", shape: [2] });
  const good = serialize({ q }) as unknown as { root: { q: Record<string, unknown> } };
  const forge = (patch: Record<string, unknown>) => {
    const m = structuredClone(good);
    Object.assign(m.root.q, patch);
    return () => deserialize(m);
  };
  const wrong = new SharedArrayBuffer(q.buffer.byteLength);
  throwsTyped(forge({ buffer: new ArrayBuffer(8) }), SabreTypeError, /a Queue\) cannot be revived: field "buffer" must be a SharedArrayBuffer/);
  throwsTyped(forge({ buffer: undefined }), SabreTypeError, /SharedArrayBuffer/);
  throwsTyped(forge({ buffer: wrong }), SabreTypeError, /not the memory of a queue/);
  throwsTyped(forge({ buffer: new SharedArrayBuffer(64) }), SabreTypeError, /has 64 bytes/);
  throwsTyped(forge({ capacity: 0 }), SabreTypeError, /field "capacity" must be an integer/);
  throwsTyped(forge({ capacity: "4" }), SabreTypeError, /capacity/);
  throwsTyped(forge({ capacity: 3 }), SabreTypeError, /bytes|not the memory/);
  throwsTyped(forge({ dtype: "float128" }), SabreTypeError, /field "dtype" must be one of/);
  throwsTyped(forge({ dtype: "uint32" }), SabreTypeError, /not the memory of a queue/);
  throwsTyped(forge({ shape: [3] }), SabreTypeError, /bytes|not the memory of a queue/);
  throwsTyped(forge({ shape: [] }), SabreTypeError, /bytes|not the memory of a queue/);
  throwsTyped(forge({ shape: [-2] }), SabreTypeError, /shape\[0\]/);
  throwsTyped(forge({ shape: "x" }), SabreTypeError, /shape/);
  // The real one still works.
  const back = deserialize<{ q: Queue<"int32", [2]> }>(structuredClone(good)).q;
  back.push([5, 6]);
  assert.equal(Array.from(q.pop()), [5, 6]);
});

test("an unknown option key is refused (a misspelt one was ignored)", () => {
  throwsTyped(() => make({ ...base, capcity: 8 }), SabreTypeError, /new Queue options: unknown option "capcity" \(known: capacity, dtype, shape\)/);
  assert.is(make({ ...base, shape: [2] }).capacity, 4);
});

test.run();
