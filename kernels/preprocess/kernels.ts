// Every preprocessing kernel, named "sabre.preprocess.<name>", as one module for builtin.ts.
import { defineKernels } from "../../src/engine/define.js";
import colstats from "./colstats.js";
import encode from "./encode.js";
import gather from "./gather.js";
import histselect from "./histselect.js";
import scale from "./scale.js";
import stratify from "./stratify.js";

export default defineKernels({
  ...scale.kernels,
  ...colstats.kernels,
  ...histselect.kernels,
  ...encode.kernels,
  ...gather.kernels,
  ...stratify.kernels,
});
