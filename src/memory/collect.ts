// Garbage collection on demand, for shared memory's sake. A SharedArrayBuffer
// is freed only when every isolate that holds an object referring to it has
// collected that object, and V8 does not collect for the buffer's size: an
// engine worker, which allocates almost nothing, may never collect, and a
// script's main thread that calls a transform in a loop collects rarely. The
// buffers of dropped arrays then stay in memory (256 MB per fresh output).
// Two places ask for a collection: a worker that has dropped enough argument
// sets (kernels/runner.ts; dispatch.md, "evicting large sets"), and the
// allocator after enough large allocations (shared.ts).
import v8 from "node:v8";
import vm from "node:vm";

type Gc = (options?: { type: "minor" | "major" }) => void;

let gc: Gc | null | undefined;

/**
 * V8's gc function for this isolate, made available by the --expose-gc flag
 * set at run time (V8 flags are process-wide, but only contexts made after it
 * see `gc`: user code's globals do not change). null where that fails.
 */
function collector(): Gc | null {
  if (gc === undefined) {
    try {
      v8.setFlagsFromString("--expose-gc");
      const f: unknown = vm.runInNewContext("gc");
      gc = typeof f === "function" ? (f as Gc) : null;
    } catch {
      gc = null;
    }
  }
  return gc;
}

/**
 * Collects this isolate's garbage now, if it can: "minor" scavenges the young
 * generation only (about a millisecond; frees buffers whose last holder was
 * made recently), "major" collects everything.
 */
export function collectGarbage(type: "minor" | "major"): void {
  collector()?.({ type });
}
