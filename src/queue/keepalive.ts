/**
 * A pending Atomics.waitAsync does not keep Node's event loop alive
 * (nodejs/node#44729): a worker whose only work is `await queue.popAsync()`
 * would exit (code 13) while waiting for an item. While any async wait of
 * this thread is pending we hold one ref'd timer, as a pending socket read
 * would; the last wait to finish clears it.
 */

let pending = 0;
let timer: ReturnType<typeof setInterval> | undefined;

// The longest interval Node accepts; it never needs to fire.
const FOREVER = 2 ** 31 - 1;

/** Keeps the event loop alive until the returned function is called (calling it twice is harmless). */
export function holdEventLoop(): () => void {
  if (pending++ === 0) timer = setInterval(() => {}, FOREVER);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--pending === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}
