import { AbortError, SabreTypeError, TimeoutError } from "../errors.js";
import { registerShareable } from "../memory/serialize.js";
import { checkInteger, checkTimeout } from "../validate.js";
import { MAX_COUNT, checkPayloadBuffer, checkPositiveCount, checkWaitOptions, type WaitOptions } from "./coord-shared.js";
import { DEFAULT_SPINS, deadlineAfter, park, parkAsync, spinWhileEqual } from "./wait.js";

// Layout: one Int32Array over its own 8-byte SharedArrayBuffer.
const MAGIC = 0;
const COUNT = 1; // what is left to count down; waiters park on this cell until it is 0
const BYTES = 8;
const LATCH_MAGIC = 0x4c415431; // "LAT1"

let reviving: Int32Array | undefined;
let bufferOf: (l: Latch) => SharedArrayBuffer;

/**
 * A one-shot count-down latch in shared memory (java.util.concurrent's
 * CountDownLatch): threads wait until `count` reaches zero; it then stays
 * open for good. Counting down past zero leaves it at zero.
 *
 * @example
 * ```ts
 * const ready = new Latch(workers.length);
 * // each worker, once initialised:   ready.countDown();
 * await ready.waitAsync({ timeout: 5000 });   // main thread, event loop stays live
 * ```
 */
export class Latch {
  readonly #cells: Int32Array;

  /** @param count how many countDown steps open the latch, an integer in [0, 2^31 - 1] (0: open from the start). */
  constructor(count: number) {
    if (reviving) {
      this.#cells = reviving;
      reviving = undefined;
      return;
    }
    checkInteger("Latch count", count, 0, MAX_COUNT);
    this.#cells = new Int32Array(new SharedArrayBuffer(BYTES));
    this.#cells[MAGIC] = LATCH_MAGIC;
    this.#cells[COUNT] = count;
  }

  /** What is left to count down (0 once open). */
  get count(): number {
    return Atomics.load(this.#cells, COUNT);
  }

  /**
   * Counts down by k (never below zero) and returns what is left. The step
   * that reaches zero wakes every waiter.
   */
  countDown(k = 1): number {
    checkPositiveCount("k", k);
    const c = this.#cells;
    let n = Atomics.load(c, COUNT);
    while (n > 0) {
      const next = n > k ? n - k : 0;
      const seen = Atomics.compareExchange(c, COUNT, n, next);
      if (seen === n) {
        // Notify only on the one transition to zero: the cell never changes again.
        if (next === 0) Atomics.notify(c, COUNT);
        return next;
      }
      n = seen;
    }
    return 0;
  }

  /**
   * Blocks until the count is zero (returns at once if it is).
   * @param timeout milliseconds; throws TimeoutError when it expires first.
   */
  wait(timeout?: number): void {
    const ms = checkTimeout(timeout);
    const c = this.#cells;
    let n = Atomics.load(c, COUNT);
    if (n === 0) return;
    if (spinWhileEqual(c, COUNT, n, DEFAULT_SPINS)) n = Atomics.load(c, COUNT);
    const deadline = deadlineAfter(ms);
    while (n !== 0) {
      if (park(c, COUNT, n, deadline) === "timed-out" && Atomics.load(c, COUNT) !== 0) {
        throw new TimeoutError("Latch.wait", ms);
      }
      n = Atomics.load(c, COUNT);
    }
  }

  /** Waits without blocking the event loop; TimeoutError on expiry, AbortError when `signal` aborts. */
  async waitAsync(options?: WaitOptions): Promise<void> {
    const { timeout, signal } = checkWaitOptions(options);
    if (signal?.aborted) throw new AbortError("Latch.waitAsync", signal.reason);
    const c = this.#cells;
    if (Atomics.load(c, COUNT) === 0) return;
    const deadline = deadlineAfter(timeout);
    try {
      for (let n = Atomics.load(c, COUNT); n !== 0; n = Atomics.load(c, COUNT)) {
        const r = await parkAsync(c, COUNT, n, deadline, signal, "Latch.waitAsync");
        if (r === "timed-out" && Atomics.load(c, COUNT) !== 0) throw new TimeoutError("Latch.waitAsync", timeout);
      }
    } finally {
    }
  }

  static {
    bufferOf = (l) => l.#cells.buffer as SharedArrayBuffer;
  }
}

registerShareable<Latch>({
  kind: "Latch",
  test: (v): v is Latch => v instanceof Latch,
  encode: (l) => ({ buffer: bufferOf(l) }),
  decode: (p) => {
    const buffer = checkPayloadBuffer(p, BYTES, LATCH_MAGIC, "Latch");
    const cells = new Int32Array(buffer);
    const count = Atomics.load(cells, COUNT);
    if (count < 0) throw new SabreTypeError(`field "buffer" holds an impossible Latch count ${count}`);
    reviving = cells;
    return new Latch(0);
  },
});
