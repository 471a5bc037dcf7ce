// Task module of the piscina loader peer (bench/peers/loader-piscina.ts): one
// task builds one batch into a fresh ArrayBuffer and returns it transferred
// (Piscina.move), so no copy crosses the thread boundary.
import { move, workerData } from "piscina";
import { fillBatch, type WorkSpec } from "./loader-work.js";

const spec = workerData as WorkSpec;
const source = spec.source ? new Float32Array(spec.source) : undefined;

export default function batch(task: { indices: Int32Array }): unknown {
  const values = new Float32Array(task.indices.length * spec.rowLen);
  fillBatch(spec, source, task.indices, values);
  return move(values);
}
