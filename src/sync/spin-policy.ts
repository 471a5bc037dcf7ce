import { availableParallelism } from "node:os";

/**
 * When spinning can pay. A waiter that spins keeps a core busy in the hope
 * that the thread it waits for, running on another core, finishes within the
 * spin. That only holds while every thread the waiter depends on has a core
 * of its own: with more runnable threads than cores, a spinner burns the time
 * slice the awaited thread needs, and each wait then costs whole scheduler
 * quanta (a 16-party Barrier on 2 cores measured ~1.5 ms a round spinning,
 * against ~40-70 us for pthread's, which parks at once).
 *
 * The core count is read once per thread, on first use (os.availableParallelism
 * is a libuv call: cheap, but not free on every wait).
 */
let cores = 0;

/** The cores this process may run on (at least 1). */
export function coreCount(): number {
  if (cores === 0) cores = Math.max(1, availableParallelism());
  return cores;
}

/**
 * True if `threads` threads (the waiter included) that wait for one another
 * can all run at once, so that spinning on a cell the others will change can
 * pay. Above that, waiters should park at once.
 */
export function allCanRun(threads: number): boolean {
  return threads <= coreCount();
}

/**
 * How many waiters of one lock may spin at once. One or two spinners catch
 * nearly every release a spin can catch (the lock goes to one thread at a
 * time); every further spinner only pulls the lock's cache line away from the
 * owner. One core must stay free for the owner, so a single-core machine
 * never spins.
 */
export function spinnerLimit(): number {
  return Math.min(2, coreCount() - 1);
}
