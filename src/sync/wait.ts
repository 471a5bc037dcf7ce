import { AbortError } from "../errors.js";
import { coreCount } from "./spin-policy.js";

/**
 * The two ways a thread waits for a shared Int32 cell to change: parking
 * (Atomics.wait: the thread sleeps in the kernel) and async parking
 * (Atomics.waitAsync: the event loop keeps running). Every primitive loops
 * around these: a wake-up only means "look again", so spurious wake-ups,
 * notifications meant for someone else and changes that raced the call are
 * all handled by re-reading the state.
 *
 * Why no wake-up is lost: Atomics.wait(a, i, v) compares a[i] with v and
 * sleeps in one step under the futex's lock, and every notifier changes the
 * cell before it calls Atomics.notify. A change that lands between our read
 * and our wait makes the wait return "not-equal" at once.
 */

export type WaitOutcome = "ok" | "not-equal" | "timed-out";

/**
 * How long a waiter spins (re-reading the cell) before it parks: 100 reads
 * (well under a microsecond, far less than a time slice, so it cannot starve
 * the thread it waits for even with more threads than cores), or none on a
 * single core, where the awaited thread cannot run while we spin. Used by
 * Latch, CondVar, Semaphore, RwLock and Queue; the Mutex and the Barrier have
 * their own policies (mutex.md, barrier.md).
 */
export const DEFAULT_SPINS = coreCount() > 1 ? 100 : 0;

/**
 * A lock waiter's spin phase: this many reads of the lock word, with a pause
 * before each that doubles from BACKOFF_MIN to BACKOFF_MAX iterations of
 * register-only work (~2 us in all). Reading a lock word in a tight loop
 * pulls its cache line away from the owner on every read, and the owner pays
 * for it on its next unlock/lock; spaced reads let the owner run several
 * critical sections per transfer. Measured with two threads contending on
 * increments: 28-47 ns/op with backoff against 77-95 ns/op for 100 tight
 * reads (pthreads: 32).
 */
export const BACKOFF_READS = 12;
const BACKOFF_MIN = 4;
const BACKOFF_MAX = 256;

/** The pause before read `i` (0-based) of a backoff spin, in pause() iterations. */
export function backoffDelay(i: number): number {
  return Math.min(BACKOFF_MIN << i, BACKOFF_MAX);
}

let pauseSink = 0;

/**
 * Burns about `iterations` ns without touching memory another thread writes
 * (JavaScript has no pause instruction). The result goes to a sink so the
 * loop cannot be optimized away.
 */
export function pause(iterations: number): void {
  let z = pauseSink;
  for (let k = 0; k < iterations; k++) z = (z * 31 + k) | 0;
  pauseSink = z;
}

/** The absolute time (performance.now) a wait of `timeout` ms started now must end; Infinity for none. */
export function deadlineAfter(timeout: number): number {
  return timeout === Infinity ? Infinity : performance.now() + timeout;
}

/** Milliseconds left before `deadline` (never negative). */
export function remaining(deadline: number): number {
  if (deadline === Infinity) return Infinity;
  return Math.max(0, deadline - performance.now());
}

/** Spins while i32[index] === expected, at most `spins` reads. True if the cell changed. */
export function spinWhileEqual(i32: Int32Array, index: number, expected: number, spins: number): boolean {
  for (let i = 0; i < spins; i++) {
    if (Atomics.load(i32, index) !== expected) return true;
  }
  return false;
}

/**
 * Spins while i32[index] === expected for at most `micros` microseconds. True
 * if the cell changed. Bounded by time, not by count: what matters is
 * outlasting the other thread's typical turnaround (a futex wake-up costs
 * 10-150 us on a VM), whatever the speed of one load.
 */
export function spinWhileEqualFor(i32: Int32Array, index: number, expected: number, micros: number): boolean {
  if (micros <= 0) return Atomics.load(i32, index) !== expected;
  const until = performance.now() + micros / 1000;
  for (;;) {
    for (let i = 0; i < 64; i++) if (Atomics.load(i32, index) !== expected) return true;
    if (performance.now() >= until) return false;
  }
}

/** Sleeps while i32[index] === expected, until notified or the deadline passes. */
export function park(i32: Int32Array, index: number, expected: number, deadline: number): WaitOutcome {
  const ms = remaining(deadline);
  if (ms === 0) return Atomics.load(i32, index) === expected ? "timed-out" : "not-equal";
  return Atomics.wait(i32, index, expected, ms);
}

/**
 * Waits asynchronously while i32[index] === expected, until notified, the
 * deadline passes or `signal` aborts (then it rejects with AbortError).
 *
 * An aborted waitAsync cannot be unregistered, so on abort we notify every
 * waiter of the cell: ours resolves and is dropped, the others see a spurious
 * wake-up, re-read the state and wait again. Only aborts pay this.
 */
export async function parkAsync(
  i32: Int32Array,
  index: number,
  expected: number,
  deadline: number,
  signal: AbortSignal | undefined,
  what: string,
): Promise<WaitOutcome> {
  if (signal?.aborted) throw new AbortError(what, signal.reason);
  const ms = remaining(deadline);
  if (ms === 0) return Atomics.load(i32, index) === expected ? "timed-out" : "not-equal";
  const result = Atomics.waitAsync(i32, index, expected, ms);
  if (!result.async) return result.value;
  const letGo = holdEventLoop();
  if (!signal) {
    try {
      return await result.value;
    } finally {
      letGo();
    }
  }
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      Atomics.notify(i32, index);
      reject(new AbortError(what, signal.reason));
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([result.value, aborted]);
  } finally {
    letGo();
    signal.removeEventListener("abort", onAbort!);
  }
}

let holders = 0;
let keepAlive: ReturnType<typeof setInterval> | undefined;

/**
 * A pending Atomics.waitAsync does not keep Node's event loop alive
 * (nodejs/node#44729): a thread whose only work is awaiting a cell would exit
 * (code 13) mid-wait. While any async wait of this thread is pending, one
 * ref'd timer is held, as a pending socket read would; the last wait to
 * finish clears it. The returned function lets go (twice is harmless).
 */
export function holdEventLoop(): () => void {
  if (holders++ === 0) keepAlive = setInterval(() => {}, 2 ** 31 - 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holders === 0) {
      clearInterval(keepAlive);
      keepAlive = undefined;
    }
  };
}
