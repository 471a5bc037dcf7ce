// The built-in kernels of a DataLoader's private engine (src/data/loader/README.md,
// "Where the workers come from"): the loop and the no-op, nothing else, so its
// workers do not load forest, ops, preprocess or csv code.
import { defineKernels } from "../../src/engine/define.js";
import loader from "./kernels.js";

export default defineKernels({
  /** Does nothing: what dispatch benchmarks and warm-ups run (as in kernels/builtin.ts). */
  "sabre.noop"(): void {},
  ...loader.kernels,
});
