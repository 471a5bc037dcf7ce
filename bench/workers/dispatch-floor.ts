// The floor of the dispatch benchmark: a bare Atomics hand-off between the
// main thread and one worker, with no pool, no job slots and no results. The
// main thread writes a ticket into cell 0; the worker copies it into cell 1.
// With a spin budget the worker is usually spinning when the ticket arrives
// (what a hot engine worker can at best do); with 0 it parks in Atomics.wait
// at once, so every ticket costs a futex wake (what a parked worker costs).
import { serve } from "../harness/workers.js";

serve({
  /**
   * Answers tickets 1..n: waits for cell[0] to change (spinning up to
   * `spinUs`, then Atomics.wait), stores it into cell[1] and notifies.
   */
  pong: (a) => {
    const cell = a["cell"] as Int32Array;
    const n = a["n"] as number;
    const spinMs = (a["spinUs"] as number) / 1000;
    for (let seen = 0; seen < n; ) {
      if (Atomics.load(cell, 0) === seen && spinMs > 0) {
        const until = performance.now() + spinMs;
        spin: for (;;) {
          for (let k = 0; k < 64; k++) if (Atomics.load(cell, 0) !== seen) break spin;
          if (performance.now() > until) break;
        }
      }
      while (Atomics.load(cell, 0) === seen) Atomics.wait(cell, 0, seen);
      seen = Atomics.load(cell, 0);
      Atomics.store(cell, 1, seen);
      Atomics.notify(cell, 1);
    }
    return n;
  },
});
