import { test } from "uvu";
import * as assert from "uvu/assert";
import { AbortError, Latch, SabreTypeError, Semaphore, TimeoutError, deserialize, serialize } from "sabre";
import { execFileSync } from "node:child_process";
import { fixture, loadFactor, rejectsTyped, runWorkers, throwsTyped } from "../helpers.js";

const worker = fixture("coord-latch");
type Waited = { ok: boolean; seen?: number; error?: string; ms: number };

function int32(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(n * 4));
}

function within(ms: number, timeout: number): void {
  assert.ok(ms >= timeout - 5 && ms < 1000 * loadFactor(), `timed out after ${ms} ms, asked ${timeout}`);
}

test("6 workers count down; 3 worker waiters and the main thread are released once, after all of them", async () => {
  const n = 6;
  const latch = new Latch(n);
  const done = int32(n);
  const released = int32(1);
  const waiting = runWorkers<Waited>(worker, 3, () => serialize({ mode: "wait", latch, done, released, timeout: 10_000 }));
  const counting = runWorkers<{ left: number }>(worker, n, (me) => serialize({ mode: "countdown", latch, done, me, delay: 20 + 10 * me }));
  await latch.waitAsync({ timeout: 10_000 });
  const mine = done.reduce((a, b) => a + b, 0);
  Atomics.add(released, 0, 1);
  const waited = await waiting;
  const left = (await counting).map((r) => r.left).sort((a, b) => a - b);
  assert.is(mine, n);
  assert.equal(waited.map((w) => [w.ok, w.seen]), [[true, n], [true, n], [true, n]]);
  assert.is(released[0], 4);
  // Each countDown returns what it left: n - 1, ..., 0, each once.
  assert.equal(left, [0, 1, 2, 3, 4, 5]);
  assert.is(latch.count, 0);
});

test("countDown never goes below zero; an open latch lets everyone through at once", async () => {
  const latch = new Latch(3);
  assert.is(latch.countDown(2), 1);
  assert.is(latch.countDown(5), 0);
  assert.is(latch.countDown(), 0);
  assert.is(latch.count, 0);
  latch.wait(0);
  latch.wait();
  await latch.waitAsync({ timeout: 0 });
  const open = new Latch(0);
  open.wait(0);
  await open.waitAsync();
  const [late] = await runWorkers<Waited>(worker, 1, () =>
    serialize({ mode: "wait", latch: open, done: int32(1), released: int32(1), timeout: 0 }),
  );
  assert.ok(late!.ok);
});

test("wait times out with TimeoutError (main thread and a worker), leaving the count alone", async () => {
  const latch = new Latch(2);
  const t0 = performance.now();
  throwsTyped(() => latch.wait(50), TimeoutError, /Latch\.wait timed out after 50 ms/);
  within(performance.now() - t0, 50);
  const [w] = await runWorkers<Waited>(worker, 1, () => serialize({ mode: "wait", latch, done: int32(1), released: int32(1), timeout: 50 }));
  assert.is(w!.error, "TimeoutError");
  within(w!.ms, 50);
  throwsTyped(() => latch.wait(0), TimeoutError);
  assert.is(latch.count, 2);
});

test("waitAsync: timeout, abort with its reason, already-aborted signal", async () => {
  const latch = new Latch(1);
  const t0 = performance.now();
  await rejectsTyped(latch.waitAsync({ timeout: 50 }), TimeoutError, /Latch\.waitAsync timed out after 50 ms/);
  within(performance.now() - t0, 50);
  const ac = new AbortController();
  const p = latch.waitAsync({ signal: ac.signal });
  setTimeout(() => ac.abort("enough"), 20);
  const err = await rejectsTyped(p, AbortError, /Latch\.waitAsync was aborted/);
  assert.is(err.cause, "enough");
  await rejectsTyped(latch.waitAsync({ signal: AbortSignal.abort() }), AbortError);
  assert.is(latch.count, 1);
});

test("waitAsync does not block the event loop and is released by a worker's countDown", async () => {
  const latch = new Latch(1);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  try {
    const counting = runWorkers(worker, 1, () => serialize({ mode: "countdown", latch, done: int32(1), me: 0, delay: 150 }));
    await latch.waitAsync({ timeout: 10_000 });
    await counting;
    assert.ok(ticks > 0, "no timer tick ran while waitAsync waited");
  } finally {
    clearInterval(timer);
  }
});

test("a pending waitAsync with a timeout keeps the process alive until it settles", () => {
  // A bare Atomics.waitAsync holds no handle: without one, this script would
  // exit (code 13, unsettled top-level await) before printing anything.
  const script = `
    const { Latch, Semaphore, Barrier } = await import(${JSON.stringify(import.meta.resolve("sabre"))});
    // Handlers attached at once: under load a later timeout can fire while an
    // earlier one is awaited, and an unhandled rejection would end the script.
    const names = [new Latch(1).waitAsync({ timeout: 30 }), new Semaphore(0).acquireAsync(1, { timeout: 30 }), new Barrier(2).waitAsync({ timeout: 30 })]
      .map((p) => p.then(() => "settled", (err) => err.name));
    for (const p of names) console.log(await p);`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 10_000 });
  assert.is(out.trim(), "TimeoutError\nTimeoutError\nTimeoutError");
});

test("a revived latch shares its count; forged payloads are refused", () => {
  const latch = new Latch(2);
  const twin = deserialize<Latch>(serialize(latch));
  twin.countDown();
  assert.is(latch.count, 1);
  const good = serialize(latch) as unknown as { root: Record<string, unknown> };
  const forge = (patch: Record<string, unknown>) => ({ ...good, root: { ...good.root, ...patch } });
  throwsTyped(() => deserialize(forge({ buffer: new ArrayBuffer(8) })), SabreTypeError, /must be a SharedArrayBuffer/);
  throwsTyped(() => deserialize(forge({ buffer: new SharedArrayBuffer(16) })), SabreTypeError, /has 16 bytes, a Latch has 8/);
  throwsTyped(() => deserialize(forge({ buffer: new SharedArrayBuffer(8) })), SabreTypeError, /does not hold a Latch/);
  const sem = serialize(new Semaphore(1)) as unknown as { root: Record<string, unknown> };
  throwsTyped(() => deserialize(forge({ buffer: sem.root["buffer"] })), SabreTypeError, /Latch/);
  const copy = new SharedArrayBuffer(8);
  new Int32Array(copy).set(new Int32Array(good.root["buffer"] as SharedArrayBuffer));
  new Int32Array(copy)[1] = -1;
  throwsTyped(() => deserialize(forge({ buffer: copy })), SabreTypeError, /impossible Latch count -1/);
});

test("bad input is a SabreTypeError naming what was wrong", async () => {
  for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 31, "2", null, undefined]) {
    throwsTyped(() => new Latch(bad as number), SabreTypeError, /Latch count must be an integer in \[0, 2147483647\]/);
  }
  const latch = new Latch(2);
  for (const bad of [0, -1, 1.5, NaN, 2 ** 31, "1", null]) {
    throwsTyped(() => latch.countDown(bad as number), SabreTypeError, /k must be an integer in \[1, 2147483647\]/);
  }
  for (const bad of [-1, NaN, "5", null]) {
    throwsTyped(() => latch.wait(bad as number), SabreTypeError, /timeout must be a number of milliseconds/);
    await rejectsTyped(latch.waitAsync({ timeout: bad as number }), SabreTypeError, /timeout/);
  }
  // @ts-expect-error: not an options object
  await rejectsTyped(latch.waitAsync(7), SabreTypeError, /options must be an object/);
  // @ts-expect-error: not a signal
  await rejectsTyped(latch.waitAsync({ signal: 1 }), SabreTypeError, /signal must be an AbortSignal/);
  assert.is(latch.count, 2, "refused calls must not count down");
});

test.run();
