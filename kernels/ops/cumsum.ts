// Worker side of ops.cumsum (src/ops/cumsum.ts): pass 1 writes block sums,
// pass 2 fills the output from the block offsets (src/ops/cumsum-run.ts).
import { defineKernels, type KernelContext } from "../../src/engine/define.js";
import { cumsumUnitsRange, type CumsumArgs } from "../../src/ops/cumsum-run.js";

export default defineKernels({
  "sabre.ops.cumsumSums"(ctx: KernelContext, a: CumsumArgs & { sums: Float64Array }): void {
    cumsumUnitsRange(a, ctx.start, ctx.end, a.sums, undefined, undefined);
  },
  "sabre.ops.cumsumFill"(ctx: KernelContext, a: CumsumArgs & { out: Float64Array; offs?: Float64Array }): void {
    cumsumUnitsRange(a, ctx.start, ctx.end, undefined, a.out, a.offs);
  },
});
