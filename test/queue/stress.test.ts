// Many producers and consumers in real worker threads (more than the 2 cores),
// with a small capacity so both sides block: every record delivered exactly
// once, never torn, FIFO per producer.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Queue, serialize, shared, QueueClosedError } from "sabre";
import { runWorkers, throwsTyped } from "../helpers.js";
import type { ConsumerResult, ProducerResult } from "../fixtures/queue-role.js";
import { ROLE, TIMEOUT, stress } from "./stress-helpers.js";

test("4 producers x 4 consumers, float64 records of shape [6], capacity 8", async () => {
  await stress(new Queue({ capacity: 8, dtype: "float64", shape: [6] }), 4, 4, 5000);
});

test("3 producers x 3 consumers, float32 records of shape [4, 4], capacity 3", async () => {
  await stress(new Queue({ capacity: 3, dtype: "float32", shape: [4, 4] }), 3, 3, 3000);
});

test("capacity 1: a strict hand-off between 3 producers and 3 consumers", async () => {
  await stress(new Queue({ capacity: 1, dtype: "int32" }), 3, 3, 2000);
});

test("the main thread consumes with for await alongside worker consumers", async () => {
  const perProducer = 3000;
  const producers = 3;
  const total = producers * perProducer;
  const queue = new Queue({ capacity: 4, dtype: "int32" });
  const seen = shared.zeros("int32", total).data;
  const common = { queue, perProducer, seen, timeout: TIMEOUT };
  const consuming = runWorkers<ConsumerResult>(ROLE, 2, () => serialize({ ...common, role: "consume", producer: 0 }));
  const producing = runWorkers<ProducerResult>(ROLE, producers, (p) => serialize({ ...common, role: "produce", producer: p })).then(
    () => queue.close(),
  );
  let mine = 0;
  for await (const v of queue) {
    const id = -v;
    assert.ok(Number.isInteger(id) && id >= 0 && id < total, `bad id ${id}`);
    Atomics.add(seen, id, 1);
    mine++;
  }
  await producing;
  const results = await consuming;
  assert.is(results.reduce((a, r) => a + r.popped, 0) + mine, total);
  let wrong = 0;
  for (let id = 0; id < total; id++) if (seen[id] !== 1) wrong++;
  assert.is(wrong, 0, "ids not delivered exactly once");
  throwsTyped(() => queue.pop(), QueueClosedError, /closed and drained/);
});

test.run();
