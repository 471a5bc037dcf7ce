// DataLoader kernels ("sabre.loader.*"), filled in by issue 12.
import { defineKernels } from "../../src/engine/define.js";

export default defineKernels({});
