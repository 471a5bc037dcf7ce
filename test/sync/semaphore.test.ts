import { test } from "uvu";
import * as assert from "uvu/assert";
import { AbortError, Barrier, SabreTypeError, Semaphore, TimeoutError, deserialize, serialize } from "sabre";
import { fixture, rejectsTyped, runWorkers, throwsTyped } from "../helpers.js";

const worker = fixture("coord-semaphore");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Report = { ok: boolean; error?: string; ms: number };

function int32(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(n * 4));
}

function within(ms: number, timeout: number): void {
  assert.ok(ms >= timeout - 5 && ms < 1000, `timed out after ${ms} ms, asked ${timeout}`);
}

test("8 workers and the main thread take random k: never more than n permits in use, exact totals", async () => {
  const n = 5;
  const sem = new Semaphore(n);
  // 0 in use now, 1 most ever in use, 2 permits acquired in total, 3 acquisitions
  const stats = int32(4);
  const run = runWorkers<{ timeouts: number; acquired: number }>(worker, 8, (i) =>
    serialize({ mode: "stress", sem, stats, seed: 1234 + i, iterations: 3000, maxK: 3 }),
  );
  let mine = 0;
  for (let i = 0; i < 200; i++) {
    const k = 1 + (i % 3);
    await sem.acquireAsync(k, { timeout: 10_000 });
    const now = Atomics.add(stats, 0, k) + k;
    for (let max = Atomics.load(stats, 1); now > max; ) {
      const seen = Atomics.compareExchange(stats, 1, max, now);
      if (seen === max) break;
      max = seen;
    }
    await sleep(0);
    Atomics.sub(stats, 0, k);
    Atomics.add(stats, 2, k);
    Atomics.add(stats, 3, 1);
    mine += k;
    sem.release(k);
  }
  const reports = await run;
  assert.ok(stats[1]! <= n, `${stats[1]} permits were in use at once, only ${n} exist`);
  assert.ok(stats[1]! >= 3, "the stress never overlapped holders: it tests nothing");
  assert.is(stats[0], 0);
  assert.is(sem.available, n);
  const total = reports.reduce((sum, r) => sum + r.acquired, mine);
  assert.is(stats[2], total);
  assert.equal(reports.map((r) => r.timeouts), new Array(8).fill(0));
});

test("a release wakes waiters that want different k (none is stranded)", async () => {
  const sem = new Semaphore(0);
  const started = int32(1);
  const big = runWorkers<Report>(worker, 1, () => serialize({ mode: "acquire", sem, k: 5, timeout: 10_000, started }));
  const small = runWorkers<Report>(worker, 1, () => serialize({ mode: "acquire", sem, k: 1, timeout: 10_000, started }));
  while (Atomics.load(started, 0) < 2) await sleep(1);
  await sleep(30); // let both park
  sem.release(1); // only the one asking for 1 can go
  const [s] = await small;
  assert.ok(s!.ok, JSON.stringify(s));
  sem.release(4);
  await sleep(30);
  assert.is(sem.available, 4, "4 permits do not admit a request for 5");
  sem.release(1);
  const [b] = await big;
  assert.ok(b!.ok, JSON.stringify(b));
  assert.is(sem.available, 0);
});

test("acquire times out with TimeoutError and takes nothing (main thread and worker)", async () => {
  const sem = new Semaphore(1);
  const t0 = performance.now();
  throwsTyped(() => sem.acquire(2, 50), TimeoutError, /Semaphore\.acquire\(2\) timed out after 50 ms/);
  within(performance.now() - t0, 50);
  assert.is(sem.available, 1);
  const [r] = await runWorkers<Report>(worker, 1, () => serialize({ mode: "acquire", sem, k: 3, timeout: 50 }));
  assert.is(r!.error, "TimeoutError");
  within(r!.ms, 50);
  assert.is(sem.available, 1);
  throwsTyped(() => sem.acquire(2, 0), TimeoutError);
  assert.ok(sem.tryAcquire(1));
  assert.not.ok(sem.tryAcquire(1));
  sem.release();
});

test("acquireAsync: timeout, abort (with its reason), already-aborted signal; none takes permits", async () => {
  const sem = new Semaphore(0);
  const t0 = performance.now();
  await rejectsTyped(sem.acquireAsync(1, { timeout: 50 }), TimeoutError, /acquireAsync\(1\) timed out after 50 ms/);
  within(performance.now() - t0, 50);
  const ac = new AbortController();
  const p = sem.acquireAsync(2, { signal: ac.signal });
  setTimeout(() => ac.abort("stop"), 20);
  const err = await rejectsTyped(p, AbortError, /was aborted/);
  assert.is(err.cause, "stop");
  await rejectsTyped(sem.acquireAsync(1, { signal: AbortSignal.abort() }), AbortError);
  sem.release(1);
  await rejectsTyped(sem.acquireAsync(1, { signal: AbortSignal.abort() }), AbortError);
  assert.is(sem.available, 1, "an aborted call must not take permits");
});

test("acquireAsync is woken by a release in another thread and never blocks the event loop", async () => {
  const sem = new Semaphore(0);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  try {
    const releaser = runWorkers(worker, 1, () => serialize({ mode: "release", sem, k: 3, delay: 150 }));
    await sem.acquireAsync(3, { timeout: 10_000 });
    await releaser;
    assert.ok(ticks > 0, "no timer tick ran while acquireAsync waited");
    assert.is(sem.available, 0);
  } finally {
    clearInterval(timer);
  }
});

test("release may exceed the initial count, but not 2^31 - 1", () => {
  const sem = new Semaphore(1);
  sem.release(5);
  assert.is(sem.available, 6);
  const full = new Semaphore(2 ** 31 - 2);
  full.release(1);
  throwsTyped(() => full.release(1), SabreTypeError, /past 2\^31 - 1; release at most 0/);
  assert.is(full.available, 2 ** 31 - 1);
});

test("withPermits, withPermitsAsync and hold() give permits back, even on throw", async () => {
  const sem = new Semaphore(3);
  assert.is(sem.withPermits(2, () => sem.available), 1);
  assert.is(sem.available, 3);
  assert.throws(() => sem.withPermits(1, () => { throw new RangeError("inner"); }), /inner/);
  assert.is(sem.available, 3);
  assert.is(await sem.withPermitsAsync(3, async () => { await sleep(1); return sem.available; }), 0);
  assert.is(sem.available, 3);
  await rejectsTyped(sem.withPermitsAsync(1, async () => { throw new TimeoutError("inner", 1); }), TimeoutError);
  assert.is(sem.available, 3);
  {
    using g = sem.hold(2);
    assert.is(g.permits, 2);
    assert.is(sem.available, 1);
  }
  assert.is(sem.available, 3);
  const g = sem.hold();
  g.release();
  g.release(); // idempotent
  assert.is(g.permits, 0);
  assert.is(sem.available, 3);
});

test("a revived semaphore shares its permits; forged payloads are refused", () => {
  const sem = new Semaphore(2);
  const twin = deserialize<Semaphore>(serialize(sem));
  assert.ok(twin.tryAcquire(2));
  assert.is(sem.available, 0);
  sem.release(2);
  const good = serialize(sem) as unknown as { root: Record<string, unknown> };
  const forge = (patch: Record<string, unknown>) => ({ ...good, root: { ...good.root, ...patch } });
  throwsTyped(() => deserialize(forge({ buffer: new ArrayBuffer(16) })), SabreTypeError, /must be a SharedArrayBuffer/);
  throwsTyped(() => deserialize(forge({ buffer: new SharedArrayBuffer(8) })), SabreTypeError, /has 8 bytes, a Semaphore has 16/);
  throwsTyped(() => deserialize(forge({ buffer: new SharedArrayBuffer(16) })), SabreTypeError, /does not hold a Semaphore/);
  throwsTyped(() => deserialize(forge({ buffer: "x" })), SabreTypeError, /Semaphore/);
  const bar = serialize(new Barrier(2)) as unknown as { root: Record<string, unknown> };
  throwsTyped(() => deserialize(forge({ buffer: bar.root["buffer"] })), SabreTypeError, /Semaphore/);
  const copy = new SharedArrayBuffer(16);
  new Int32Array(copy).set(new Int32Array(good.root["buffer"] as SharedArrayBuffer));
  new Int32Array(copy)[1] = -4;
  throwsTyped(() => deserialize(forge({ buffer: copy })), SabreTypeError, /impossible Semaphore state/);
});

test("bad input is a SabreTypeError naming what was wrong", async () => {
  for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 31, "3", null, undefined, 3n]) {
    throwsTyped(() => new Semaphore(bad as number), SabreTypeError, /Semaphore permits must be an integer in \[0, 2147483647\]/);
  }
  const sem = new Semaphore(1);
  for (const bad of [0, -1, 1.5, NaN, 2 ** 31, "1", null]) {
    throwsTyped(() => sem.acquire(bad as number), SabreTypeError, /k must be an integer in \[1, 2147483647\]/);
    throwsTyped(() => sem.tryAcquire(bad as number), SabreTypeError, /k must be an integer/);
    throwsTyped(() => sem.release(bad as number), SabreTypeError, /k must be an integer/);
    throwsTyped(() => sem.hold(bad as number), SabreTypeError, /k must be an integer/);
    await rejectsTyped(sem.acquireAsync(bad as number), SabreTypeError, /k must be an integer/);
  }
  for (const bad of [-1, NaN, "5", null]) {
    throwsTyped(() => sem.acquire(1, bad as number), SabreTypeError, /timeout must be a number of milliseconds/);
    await rejectsTyped(sem.acquireAsync(1, { timeout: bad as number }), SabreTypeError, /timeout/);
  }
  // @ts-expect-error: not an options object
  await rejectsTyped(sem.acquireAsync(1, 100), SabreTypeError, /options must be an object/);
  // @ts-expect-error: not a signal
  await rejectsTyped(sem.acquireAsync(1, { signal: "abort" }), SabreTypeError, /signal must be an AbortSignal/);
  // @ts-expect-error: not a function
  throwsTyped(() => sem.withPermits(1, 5), SabreTypeError, /fn must be a function/);
  // @ts-expect-error: not a function
  await rejectsTyped(sem.withPermitsAsync(1, null), SabreTypeError, /fn must be a function/);
  assert.is(sem.available, 1, "refused calls must not touch the permits");
});

test.run();
