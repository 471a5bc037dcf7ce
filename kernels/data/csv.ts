// Parallel CSV parsing kernels ("sabre.data.csv.*"), filled in by issue 11.
import { defineKernels } from "../../src/engine/define.js";

export default defineKernels({});
