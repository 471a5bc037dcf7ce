import { test } from "uvu";
import * as assert from "uvu/assert";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import {
  AbortError,
  DeadlockError,
  deserialize,
  Mutex,
  NotOwnerError,
  OwnerDiedError,
  recoverAbandonedLocks,
  SabreTypeError,
  serialize,
  TimeoutError,
} from "sabre";
import { fixture, rejectsTyped, runWorkers, throwsTyped } from "../helpers.js";

const FIXTURE = fixture("locks-mutex");
const i32 = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));

/** Polls pred every ms until it holds; fails the test (never hangs) after `limit` ms. */
async function until(pred: () => boolean, what: string, limit = 10_000): Promise<void> {
  const end = Date.now() + limit;
  while (!pred()) {
    if (Date.now() > end) assert.unreachable(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

interface Started {
  worker: Worker;
  message: Promise<Record<string, unknown>>;
  exit: Promise<number>;
}

function start(data: Record<string, unknown>): Started {
  const worker = new Worker(FIXTURE, { workerData: serialize(data) });
  const message = new Promise<Record<string, unknown>>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  const exit = new Promise<number>((resolve) => worker.once("exit", resolve));
  return { worker, message, exit };
}

/** A worker that holds m until release() is called. */
async function holder(m: Mutex): Promise<{ release: () => Promise<void>; threadId: number }> {
  const flags = i32(3);
  const w = start({ op: "hold", m, flags });
  await until(() => Atomics.load(flags, 0) === 1, "the worker to lock");
  return {
    threadId: w.worker.threadId,
    release: async () => {
      Atomics.store(flags, 1, 1);
      Atomics.notify(flags, 1);
      assert.equal(await w.message, { released: true });
      await w.exit;
    },
  };
}

test("8 workers x 100k locked non-atomic increments (+ main thread lockAsync) give the exact count", async () => {
  const m = new Mutex();
  const cell = i32(1);
  const styles = ["lock", "withLock", "acquire", "lockAsync", "lock", "tryLock", "acquire", "withLock"];
  const n = 100_000;
  const workers = runWorkers(FIXTURE, 8, (i) => serialize({ op: "increment", m, cell, n, style: styles[i] }));
  let mine = 0;
  const main = (async () => {
    for (let i = 0; i < 2000; i++) {
      await m.lockAsync();
      cell[0] = cell[0]! + 1;
      mine++;
      m.unlock();
    }
  })();
  await Promise.all([workers, main]);
  assert.is(mine, 2000);
  assert.is(cell[0], 8 * n + 2000);
  assert.not.ok(m.isLocked());
});

test("mixed long waits, expiring timeouts, tryLock and aborted lockAsync (8 workers + main): exact count, no lost wake-up", async () => {
  const m = new Mutex();
  const cell = i32(1);
  const run = runWorkers<{ succeeded: number; lostWakeups: number }>(FIXTURE, 8, (i) =>
    serialize({ op: "chaos", m, cell, n: 4000, timeout: i }),
  );
  let mine = 0;
  let aborted = 0;
  const main = (async () => {
    for (let i = 0; i < 300; i++) {
      const ac = new AbortController();
      if (i % 2) setTimeout(() => ac.abort(), 0);
      try {
        await m.lockAsync({ signal: ac.signal, timeout: i % 3 === 0 ? 1 : 20_000 });
      } catch (e) {
        if (!(e instanceof AbortError) && !(e instanceof TimeoutError)) throw e;
        aborted++;
        continue;
      }
      cell[0] = cell[0]! + 1;
      mine++;
      m.unlock();
    }
  })();
  const [results] = await Promise.all([run, main]);
  assert.is(results.reduce((s, r) => s + r.lostWakeups, 0), 0);
  assert.is(cell[0], results.reduce((s, r) => s + r.succeeded, 0) + mine);
  assert.is(mine + aborted, 300);
  assert.not.ok(m.isLocked());
});

test(`16 workers on ${availableParallelism()} cores (oversubscribed): locked increments with and without timeouts, plus chaos, give the exact count`, async () => {
  const m = new Mutex();
  const cell = i32(1);
  const styles = ["lock", "lockTimed", "withLock", "acquire", "lockAsync", "lockTimed", "lock", "tryLock"];
  const n = 20_000;
  const [counted, chaotic] = await Promise.all([
    runWorkers(FIXTURE, 8, (i) => serialize({ op: "increment", m, cell, n, style: styles[i] })),
    runWorkers<{ succeeded: number; lostWakeups: number }>(FIXTURE, 8, (i) => serialize({ op: "chaos", m, cell, n: 3000, timeout: i })),
  ]);
  assert.is(counted.length, 8);
  assert.is(chaotic.reduce((s, r) => s + r.lostWakeups, 0), 0);
  assert.is(cell[0], 8 * n + chaotic.reduce((s, r) => s + r.succeeded, 0));
  assert.not.ok(m.isLocked());
});

test("tryLock: true when free, false when held by another thread or by this one", async () => {
  const m = new Mutex();
  assert.ok(m.tryLock());
  assert.ok(m.isHeldByCurrentThread());
  assert.not.ok(m.tryLock(), "held by this thread: tryLock does not re-enter");
  const [other] = await runWorkers<{ got: boolean }>(FIXTURE, 1, () => serialize({ op: "tryLock", m }));
  assert.is(other!.got, false);
  m.unlock();
  const [after] = await runWorkers<{ got: boolean }>(FIXTURE, 1, () => serialize({ op: "tryLock", m }));
  assert.is(after!.got, true);
  assert.not.ok(m.isLocked(), "the worker unlocked it");
});

test("lock(timeout) and lockAsync({ timeout }) time out within tolerance while a worker holds it", async () => {
  const m = new Mutex();
  const h = await holder(m);
  let t0 = performance.now();
  const err = throwsTyped(() => m.lock(50), TimeoutError, /Mutex\.lock timed out after 50 ms/);
  let dt = performance.now() - t0;
  assert.is(err.code, "ERR_SABRE_TIMEOUT");
  assert.ok(dt >= 45 && dt < 1000, `lock(50) gave up after ${dt} ms`);
  throwsTyped(() => m.lock(0), TimeoutError);
  t0 = performance.now();
  await rejectsTyped(m.lockAsync({ timeout: 50 }), TimeoutError, /lockAsync timed out after 50 ms/);
  dt = performance.now() - t0;
  assert.ok(dt >= 45 && dt < 1000, `lockAsync(50) gave up after ${dt} ms`);
  assert.not.ok(m.isHeldByCurrentThread());
  await h.release();
  assert.ok(m.tryLock(), "a timed-out waiter left the lock usable");
  m.unlock();
});

test("lockAsync with an AbortSignal rejects with AbortError, and the aborted waiter never acquires", async () => {
  const m = new Mutex();
  await rejectsTyped(m.lockAsync({ signal: AbortSignal.abort("no") }), AbortError, /aborted/);
  assert.not.ok(m.isLocked(), "an already-aborted signal does not take even a free lock");
  const h = await holder(m);
  const ac = new AbortController();
  const pending = m.lockAsync({ signal: ac.signal });
  const other = m.lockAsync({ timeout: 10_000 }); // a second waiter must still get the lock after the abort
  setTimeout(() => ac.abort(new Error("stop")), 30);
  const err = await rejectsTyped(pending, AbortError, /Mutex\.lockAsync was aborted/);
  assert.instance(err.cause, Error);
  await h.release();
  await other;
  assert.ok(m.isHeldByCurrentThread());
  m.unlock();
  await new Promise((r) => setTimeout(r, 20));
  assert.not.ok(m.isLocked(), "the aborted waiter did not take the lock later");
});

test("lockAsync does not block the event loop while a worker holds the lock", async () => {
  const m = new Mutex();
  const flags = i32(3);
  const w = start({ op: "hold", m, flags });
  await until(() => Atomics.load(flags, 0) === 1, "the worker to lock");
  let ticks = 0;
  // The worker only releases after the event loop has ticked 5 times while we wait.
  const timer = setInterval(() => {
    if (++ticks === 5) {
      Atomics.store(flags, 1, 1);
      Atomics.notify(flags, 1);
    }
  }, 2);
  try {
    await m.lockAsync({ timeout: 10_000 });
  } finally {
    clearInterval(timer);
  }
  assert.ok(ticks >= 5, `event loop ticked ${ticks} times`);
  m.unlock();
  await w.message;
  await w.exit;
});

test("withLockAsync runs fn under the lock and unlocks when it rejects", async () => {
  const m = new Mutex();
  const v = await m.withLockAsync(async () => {
    assert.ok(m.isHeldByCurrentThread());
    await new Promise((r) => setTimeout(r, 1));
    return 42;
  });
  assert.is(v, 42);
  assert.not.ok(m.isLocked());
  await rejectsTyped(
    m.withLockAsync(async () => {
      throw new TimeoutError("inner", 1);
    }),
    TimeoutError,
    /inner/,
  );
  assert.not.ok(m.isLocked());
});

test("lockAsync on the owning thread waits for another task's unlock instead of throwing", async () => {
  const m = new Mutex();
  m.lock();
  let got = false;
  const p = m.lockAsync({ timeout: 5000 }).then(() => (got = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.not.ok(got);
  m.unlock();
  await p;
  assert.ok(m.isHeldByCurrentThread());
  m.unlock();
});

test("withLock and acquire guards unlock on every path", () => {
  const m = new Mutex();
  assert.is(m.withLock(() => 7), 7);
  assert.not.ok(m.isLocked());
  throwsTyped(
    () =>
      m.withLock(() => {
        throw new DeadlockError("from fn");
      }),
    DeadlockError,
    /from fn/,
  );
  assert.not.ok(m.isLocked(), "withLock unlocked after fn threw");
  {
    using g = m.acquire();
    assert.ok(m.isHeldByCurrentThread());
    g.release();
    assert.not.ok(m.isLocked());
  } // disposing a released guard does nothing (would otherwise throw NotOwnerError)
  try {
    using _g = m.acquire(100);
    throw new SabreTypeError("boom");
  } catch (e) {
    assert.instance(e, SabreTypeError);
  }
  assert.not.ok(m.isLocked());
});

test("locking twice synchronously throws DeadlockError; bad unlocks throw NotOwnerError and change nothing", async () => {
  const m = new Mutex();
  throwsTyped(() => m.unlock(), NotOwnerError, /not locked/);
  m.lock();
  throwsTyped(() => m.lock(), DeadlockError, /already holds this mutex/);
  throwsTyped(() => m.lock(10), DeadlockError);
  throwsTyped(() => m.acquire(), DeadlockError);
  throwsTyped(() => m.withLock(() => 1), DeadlockError);
  assert.ok(m.isHeldByCurrentThread());
  m.unlock();
  throwsTyped(() => m.markConsistent(), NotOwnerError, /lock it first/);

  const h = await holder(m);
  const err = throwsTyped(() => m.unlock(), NotOwnerError, new RegExp(`held by thread ${h.threadId}, not by this thread`));
  assert.is(err.code, "ERR_SABRE_NOT_OWNER");
  assert.ok(m.isLocked(), "still held by the worker");
  assert.not.ok(m.tryLock());
  await h.release();
  assert.not.ok(m.isLocked());
});

test("owner death: a dying holder is recovered; waiters get OwnerDiedError holding the lock until markConsistent", async () => {
  const m = new Mutex();
  const flags = i32(3);
  const dying = start({ op: "die", m, flags });
  const dyingId = dying.worker.threadId; // reads -1 once the worker has exited
  await until(() => Atomics.load(flags, 0) === 1, "the doomed worker to lock");
  // A second worker blocks in lock() behind the doomed one.
  const wflags = i32(3);
  const waiter = start({ op: "lock", m, flags: wflags, timeout: 20_000 });
  await until(() => Atomics.load(wflags, 2) === 1, "the waiter to start");
  await new Promise((r) => setTimeout(r, 20)); // let it reach the futex
  assert.is(await dying.exit, 3);
  const deadId = dyingId;
  assert.ok(m.isLocked(), "the dead worker still holds it");
  assert.is(recoverAbandonedLocks(deadId), 1);
  assert.is(recoverAbandonedLocks(deadId), 0, "nothing left to recover");
  const got = await waiter.message;
  assert.is(got["ok"], false);
  assert.is(got["held"], true, "OwnerDiedError comes with the lock held");
  assert.equal((got["error"] as Record<string, unknown>)["name"], "OwnerDiedError");
  assert.equal((got["error"] as Record<string, unknown>)["deadOwner"], deadId);
  await waiter.exit;
  // The waiter marked it consistent and unlocked: normal use again.
  assert.not.ok(m.isInconsistent());
  m.lock();
  m.unlock();
});

test("owner death: every locker gets OwnerDiedError until someone holding it calls markConsistent", async () => {
  const m = new Mutex();
  const flags = i32(3);
  const dying = start({ op: "die", m, flags });
  const dyingId = dying.worker.threadId;
  await until(() => Atomics.load(flags, 0) === 1, "the doomed worker to lock");
  await dying.exit;
  assert.is(recoverAbandonedLocks(dyingId), 1);
  assert.ok(m.isInconsistent());
  const e1 = throwsTyped(() => m.lock(), OwnerDiedError, /died holding it/);
  assert.is(e1.deadOwner, dyingId);
  assert.ok(m.isHeldByCurrentThread());
  m.unlock(); // not repaired: still inconsistent
  throwsTyped(() => m.tryLock(), OwnerDiedError);
  m.unlock();
  await rejectsTyped(m.lockAsync(), OwnerDiedError);
  m.unlock();
  throwsTyped(() => m.withLock(() => assert.unreachable("fn must not run on inconsistent state")), OwnerDiedError);
  assert.not.ok(m.isLocked(), "withLock released the lock it could not use");
  throwsTyped(() => m.lock(), OwnerDiedError);
  m.markConsistent();
  m.unlock();
  assert.not.ok(m.isInconsistent());
  assert.is(m.withLock(() => 5), 5);
  assert.ok(m.tryLock());
  m.unlock();
});

test("recoverAbandonedLocks frees the spinner slot of a thread killed mid-spin", async () => {
  const m = new Mutex();
  const cells = (serialize({ m }) as unknown as { root: { m: { cells: Int32Array } } }).root.m.cells;
  const w = start({ op: "tryLock", m });
  const dead = w.worker.threadId; // reads -1 once the worker has exited
  await w.message;
  await w.exit;
  // As if that worker had been terminated between claiming a spinner slot (cell 16) and clearing it.
  Atomics.store(cells, 16, dead + 1);
  assert.is(recoverAbandonedLocks(dead), 0, "it held no lock");
  assert.is(Atomics.load(cells, 16), 0, "the slot is free again");
  m.lock();
  m.unlock();
});

test("recoverAbandonedLocks validates its argument and ignores live owners", async () => {
  throwsTyped(() => recoverAbandonedLocks(-1), SabreTypeError, /deadThreadId must be an integer/);
  throwsTyped(() => recoverAbandonedLocks(1.5), SabreTypeError, /deadThreadId/);
  // @ts-expect-error: not a number
  throwsTyped(() => recoverAbandonedLocks("3"), SabreTypeError, /deadThreadId/);
  throwsTyped(() => recoverAbandonedLocks(0), SabreTypeError, /calling thread, which is alive/);
  const m = new Mutex();
  const h = await holder(m);
  assert.is(recoverAbandonedLocks(h.threadId + 1000), 0);
  assert.ok(m.isLocked());
  await h.release();
});

test("serialize/deserialize: the revived mutex is the same lock", async () => {
  const m = new Mutex();
  const twin = deserialize<{ m: Mutex }>(serialize({ m })).m;
  assert.instance(twin, Mutex);
  assert.is.not(twin, m);
  m.lock();
  assert.ok(twin.isLocked());
  assert.ok(twin.isHeldByCurrentThread());
  assert.not.ok(twin.tryLock());
  twin.unlock(); // same thread, same lock
  assert.not.ok(m.isLocked());
  // A copy travelled to a worker excludes the original: the worker cannot take it while we hold it.
  m.lock();
  const [r] = await runWorkers<{ got: boolean }>(FIXTURE, 1, () => serialize({ op: "tryLock", m: twin }));
  assert.is(r!.got, false);
  m.unlock();
});

test("forged payloads are SabreTypeErrors", () => {
  const good = serialize({ m: new Mutex() }) as unknown as { root: { m: Record<string, unknown> } };
  const forge = (cells: unknown) => ({ ...good, root: { m: { ...good.root.m, cells } } });
  throwsTyped(() => deserialize(forge(new Int32Array(3))), SabreTypeError, /SharedArrayBuffer/);
  throwsTyped(() => deserialize(forge(new Float64Array(new SharedArrayBuffer(24)))), SabreTypeError, /Int32Array/);
  throwsTyped(() => deserialize(forge(i32(1))), SabreTypeError, /at least 32/);
  throwsTyped(() => deserialize(forge(i32(32))), SabreTypeError, /not the memory of a Mutex/);
  throwsTyped(() => deserialize(forge(i32(64))), SabreTypeError, /not the memory of a Mutex/);
  throwsTyped(() => deserialize(forge(undefined)), SabreTypeError, /cells/);
  throwsTyped(() => deserialize(forge("x")), SabreTypeError, /cells/);
});

test("bad arguments are SabreTypeErrors", async () => {
  const m = new Mutex();
  throwsTyped(() => m.lock(-1), SabreTypeError, /timeout must be/);
  throwsTyped(() => m.lock(NaN), SabreTypeError, /timeout must be/);
  // @ts-expect-error: not a number
  throwsTyped(() => m.lock("5"), SabreTypeError, /timeout must be/);
  // @ts-expect-error: not a function
  throwsTyped(() => m.withLock(5), SabreTypeError, /expects a function/);
  // @ts-expect-error: not an options object
  await rejectsTyped(m.lockAsync(5), SabreTypeError, /options must be an object/);
  // @ts-expect-error: not a signal
  await rejectsTyped(m.lockAsync({ signal: {} }), SabreTypeError, /signal must be an AbortSignal/);
  await rejectsTyped(m.lockAsync({ timeout: -5 }), SabreTypeError, /timeout/);
  // @ts-expect-error: not a function
  await rejectsTyped(m.withLockAsync(null), SabreTypeError, /expects a function/);
  assert.not.ok(m.isLocked(), "no bad call took the lock");
});

test.run();
