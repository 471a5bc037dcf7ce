// Worker side of ops.map: the built-in elementwise functions over a flat
// range of the (broadcast, merged) loop shape.
import { defineKernels } from "../../src/engine/define.js";
import { runMap, type MapArgs } from "./map-loops.js";

export default defineKernels({
  "sabre.ops.map"({ start, end }, args: MapArgs): void {
    runMap(args, start, end);
  },
});
