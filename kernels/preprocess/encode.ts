// Filled in by issue 11.
import { defineKernels } from "../../src/engine/define.js";

export default defineKernels({});
