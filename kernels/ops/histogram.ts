// Worker side of ops.histogram: filled in by its own change.
import { defineKernels } from "../../src/engine/define.js";

export default defineKernels({});
