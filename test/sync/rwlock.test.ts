import { test } from "uvu";
import * as assert from "uvu/assert";
import { Worker } from "node:worker_threads";
import {
  AbortError,
  DeadlockError,
  Engine,
  shared,
  WorkerCrashedError,
  deserialize,
  NotOwnerError,
  OwnerDiedError,
  recoverAbandonedLocks,
  RwLock,
  SabreTypeError,
  serialize,
  TimeoutError,
} from "sabre";
import { fixture, rejectsTyped, runWorkers, throwsTyped } from "../helpers.js";

const KERNELS = fixture("locks-rwlock-kernels");

const FIXTURE = fixture("locks-rwlock");
const i32 = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));

async function until(pred: () => boolean, what: string, limit = 10_000): Promise<void> {
  const end = Date.now() + limit;
  while (!pred()) {
    if (Date.now() > end) assert.unreachable(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

interface Result {
  ok: boolean;
  order?: number;
  waited?: number;
  error?: string;
}

/** Starts one fixture worker; resolves with its message. */
function start(data: Record<string, unknown>): { message: Promise<Record<string, unknown>>; flags: Int32Array; threadId: number } {
  const flags = (data["flags"] as Int32Array | undefined) ?? i32(4);
  const worker = new Worker(FIXTURE, { workerData: serialize({ ...data, flags }) });
  const message = new Promise<Record<string, unknown>>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  return { message, flags, threadId: worker.threadId };
}

async function holder(rw: RwLock, kind: "read" | "write") {
  const w = start({ op: "hold", rw, cells: i32(4), kind });
  await until(() => Atomics.load(w.flags, 0) === 1, `the worker to ${kind}-lock`);
  return {
    threadId: w.threadId,
    release: async () => {
      Atomics.store(w.flags, 1, 1);
      Atomics.notify(w.flags, 1);
      assert.equal(await w.message, { released: true });
    },
  };
}

test("readers always see the pair equal while writers update it: exact counts (8 workers + main)", async () => {
  const rw = new RwLock();
  const cells = i32(4);
  const styles = ["plain", "with", "guard", "async"];
  const reads = 20_000;
  const writes = 5_000;
  const run = runWorkers<Record<string, number>>(FIXTURE, 8, (i) =>
    serialize({ op: i % 2 === 0 ? "read" : "write", rw, cells, n: i % 2 === 0 ? reads : writes, style: styles[i >> 1] }),
  );
  let mainWrites = 0;
  let mainViolations = 0;
  for (let i = 0; i < 500; i++) {
    await rw.withWriteLockAsync(() => {
      cells[0] = cells[0]! + 1;
      cells[1] = cells[1]! + 1;
      mainWrites++;
    });
    await rw.withReadLockAsync(() => {
      if (cells[0] !== cells[1]) mainViolations++;
    });
  }
  const results = await run;
  const readers = results.filter((_, i) => i % 2 === 0);
  const writers = results.filter((_, i) => i % 2 === 1);
  for (const r of readers) {
    assert.is(r["reads"], reads);
    assert.is(r["violations"], 0);
  }
  for (const w of writers) assert.is(w["writes"], writes);
  assert.is(mainViolations, 0);
  assert.is(cells[0], 4 * writes + mainWrites);
  assert.is(cells[1], 4 * writes + mainWrites);
  assert.is(rw.readLockCount(), 0);
  assert.not.ok(rw.isWriteLocked());
  assert.not.ok(rw.hasQueuedWriters());
});

test("mixed long waits, expiring timeouts and try calls (8 workers + main async): invariant kept, no lost wake-up", async () => {
  const rw = new RwLock();
  const cells = i32(4);
  const run = runWorkers<{ writes: number; violations: number; lostWakeups: number }>(FIXTURE, 8, (i) =>
    serialize({ op: "chaos", rw, cells, n: 4000, timeout: i }),
  );
  let mainWrites = 0;
  let gaveUp = 0;
  const main = (async () => {
    for (let i = 0; i < 300; i++) {
      const ac = new AbortController();
      if (i % 2) setTimeout(() => ac.abort(), 0);
      const opts = { signal: ac.signal, timeout: i % 3 === 0 ? 1 : 20_000 };
      try {
        if (i % 4 < 2) {
          await rw.writeLockAsync(opts);
          cells[0] = cells[0]! + 1;
          cells[1] = cells[1]! + 1;
          mainWrites++;
          rw.writeUnlock();
        } else {
          await rw.readLockAsync(opts);
          if (cells[0] !== cells[1]) assert.unreachable("torn pair seen under the read lock");
          rw.readUnlock();
        }
      } catch (e) {
        if (!(e instanceof AbortError) && !(e instanceof TimeoutError)) throw e;
        gaveUp++;
      }
    }
  })();
  const [results] = await Promise.all([run, main]);
  assert.is(results.reduce((s, r) => s + r.lostWakeups, 0), 0);
  assert.is(results.reduce((s, r) => s + r.violations, 0), 0);
  const total = results.reduce((s, r) => s + r.writes, 0) + mainWrites;
  assert.is(cells[0], total);
  assert.is(cells[1], total);
  assert.ok(gaveUp < 300);
  assert.is(rw.readLockCount(), 0);
  assert.not.ok(rw.isWriteLocked());
  assert.ok(rw.tryWriteLock(), "nothing is left queued or held");
  rw.writeUnlock();
});

test("writer preference: a waiting writer blocks new readers, goes before them, and they follow it", async () => {
  const rw = new RwLock();
  const cells = i32(4);
  rw.readLock(); // the main thread reads
  const writer = start({ op: "lock", rw, cells, kind: "write", timeout: 10_000 });
  await until(() => rw.hasQueuedWriters(), "the writer to queue");
  assert.not.ok(rw.tryReadLock(), "a new reader may not pass a waiting writer");
  const late = start({ op: "lock", rw, cells, kind: "read", timeout: 100 });
  assert.equal(await late.message, { ok: false, error: "TimeoutError" });
  const reader = start({ op: "lock", rw, cells, kind: "read", timeout: 10_000 });
  await until(() => Atomics.load(reader.flags, 2) === 1, "the reader to start");
  await new Promise((r) => setTimeout(r, 20));
  await rejectsTyped(rw.readLockAsync({ timeout: 30 }), TimeoutError);
  rw.readUnlock();
  const w = (await writer.message) as unknown as Result;
  const r = (await reader.message) as unknown as Result;
  assert.ok(r.waited! < 8000, "the reader was woken after the writer, not by its own timeout");
  assert.ok(w.ok && r.ok, "both got the lock");
  assert.is(w.order, 0, "the writer went first");
  assert.is(r.order, 1, "the reader did not starve once the writer was done");
  assert.ok(rw.tryReadLock());
  rw.readUnlock();
});

test("a writer that times out does not leave readers blocked behind it", async () => {
  const rw = new RwLock();
  const cells = i32(4);
  rw.readLock();
  const writer = start({ op: "lock", rw, cells, kind: "write", timeout: 300 });
  await until(() => rw.hasQueuedWriters(), "the writer to queue");
  // This reader waits behind the writer; when the writer gives up it must get in (we still read).
  const reader = start({ op: "lock", rw, cells, kind: "read", timeout: 5000 });
  assert.equal(await writer.message, { ok: false, error: "TimeoutError" });
  const r = await reader.message;
  assert.is(r["ok"], true);
  assert.is(r["order"], 0);
  // Woken when the writer left, not merely retrying when its own 5 s ran out.
  assert.ok((r["waited"] as number) < 4000, `the reader waited ${r["waited"]} ms`);
  assert.not.ok(rw.hasQueuedWriters());
  assert.ok(rw.tryReadLock(), "new readers pass again");
  rw.readUnlock();
  rw.readUnlock();
  assert.ok(rw.tryWriteLock());
  rw.writeUnlock();
});

test("writeLockAsync: abort and timeout reject, hold nothing, and let readers through", async () => {
  const rw = new RwLock();
  const h = await holder(rw, "read");
  const ac = new AbortController();
  const p = rw.writeLockAsync({ signal: ac.signal });
  await until(() => rw.hasQueuedWriters(), "the async writer to queue");
  assert.not.ok(rw.tryReadLock());
  ac.abort();
  await rejectsTyped(p, AbortError, /RwLock\.writeLockAsync was aborted/);
  assert.ok(rw.tryReadLock(), "the aborted writer left");
  rw.readUnlock();
  let t0 = performance.now();
  await rejectsTyped(rw.writeLockAsync({ timeout: 50 }), TimeoutError, /writeLockAsync timed out after 50 ms/);
  let dt = performance.now() - t0;
  assert.ok(dt >= 45 && dt < 1000, `writeLockAsync(50) gave up after ${dt} ms`);
  t0 = performance.now();
  throwsTyped(() => rw.writeLock(50), TimeoutError, /RwLock\.writeLock timed out after 50 ms/);
  dt = performance.now() - t0;
  assert.ok(dt >= 45 && dt < 1000, `writeLock(50) gave up after ${dt} ms`);
  assert.ok(rw.tryReadLock());
  rw.readUnlock();
  assert.not.ok(rw.isWriteLocked());
  await h.release();
  assert.ok(rw.tryWriteLock());
  rw.writeUnlock();
});

test("readers time out within tolerance while a worker writes; the event loop keeps running", async () => {
  const rw = new RwLock();
  const h = await holder(rw, "write");
  let t0 = performance.now();
  throwsTyped(() => rw.readLock(50), TimeoutError, /RwLock\.readLock timed out after 50 ms/);
  let dt = performance.now() - t0;
  assert.ok(dt >= 45 && dt < 1000, `readLock(50) gave up after ${dt} ms`);
  throwsTyped(() => rw.readLock(0), TimeoutError);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  t0 = performance.now();
  await rejectsTyped(rw.readLockAsync({ timeout: 60 }), TimeoutError);
  dt = performance.now() - t0;
  clearInterval(timer);
  assert.ok(dt >= 55 && dt < 1000, `readLockAsync(60) gave up after ${dt} ms`);
  assert.ok(ticks > 0, "the event loop ran while readLockAsync waited");
  await rejectsTyped(rw.readLockAsync({ signal: AbortSignal.abort() }), AbortError);
  assert.not.ok(rw.tryReadLock());
  const p = rw.readLockAsync({ timeout: 10_000 });
  await h.release();
  await p;
  assert.is(rw.readLockCount(), 1);
  rw.readUnlock();
});

test("ownership errors: NotOwnerError and DeadlockError leave the lock as it was", async () => {
  const rw = new RwLock();
  throwsTyped(() => rw.readUnlock(), NotOwnerError, /no read lock is held/);
  throwsTyped(() => rw.writeUnlock(), NotOwnerError, /not write-locked/);
  rw.writeLock();
  assert.ok(rw.isWriteLockedByCurrentThread());
  throwsTyped(() => rw.writeLock(), DeadlockError, /already holds the write lock/);
  throwsTyped(() => rw.writeLock(10), DeadlockError);
  throwsTyped(() => rw.readLock(), DeadlockError, /holds the write lock/);
  throwsTyped(() => rw.readUnlock(), NotOwnerError, /writeUnlock releases that/);
  assert.not.ok(rw.tryWriteLock());
  assert.not.ok(rw.tryReadLock());
  rw.writeUnlock();
  assert.not.ok(rw.isWriteLocked());

  const h = await holder(rw, "write");
  const err = throwsTyped(() => rw.writeUnlock(), NotOwnerError, new RegExp(`held by thread ${h.threadId}, not by this thread`));
  assert.is(err.code, "ERR_SABRE_NOT_OWNER");
  assert.ok(rw.isWriteLocked(), "still write-locked by the worker");
  assert.not.ok(rw.isWriteLockedByCurrentThread());
  await h.release();
  assert.not.ok(rw.isWriteLocked());
  rw.readLock();
  rw.readLock();
  assert.is(rw.readLockCount(), 2);
  rw.readUnlock();
  rw.readUnlock();
  throwsTyped(() => rw.readUnlock(), NotOwnerError);
});

test("guards and scoped helpers release on every path", async () => {
  const rw = new RwLock();
  {
    using _r1 = rw.acquireRead();
    using _r2 = rw.acquireRead(100);
    assert.is(rw.readLockCount(), 2);
  }
  assert.is(rw.readLockCount(), 0);
  {
    using w = rw.acquireWrite();
    assert.ok(rw.isWriteLockedByCurrentThread());
    w.release();
  }
  assert.not.ok(rw.isWriteLocked());
  throwsTyped(
    () =>
      rw.withWriteLock(() => {
        throw new TimeoutError("inner", 1);
      }),
    TimeoutError,
  );
  assert.not.ok(rw.isWriteLocked());
  assert.is(rw.withReadLock(() => rw.readLockCount()), 1);
  {
    await using _g = await rw.acquireWriteAsync();
    assert.ok(rw.isWriteLockedByCurrentThread());
  }
  {
    using _g = await rw.acquireReadAsync({ timeout: 100 });
    assert.is(rw.readLockCount(), 1);
  }
  await rejectsTyped(
    rw.withReadLockAsync(async () => {
      throw new AbortError("inner");
    }),
    AbortError,
  );
  assert.is(rw.readLockCount(), 0);
  assert.is(await rw.withWriteLockAsync(async () => 3), 3);
  assert.not.ok(rw.isWriteLocked());
});

test("serialize round trip shares the lock; forged payloads and bad arguments are SabreTypeErrors", async () => {
  const rw = new RwLock();
  const twin = deserialize<{ rw: RwLock }>(serialize({ rw })).rw;
  assert.instance(twin, RwLock);
  rw.writeLock();
  assert.ok(twin.isWriteLockedByCurrentThread());
  assert.not.ok(twin.tryReadLock());
  twin.writeUnlock();
  assert.not.ok(rw.isWriteLocked());

  const good = serialize({ rw }) as unknown as { root: { rw: Record<string, unknown> } };
  const forge = (cells: unknown) => ({ ...good, root: { rw: { ...good.root.rw, cells } } });
  throwsTyped(() => deserialize(forge(new Int32Array(4))), SabreTypeError, /SharedArrayBuffer/);
  throwsTyped(() => deserialize(forge(i32(2))), SabreTypeError, /at least 32/);
  throwsTyped(() => deserialize(forge(i32(32))), SabreTypeError, /not the memory of a RwLock/);
  throwsTyped(() => deserialize(forge(null)), SabreTypeError, /cells/);

  throwsTyped(() => rw.readLock(-3), SabreTypeError, /timeout/);
  throwsTyped(() => rw.writeLock(NaN), SabreTypeError, /timeout/);
  // @ts-expect-error: not a number
  throwsTyped(() => rw.acquireWrite("1"), SabreTypeError, /timeout/);
  // @ts-expect-error: not a function
  throwsTyped(() => rw.withReadLock(1), SabreTypeError, /expects a function/);
  // @ts-expect-error: not a function
  throwsTyped(() => rw.withWriteLock(undefined), SabreTypeError, /expects a function/);
  // @ts-expect-error: not an options object
  await rejectsTyped(rw.readLockAsync("x"), SabreTypeError, /options/);
  // @ts-expect-error: not a signal
  await rejectsTyped(rw.writeLockAsync({ signal: 1 }), SabreTypeError, /signal/);
  await rejectsTyped(rw.writeLockAsync({ timeout: -1 }), SabreTypeError, /timeout/);
  assert.is(rw.readLockCount(), 0);
  assert.not.ok(rw.isWriteLocked());
});


// ---- owner death ---------------------------------------------------------------------------------

/** A worker that takes the lock and leaves holding it (process.exit or an uncaught throw). */
async function dier(rw: RwLock, kind: "read" | "write", how: "exit" | "throw"): Promise<{ threadId: number; exit: Promise<number> }> {
  const flags = i32(4);
  const worker = new Worker(FIXTURE, { workerData: serialize({ op: "die", rw, cells: i32(4), flags, kind, how }) });
  const threadId = worker.threadId; // reads -1 once the worker has exited
  worker.on("error", () => {}); // the uncaught throw is the point of the test
  const exit = new Promise<number>((resolve) => worker.once("exit", resolve));
  await until(() => Atomics.load(flags, 0) === 1, `the doomed worker to ${kind}-lock`);
  return { threadId, exit };
}

/** A worker blocked in readLock/writeLock(timeout); it repairs (writer) after OwnerDiedError. */
async function repairer(rw: RwLock, kind: "read" | "write", cells = i32(4)) {
  const w = start({ op: "repair", rw, cells, kind, timeout: 20_000 });
  await until(() => Atomics.load(w.flags, 2) === 1, `the ${kind} waiter to start`);
  await new Promise((r) => setTimeout(r, 20)); // let it reach the futex
  return w;
}

test("owner death: a writer that exits holding the write lock; the waiting writer gets OwnerDiedError holding it and repairs", async () => {
  const rw = new RwLock();
  const dying = await dier(rw, "write", "exit");
  const waiter = await repairer(rw, "write");
  assert.is(await dying.exit, 3);
  assert.ok(rw.isWriteLocked(), "the dead worker still holds it");
  assert.is(recoverAbandonedLocks(dying.threadId), 1);
  assert.is(recoverAbandonedLocks(dying.threadId), 0, "nothing left to recover");
  const got = await waiter.message;
  assert.equal(got, { ok: false, held: true, order: 0, deadOwner: dying.threadId });
  assert.not.ok(rw.isInconsistent(), "the waiter marked it consistent");
  rw.writeLock();
  rw.writeUnlock();
  rw.readLock();
  rw.readUnlock();
  assert.is(rw.readLockCount(), 0);
});

test("owner death: a writer that throws holding the write lock; readers get OwnerDiedError until a writer marks it consistent", async () => {
  const rw = new RwLock();
  const dying = await dier(rw, "write", "throw");
  const cells = i32(4);
  const readers = [await repairer(rw, "read", cells), await repairer(rw, "read", cells)];
  assert.is(await dying.exit, 1);
  assert.is(recoverAbandonedLocks(dying.threadId), 1);
  for (const r of readers) {
    const got = await r.message;
    assert.is(got["ok"], false);
    assert.is(got["held"], true, "OwnerDiedError comes with the read lock held");
    assert.is(got["deadOwner"], dying.threadId);
  }
  // Readers cannot repair: the mark stays for every locker until a writer clears it.
  assert.ok(rw.isInconsistent());
  assert.is(rw.readLockCount(), 0);
  throwsTyped(() => rw.readLock(), OwnerDiedError, /died holding it/);
  assert.is(rw.readLockCount(), 1, "holding the read lock");
  rw.readUnlock();
  throwsTyped(() => rw.withReadLock(() => assert.unreachable("fn must not run on inconsistent state")), OwnerDiedError);
  assert.is(rw.readLockCount(), 0, "withReadLock released what it could not use");
  await rejectsTyped(rw.writeLockAsync(), OwnerDiedError);
  assert.ok(rw.isWriteLockedByCurrentThread());
  rw.writeUnlock();
  throwsTyped(() => rw.tryWriteLock(), OwnerDiedError);
  throwsTyped(() => rw.markConsistent.call(new RwLock()), NotOwnerError);
  rw.markConsistent();
  rw.writeUnlock();
  assert.not.ok(rw.isInconsistent());
  assert.is(rw.withReadLock(() => 7), 7);
  assert.is(rw.withWriteLock(() => 8), 8);
});

test("owner death: read locks of a worker that exits are released; a waiting writer then gets the lock normally", async () => {
  const rw = new RwLock();
  rw.readLock(); // the main thread reads too: recovery must leave its read lock alone
  const dying = await dier(rw, "read", "exit");
  assert.is(rw.readLockCount(), 2);
  const writer = await repairer(rw, "write");
  assert.is(await dying.exit, 3);
  assert.is(recoverAbandonedLocks(dying.threadId), 1);
  assert.is(rw.readLockCount(), 1, "only the dead worker's read lock went");
  assert.not.ok(rw.isInconsistent(), "a reader wrote nothing: no mark");
  rw.readUnlock();
  assert.equal(await writer.message, { ok: true, held: true, order: 0 });
  assert.is(rw.readLockCount(), 0);
  assert.not.ok(rw.isWriteLocked());
});

test("owner death: a dead reader's nested read locks all go; markConsistent needs the write lock", async () => {
  const rw = new RwLock();
  throwsTyped(() => rw.markConsistent(), NotOwnerError, /write lock/);
  rw.readLock();
  throwsTyped(() => rw.markConsistent(), NotOwnerError);
  rw.readUnlock();
  // Nested read locks in one worker, then death: a timed writer in the main thread gets in after recovery.
  const flags = i32(4);
  const worker = new Worker(FIXTURE, { workerData: serialize({ op: "die", rw, cells: i32(4), flags, kind: "read", how: "exit", n: 3 }) });
  const threadId = worker.threadId;
  const exit = new Promise<number>((resolve) => worker.once("exit", resolve));
  await until(() => Atomics.load(flags, 0) === 1, "the doomed reader");
  await exit;
  assert.is(rw.readLockCount(), 3);
  throwsTyped(() => rw.writeLock(5), TimeoutError, /RwLock.writeLock/);
  assert.is(recoverAbandonedLocks(threadId), 1);
  assert.is(rw.readLockCount(), 0);
  rw.writeLock(1000);
  rw.writeUnlock();
});

test("through the engine: a worker crashing while it writes or reads is recovered by the engine itself; work goes on", async () => {
  const engine = await Engine.start({ threads: 3, kernels: [KERNELS] });
  try {
    const lock = new RwLock();
    const cell = shared.zeros("int32", 1);
    await rejectsTyped(engine.run("dieWriting", { lock }), WorkerCrashedError);
    // Exactly one writer sees the death and repairs; every increment still happens once.
    const repaired = (await engine.parallelFor(3000, "writeIncrements", { lock, cell }, { chunk: 100 })) as number[];
    assert.is(repaired.reduce((a, b) => a + b, 0), 1);
    assert.is(cell.data[0], 3000);
    assert.not.ok(lock.isInconsistent());
    await rejectsTyped(engine.run("dieReading", { lock }), WorkerCrashedError);
    // The dead reader's read lock went with it: writers get in, with no OwnerDiedError.
    const after = (await engine.parallelFor(300, "writeIncrements", { lock, cell }, { chunk: 10 })) as number[];
    assert.is(after.reduce((a, b) => a + b, 0), 0);
    assert.is(cell.data[0], 3300);
    assert.is(lock.readLockCount(), 0);
    lock.writeLock(1000);
    lock.writeUnlock();
  } finally {
    await engine.close();
  }
});

test.run();
