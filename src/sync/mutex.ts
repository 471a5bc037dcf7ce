import { threadId } from "node:worker_threads";
import { AbortError, DeadlockError, NotOwnerError, OwnerDiedError, SabreTypeError, TimeoutError } from "../errors.js";
import { payloadInt32, registerShareable } from "../memory/serialize.js";
import { checkTimeout } from "../validate.js";
import { checkCallback, checkLockAsyncOptions, makeGuard, type LockAsyncOptions, type LockGuard, lockCells } from "./lock-common.js";
import { MAX_TAG, rememberLock } from "./recovery.js";
import { spinnerLimit } from "./spin-policy.js";
import { SELF, threadOfTag } from "./thread.js";
import { BACKOFF_READS, backoffDelay, deadlineAfter, park, parkAsync, pause, remaining } from "./wait.js";

/*
 * The lock word (cell WORD) packs, so that one compare-and-swap moves them together:
 *
 *   bits 0-1  state: FREE, LOCKED (nobody parked), CONTENDED (someone may be parked)
 *   bit  2    DIED: a previous owner died holding the lock; the protected state
 *             may be inconsistent until an owner calls markConsistent()
 *   bits 3-30 the owner's thread tag (SELF), 0 while FREE
 *
 * mutex.md beside this file gives the state machine and the no-lost-wake-up argument.
 */

const WORD = 0;
/** worker_threads threadId of the last owner that died holding the lock (for OwnerDiedError). */
const DEAD_OWNER = 1;
/** A constant that tells a Mutex buffer from any other Int32Array a forged payload might carry. */
const MAGIC_CELL = 2;
/**
 * Threads parked (or about to park) on WORD. CONTENDED only says "someone may
 * be waiting"; unlock skips the notify (~60 ns in V8 even with nobody to wake)
 * when nobody is parked, which is the usual case for short critical sections
 * where waiters succeed while spinning.
 */
const PARKED = 3;
/**
 * MAX_SPINNERS spinner slots, each 0 or the tag (SELF) of a waiter in its
 * spin phase, on their own cache line (byte 64): every contended acquire
 * reads them, and a read of a line the owner keeps writing would cost a
 * transfer. With no free slot among the first spinnerLimit() a waiter parks
 * at once: more spinners only pull the lock word away from the owner (16
 * threads on a 16-core Xeon measured 336 ns/op against pthread's 84). Slots
 * name their spinner so that recoverAbandonedLocks can free the slot of a
 * thread killed mid-spin, which a bare count could not.
 */
const SPIN_SLOTS = 16;
const MAX_SPINNERS = 2;
const CELLS = 32;
const MAGIC = 0x4d757478; // "Mutx"

const STATE_MASK = 0b11;
const FREE = 0;
const LOCKED = 1;
const CONTENDED = 2;
const DIED = 0b100;
const OWNER_SHIFT = 3;

const ownerOf = (word: number): number => word >>> OWNER_SHIFT;
const stateOf = (word: number): number => word & STATE_MASK;
const heldWord = (state: number, died: number): number => (SELF << OWNER_SHIFT) | died | state;
/** The word while this thread holds the lock with nobody parked and no DIED mark: what lock()'s fast path writes. */
const HELD_BY_ME = heldWord(LOCKED, 0);

export type { LockAsyncOptions, LockGuard };

/** Cells handed to the constructor by the Shareable's decode (the constructor takes no public argument). */
let reviving: Int32Array | undefined;
/** Reads a mutex's private cells; set by a static block of the class. */
let cellsOf: (m: Mutex) => Int32Array;

/**
 * A mutual-exclusion lock in shared memory, usable from every thread of the
 * process (main thread included) and carried to workers by `serialize`.
 *
 * It knows its owning thread: taking it twice synchronously from one thread
 * throws `DeadlockError`, unlocking it from a thread that does not hold it
 * throws `NotOwnerError`. Ownership is per thread, not per async task: any
 * code on the owning thread may unlock it. `lockAsync` called on a thread
 * that already owns the lock does not throw; it waits, because another async
 * task of that thread may hold the lock and release it later. (A synchronous
 * `lock()` there would block the event loop, and with it that release,
 * forever: hence the DeadlockError.)
 *
 * `lock()` parks the calling thread while it waits; on the main thread use
 * `lockAsync()` unless the lock is only ever held briefly.
 *
 * If a worker dies holding it and the engine (or you) calls
 * `recoverAbandonedLocks(threadId)`, the next locker acquires it and gets
 * `OwnerDiedError`; every later locker does too, until an owner calls
 * `markConsistent()`.
 *
 * @example
 * ```ts
 * const m = new Mutex();
 * const counter = new Int32Array(new SharedArrayBuffer(4));
 * m.withLock(() => { counter[0]++; });
 * { using guard = m.acquire(); counter[0]++; }          // unlocks at the end of the block
 * await m.withLockAsync(async () => { counter[0]++; });  // never blocks the event loop
 * worker.postMessage(serialize({ m, counter }));         // the worker locks the same mutex
 * ```
 */
export class Mutex {
  readonly #cells: Int32Array;

  constructor() {
    const revived = reviving;
    reviving = undefined;
    if (!revived && SELF > MAX_TAG) throw new SabreTypeError(`thread id ${threadId} is too large for a lock owner tag`);
    this.#cells = lockCells(revived, CELLS, MAGIC_CELL, MAGIC);
    rememberLock(this, releaseIfOwnedBy);
  }

  static {
    cellsOf = (m) => m.#cells;
  }

  /** True if some thread holds the lock (a snapshot: it may change at once). */
  isLocked(): boolean {
    return stateOf(Atomics.load(this.#cells, WORD)) !== FREE;
  }

  /** True if this thread holds the lock. */
  isHeldByCurrentThread(): boolean {
    const w = Atomics.load(this.#cells, WORD);
    return stateOf(w) !== FREE && ownerOf(w) === SELF;
  }

  /** True while the lock is marked "a previous owner died" and markConsistent() has not been called. */
  isInconsistent(): boolean {
    return (Atomics.load(this.#cells, WORD) & DIED) !== 0;
  }

  /**
   * Takes the lock, blocking the thread (never spin-forever: it spins briefly, then parks).
   * @throws TimeoutError when `timeout` ms pass first; DeadlockError if this thread already holds it;
   *   OwnerDiedError (holding the lock) if its state is marked inconsistent.
   */
  lock(timeout?: number): void {
    const ms = checkTimeout(timeout);
    const cells = this.#cells;
    if (Atomics.compareExchange(cells, WORD, FREE, HELD_BY_ME) === FREE) return;
    this.#lockSlow(ms, deadlineAfter(ms));
  }

  #lockSlow(timeout: number, deadline: number): void {
    const cells = this.#cells;
    let c = Atomics.load(cells, WORD);
    if (stateOf(c) !== FREE && ownerOf(c) === SELF) {
      throw new DeadlockError(
        `Mutex.lock: this thread (${threadId}) already holds this mutex; locking it again would never return. ` +
          "Unlock it first, or use lockAsync() if another async task of this thread holds it",
      );
    }
    // Once this thread has parked it takes the lock CONTENDED: others may still be parked behind it,
    // and only a CONTENDED word makes its unlock wake them.
    let take = LOCKED;
    const spinners = Math.min(spinnerLimit(), MAX_SPINNERS);
    for (;;) {
      // Spin first (also after each wake-up): a holder usually releases within a few hundred ns,
      // far less than a futex round trip, and a woken thread that finds the lock re-taken would
      // otherwise park again at once and cost the holder another wake. Only a few waiters spin
      // at once (SPIN_SLOTS); the rest park at once. Reads are spaced by a growing pause
      // (backoff): see BACKOFF_READS.
      const slot = claimSpinSlot(cells, spinners);
      if (slot >= 0) {
        const got = this.#spin(c, take);
        Atomics.store(cells, slot, 0);
        if (got !== -1) return this.#acquired(got);
        c = Atomics.load(cells, WORD);
      }
      const state = stateOf(c);
      if (state === FREE) {
        const prev = Atomics.compareExchange(cells, WORD, c, heldWord(take, c & DIED));
        if (prev === c) return this.#acquired(c);
        c = prev;
        continue;
      }
      if (state === LOCKED) {
        const next = (c & ~STATE_MASK) | CONTENDED;
        const prev = Atomics.compareExchange(cells, WORD, c, next);
        if (prev !== c) {
          c = prev;
          continue;
        }
        c = next;
      }
      // The word is CONTENDED: the holder's unlock will wake a parked waiter, so giving up here loses nothing.
      if (remaining(deadline) === 0) throw new TimeoutError("Mutex.lock", timeout);
      // Counted before parking: an unlock that misses the count has already changed WORD, so the park returns at once.
      Atomics.add(cells, PARKED, 1);
      park(cells, WORD, c, deadline);
      Atomics.sub(cells, PARKED, 1);
      take = CONTENDED;
      c = Atomics.load(cells, WORD);
    }
  }

  /**
   * The spin phase: BACKOFF_READS spaced reads of the word, taking the lock (as `take`) when it is
   * seen free. Returns the word the lock was taken from, or -1 if it was not (a word is never
   * negative: bit 31 is unused).
   */
  #spin(c: number, take: number): number {
    const cells = this.#cells;
    for (let i = 0; i < BACKOFF_READS; i++) {
      if (stateOf(c) === FREE) {
        const prev = Atomics.compareExchange(cells, WORD, c, heldWord(take, c & DIED));
        if (prev === c) return c;
        c = prev;
      }
      pause(backoffDelay(i));
      c = Atomics.load(cells, WORD);
    }
    return -1;
  }

  /** After a successful CAS from `prev`: reports an inconsistent state to the new owner. */
  #acquired(prev: number): void {
    if (prev & DIED) throw new OwnerDiedError(Atomics.load(this.#cells, DEAD_OWNER));
  }

  /**
   * Takes the lock if it is free, without waiting. False if any thread holds it, this one included.
   * @throws OwnerDiedError (holding the lock) if its state is marked inconsistent.
   */
  tryLock(): boolean {
    const cells = this.#cells;
    let c = Atomics.load(cells, WORD);
    while (stateOf(c) === FREE) {
      const prev = Atomics.compareExchange(cells, WORD, c, heldWord(LOCKED, c & DIED));
      if (prev === c) {
        this.#acquired(c);
        return true;
      }
      c = prev;
    }
    return false;
  }

  /**
   * Takes the lock without blocking the event loop (Atomics.waitAsync). Called on a thread that
   * already holds the lock it waits (another async task of this thread may release it).
   * @throws TimeoutError, AbortError (then it does not hold the lock), OwnerDiedError (holding it).
   */
  async lockAsync(opts?: LockAsyncOptions): Promise<void> {
    const { timeout, signal } = checkLockAsyncOptions(opts);
    if (signal?.aborted) throw new AbortError("Mutex.lockAsync", signal.reason);
    const cells = this.#cells;
    if (Atomics.compareExchange(cells, WORD, FREE, HELD_BY_ME) === FREE) return;
    const deadline = deadlineAfter(timeout);
    let take = LOCKED; // CONTENDED once parked, as in lock()
    for (;;) {
      const c = Atomics.load(cells, WORD);
      const state = stateOf(c);
      if (state === FREE) {
        if (Atomics.compareExchange(cells, WORD, c, heldWord(take, c & DIED)) === c) return this.#acquired(c);
        continue;
      }
      let expected = c;
      if (state === LOCKED) {
        expected = (c & ~STATE_MASK) | CONTENDED;
        if (Atomics.compareExchange(cells, WORD, c, expected) !== c) continue;
      }
      if (remaining(deadline) === 0) throw new TimeoutError("Mutex.lockAsync", timeout);
      // On abort parkAsync wakes every waiter of the word, so a wake-up we may have absorbed is passed on.
      Atomics.add(cells, PARKED, 1);
      try {
        await parkAsync(cells, WORD, expected, deadline, signal, "Mutex.lockAsync");
      } finally {
        Atomics.sub(cells, PARKED, 1);
      }
      take = CONTENDED;
    }
  }

  /**
   * Releases the lock and wakes one waiter if any may be parked.
   * @throws NotOwnerError if this thread does not hold it (the lock is then left as it was).
   */
  unlock(): void {
    // Fast path, one compare-and-swap: held by this thread, LOCKED (nobody parked), not DIED.
    // Reading the word first and then swapping costs a second cache-line transfer when
    // another thread is spinning on it: 2-thread contended increments measured 2x slower.
    if (Atomics.compareExchange(this.#cells, WORD, HELD_BY_ME, FREE) !== HELD_BY_ME) this.#unlockSlow();
  }

  #unlockSlow(): void {
    const cells = this.#cells;
    const c = Atomics.load(cells, WORD);
    if (stateOf(c) === FREE || ownerOf(c) !== SELF) {
      throw new NotOwnerError(
        stateOf(c) === FREE
          ? "Mutex.unlock: the mutex is not locked"
          : `Mutex.unlock: the mutex is held by thread ${threadOfTag(ownerOf(c))}, not by this thread (${threadId})`,
      );
    }
    // Only waiters change the word while we own it (LOCKED -> CONTENDED), and DIED is ours to change:
    // an exchange keeps DIED and learns whether anyone may be parked.
    const prev = Atomics.exchange(cells, WORD, c & DIED);
    if (stateOf(prev) === CONTENDED && Atomics.load(cells, PARKED) > 0) Atomics.notify(cells, WORD, 1);
  }

  /**
   * Declares the protected state repaired after an OwnerDiedError: later lockers no longer get the error.
   * Does nothing if the state is not marked inconsistent.
   * @throws NotOwnerError unless this thread holds the lock.
   */
  markConsistent(): void {
    const cells = this.#cells;
    let c = Atomics.load(cells, WORD);
    if (stateOf(c) === FREE || ownerOf(c) !== SELF) {
      throw new NotOwnerError("Mutex.markConsistent: only the thread holding the mutex may mark it consistent; lock it first");
    }
    while (c & DIED) {
      const prev = Atomics.compareExchange(cells, WORD, c, c & ~DIED);
      if (prev === c) return;
      c = prev; // a waiter moved LOCKED -> CONTENDED; try again
    }
  }

  /** Locks, and returns a guard that unlocks when disposed: `using guard = mutex.acquire();`. */
  acquire(timeout?: number): LockGuard {
    this.lock(timeout);
    return makeGuard(() => this.unlock());
  }

  /** The async twin of acquire: `using guard = await mutex.acquireAsync();`. */
  async acquireAsync(opts?: LockAsyncOptions): Promise<LockGuard> {
    await this.lockAsync(opts);
    return makeGuard(() => this.unlock());
  }

  /**
   * Runs fn holding the lock and unlocks afterwards, also when fn throws. For an async fn use
   * withLockAsync (this one would unlock as soon as fn returns its promise).
   * If the lock is marked inconsistent it unlocks again and rethrows the OwnerDiedError without
   * running fn: repairing needs lock(), a catch, and markConsistent().
   */
  withLock<T>(fn: () => T): T {
    checkCallback("Mutex.withLock", fn);
    this.#lockOrRelease(() => this.lock());
    try {
      return fn();
    } finally {
      this.unlock();
    }
  }

  /** Runs the (async) fn holding the lock, taken with lockAsync; unlocks when it settles. */
  async withLockAsync<T>(fn: () => T | Promise<T>, opts?: LockAsyncOptions): Promise<T> {
    checkCallback("Mutex.withLockAsync", fn);
    try {
      await this.lockAsync(opts);
    } catch (err) {
      if (err instanceof OwnerDiedError) this.unlock();
      throw err;
    }
    try {
      return await fn();
    } finally {
      this.unlock();
    }
  }

  #lockOrRelease(take: () => void): void {
    try {
      take();
    } catch (err) {
      if (err instanceof OwnerDiedError) this.unlock();
      throw err;
    }
  }
}


/** Claims a free spinner slot among the first `limit`: its cell index, or -1 if all are taken. */
function claimSpinSlot(cells: Int32Array, limit: number): number {
  for (let i = SPIN_SLOTS; i < SPIN_SLOTS + limit; i++) {
    if (Atomics.load(cells, i) === 0 && Atomics.compareExchange(cells, i, 0, SELF) === 0) return i;
  }
  return -1;
}

/**
 * If thread `deadThread` holds m, marks it DIED, frees it and wakes a waiter. True if it did.
 * Also frees a spinner slot the dead thread was killed in (that alone does not count).
 */
function releaseIfOwnedBy(m: Mutex, deadThread: number): boolean {
  const cells = cellsOf(m);
  const tag = deadThread + 1;
  for (let i = SPIN_SLOTS; i < SPIN_SLOTS + MAX_SPINNERS; i++) Atomics.compareExchange(cells, i, tag, 0);
  let c = Atomics.load(cells, WORD);
  while (stateOf(c) !== FREE && ownerOf(c) === tag) {
    // Recorded before the release so the next owner reads it; a dead thread writes nothing more.
    Atomics.store(cells, DEAD_OWNER, deadThread);
    const prev = Atomics.compareExchange(cells, WORD, c, DIED);
    if (prev === c) {
      // Wake one even if the word said LOCKED (then nobody is parked): cheap, and this path is rare.
      Atomics.notify(cells, WORD, 1);
      return true;
    }
    c = prev;
  }
  return false;
}

registerShareable<Mutex>({
  kind: "Mutex",
  test: (v): v is Mutex => v instanceof Mutex,
  encode: (m) => ({ cells: cellsOf(m) }),
  decode: (p) => {
    const cells = payloadInt32(p, "cells", CELLS);
    if (cells.length !== CELLS || Atomics.load(cells, MAGIC_CELL) !== MAGIC) {
      throw new SabreTypeError(`field "cells" is not the memory of a Mutex (expected ${CELLS} cells carrying its marker)`);
    }
    if (stateOf(Atomics.load(cells, WORD)) === 3) throw new SabreTypeError(`field "cells" holds an impossible lock word`);
    reviving = cells;
    try {
      return new Mutex();
    } finally {
      reviving = undefined;
    }
  },
});

// recoverAbandonedLocks walks the registry of recovery.ts (Mutex and RwLock); the engine imports it from here.
export { recoverAbandonedLocks } from "./recovery.js";
