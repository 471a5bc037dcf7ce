// The sabre kernels of the dispatch benchmark's empty-call rows that give
// something back: a number, and a reduction partial. Beside the built-in
// `sabre.noop` they show what a result costs on its way to the main thread
// (src/engine/dispatch.md, "results").
import { defineKernels } from "sabre/worker";

export default defineKernels({
  /** Returns a number: each chunk's result comes back through shared memory. */
  "bench.ret0"(): number {
    return 0;
  },
  /** Adds 1 to a reduction clause: each chunk's partial comes back through shared memory. */
  "bench.add1"(_ctx, { total }: { total: { value: number } }): void {
    total.value += 1;
  },
});
