import { test } from "uvu";
import * as assert from "uvu/assert";
import { AbortError, CondVar, deserialize, Mutex, NotOwnerError, SabreTypeError, serialize } from "sabre";
import { fixture, loadFactor, rejectsTyped, runWorkers, throwsTyped } from "../helpers.js";

const FIXTURE = fixture("locks-condvar");
const i32 = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));

function mailbox() {
  return { m: new Mutex(), notEmpty: new CondVar(), notFull: new CondVar(), box: i32(5) };
}

test("one producer hands 10k items to one consumer through a one-slot mailbox, each once and in order", async () => {
  const mb = mailbox();
  const n = 10_000;
  const seen = i32(n);
  const [prod, cons] = await runWorkers<Record<string, number>>(FIXTURE, 2, (i) =>
    serialize({ ...mb, op: i === 0 ? "produce" : "consume", producer: 0, producers: 1, n, seen }),
  );
  assert.is(prod!["produced"], n);
  assert.is(cons!["taken"], n);
  assert.is(cons!["outOfOrder"], 0);
  for (let i = 0; i < n; i++) if (seen[i] !== 1) assert.unreachable(`item ${i} was seen ${seen[i]} times`);
});

test("3 producers and 3 consumers (6 workers on 2 cores): every item taken exactly once, per-producer order kept", async () => {
  const mb = mailbox();
  const n = 4000;
  const producers = 3;
  const seen = i32(n * producers);
  const results = await runWorkers<Record<string, number>>(FIXTURE, 6, (i) =>
    serialize({ ...mb, op: i < producers ? "produce" : "consume", producer: i, producers, n, seen }),
  );
  const consumers = results.slice(producers);
  assert.is(consumers.reduce((s, r) => s + r["taken"]!, 0), n * producers);
  for (const r of consumers) assert.is(r["outOfOrder"], 0);
  for (let k = 0; k < n * producers; k++) if (seen[k] !== 1) assert.unreachable(`item ${k} was seen ${seen[k]} times`);
  assert.is(mb.box[2], n * producers);
});

test("the main thread consumes 10k items with lockAsync + waitAsync from a worker producer", async () => {
  const mb = mailbox();
  const { m, notEmpty, notFull, box } = mb;
  const n = 10_000;
  const producer = runWorkers(FIXTURE, 1, () => serialize({ ...mb, op: "produce", producer: 0, producers: 1, n }));
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  for (let i = 0; i < n; i++) {
    await m.lockAsync();
    while (box[0] === 0) await notEmpty.waitAsync(m);
    assert.ok(m.isHeldByCurrentThread());
    if (box[1] !== i) assert.unreachable(`expected item ${i}, got ${box[1]}`);
    box[0] = 0;
    notFull.notifyOne();
    m.unlock();
  }
  clearInterval(timer);
  await producer;
  assert.ok(ticks > 0, "the event loop kept running");
});

test("notifyAll wakes every waiter; each returns true holding the mutex", async () => {
  const mb = mailbox();
  const { m, notEmpty, box } = mb;
  const count = 5;
  const run = runWorkers<{ notified: boolean; held: boolean }>(FIXTURE, count, () =>
    serialize({ ...mb, op: "wait-once", timeout: 5000 }),
  );
  // Registered under the mutex, so once we hold it with all 5 counted, all 5 are inside wait.
  const end = Date.now() + 10_000;
  for (;;) {
    await m.lockAsync();
    if (box[3] === count) break;
    m.unlock();
    if (Date.now() > end) assert.unreachable("the waiters never registered");
    await new Promise((r) => setTimeout(r, 2));
  }
  notEmpty.notifyAll();
  m.unlock();
  const results = await run;
  for (const r of results) assert.equal(r, { notified: true, held: true });
  assert.is(box[4], count);
});

test("notifyOne wakes a waiter", async () => {
  const mb = mailbox();
  const { m, notEmpty, box } = mb;
  const run = runWorkers<{ notified: boolean; held: boolean }>(FIXTURE, 1, () => serialize({ ...mb, op: "wait-once", timeout: 5000 }));
  for (;;) {
    await m.lockAsync();
    if (box[3] === 1) break;
    m.unlock();
    await new Promise((r) => setTimeout(r, 2));
  }
  notEmpty.notifyOne();
  m.unlock();
  assert.equal(await run, [{ notified: true, held: true }]);
});

test("a timed wait returns false within tolerance and holds the mutex again", async () => {
  const m = new Mutex();
  const cv = new CondVar();
  m.lock();
  let t0 = performance.now();
  assert.is(cv.wait(m, 50), false);
  let dt = performance.now() - t0;
  assert.ok(dt >= 45 && dt < 1000 * loadFactor(), `wait(50) returned after ${dt} ms`);
  assert.ok(m.isHeldByCurrentThread());
  assert.is(cv.wait(m, 0), false);
  assert.ok(m.isHeldByCurrentThread());
  t0 = performance.now();
  assert.is(await cv.waitAsync(m, { timeout: 50 }), false);
  dt = performance.now() - t0;
  assert.ok(dt >= 45 && dt < 1000 * loadFactor(), `waitAsync(50) resolved after ${dt} ms`);
  assert.ok(m.isHeldByCurrentThread());
  m.unlock();
});

test("waitAsync: abort rejects with AbortError after re-taking the mutex; notify resolves true", async () => {
  const m = new Mutex();
  const cv = new CondVar();
  await m.lockAsync();
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 20);
  await rejectsTyped(cv.waitAsync(m, { signal: ac.signal }), AbortError, /CondVar\.waitAsync was aborted/);
  assert.ok(m.isHeldByCurrentThread(), "the mutex is held again after abort");
  await rejectsTyped(cv.waitAsync(m, { signal: AbortSignal.abort() }), AbortError);
  assert.ok(m.isHeldByCurrentThread(), "an already-aborted signal leaves the mutex held");
  const p = cv.waitAsync(m, { timeout: 5000 });
  // waitAsync released the mutex: another task takes it and notifies.
  await m.lockAsync();
  cv.notifyOne();
  m.unlock();
  assert.is(await p, true);
  assert.ok(m.isHeldByCurrentThread());
  m.unlock();
});

test("waiting without holding the mutex is NotOwnerError; bad arguments are SabreTypeErrors", async () => {
  const m = new Mutex();
  const cv = new CondVar();
  throwsTyped(() => cv.wait(m), NotOwnerError, /must hold the mutex/);
  await rejectsTyped(cv.waitAsync(m), NotOwnerError, /must hold the mutex/);
  // @ts-expect-error: not a mutex
  throwsTyped(() => cv.wait({}), SabreTypeError, /expects a Mutex, got an object/);
  // @ts-expect-error: not a mutex
  await rejectsTyped(cv.waitAsync(undefined), SabreTypeError, /expects a Mutex/);
  m.lock();
  throwsTyped(() => cv.wait(m, -1), SabreTypeError, /timeout/);
  throwsTyped(() => cv.wait(m, NaN), SabreTypeError, /timeout/);
  // @ts-expect-error: not an options object
  await rejectsTyped(cv.waitAsync(m, 10), SabreTypeError, /options/);
  // @ts-expect-error: not a signal
  await rejectsTyped(cv.waitAsync(m, { signal: "x" }), SabreTypeError, /signal/);
  assert.ok(m.isHeldByCurrentThread(), "bad calls did not release the mutex");
  m.unlock();
});

test("serialize round trip shares the condition; forged payloads are SabreTypeErrors", async () => {
  const mb = mailbox();
  const twin = deserialize<typeof mb>(serialize(mb));
  assert.instance(twin.notEmpty, CondVar);
  // A waiter on the original is woken through the revived twin.
  mb.m.lock();
  const p = mb.notEmpty.waitAsync(mb.m, { timeout: 5000 });
  await twin.m.lockAsync();
  twin.notEmpty.notifyOne();
  twin.m.unlock();
  assert.is(await p, true);
  mb.m.unlock();

  const good = serialize({ c: new CondVar() }) as unknown as { root: { c: Record<string, unknown> } };
  const forge = (cells: unknown) => ({ ...good, root: { c: { ...good.root.c, cells } } });
  throwsTyped(() => deserialize(forge(new Int32Array(2))), SabreTypeError, /SharedArrayBuffer/);
  throwsTyped(() => deserialize(forge(i32(1))), SabreTypeError, /at least 2/);
  throwsTyped(() => deserialize(forge(i32(2))), SabreTypeError, /not the memory of a CondVar/);
  throwsTyped(() => deserialize(forge(new Uint32Array(new SharedArrayBuffer(8)))), SabreTypeError, /Int32Array/);
  // A Mutex's memory is not a CondVar's.
  const mutexCells = (serialize({ x: new Mutex() }) as unknown as { root: { x: { cells: unknown } } }).root.x.cells;
  throwsTyped(() => deserialize(forge(mutexCells)), SabreTypeError, /not the memory of a CondVar/);
});

test.run();
