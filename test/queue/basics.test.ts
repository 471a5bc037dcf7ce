// Single-thread semantics (FIFO, records in and out, try*, size), timeouts,
// the async twins (event loop keeps running, abort) and serialize round trips.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  AbortError,
  Queue,
  QueueClosedError,
  TimeoutError,
  deserialize,
  serialize,
  shared,
} from "sabre";
import { fixture, rejectsTyped, runWorkers, throwsTyped } from "../helpers.js";

const ASYNC = fixture("queue-async");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Asserts a timeout of `ms` fired within tolerance. */
function tolerance(elapsed: number, ms: number): void {
  assert.ok(elapsed >= ms - 5, `fired after ${elapsed.toFixed(1)} ms, before its ${ms} ms`);
  assert.ok(elapsed < 1000, `fired after ${elapsed.toFixed(1)} ms, far beyond its ${ms} ms`);
}

test("a scalar queue is FIFO, reports its size, and tryPush/tryPop report full/empty", () => {
  const q = new Queue({ capacity: 3, dtype: "int16" });
  assert.is(q.capacity, 3);
  assert.is(q.dtype, "int16");
  assert.equal(q.shape, []);
  assert.is(q.recordSize, 1);
  assert.is(q.size, 0);
  assert.is(q.tryPop(), undefined);
  assert.ok(q.tryPush(-5));
  q.push(7);
  assert.ok(q.tryPush(32767));
  assert.is(q.size, 3);
  assert.not.ok(q.tryPush(1), "full");
  assert.is(q.pop(), -5);
  assert.ok(q.tryPush(1));
  assert.equal([q.pop(), q.tryPop(), q.pop(), q.tryPop(), q.tryPop()], [7, 32767, 1, undefined, undefined]);
  // Around the ring many times: slots are reused lap after lap.
  for (let i = 0; i < 1000; i++) {
    q.push(i);
    q.push(-i);
    assert.is(q.pop(), i);
    assert.is(q.pop(), -i);
  }
  assert.is(q.size, 0);
});

test("bigint queues carry full 64-bit values and take safe integer numbers", () => {
  const q = new Queue({ capacity: 4, dtype: "bigint64" });
  q.push(-(2n ** 63n));
  q.push(2n ** 63n - 1n);
  q.push(-42);
  assert.equal([q.pop(), q.pop(), q.pop()], [-(2n ** 63n), 2n ** 63n - 1n, -42n]);
  const u = new Queue({ capacity: 2, dtype: "biguint64", shape: [2] });
  u.push([2n ** 64n - 1n, 3]);
  u.push(new BigInt64Array([4n, 5n])); // another bigint dtype converts when its values fit (-1n is refused: bad-input.test)
  assert.equal(Array.from(u.pop()), [2n ** 64n - 1n, 3n]);
  assert.equal(Array.from(u.pop(new BigUint64Array(2))), [4n, 5n]);
});

test("records go in from typed arrays, arrays and strided ndarrays and come out into new arrays, typed arrays or ndarrays", () => {
  const q = new Queue({ capacity: 4, dtype: "float32", shape: [2, 3] });
  assert.equal(q.shape, [2, 3]);
  assert.is(q.recordSize, 6);
  q.push(new Float32Array([1, 2, 3, 4, 5, 6]));
  q.push([0.5, 1.5, 2.5, 3.5, 4.5, 5.5]);
  // A transposed (non-contiguous) view: read row-major, i.e. 1 4 2 5 3 6.
  const m = shared.from([[1, 2, 3], [4, 5, 6]], { dtype: "float64" });
  q.push(m.transpose(1, 0));
  q.push(new Int32Array([9, 8, 7, 6, 5, 4])); // converted like TypedArray.set

  const a = q.pop();
  assert.instance(a, Float32Array);
  assert.not.ok(a.buffer instanceof SharedArrayBuffer, "a popped record is the caller's own copy");
  assert.equal(Array.from(a), [1, 2, 3, 4, 5, 6]);
  const out = new Float64Array(6);
  assert.is(q.pop(out), out);
  assert.equal(Array.from(out), [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]);
  const nd = shared.zeros("float32", [3, 2]);
  const view = nd.transpose(1, 0); // shape [2, 3] over a [3, 2] array
  assert.is(q.pop(view), view);
  assert.equal([0, 1].map((i) => [0, 1, 2].map((j) => view.get(i, j))), [[1, 4, 2], [5, 3, 6]]);
  assert.equal(Array.from(nd.data), [1, 5, 4, 3, 2, 6], "written through the strides");
  assert.equal(Array.from(q.tryPop(new Float32Array(6))!), [9, 8, 7, 6, 5, 4]);
  // The queue copied the records in: changing the source later changes nothing.
  const src = new Float32Array(6).fill(1);
  q.push(src);
  src.fill(2);
  assert.equal(Array.from(q.pop()), [1, 1, 1, 1, 1, 1]);
});

test("blocking timeouts fire within tolerance; timeout 0 tries once", () => {
  const q = new Queue({ capacity: 1, dtype: "float64" });
  let t0 = performance.now();
  const e = throwsTyped(() => q.pop(undefined, 50), TimeoutError, /Queue\.pop timed out after 50 ms/);
  tolerance(performance.now() - t0, 50);
  assert.is(e.code, "ERR_SABRE_TIMEOUT");
  q.push(1);
  t0 = performance.now();
  throwsTyped(() => q.push(2, 50), TimeoutError, /Queue\.push timed out after 50 ms/);
  tolerance(performance.now() - t0, 50);
  throwsTyped(() => q.push(2, 0), TimeoutError);
  assert.is(q.pop(undefined, 0), 1);
  throwsTyped(() => q.pop(undefined, 0), TimeoutError);
  assert.is(q.size, 0);
});

test("a blocking pop in a worker times out within tolerance", async () => {
  const queue = new Queue({ capacity: 2, dtype: "float64" });
  const [r] = await runWorkers<{ error: string; code: string; elapsed: number }>(ASYNC, 1, () =>
    serialize({ role: "pop-timeout", queue, timeout: 80 }),
  );
  assert.is(r!.error, "TimeoutError");
  assert.is(r!.code, "ERR_SABRE_TIMEOUT");
  tolerance(r!.elapsed, 80);
});

test("async timeouts reject within tolerance and leave no waiter behind", async () => {
  const q = new Queue({ capacity: 1, dtype: "float64" });
  let t0 = performance.now();
  await rejectsTyped(q.popAsync(undefined, { timeout: 50 }), TimeoutError, /Queue\.popAsync timed out after 50 ms/);
  tolerance(performance.now() - t0, 50);
  q.push(1);
  t0 = performance.now();
  await rejectsTyped(q.pushAsync(2, { timeout: 50 }), TimeoutError, /Queue\.pushAsync timed out after 50 ms/);
  tolerance(performance.now() - t0, 50);
  await rejectsTyped(q.pushAsync(2, { timeout: 0 }), TimeoutError);
  assert.equal(q.waiting, { producers: 0, consumers: 0 });
  assert.is(await q.popAsync(undefined, { timeout: 0 }), 1);
});

test("popAsync waits without blocking the event loop; a worker's push resolves it", async () => {
  const queue = new Queue({ capacity: 2, dtype: "float64" });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    const popping = queue.popAsync(undefined, { timeout: 10_000 });
    const pushed = runWorkers(ASYNC, 1, () => serialize({ role: "push-after", queue, delay: 150, value: 3.25 }));
    assert.is(await popping, 3.25);
    await pushed;
    assert.ok(ticks >= 5, `the event loop ran only ${ticks} timer ticks while popAsync waited`);
  } finally {
    clearInterval(timer);
  }
});

test("pushAsync on a full queue waits without blocking the event loop", async () => {
  const queue = new Queue({ capacity: 1, dtype: "float64" });
  queue.push(1);
  let resolved = false;
  const pushing = queue.pushAsync(2).then(() => (resolved = true));
  await sleep(30);
  assert.not.ok(resolved, "pushAsync resolved on a full queue");
  assert.is(queue.waiting.producers, 1);
  assert.is(queue.pop(), 1);
  await pushing;
  assert.is(queue.pop(), 2);
});

test("a worker whose only work is await popAsync stays alive until an item arrives", async () => {
  const queue = new Queue({ capacity: 2, dtype: "float64" });
  const popped = runWorkers<{ item: number }>(ASYNC, 2, () => serialize({ role: "pop-async", queue }));
  const end = performance.now() + 10_000;
  while (queue.waiting.consumers < 2 && performance.now() < end) await sleep(2);
  await sleep(50); // long enough for a worker with nothing keeping it alive to exit
  queue.push(1.5);
  queue.push(2.5);
  const items = (await popped).map((r) => r.item).sort();
  assert.equal(items, [1.5, 2.5]);
});

test("abort: an aborted signal rejects at once without taking an item; an abort while waiting leaves the queue working", async () => {
  const q = new Queue({ capacity: 2, dtype: "int32" });
  q.push(1);
  const ac = new AbortController();
  ac.abort(new Error("stop"));
  const e = await rejectsTyped(q.popAsync(undefined, { signal: ac.signal }), AbortError, /Queue\.popAsync was aborted/);
  assert.is(e.code, "ERR_SABRE_ABORTED");
  assert.is((e.cause as Error).message, "stop");
  assert.is(q.size, 1, "an aborted popAsync took the item");
  q.push(2);
  await rejectsTyped(q.pushAsync(3, { signal: ac.signal }), AbortError, /Queue\.pushAsync was aborted/);
  assert.is(q.size, 2);

  // pushAsync aborted while waiting on the full queue.
  const ac2 = new AbortController();
  const pushing = q.pushAsync(3, { signal: ac2.signal });
  await sleep(20);
  assert.is(q.waiting.producers, 1);
  ac2.abort();
  await rejectsTyped(pushing, AbortError);
  assert.equal([q.pop(), q.pop()], [1, 2], "the aborted push did not go in");
  // popAsync aborted while waiting on the empty queue; a later item still reaches the next popper.
  const ac3 = new AbortController();
  const popping = q.popAsync(undefined, { signal: ac3.signal, timeout: 10_000 });
  await sleep(20);
  ac3.abort();
  await rejectsTyped(popping, AbortError);
  assert.equal(q.waiting, { producers: 0, consumers: 0 });
  q.push(4);
  assert.is(await q.popAsync(), 4);
});

test("serialize/deserialize revives the queue over the same memory, in this thread and in workers", async () => {
  const q = new Queue({ capacity: 5, dtype: "float64" });
  const msg = serialize({ nested: [{ q }] });
  const back = deserialize<{ nested: [{ q: Queue<"float64", undefined> }] }>(structuredClone(msg)).nested[0].q;
  assert.ok(back instanceof Queue);
  assert.is.not(back, q);
  assert.is(back.buffer.byteLength, q.buffer.byteLength);
  assert.equal([back.capacity, back.dtype, back.shape, back.recordSize], [5, "float64", [], 1]);
  q.push(1.25);
  assert.is(back.size, 1);
  assert.is(back.pop(), 1.25);
  const r = new Queue({ capacity: 2, dtype: "uint8", shape: [3] });
  const r2 = deserialize<{ r: Queue<"uint8", [3]> }>(structuredClone(serialize({ r }))).r;
  r2.push([1, 2, 255]);
  assert.equal(Array.from(r.pop()), [1, 2, 255]);
  // A worker pushes through its own revived copy; close() seen across threads.
  const pushed = runWorkers(ASYNC, 1, () => serialize({ role: "push-after", queue: q, delay: 0, value: 9 }));
  assert.is(await q.popAsync(undefined, { timeout: 10_000 }), 9);
  await pushed;
  back.close();
  assert.ok(q.closed);
  throwsTyped(() => q.push(1), QueueClosedError);
});

test.run();
