// Worker side of ops.dot and ops.matmul.
import { defineKernels } from "../../src/engine/define.js";
import { matmulBlocks, type MatmulArgs } from "./matmul-blocked.js";
import { dotBlocks, matvecRows, type DotArgs, type MatvecArgs } from "./matmul-dot.js";

export default defineKernels({
  /** Blocks of MC rows of C = A B. */
  "sabre.ops.matmul"({ start, end }, args: MatmulArgs): void {
    matmulBlocks(args, start, end);
  },
  /** Rows of out = A v. */
  "sabre.ops.matvec"({ start, end }, args: MatvecArgs): void {
    matvecRows(args, start, end);
  },
  /** Block partials of a 1-D dot. */
  "sabre.ops.dot"({ start, end }, args: DotArgs): void {
    dotBlocks(args, start, end);
  },
});
