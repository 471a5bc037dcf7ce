import { threadId } from "node:worker_threads";
import { AbortError, DeadlockError, NotOwnerError, OwnerDiedError, SabreError, SabreTypeError, TimeoutError } from "../errors.js";
import { payloadInt32, registerShareable } from "../memory/serialize.js";
import { checkTimeout } from "../validate.js";
import { checkCallback, checkLockAsyncOptions, makeGuard, type LockAsyncOptions, type LockGuard, lockCells } from "./lock-common.js";
import { rememberLock } from "./recovery.js";
import { SELF, threadOfTag } from "./thread.js";
import { DEFAULT_SPINS, deadlineAfter, park, parkAsync, remaining } from "./wait.js";

/*
 * STATE packs the lock so one compare-and-swap moves it:
 *   bits 0-27  READERS: how many read locks are held
 *   bit 28     WRITER: write-locked (READERS is then 0)
 *   bit 29     WRITERS_WAITING: a writer waits (or may); new readers must wait too
 *   bit 30     READERS_WAITING: a reader is parked on STATE (or may be)
 *   bit 31     DIED: a writer died holding the lock; set by recoverAbandonedLocks, cleared by
 *              markConsistent() (every transition below keeps it)
 * Readers park on STATE; writers park on WRITER_SEQ, a counter bumped each time
 * a writer is to be woken, so waking a writer does not wake the readers.
 *
 * Rules that keep every parked thread wakeable:
 *  - A writer sets WRITERS_WAITING, reads WRITER_SEQ, and parks only if the
 *    bit is still set and the lock still held. The bit is cleared only by
 *    giveUpWriter (which then bumps WRITER_SEQ and wakes all writers) or by
 *    wakeAfterUnlock on a free lock right after a bump that woke nobody; a
 *    writer that read the seq after that bump re-checks and sees the lock free
 *    or the bit clear, so it does not park.
 *  - READERS_WAITING is cleared only together with a notify of all readers.
 *  - Whoever makes the lock free (last readUnlock, writeUnlock) and sees a
 *    waiting bit runs wakeAfterUnlock: it wakes one parked writer and leaves
 *    WRITERS_WAITING set for it (writer preference); if no writer was parked
 *    it clears the bit and wakes every reader.
 *  - A writer that waited takes the lock with WRITERS_WAITING set, because
 *    other writers may still be parked behind it (its unlock then wakes them).
 *  - A writer that gives up (timeout, abort) clears WRITERS_WAITING and wakes
 *    everyone so no reader stays blocked behind a writer that left; the other
 *    writers still waiting set the bit again.
 *
 * Owner death (rwlock.md beside this file): the writer is named in OWNER, so
 * recovery frees a dead writer's lock like an unlock, with DIED set. Readers
 * are counted, not named in STATE; each thread also records its read locks in
 * a reader slot (READER_SLOTS: tag * 64 + count, claimed on the thread's first
 * read lock, freed on its last), so recovery can subtract a dead reader's
 * count. A read lock is counted in STATE before it is recorded and unrecorded
 * before it is uncounted, so a thread dying in between leaks one read lock
 * (a writer then waits until its timeout) but never frees one it did not hold.
 */
const STATE = 0;
const WRITER_SEQ = 1;
/** The write holder's thread tag (SELF), 0 when nobody writes. */
const OWNER = 2;
const MAGIC_CELL = 3;
/** worker_threads threadId of the last writer that died holding the lock (for OwnerDiedError). */
const DEAD_OWNER = 4;
/** First of READER_SLOT_COUNT reader slots, on their own cache line (byte 64). */
const READER_SLOTS = 16;
const READER_SLOT_COUNT = 16;
const CELLS = 32;
/** A slot is tag * SLOT_SCALE + count: counts up to 63 read locks per thread, tags below 2^24. */
const SLOT_SCALE = 64;
const MAX_SLOT_COUNT = SLOT_SCALE - 1;
const MAX_SLOT_TAG = 2 ** 24 - 1;
const MAGIC = 0x52774c6b; // "RwLk"

const READERS = 2 ** 28 - 1;
const WRITER = 1 << 28;
const WRITERS_WAITING = 1 << 29;
const READERS_WAITING = 1 << 30;
/** Bit 31: STATE is negative while it is set. */
const DIED = 1 << 31;
const HELD = READERS | WRITER;

let reviving: Int32Array | undefined;
let cellsOf: (l: RwLock) => Int32Array;
/** Frees what a dead thread held in a lock (for recoverAbandonedLocks); set by a static block. */
let recoverIn: (l: RwLock, deadThread: number) => boolean;

/**
 * A writer-preferring readers-writer lock in shared memory: any number of
 * readers, or one writer. Once a writer waits, new readers wait behind it, so
 * writers never starve; when the writer is done the waiting readers all go.
 *
 * The writer's thread is known: writeUnlock from another thread throws
 * `NotOwnerError`, and writeLock (or readLock) from the thread already writing
 * throws `DeadlockError`. Readers are only counted, not named: readUnlock with
 * no read lock held throws `NotOwnerError`, but readUnlock from a thread that
 * holds none while others do cannot be told apart. Beware: a thread that
 * takes readLock again while it already reads deadlocks if a writer started
 * waiting in between (the writer waits for the first read lock, the second
 * waits for the writer); this cannot be detected cheaply. Likewise writeLock
 * from a thread that holds a read lock waits for itself.
 *
 * If a worker dies holding the write lock and the engine (or you) calls
 * `recoverAbandonedLocks(threadId)`, the lock is freed and marked: the next
 * locker, reader or writer, acquires it and gets `OwnerDiedError`, as does
 * every later one until a write-lock holder calls `markConsistent()`. Read
 * locks of a dead worker are simply released (a reader wrote nothing).
 *
 * @example
 * ```ts
 * const rw = new RwLock();
 * const total = rw.withReadLock(() => table.a + table.b);         // many readers at once
 * rw.withWriteLock(() => { table.a += 1; table.b -= 1; });         // alone
 * { using g = await rw.acquireWriteAsync({ timeout: 100 }); ... }  // event loop keeps running
 * ```
 */
export class RwLock {
  readonly #cells: Int32Array;
  /** The reader slot this thread's read locks on this object are recorded in, or -1. */
  #slot = -1;
  /** Read locks this thread holds through this object and has recorded in #slot. */
  #recorded = 0;
  /** Read locks this thread holds through this object that no slot records (no free slot, or past 63). */
  #unrecorded = 0;

  constructor() {
    const revived = reviving;
    reviving = undefined;
    this.#cells = lockCells(revived, CELLS, MAGIC_CELL, MAGIC);
    rememberLock(this, (l, dead) => recoverIn(l, dead));
  }

  static {
    cellsOf = (l) => l.#cells;
    recoverIn = (l, dead) => l.#recover(dead);
  }

  /** True while the lock is marked "a writer died holding it" and markConsistent() has not been called. */
  isInconsistent(): boolean {
    return (Atomics.load(this.#cells, STATE) & DIED) !== 0;
  }

  /**
   * Declares the protected state repaired after an OwnerDiedError: later lockers no longer get the
   * error. Does nothing if the state is not marked inconsistent.
   * @throws NotOwnerError unless this thread holds the write lock (a reader cannot repair).
   */
  markConsistent(): void {
    if (!this.isWriteLockedByCurrentThread()) {
      throw new NotOwnerError("RwLock.markConsistent: only the thread holding the write lock may mark it consistent; writeLock() first");
    }
    const cells = this.#cells;
    let s = Atomics.load(cells, STATE);
    while (s & DIED) {
      const prev = Atomics.compareExchange(cells, STATE, s, s & ~DIED);
      if (prev === s) return;
      s = prev; // a waiter set a waiting bit; try again
    }
  }

  /** How many read locks are held now (a snapshot). */
  readLockCount(): number {
    return Atomics.load(this.#cells, STATE) & READERS;
  }

  /** True if some thread holds the write lock (a snapshot). */
  isWriteLocked(): boolean {
    return (Atomics.load(this.#cells, STATE) & WRITER) !== 0;
  }

  /** True if this thread holds the write lock. */
  isWriteLockedByCurrentThread(): boolean {
    return (Atomics.load(this.#cells, STATE) & WRITER) !== 0 && Atomics.load(this.#cells, OWNER) === SELF;
  }

  /** True if a writer waits (new readers then wait too). A snapshot, and may linger briefly after the writer left. */
  hasQueuedWriters(): boolean {
    return (Atomics.load(this.#cells, STATE) & WRITERS_WAITING) !== 0;
  }

  // ---- readers ---------------------------------------------------------------------------------

  /**
   * Takes a read lock, blocking the thread; waits while a writer holds the lock or waits for it.
   * @throws TimeoutError; DeadlockError if this thread holds the write lock.
   */
  readLock(timeout?: number): void {
    const ms = checkTimeout(timeout);
    if (this.#readStep(true) === null) return;
    const cells = this.#cells;
    for (let i = 0; i < DEFAULT_SPINS; i++) {
      if ((Atomics.load(cells, STATE) & (WRITER | WRITERS_WAITING)) === 0) break;
    }
    const deadline = deadlineAfter(ms);
    for (;;) {
      const expected = this.#readStep(true);
      if (expected === null) return;
      if (remaining(deadline) === 0) throw new TimeoutError("RwLock.readLock", ms);
      park(cells, STATE, expected, deadline);
    }
  }

  /** Takes a read lock if no writer holds or waits for the lock. Never waits. */
  tryReadLock(): boolean {
    const cells = this.#cells;
    let s = Atomics.load(cells, STATE);
    while ((s & (WRITER | WRITERS_WAITING)) === 0) {
      checkReaderRoom(s);
      const prev = Atomics.compareExchange(cells, STATE, s, s + 1);
      if (prev === s) {
        this.#readAcquired(s);
        return true;
      }
      s = prev;
    }
    return false;
  }

  /**
   * After a read lock was counted in STATE (from `prev`): records it in this thread's reader slot,
   * then reports a dead writer's mark (the caller holds the read lock).
   */
  #readAcquired(prev: number): void {
    if (this.#recorded > 0 && this.#recorded < MAX_SLOT_COUNT) {
      Atomics.add(this.#cells, READER_SLOTS + this.#slot, 1);
      this.#recorded++;
    } else if (this.#recorded === 0 && this.#claimSlot()) {
      this.#recorded = 1;
    } else {
      this.#unrecorded++;
    }
    if (prev & DIED) throw new OwnerDiedError(Atomics.load(this.#cells, DEAD_OWNER), "rwlock");
  }

  /** Claims a free reader slot holding one read lock of this thread; false if none is free. */
  #claimSlot(): boolean {
    if (SELF > MAX_SLOT_TAG) return false;
    const cells = this.#cells;
    const mine = SELF * SLOT_SCALE + 1;
    // Start where this thread last had one (or at a spot its tag picks), so threads rarely collide.
    const first = this.#slot >= 0 ? this.#slot : SELF % READER_SLOT_COUNT;
    for (let k = 0; k < READER_SLOT_COUNT; k++) {
      const i = (first + k) % READER_SLOT_COUNT;
      if (Atomics.load(cells, READER_SLOTS + i) === 0 && Atomics.compareExchange(cells, READER_SLOTS + i, 0, mine) === 0) {
        this.#slot = i;
        return true;
      }
    }
    return false;
  }

  /** Before a read lock is uncounted in STATE: unrecords it (unrecorded ones go first: see the header). */
  #readReleasing(): void {
    if (this.#unrecorded > 0) {
      this.#unrecorded--;
    } else if (this.#recorded > 0) {
      const slot = READER_SLOTS + this.#slot;
      if (--this.#recorded === 0) Atomics.store(this.#cells, slot, 0);
      else Atomics.sub(this.#cells, slot, 1);
    }
  }

  /** The async twin of readLock: never blocks the event loop. On timeout or abort it holds nothing. */
  async readLockAsync(opts?: LockAsyncOptions): Promise<void> {
    const { timeout, signal } = checkLockAsyncOptions(opts);
    if (signal?.aborted) throw new AbortError("RwLock.readLockAsync", signal.reason);
    const cells = this.#cells;
    const deadline = deadlineAfter(timeout);
    for (;;) {
      const expected = this.#readStep(false);
      if (expected === null) return;
      if (remaining(deadline) === 0) throw new TimeoutError("RwLock.readLockAsync", timeout);
      await parkAsync(cells, STATE, expected, deadline, signal, "RwLock.readLockAsync");
    }
  }

  /**
   * Takes a read lock (returns null) or, if it must wait, makes sure READERS_WAITING is set and
   * returns the STATE value to park on.
   * @throws OwnerDiedError holding the read lock, if a writer died holding the lock.
   */
  #readStep(sync: boolean): number | null {
    const cells = this.#cells;
    let s = Atomics.load(cells, STATE);
    for (;;) {
      if ((s & (WRITER | WRITERS_WAITING)) === 0) {
        checkReaderRoom(s);
        const prev = Atomics.compareExchange(cells, STATE, s, s + 1);
        if (prev === s) {
          this.#readAcquired(s);
          return null;
        }
        s = prev;
        continue;
      }
      if (sync && s & WRITER && Atomics.load(cells, OWNER) === SELF) {
        throw new DeadlockError(
          `RwLock.readLock: this thread (${threadId}) holds the write lock; waiting for a read lock would never return`,
        );
      }
      if (s & READERS_WAITING) return s;
      const prev = Atomics.compareExchange(cells, STATE, s, s | READERS_WAITING);
      if (prev === s) return s | READERS_WAITING;
      s = prev;
    }
  }

  /**
   * Releases one read lock; the last reader out wakes a waiting writer.
   * @throws NotOwnerError if no read lock is held (the lock is then left as it was).
   */
  readUnlock(): void {
    const cells = this.#cells;
    let s = Atomics.load(cells, STATE);
    if ((s & READERS) !== 0) this.#readReleasing();
    for (;;) {
      if ((s & READERS) === 0) {
        throw new NotOwnerError(
          s & WRITER
            ? "RwLock.readUnlock: no read lock is held (the lock is write-locked: writeUnlock releases that)"
            : "RwLock.readUnlock: no read lock is held",
        );
      }
      const prev = Atomics.compareExchange(cells, STATE, s, s - 1);
      if (prev === s) break;
      s = prev;
    }
    const now = s - 1;
    if ((now & HELD) === 0 && now & (WRITERS_WAITING | READERS_WAITING)) this.#wakeAfterUnlock();
  }

  // ---- writers ---------------------------------------------------------------------------------

  /**
   * Takes the write lock, blocking the thread, once all readers and any writer have left.
   * @throws TimeoutError; DeadlockError if this thread already holds the write lock.
   */
  writeLock(timeout?: number): void {
    const ms = checkTimeout(timeout);
    const cells = this.#cells;
    if (Atomics.compareExchange(cells, STATE, 0, WRITER) === 0) {
      Atomics.store(cells, OWNER, SELF);
      return;
    }
    if (this.isWriteLockedByCurrentThread()) {
      throw new DeadlockError(
        `RwLock.writeLock: this thread (${threadId}) already holds the write lock; locking it again would never return`,
      );
    }
    for (let i = 0; i < DEFAULT_SPINS; i++) {
      if ((Atomics.load(cells, STATE) & HELD) === 0) break;
    }
    const deadline = deadlineAfter(ms);
    let waited = false;
    for (;;) {
      const seq = this.#writeStep(waited);
      if (seq === null) return;
      if (remaining(deadline) === 0) {
        this.#giveUpWriter();
        throw new TimeoutError("RwLock.writeLock", ms);
      }
      park(cells, WRITER_SEQ, seq, deadline);
      waited = true;
    }
  }

  /** Takes the write lock if nobody holds the lock. Never waits. */
  tryWriteLock(): boolean {
    const cells = this.#cells;
    let s = Atomics.load(cells, STATE);
    while ((s & HELD) === 0) {
      const prev = Atomics.compareExchange(cells, STATE, s, s | WRITER);
      if (prev === s) {
        this.#writeAcquired(s);
        return true;
      }
      s = prev;
    }
    return false;
  }

  /** After the write lock was taken from STATE `prev`: names the owner, reports a dead writer's mark. */
  #writeAcquired(prev: number): void {
    Atomics.store(this.#cells, OWNER, SELF);
    if (prev & DIED) throw new OwnerDiedError(Atomics.load(this.#cells, DEAD_OWNER), "rwlock");
  }

  /**
   * The async twin of writeLock: never blocks the event loop. Called on the thread that already
   * writes, it waits (another async task of this thread may hold the lock). On timeout or abort it
   * holds nothing.
   */
  async writeLockAsync(opts?: LockAsyncOptions): Promise<void> {
    const { timeout, signal } = checkLockAsyncOptions(opts);
    if (signal?.aborted) throw new AbortError("RwLock.writeLockAsync", signal.reason);
    const cells = this.#cells;
    const deadline = deadlineAfter(timeout);
    let waited = false;
    for (;;) {
      const seq = this.#writeStep(waited);
      if (seq === null) return;
      if (remaining(deadline) === 0) {
        this.#giveUpWriter();
        throw new TimeoutError("RwLock.writeLockAsync", timeout);
      }
      try {
        await parkAsync(cells, WRITER_SEQ, seq, deadline, signal, "RwLock.writeLockAsync");
      } catch (err) {
        this.#giveUpWriter();
        throw err;
      }
      waited = true;
    }
  }

  /**
   * Takes the write lock (returns null) or, if it must wait, makes sure WRITERS_WAITING is set and
   * returns the WRITER_SEQ value to park on.
   * @throws OwnerDiedError holding the write lock, if a writer died holding the lock.
   */
  #writeStep(waited: boolean): number | null {
    const cells = this.#cells;
    for (;;) {
      const s = Atomics.load(cells, STATE);
      if ((s & HELD) === 0) {
        if (Atomics.compareExchange(cells, STATE, s, s | WRITER | (waited ? WRITERS_WAITING : 0)) === s) {
          this.#writeAcquired(s);
          return null;
        }
        continue;
      }
      if ((s & WRITERS_WAITING) === 0 && Atomics.compareExchange(cells, STATE, s, s | WRITERS_WAITING) !== s) continue;
      const seq = Atomics.load(cells, WRITER_SEQ);
      // Park only if the bit is still set and the lock still held: a clear after this point bumps seq.
      const again = Atomics.load(cells, STATE);
      if ((again & HELD) === 0 || (again & WRITERS_WAITING) === 0) continue;
      return seq;
    }
  }

  /**
   * Releases the write lock, waking a waiting writer or else all waiting readers.
   * @throws NotOwnerError unless this thread holds the write lock (the lock is then left as it was).
   */
  writeUnlock(): void {
    const cells = this.#cells;
    const s = Atomics.load(cells, STATE);
    const owner = Atomics.load(cells, OWNER);
    if ((s & WRITER) === 0 || owner !== SELF) {
      throw new NotOwnerError(
        (s & WRITER) === 0
          ? "RwLock.writeUnlock: the lock is not write-locked"
          : `RwLock.writeUnlock: the write lock is held by ${owner === 0 ? "another thread" : `thread ${threadOfTag(owner)}`}, not by this thread (${threadId})`,
      );
    }
    Atomics.store(cells, OWNER, 0);
    const now = Atomics.sub(cells, STATE, WRITER) - WRITER;
    if (now & (WRITERS_WAITING | READERS_WAITING)) this.#wakeAfterUnlock();
  }

  /** Run by whoever made the lock free: wake one parked writer, else every parked reader. */
  #wakeAfterUnlock(): void {
    const cells = this.#cells;
    let s = Atomics.load(cells, STATE);
    if ((s & WRITERS_WAITING) !== 0 && (s & HELD) === 0) {
      Atomics.add(cells, WRITER_SEQ, 1);
      // The bit stays set for the writer we woke, so readers keep waiting behind it (writer preference).
      if (Atomics.notify(cells, WRITER_SEQ, 1) > 0) return;
      // No writer was parked: it gave up, or has not parked yet and will see the new seq. Readers may go.
      s = Atomics.load(cells, STATE);
      while ((s & WRITERS_WAITING) !== 0 && (s & HELD) === 0) {
        const prev = Atomics.compareExchange(cells, STATE, s, s & ~WRITERS_WAITING);
        if (prev === s) {
          s &= ~WRITERS_WAITING;
          break;
        }
        s = prev;
      }
    }
    this.#wakeReaders(s);
  }

  /** Wakes every parked reader if readers may now proceed (no writer holds or waits). */
  #wakeReaders(s: number): void {
    const cells = this.#cells;
    while ((s & READERS_WAITING) !== 0 && (s & (WRITER | WRITERS_WAITING)) === 0) {
      const prev = Atomics.compareExchange(cells, STATE, s, s & ~READERS_WAITING);
      if (prev === s) {
        Atomics.notify(cells, STATE);
        return;
      }
      s = prev;
    }
  }

  /** A waiting writer leaves: it must not keep readers (or the other writers) parked behind it. */
  #giveUpWriter(): void {
    const cells = this.#cells;
    let s = Atomics.load(cells, STATE);
    while (s & WRITERS_WAITING) {
      const prev = Atomics.compareExchange(cells, STATE, s, s & ~WRITERS_WAITING);
      if (prev === s) {
        s &= ~WRITERS_WAITING;
        break;
      }
      s = prev;
    }
    // Every other parked writer re-checks and sets the bit again if it still has to wait.
    Atomics.add(cells, WRITER_SEQ, 1);
    Atomics.notify(cells, WRITER_SEQ);
    this.#wakeReaders(s);
  }

  /**
   * For recoverAbandonedLocks: frees the write lock if the dead thread held it (marking DIED) and
   * the read locks its slots record. True if it held anything.
   */
  #recover(deadThread: number): boolean {
    const cells = this.#cells;
    const tag = deadThread + 1;
    let released = false;
    // OWNER names the writer from just after its acquiring CAS until just before its releasing one,
    // so OWNER === tag means the dead thread died holding the write lock.
    if (Atomics.load(cells, OWNER) === tag) {
      // Recorded before the release so the next owner reads it; a dead thread writes nothing more.
      Atomics.store(cells, DEAD_OWNER, deadThread);
      Atomics.store(cells, OWNER, 0);
      let s = Atomics.load(cells, STATE);
      while (s & WRITER) {
        const prev = Atomics.compareExchange(cells, STATE, s, (s & ~WRITER) | DIED);
        if (prev === s) {
          released = true;
          s = (s & ~WRITER) | DIED;
          if (s & (WRITERS_WAITING | READERS_WAITING)) this.#wakeAfterUnlock();
          break;
        }
        s = prev;
      }
    }
    for (let i = 0; i < READER_SLOT_COUNT; i++) {
      const slot = Atomics.load(cells, READER_SLOTS + i);
      if (slot === 0 || Math.floor(slot / SLOT_SCALE) !== tag) continue;
      // Only the dead thread wrote this slot while it held it: nobody races this store.
      Atomics.store(cells, READER_SLOTS + i, 0);
      const count = slot % SLOT_SCALE;
      let s = Atomics.load(cells, STATE);
      for (;;) {
        const drop = Math.min(count, s & READERS);
        if (drop === 0) break;
        const prev = Atomics.compareExchange(cells, STATE, s, s - drop);
        if (prev === s) {
          released = true;
          const now = s - drop;
          if ((now & HELD) === 0 && now & (WRITERS_WAITING | READERS_WAITING)) this.#wakeAfterUnlock();
          break;
        }
        s = prev;
      }
    }
    return released;
  }

  // ---- guards and scoped helpers ---------------------------------------------------------------

  /** readLock, returning a guard that readUnlocks when disposed: `using g = rw.acquireRead();`. */
  acquireRead(timeout?: number): LockGuard {
    this.readLock(timeout);
    return makeGuard(() => this.readUnlock());
  }

  /** writeLock, returning a guard that writeUnlocks when disposed: `using g = rw.acquireWrite();`. */
  acquireWrite(timeout?: number): LockGuard {
    this.writeLock(timeout);
    return makeGuard(() => this.writeUnlock());
  }

  /** readLockAsync, resolving to a guard that readUnlocks when disposed. */
  async acquireReadAsync(opts?: LockAsyncOptions): Promise<LockGuard> {
    await this.readLockAsync(opts);
    return makeGuard(() => this.readUnlock());
  }

  /** writeLockAsync, resolving to a guard that writeUnlocks when disposed. */
  async acquireWriteAsync(opts?: LockAsyncOptions): Promise<LockGuard> {
    await this.writeLockAsync(opts);
    return makeGuard(() => this.writeUnlock());
  }

  /** Runs fn under a read lock; unlocks also when fn throws. */
  withReadLock<T>(fn: () => T): T {
    checkCallback("RwLock.withReadLock", fn);
    releaseOnDeath(() => this.readLock(), () => this.readUnlock());
    try {
      return fn();
    } finally {
      this.readUnlock();
    }
  }

  /** Runs fn under the write lock; unlocks also when fn throws. */
  withWriteLock<T>(fn: () => T): T {
    checkCallback("RwLock.withWriteLock", fn);
    releaseOnDeath(() => this.writeLock(), () => this.writeUnlock());
    try {
      return fn();
    } finally {
      this.writeUnlock();
    }
  }

  /** Runs the (async) fn under a read lock taken with readLockAsync; unlocks when it settles. */
  async withReadLockAsync<T>(fn: () => T | Promise<T>, opts?: LockAsyncOptions): Promise<T> {
    checkCallback("RwLock.withReadLockAsync", fn);
    try {
      await this.readLockAsync(opts);
    } catch (err) {
      if (err instanceof OwnerDiedError) this.readUnlock();
      throw err;
    }
    try {
      return await fn();
    } finally {
      this.readUnlock();
    }
  }

  /** Runs the (async) fn under the write lock taken with writeLockAsync; unlocks when it settles. */
  async withWriteLockAsync<T>(fn: () => T | Promise<T>, opts?: LockAsyncOptions): Promise<T> {
    checkCallback("RwLock.withWriteLockAsync", fn);
    try {
      await this.writeLockAsync(opts);
    } catch (err) {
      if (err instanceof OwnerDiedError) this.writeUnlock();
      throw err;
    }
    try {
      return await fn();
    } finally {
      this.writeUnlock();
    }
  }
}

/**
 * Takes a lock for a with* helper: on OwnerDiedError (the lock is then held) releases it again and
 * rethrows, since fn has no way to repair the state and mark it consistent.
 */
function releaseOnDeath(take: () => void, release: () => void): void {
  try {
    take();
  } catch (err) {
    if (err instanceof OwnerDiedError) release();
    throw err;
  }
}

function checkReaderRoom(s: number): void {
  if ((s & READERS) === READERS) {
    throw new SabreError("ERR_SABRE_OVERFLOW", `RwLock: ${READERS} read locks are already held; read locks are being leaked`);
  }
}

registerShareable<RwLock>({
  kind: "RwLock",
  test: (v): v is RwLock => v instanceof RwLock,
  encode: (l) => ({ cells: cellsOf(l) }),
  decode: (p) => {
    const cells = payloadInt32(p, "cells", CELLS);
    if (cells.length !== CELLS || Atomics.load(cells, MAGIC_CELL) !== MAGIC) {
      throw new SabreTypeError(`field "cells" is not the memory of a RwLock (expected ${CELLS} cells carrying its marker)`);
    }
    reviving = cells;
    try {
      return new RwLock();
    } finally {
      reviving = undefined;
    }
  },
});
