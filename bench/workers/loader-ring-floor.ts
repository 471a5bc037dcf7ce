// Worker of the memory group's "floor 5" row (bench/workers/loader-memory.ts):
// the least a 4-worker shared-ring loader can be in Node. Each worker claims
// batch numbers from a shared counter, waits until the batch's slot is free,
// copies the batch's shuffled rows into it and marks it filled, the protocol
// sabre's loader runs (src/data/loader/README.md, "The ring") with nothing
// else: no library, no errors reported, no timeout, no abort, no transforms.
import { parentPort, workerData } from "node:worker_threads";

export interface RingFloorData {
  readonly source: SharedArrayBuffer;
  readonly ring: SharedArrayBuffer;
  /** [0] the next batch to claim; [1 + s] slot s: 2b free for batch b, 2b + 1 filled with it. */
  readonly ctl: SharedArrayBuffer;
  readonly order: SharedArrayBuffer;
  readonly rowLen: number;
  readonly batch: number;
  readonly batches: number;
  readonly slots: number;
  /** Samples in the epoch (the last batch holds the remainder). */
  readonly n: number;
}

function run(d: RingFloorData): void {
  const src = new Float32Array(d.source);
  const slots = new Float32Array(d.ring);
  const ctl = new Int32Array(d.ctl);
  const order = new Int32Array(d.order);
  for (;;) {
    const b = Atomics.add(ctl, 0, 1);
    if (b >= d.batches) return;
    const word = 1 + (b % d.slots);
    for (let v = Atomics.load(ctl, word); v !== 2 * b; v = Atomics.load(ctl, word)) Atomics.wait(ctl, word, v);
    const base = (b % d.slots) * d.batch * d.rowLen;
    const size = Math.min(d.batch, d.n - b * d.batch);
    for (let i = 0; i < size; i++) {
      const r = order[b * d.batch + i]!;
      slots.set(src.subarray(r * d.rowLen, (r + 1) * d.rowLen), base + i * d.rowLen);
    }
    Atomics.store(ctl, word, 2 * b + 1);
    Atomics.notify(ctl, word);
  }
}

if (parentPort) {
  run(workerData as RingFloorData);
  parentPort.postMessage("done");
}
