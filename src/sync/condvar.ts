import { threadId } from "node:worker_threads";
import { AbortError, NotOwnerError, SabreTypeError } from "../errors.js";
import { payloadInt32, registerShareable } from "../memory/serialize.js";
import { checkTimeout, describe } from "../validate.js";
import { checkLockAsyncOptions, type LockAsyncOptions, lockCells } from "./lock-common.js";
import { Mutex } from "./mutex.js";
import { DEFAULT_SPINS, deadlineAfter, park, parkAsync, spinWhileEqual } from "./wait.js";

/*
 * One cell, SEQ, counts notifications. A waiter reads SEQ while it still holds
 * the mutex, unlocks, then parks while SEQ still has the value it read. A
 * notifier bumps SEQ before it wakes anyone, so a notify that lands between the
 * waiter's unlock and its park changes SEQ and the park returns at once: the
 * notify is not lost. (A notifier is expected to hold the mutex or to have
 * changed the predicate under it; either way it runs after the waiter's read.)
 *
 * SEQ wraps after 2^32 notifications; a waiter that sleeps through exactly a
 * multiple of 2^32 of them would miss one. That is the only way to miss one.
 */
const SEQ = 0;
const MAGIC_CELL = 1;
const CELLS = 2;
const MAGIC = 0x436f6e64; // "Cond"

let reviving: Int32Array | undefined;
let cellsOf: (c: CondVar) => Int32Array;

function checkMutex(what: string, mutex: unknown): Mutex {
  if (!(mutex instanceof Mutex)) throw new SabreTypeError(`${what} expects a Mutex, got ${describe(mutex)}`);
  if (!mutex.isHeldByCurrentThread()) {
    throw new NotOwnerError(`${what}: this thread (${threadId}) must hold the mutex to wait on the condition; lock it first`);
  }
  return mutex;
}

/**
 * A condition variable in shared memory, used with a `Mutex` as in pthreads
 * or java.util.concurrent: wait releases the mutex and sleeps until notified,
 * then takes the mutex again before it returns, also when it times out or is
 * aborted. Wake-ups may be spurious (wait may return true without a notify
 * meant for this waiter), so always wait in a loop on your predicate.
 *
 * @example
 * ```ts
 * // shared: m = new Mutex(), notEmpty = new CondVar(), box = Int32Array over shared memory
 * m.lock();
 * try {
 *   while (box[0] === 0) notEmpty.wait(m);      // consumer
 *   take(box);
 * } finally { m.unlock(); }
 *
 * m.withLock(() => { put(box); notEmpty.notifyOne(); });   // producer
 * ```
 */
export class CondVar {
  readonly #cells: Int32Array;

  constructor() {
    const revived = reviving;
    reviving = undefined;
    this.#cells = lockCells(revived, CELLS, MAGIC_CELL, MAGIC);
  }

  static {
    cellsOf = (c) => c.#cells;
  }

  /**
   * Releases `mutex`, sleeps until notified or `timeout` ms pass, and re-takes the mutex.
   * Returns false if it timed out, true otherwise (a spurious wake-up also returns true).
   * @throws NotOwnerError unless this thread holds mutex; OwnerDiedError (holding it) if the
   *   mutex's owner died while we slept.
   */
  wait(mutex: Mutex, timeout?: number): boolean {
    const m = checkMutex("CondVar.wait", mutex);
    const ms = checkTimeout(timeout);
    const cells = this.#cells;
    const seq = Atomics.load(cells, SEQ);
    const deadline = deadlineAfter(ms);
    m.unlock();
    let outcome: string = "not-equal";
    if (!spinWhileEqual(cells, SEQ, seq, DEFAULT_SPINS)) outcome = park(cells, SEQ, seq, deadline);
    m.lock();
    return outcome !== "timed-out";
  }

  /**
   * The async twin of wait: never blocks the event loop. Resolves false on timeout. On abort it
   * re-takes the mutex, then rejects with AbortError.
   */
  async waitAsync(mutex: Mutex, opts?: LockAsyncOptions): Promise<boolean> {
    const m = checkMutex("CondVar.waitAsync", mutex);
    const { timeout, signal } = checkLockAsyncOptions(opts);
    if (signal?.aborted) throw new AbortError("CondVar.waitAsync", signal.reason);
    const cells = this.#cells;
    const seq = Atomics.load(cells, SEQ);
    const deadline = deadlineAfter(timeout);
    m.unlock();
    let outcome: string;
    try {
      outcome = await parkAsync(cells, SEQ, seq, deadline, signal, "CondVar.waitAsync");
    } finally {
      await m.lockAsync();
    }
    return outcome !== "timed-out";
  }

  /** Wakes one waiter, if any (it then competes for the mutex). */
  notifyOne(): void {
    Atomics.add(this.#cells, SEQ, 1);
    Atomics.notify(this.#cells, SEQ, 1);
  }

  /** Wakes every waiter. */
  notifyAll(): void {
    Atomics.add(this.#cells, SEQ, 1);
    Atomics.notify(this.#cells, SEQ);
  }
}

registerShareable<CondVar>({
  kind: "CondVar",
  test: (v): v is CondVar => v instanceof CondVar,
  encode: (c) => ({ cells: cellsOf(c) }),
  decode: (p) => {
    const cells = payloadInt32(p, "cells", CELLS);
    if (cells.length !== CELLS || Atomics.load(cells, MAGIC_CELL) !== MAGIC) {
      throw new SabreTypeError(`field "cells" is not the memory of a CondVar (expected ${CELLS} cells carrying its marker)`);
    }
    reviving = cells;
    try {
      return new CondVar();
    } finally {
      reviving = undefined;
    }
  },
});
