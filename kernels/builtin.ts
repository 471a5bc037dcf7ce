// Kernels every engine has. User kernel names must not collide with these.
import { defineKernels } from "../src/engine/define.js";
import forest from "./forest/kernels.js";
import ops from "./ops/kernels.js";

export default defineKernels({
  /** Does nothing: what dispatch benchmarks and warm-ups run. */
  "sabre.noop"(): void {},
  ...forest.kernels,
  ...ops.kernels,
});
