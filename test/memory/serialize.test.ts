import { test } from "uvu";
import * as assert from "uvu/assert";
import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";
import { shared, serialize, deserialize, SabreTypeError, partition, chunks, rowSlice } from "sabre";
import { fixture, runWorkers, throwsTyped } from "../helpers.js";

test("a worker revives ndarrays over the SAME memory, views and nesting included", async () => {
  const a = shared.from([1, 2, 3]);
  const grid = shared.zeros("int32", [4, 5]);
  grid.set(1, 2, 9);
  const view = grid.hi(3, 4).lo(1, 2); // a non-contiguous window
  const big = shared.from([5n, 6n]);
  const list = shared.zeros("uint8", 4);
  const [seen] = await runWorkers<Record<string, unknown>>(fixture("memory-roundtrip"), 1, () =>
    serialize({ a, view, big, nested: { list: [list, 7] } }),
  );
  assert.equal(seen!["a"], [1, 2, 3]);
  assert.equal(seen!["viewShape"], [2, 2]);
  assert.is(seen!["view00"], 9);
  assert.is(seen!["big"], 6n);
  assert.is(seen!["list"], 7);
  assert.is(a.data[0], 100, "writes in the worker are seen here");
  assert.is(grid.get(2, 3), -5, "a write through the revived view lands in the right cell");
  assert.is(big.get(0), 123n);
  assert.is(list.get(2), 77);
});

test("plain values pass through; user objects with the tag key are escaped", () => {
  const tricky = { __sabre__: "ndarray", n: 1 };
  const msg = serialize({ tricky, d: new Date(5), m: new Map([[1, 2]]), u: undefined, s: "x" });
  const back = deserialize<Record<string, unknown>>(structuredClone(msg));
  assert.equal(back["tricky"], tricky);
  assert.equal(back["d"], new Date(5));
  assert.is((back["m"] as Map<number, number>).get(1), 2);
  assert.is(back["s"], "x");
});

test("serialize refuses what cannot cross threads, naming where it was", () => {
  throwsTyped(() => serialize({ f: () => 1 }), SabreTypeError, /value\.f is a function/);
  throwsTyped(() => serialize({ a: [1, Symbol("s")] }), SabreTypeError, /value\.a\[1\] is a symbol/);
  const cyc: unknown[] = [];
  cyc.push(cyc);
  throwsTyped(() => serialize(cyc), SabreTypeError, /refers back to itself/);
  class K {}
  throwsTyped(() => serialize(new K()), SabreTypeError, /a K, which another thread could not revive/);
  throwsTyped(() => serialize({ x: new Float64Array(2) }, { requireShared: true }), SabreTypeError, /non-shared memory/);
  // ndarray over a plain ArrayBuffer
  const local = shared.from([1, 2]);
  const plain = { ...local, data: new Float64Array(2), get: local.get };
  throwsTyped(() => serialize({ plain }), SabreTypeError, /ndarray over non-shared memory/);
});

test("deserialize refuses foreign and forged messages", () => {
  throwsTyped(() => deserialize({}), SabreTypeError, /made by serialize/);
  throwsTyped(() => deserialize(null), SabreTypeError, /made by serialize/);
  throwsTyped(() => deserialize({ __sabre__: "message", v: 99, root: 1 }), SabreTypeError, /wire version 99/);
  throwsTyped(() => deserialize({ __sabre__: "message", v: 1, root: { __sabre__: "Gizmo" } }), SabreTypeError, /no sabre kind/);
  const good = serialize(shared.zeros("float64", [2, 3])) as unknown as { root: Record<string, unknown> };
  const forge = (patch: Record<string, unknown>): unknown => ({ __sabre__: "message", v: 1, root: { ...good.root, ...patch } });
  throwsTyped(() => deserialize(forge({ buffer: new ArrayBuffer(48) })), SabreTypeError, /SharedArrayBuffer/);
  throwsTyped(() => deserialize(forge({ dtype: "complex128" })), SabreTypeError, /dtype/);
  throwsTyped(() => deserialize(forge({ shape: [2, 4] })), SabreTypeError, /reaches indices/);
  throwsTyped(() => deserialize(forge({ stride: [-3, 1] })), SabreTypeError, /reaches indices/);
  throwsTyped(() => deserialize(forge({ length: 1e9 })), SabreTypeError, /length/);
  throwsTyped(() => deserialize(forge({ shape: "2x3" })), SabreTypeError, /shape/);
});

test("messages survive a real MessagePort", () => {
  const { port1, port2 } = new MessageChannel();
  const x = shared.from([[1, 2], [3, 4]], { dtype: "float32" });
  port1.postMessage(serialize({ x }));
  const got = deserialize<{ x: typeof x }>(receiveMessageOnPort(port2)!.message);
  got.x.set(1, 0, 30);
  assert.is(x.get(1, 0), 30);
  port1.close();
});

test("partition / chunks / rowSlice", () => {
  assert.equal(partition(10, 3), [{ start: 0, end: 4 }, { start: 4, end: 7 }, { start: 7, end: 10 }]);
  assert.equal(partition(2, 4).map((r) => r.end - r.start), [1, 1, 0, 0]);
  assert.equal(chunks(5, 2), [{ start: 0, end: 2 }, { start: 2, end: 4 }, { start: 4, end: 5 }]);
  throwsTyped(() => partition(10, 0), SabreTypeError, /parts/);
  throwsTyped(() => chunks(-1, 2), SabreTypeError, /^n must be/);
  const m = shared.from([[1, 2], [3, 4], [5, 6]]);
  const s = rowSlice(m, 1, 3);
  assert.equal(s.shape, [2, 2]);
  s.set(0, 0, 30);
  assert.is(m.get(1, 0), 30);
  throwsTyped(() => rowSlice(m, 2, 1), SabreTypeError, /end/);
});

test("shared.from: dtypes, reshape, strided sources, bigint", () => {
  const t = shared.from(new Int16Array([1, -2, 3, 4]), { shape: [2, 2] });
  assert.is(t.dtype, "int16");
  assert.is(t.get(1, 1), 4);
  const f = shared.from([1.7, 2.2], { dtype: "int32" });
  assert.equal([...f.data], [1, 2]);
  const src = shared.from([[1, 2, 3], [4, 5, 6]]);
  const col = shared.from(src.transpose(1, 0)); // strided source, copied row-major
  assert.equal([...col.data], [1, 4, 2, 5, 3, 6]);
  const b = shared.from([1, 2], { dtype: "biguint64" });
  assert.is(b.get(1), 2n);
  throwsTyped(() => shared.from([1, 2, 3], { shape: [2, 2] }), SabreTypeError, /4 elements but the source has 3/);
  throwsTyped(() => shared.from("abc" as unknown as number[]), SabreTypeError, /source must be/);
  throwsTyped(() => shared.from([1, "2"] as unknown as number[]), SabreTypeError, /source\[1\] must be a number/);
  throwsTyped(() => shared.full("int8", 3, "x" as unknown as number), SabreTypeError, /number value/);
  throwsTyped(() => shared.full("bigint64", 3, 1.5), SabreTypeError, /bigint/);
  throwsTyped(() => shared.from(new Float64Array([1, Number.NaN]), { dtype: "bigint64" }), SabreTypeError, /NaN.*bigint64/);
  assert.ok(shared.isShared(t));
  assert.ok(!shared.isShared(new Float64Array(1)));
  assert.ok(!shared.isShared(42));
});

test.run();
