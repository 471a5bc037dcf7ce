// DataLoader kernels ("sabre.loader.*"): the worker side of the slot ring.
import { defineKernels, type Kernel } from "../../src/engine/define.js";
import { loaderLoop } from "./loop.js";

export default defineKernels({
  "sabre.loader.loop": loaderLoop as Kernel,
});
