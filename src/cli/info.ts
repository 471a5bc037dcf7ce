import { availableParallelism, cpus, totalmem } from "node:os";
import { packageVersion } from "../package-root.js";

/** What the machine offers sabre: threads, shared memory, Atomics, versions. */
export function info(): Record<string, string | number | boolean> {
  const hasWaitAsync = typeof (Atomics as { waitAsync?: unknown }).waitAsync === "function";
  return {
    sabre: packageVersion(),
    node: process.versions.node,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
    cpu: cpus()[0]?.model ?? "unknown",
    availableParallelism: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    sharedArrayBuffer: typeof SharedArrayBuffer === "function",
    atomicsWait: typeof Atomics.wait === "function",
    atomicsWaitAsync: hasWaitAsync,
    growableSharedArrayBuffer: "growable" in SharedArrayBuffer.prototype,
  };
}
