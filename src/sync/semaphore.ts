import { AbortError, SabreTypeError, TimeoutError } from "../errors.js";
import { registerShareable } from "../memory/serialize.js";
import { checkInteger, checkTimeout, describe } from "../validate.js";
import { MAX_COUNT, checkPayloadBuffer, checkPositiveCount, checkWaitOptions, type WaitOptions } from "./coord-shared.js";
import { spinnerLimit } from "./spin-policy.js";
import { DEFAULT_SPINS, deadlineAfter, park, parkAsync } from "./wait.js";

// Layout: one Int32Array over its own 16-byte SharedArrayBuffer.
const MAGIC = 0; // identifies a Semaphore's memory when a payload is revived
const PERMITS = 1; // free permits, 0..2^31-1; every waiter parks on this cell
const WAITERS = 2; // how many acquirers are parked (or about to park) on PERMITS
const CELLS = 4;
const BYTES = CELLS * 4;
const SEMAPHORE_MAGIC = 0x53454d31; // "SEM1"

/** Set by decode just before it calls the constructor, to revive over existing memory. */
let reviving: Int32Array | undefined;
/** Reads a Semaphore's memory for encode (set in the class's static block: #cells stays private). */
let bufferOf: (s: Semaphore) => SharedArrayBuffer;

/** What `Semaphore.hold` returns: releases its permits once, on `release()` or at the end of a `using` block. */
export interface PermitGuard extends Disposable {
  /** How many permits this guard holds (0 once released). */
  readonly permits: number;
  /** Gives the permits back. Calling it again does nothing. */
  release(): void;
}

/**
 * A counting semaphore in shared memory, usable from any thread (main thread
 * included) and passed to workers with `serialize`/`deserialize`.
 *
 * Multi-permit: `acquire(k)` takes k permits at once or waits; it never
 * admits more than the permits available. As in java.util.concurrent,
 * `release(k)` may raise the count above the initial one (permits are not
 * owned), up to 2^31 - 1. Not fair: a waiter asking for many permits can be
 * overtaken by ones asking for few. Asking for more permits than can ever
 * exist waits forever (until a timeout) unless someone releases more.
 *
 * @example
 * ```ts
 * const slots = new Semaphore(4);             // at most 4 concurrent downloads
 * slots.acquire();                             // or: await slots.acquireAsync(1, { timeout: 1000 })
 * try { download(); } finally { slots.release(); }
 * // or, scoped:
 * slots.withPermits(2, () => bigDownload());
 * { using _g = slots.hold(); download(); }
 * ```
 */
export class Semaphore {
  readonly #cells: Int32Array;

  /** @param permits the initial number of permits, an integer in [0, 2^31 - 1]. */
  constructor(permits: number) {
    if (reviving) {
      this.#cells = reviving;
      reviving = undefined;
      return;
    }
    checkInteger("Semaphore permits", permits, 0, MAX_COUNT);
    this.#cells = new Int32Array(new SharedArrayBuffer(BYTES));
    this.#cells[MAGIC] = SEMAPHORE_MAGIC;
    this.#cells[PERMITS] = permits;
  }

  /** The permits free right now (a snapshot: other threads may change it at once). */
  get available(): number {
    return Atomics.load(this.#cells, PERMITS);
  }

  /** Takes k permits if they are free now; never waits. */
  tryAcquire(k = 1): boolean {
    checkPositiveCount("k", k);
    return this.#take(k);
  }

  /**
   * Takes k permits, waiting until they are free. Blocks the calling thread
   * (on the main thread it blocks the event loop: prefer acquireAsync there).
   * @param timeout milliseconds; throws TimeoutError when it expires first.
   */
  acquire(k = 1, timeout?: number): void {
    checkPositiveCount("k", k);
    const ms = checkTimeout(timeout);
    if (this.#take(k)) return;
    const c = this.#cells;
    // Spin only while few others wait: with many parked, permits go to them as they are released,
    // and a crowd of spinners would only pull PERMITS' cache line away from the releasers.
    if (Atomics.load(c, WAITERS) < spinnerLimit()) {
      for (let i = 0; i < DEFAULT_SPINS; i++) {
        if (Atomics.load(c, PERMITS) >= k && this.#take(k)) return;
      }
    }
    const deadline = deadlineAfter(ms);
    Atomics.add(c, WAITERS, 1);
    try {
      for (;;) {
        const p = Atomics.load(c, PERMITS);
        if (p >= k) {
          if (this.#take(k)) return;
          continue;
        }
        if (park(c, PERMITS, p, deadline) === "timed-out") {
          if (this.#take(k)) return;
          throw new TimeoutError(`Semaphore.acquire(${k})`, ms);
        }
      }
    } finally {
      Atomics.sub(c, WAITERS, 1);
    }
  }

  /**
   * Takes k permits without blocking the event loop. Rejects with
   * TimeoutError when `timeout` expires, AbortError when `signal` aborts
   * (no permits are taken in either case).
   */
  async acquireAsync(k = 1, options?: WaitOptions): Promise<void> {
    checkPositiveCount("k", k);
    const { timeout, signal } = checkWaitOptions(options);
    if (signal?.aborted) throw new AbortError(`Semaphore.acquireAsync(${k})`, signal.reason);
    if (this.#take(k)) return;
    const c = this.#cells;
    const deadline = deadlineAfter(timeout);
    Atomics.add(c, WAITERS, 1);
    try {
      for (;;) {
        const p = Atomics.load(c, PERMITS);
        if (p >= k) {
          if (this.#take(k)) return;
          continue;
        }
        const r = await parkAsync(c, PERMITS, p, deadline, signal, `Semaphore.acquireAsync(${k})`);
        if (r === "timed-out") {
          if (this.#take(k)) return;
          throw new TimeoutError(`Semaphore.acquireAsync(${k})`, timeout);
        }
      }
    } finally {
      Atomics.sub(c, WAITERS, 1);
    }
  }

  /**
   * Gives k permits back (they need not have been acquired by this thread).
   * Throws SabreTypeError if that would raise the count past 2^31 - 1.
   */
  release(k = 1): void {
    checkPositiveCount("k", k);
    const c = this.#cells;
    let p = Atomics.load(c, PERMITS);
    for (;;) {
      if (p > MAX_COUNT - k) {
        throw new SabreTypeError(
          `Semaphore.release(${k}) would raise the permits from ${p} past 2^31 - 1; release at most ${MAX_COUNT - p}`,
        );
      }
      const seen = Atomics.compareExchange(c, PERMITS, p, p + k);
      if (seen === p) break;
      p = seen;
    }
    // The count changed before this load, so a waiter that registered after
    // it will see the new permits before it parks: skipping notify is safe.
    // Every waiter is woken because they may want different k: waking only
    // one could pick one that still cannot proceed and strand the others.
    if (Atomics.load(c, WAITERS) > 0) Atomics.notify(c, PERMITS);
  }

  /** Runs fn holding k permits; releases them when fn returns or throws. */
  withPermits<T>(k: number, fn: () => T, timeout?: number): T {
    checkFunction(fn);
    this.acquire(k, timeout);
    try {
      return fn();
    } finally {
      this.release(k);
    }
  }

  /** Runs (and awaits) fn holding k permits taken with acquireAsync; releases them when it settles. */
  async withPermitsAsync<T>(k: number, fn: () => T | Promise<T>, options?: WaitOptions): Promise<T> {
    checkFunction(fn);
    await this.acquireAsync(k, options);
    try {
      return await fn();
    } finally {
      this.release(k);
    }
  }

  /** Acquires k permits (as acquire) and returns a guard that releases them: `using g = sem.hold(2)`. */
  hold(k = 1, timeout?: number): PermitGuard {
    this.acquire(k, timeout);
    let held = k;
    const release = (): void => {
      if (held === 0) return;
      held = 0;
      this.release(k);
    };
    return {
      get permits() {
        return held;
      },
      release,
      [Symbol.dispose]: release,
    };
  }

  #take(k: number): boolean {
    const c = this.#cells;
    let p = Atomics.load(c, PERMITS);
    while (p >= k) {
      const seen = Atomics.compareExchange(c, PERMITS, p, p - k);
      if (seen === p) return true;
      p = seen;
    }
    return false;
  }

  static {
    bufferOf = (s) => s.#cells.buffer as SharedArrayBuffer;
  }
}

function checkFunction(fn: unknown): void {
  if (typeof fn !== "function") throw new SabreTypeError(`fn must be a function, got ${describe(fn)}`);
}

registerShareable<Semaphore>({
  kind: "Semaphore",
  test: (v): v is Semaphore => v instanceof Semaphore,
  encode: (s) => ({ buffer: bufferOf(s) }),
  decode: (p) => {
    const buffer = checkPayloadBuffer(p, BYTES, SEMAPHORE_MAGIC, "Semaphore");
    const cells = new Int32Array(buffer);
    const permits = Atomics.load(cells, PERMITS);
    const waiters = Atomics.load(cells, WAITERS);
    if (permits < 0 || waiters < 0) {
      throw new SabreTypeError(`field "buffer" holds an impossible Semaphore state (permits ${permits}, waiters ${waiters})`);
    }
    reviving = cells;
    return new Semaphore(0);
  },
});
