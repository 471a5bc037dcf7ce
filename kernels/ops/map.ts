// Worker side of ops.map: filled in by its own change.
import { defineKernels } from "../../src/engine/define.js";

export default defineKernels({});
