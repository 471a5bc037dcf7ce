// Kernels every engine has. User kernel names must not collide with these.
import { defineKernels } from "../src/engine/define.js";
import csv from "./data/csv.js";
import forest from "./forest/kernels.js";
import loader from "./loader/kernels.js";
import ops from "./ops/kernels.js";
import preprocess from "./preprocess/kernels.js";

export default defineKernels({
  /** Does nothing: what dispatch benchmarks and warm-ups run. */
  "sabre.noop"(): void {},
  ...forest.kernels,
  ...ops.kernels,
  ...preprocess.kernels,
  ...csv.kernels,
  ...loader.kernels,
});
