// close(): wakes every blocked push and pop (sync in workers, async on the
// main thread), drains what is in the queue, then QueueClosedError; an item is
// never lost or duplicated, also when close races with busy threads.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Queue, QueueClosedError, serialize, shared } from "sabre";
import { rejectsTyped, runWorkers, throwsTyped } from "../helpers.js";
import type { ConsumerResult, ProducerResult } from "../fixtures/queue-role.js";
import { ROLE, TIMEOUT } from "./stress-helpers.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) until `cond` holds; fails the test instead of hanging. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const end = performance.now() + 10_000;
  while (!cond()) {
    if (performance.now() > end) assert.unreachable(`timed out waiting until ${what}`);
    await sleep(2);
  }
}

/** Asserts producer p's ids [0, pushed) were each seen once and the rest never. */
function checkDelivery(seen: Int32Array, perProducer: number, produced: ProducerResult[]): void {
  let wrong = 0;
  produced.forEach((r, p) => {
    for (let i = 0; i < perProducer; i++) if (seen[p * perProducer + i] !== (i < r.pushed ? 1 : 0)) wrong++;
  });
  assert.is(wrong, 0, "ids delivered other than exactly once iff their push returned");
}

test("close wakes producers blocked on a full queue; what went in is drained, then QueueClosedError", async () => {
  const perProducer = 100;
  const queue = new Queue({ capacity: 4, dtype: "int32" });
  const seen = shared.zeros("int32", 3 * perProducer).data;
  const common = { queue, perProducer, seen, timeout: TIMEOUT, stopOnClose: true };
  const producing = runWorkers<ProducerResult>(ROLE, 3, (p) => serialize({ ...common, role: "produce", producer: p }));
  await until(() => queue.waiting.producers === 3, "3 producers are parked");
  assert.is(queue.size, 4);
  queue.close();
  const produced = await producing;
  assert.ok(produced.every((r) => r.closed), "every producer got QueueClosedError");
  assert.is(produced.reduce((a, r) => a + r.pushed, 0), 4);
  const drained = await runWorkers<ConsumerResult>(ROLE, 3, () => serialize({ ...common, role: "consume", producer: 0 }));
  assert.is(drained.reduce((a, r) => a + r.popped, 0), 4);
  assert.is(drained.reduce((a, r) => a + r.torn + r.bad + r.fifo, 0), 0);
  checkDelivery(seen, perProducer, produced);
  throwsTyped(() => queue.pop(), QueueClosedError, /closed and drained/);
});

test("close wakes consumers blocked on an empty queue; items pushed just before close still arrive", async () => {
  const queue = new Queue({ capacity: 4, dtype: "int32" });
  const seen = shared.zeros("int32", 2).data;
  const consuming = runWorkers<ConsumerResult>(ROLE, 4, () =>
    serialize({ queue, perProducer: 2, seen, timeout: TIMEOUT, role: "consume", producer: 0 }),
  );
  await until(() => queue.waiting.consumers === 4, "4 consumers are parked");
  queue.push(-0);
  queue.push(-1);
  queue.close();
  const results = await consuming;
  assert.is(results.reduce((a, r) => a + r.popped, 0), 2);
  assert.equal(Array.from(seen), [1, 1]);
  assert.equal(queue.waiting, { producers: 0, consumers: 0 });
});

test("close racing with 4 busy producers and 4 consumers loses and duplicates nothing", async () => {
  const perProducer = 50_000;
  const queue = new Queue({ capacity: 8, dtype: "float64", shape: [4] });
  const seen = shared.zeros("int32", 4 * perProducer).data;
  const common = { queue, perProducer, seen, timeout: TIMEOUT, stopOnClose: true };
  const consuming = runWorkers<ConsumerResult>(ROLE, 4, () => serialize({ ...common, role: "consume", producer: 0 }));
  const producing = runWorkers<ProducerResult>(ROLE, 4, (p) => serialize({ ...common, role: "produce", producer: p }));
  let delivered = 0;
  await until(() => {
    delivered = 0;
    for (let i = 0; i < seen.length; i += 1) delivered += Atomics.load(seen, i);
    return delivered >= 3000;
  }, "3000 items went through");
  queue.close();
  const [produced, consumed] = await Promise.all([producing, consuming]);
  assert.ok(produced.every((r) => r.closed && r.pushed < perProducer), "every producer was stopped by close");
  assert.is(consumed.reduce((a, r) => a + r.torn + r.bad + r.fifo, 0), 0);
  assert.is(consumed.reduce((a, r) => a + r.popped, 0), produced.reduce((a, r) => a + r.pushed, 0));
  checkDelivery(seen, perProducer, produced);
});

test("close rejects pending popAsync and pushAsync on the main thread", async () => {
  const empty = new Queue({ capacity: 2, dtype: "int32" });
  const full = new Queue({ capacity: 1, dtype: "int32" });
  full.push(7);
  const popping = empty.popAsync();
  const pushing = full.pushAsync(8);
  await until(() => empty.waiting.consumers === 1 && full.waiting.producers === 1, "both calls wait");
  empty.close();
  full.close();
  await rejectsTyped(popping, QueueClosedError, /closed and drained/);
  await rejectsTyped(pushing, QueueClosedError, /closed/);
  assert.equal(empty.waiting, { producers: 0, consumers: 0 });
  assert.equal(full.waiting, { producers: 0, consumers: 0 });
  // The item that was in stays poppable; 8 never went in.
  assert.is(full.size, 1);
  assert.is(await full.popAsync(), 7);
  await rejectsTyped(full.popAsync(), QueueClosedError, /closed and drained/);
});

test("after close: push, tryPush and pushAsync throw; pops drain then throw; close is idempotent", async () => {
  const q = new Queue({ capacity: 4, dtype: "float32", shape: [2] });
  q.push([1, 2]);
  q.push([3, 4]);
  q.push([5, 6]);
  assert.not.ok(q.closed);
  q.close();
  q.close();
  assert.ok(q.closed);
  throwsTyped(() => q.push([7, 8]), QueueClosedError, /Queue\.push: the queue is closed/);
  throwsTyped(() => q.tryPush([7, 8]), QueueClosedError, /Queue\.tryPush: the queue is closed/);
  await rejectsTyped(q.pushAsync([7, 8]), QueueClosedError, /Queue\.pushAsync: the queue is closed/);
  assert.is(q.size, 3);
  assert.equal(Array.from(q.pop()), [1, 2]);
  assert.equal(Array.from(q.tryPop()!), [3, 4]);
  assert.equal(Array.from(await q.popAsync()), [5, 6]);
  throwsTyped(() => q.pop(), QueueClosedError, /closed and drained/);
  throwsTyped(() => q.pop(undefined, 0), QueueClosedError);
  throwsTyped(() => q.tryPop(), QueueClosedError, /Queue\.tryPop/);
  await rejectsTyped(q.popAsync(), QueueClosedError);
  const items: number[][] = [];
  for await (const r of q) items.push(Array.from(r));
  assert.equal(items, []);
});

test("for await drains a queue closed with items left, then ends", async () => {
  const q = new Queue({ capacity: 4, dtype: "bigint64" });
  q.push(1n);
  q.push(-2n);
  q.close();
  const items: bigint[] = [];
  for await (const v of q) items.push(v);
  assert.equal(items, [1n, -2n]);
});

test.run();
