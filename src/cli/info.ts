import { readFileSync } from "node:fs";
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
    hugePages: hugePages(),
  };
}

/**
 * Whether fresh shared buffers get transparent huge pages. On a VM that
 * faults 4 KiB pages slowly, first-touching 256 MB took 1.4-2.2 s without them
 * and 0.05-0.8 s with them; glibc asks for them only with this tunable.
 */
function hugePages(): string {
  let mode = "unknown";
  try {
    mode = /\[(\w+)\]/.exec(readFileSync("/sys/kernel/mm/transparent_hugepage/enabled", "utf8"))?.[1] ?? mode;
  } catch {
    return "not available (no transparent huge pages on this system)";
  }
  const tunable = (process.env.GLIBC_TUNABLES ?? "").includes("glibc.malloc.hugetlb=1");
  if (mode === "always") return "always (kernel setting)";
  if (mode === "never") return "never (kernel setting)";
  return tunable ? `on (GLIBC_TUNABLES=glibc.malloc.hugetlb=1, kernel mode ${mode})` : `off: set GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (kernel mode ${mode})`;
}
