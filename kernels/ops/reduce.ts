// Worker side of the reductions (src/ops/reduce.ts): each kernel runs one
// unit of work of reduce-run.ts. Results travel through shared memory: a
// one-value partial is the chunk's number, wider ones go into `part`.
import { defineKernels, type KernelContext } from "../../src/engine/define.js";
import type { NumberTypedArray } from "../../src/memory/dtypes.js";
import { WIDTH } from "../../src/ops/reduce-core.js";
import { lanesRange, tilesRange, wholeChunk, type AxisArgs, type WholeArgs } from "../../src/ops/reduce-run.js";

const one = new Float64Array(3);

export default defineKernels({
  "sabre.ops.reduceAll"(ctx: KernelContext, a: WholeArgs & { part?: Float64Array }): number | undefined {
    if (a.part === undefined) {
      wholeChunk(a, ctx.start, ctx.end, one, 0);
      return one[0];
    }
    wholeChunk(a, ctx.start, ctx.end, a.part, ctx.chunk * WIDTH[a.op]);
    return undefined;
  },
  "sabre.ops.reduceLanes"(ctx: KernelContext, a: AxisArgs & { out: NumberTypedArray }): void {
    lanesRange(a, a.out, ctx.start, ctx.end);
  },
  "sabre.ops.reduceTiles"(ctx: KernelContext, a: AxisArgs & { part: Float64Array }): void {
    tilesRange(a, a.part, ctx.start, ctx.end);
  },
});
