// The sabre rows of the sync benchmark that need two threads: contended
// Mutex increments, Barrier rounds and Queue hand-off. Primitives arrive
// through sabre's own serialize/deserialize, as a plain worker_threads user
// would pass them.
import { deserialize, type Mutex } from "sabre";
import { passGate, serve } from "../harness/workers.js";

// The DESIGN.md surface of the primitives not yet on main (Barrier, Queue).
interface BarrierLike {
  wait(timeout?: number): { leader: boolean; generation: number };
}
interface QueueLike {
  push(value: number, timeout?: number): void;
  pop(out?: undefined, timeout?: number): unknown;
}

/** A popped int32 record: a number, or a one-element typed array for shaped records. */
function scalar(v: unknown): number {
  if (typeof v === "number") return v;
  if (ArrayBuffer.isView(v) && "length" in v) return (v as unknown as ArrayLike<number>)[0]!;
  if (typeof v === "object" && v !== null && "data" in v) return (v as { data: ArrayLike<number> }).data[0]!;
  throw new Error(`Queue.pop returned ${typeof v}, expected an int32 record`);
}

serve({
  /** n increments of cell[0], each under the shared Mutex. */
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
    return performance.now() - t0;
  },

  /** `rounds` Barrier.wait() calls; returns [elapsed ms, rounds led]. */
  barrier: (a) => {
    const { barrier } = deserialize<{ barrier: BarrierLike }>(a["shared"]);
    const rounds = a["rounds"] as number;
    let led = 0;
    passGate(a["gate"] as Int32Array, a["parties"] as number);
    const t0 = performance.now();
    for (let r = 0; r < rounds; r++) if (barrier.wait().leader) led++;
    return [performance.now() - t0, led];
  },

  /** Pushes 0..n-1. */
  produce: (a) => {
    const { queue } = deserialize<{ queue: QueueLike }>(a["shared"]);
    const n = a["n"] as number;
    passGate(a["gate"] as Int32Array, 2);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) queue.push(i);
    return performance.now() - t0;
  },

  /** Pops n records, checking FIFO order (one producer); returns the elapsed ms. */
  consume: (a) => {
    const { queue } = deserialize<{ queue: QueueLike }>(a["shared"]);
    const n = a["n"] as number;
    passGate(a["gate"] as Int32Array, 2);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const v = scalar(queue.pop());
      if (v !== i) throw new Error(`Queue.pop gave ${v} where ${i} was expected (FIFO with one producer)`);
    }
    return performance.now() - t0;
  },
});
