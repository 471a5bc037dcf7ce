// Worker of the PyTorch-style postMessage loader (bench/peers/loader-postmessage.ts):
// builds each batch it is asked for into a fresh Float32Array and posts it
// back by structured clone (no transfer), as a Node user writes it today.
import { parentPort, workerData } from "node:worker_threads";
import { fillBatch, type WorkSpec } from "./loader-work.js";

const spec = workerData as WorkSpec;
const source = spec.source ? new Float32Array(spec.source) : undefined;
const port = parentPort!;

port.on("message", (m: { epoch: number; k: number; indices: Int32Array }) => {
  try {
    const values = new Float32Array(m.indices.length * spec.rowLen);
    fillBatch(spec, source, m.indices, values);
    port.postMessage({ epoch: m.epoch, k: m.k, values });
  } catch (err) {
    port.postMessage({ epoch: m.epoch, k: m.k, error: err instanceof Error ? err.stack ?? err.message : String(err) });
  }
});
