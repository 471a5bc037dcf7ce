// The sabre rows of the sync benchmark that need two threads: contended
// Mutex increments, Barrier rounds and Queue hand-off. Primitives arrive
// through sabre's own serialize/deserialize, as a plain worker_threads user
// would pass them.
import { deserialize, type Barrier, type Mutex, type Queue } from "sabre";
import { passGate, serve } from "../harness/workers.js";

serve({
  /**
   * n increments of cell[0], each under the shared Mutex. Returns the elapsed ms or, with `span`,
   * [start, end] on the process-wide clock (performance.timeOrigin + now), so the main thread can
   * time all threads together: with more threads than cores, one thread can run its whole loop in
   * one time slice while the others wait their turn, and its own elapsed time says nothing of the
   * total.
   */
  contend: (a) => {
    const { mutex } = deserialize<{ mutex: Mutex }>(a["shared"]);
    const cell = a["cell"] as Int32Array;
    const n = a["n"] as number;
    passGate(a["gate"] as Int32Array, a["parties"] as number);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      mutex.lock();
      cell[0]!++;
      mutex.unlock();
    }
    const t1 = performance.now();
    return a["span"] ? [performance.timeOrigin + t0, performance.timeOrigin + t1] : t1 - t0;
  },

  /** `rounds` Barrier.wait() calls; returns [elapsed ms, rounds led]. */
  barrier: (a) => {
    const { barrier } = deserialize<{ barrier: Barrier }>(a["shared"]);
    const rounds = a["rounds"] as number;
    let led = 0;
    passGate(a["gate"] as Int32Array, a["parties"] as number);
    const t0 = performance.now();
    for (let r = 0; r < rounds; r++) if (barrier.wait().leader) led++;
    return [performance.now() - t0, led];
  },

  /** Pushes 0..n-1. */
  produce: (a) => {
    const { queue } = deserialize<{ queue: Queue<"int32", undefined> }>(a["shared"]);
    const n = a["n"] as number;
    passGate(a["gate"] as Int32Array, 2);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) queue.push(i);
    return performance.now() - t0;
  },

  /** Pops n records, checking FIFO order (one producer); returns the elapsed ms. */
  consume: (a) => {
    const { queue } = deserialize<{ queue: Queue<"int32", undefined> }>(a["shared"]);
    const n = a["n"] as number;
    passGate(a["gate"] as Int32Array, 2);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const v = queue.pop();
      if (v !== i) throw new Error(`Queue.pop gave ${v} where ${i} was expected (FIFO with one producer)`);
    }
    return performance.now() - t0;
  },
});
