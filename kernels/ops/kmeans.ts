// Worker side of ops.kmeans: one SPMD body per worker (kernels/ops/kmeans.md).
import { defineKernels } from "../../src/engine/define.js";
import type { KernelContext } from "../../src/engine/define.js";
import type { KMeansJob } from "../../src/ops/kmeans-layout.js";
import { kmeansSpmd } from "../../src/ops/kmeans-spmd.js";
// The job carries a Barrier: this worker must know how to revive one.
import "../../src/sync/barrier.js";

export default defineKernels({
  // A broadcast: chunk i runs on worker i, one chunk per worker.
  "sabre.ops.kmeans"(ctx: KernelContext, job: KMeansJob): number {
    return kmeansSpmd(ctx.chunk, ctx.nChunks, job);
  },
});
