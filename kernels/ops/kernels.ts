// Every ops kernel, named "sabre.ops.<name>", as one module for builtin.ts.
import { defineKernels } from "../../src/engine/define.js";
import cumsum from "./cumsum.js";
import histogram from "./histogram.js";
import kmeans from "./kmeans.js";
import linalg from "./linalg.js";
import map from "./map.js";
import reduce from "./reduce.js";
import sort from "./sort.js";

export default defineKernels({
  ...reduce.kernels,
  ...map.kernels,
  ...linalg.kernels,
  ...histogram.kernels,
  ...sort.kernels,
  ...cumsum.kernels,
  ...kmeans.kernels,
});
