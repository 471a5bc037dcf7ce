// The heavy dataset of the loader benchmark as a sabre dataset module: the
// same decode-like getItem as every peer's (loader-work.ts), run inside the
// DataLoader's workers (or on the calling thread with numWorkers 0).
import { defineDataset } from "sabre/worker";
import { heavyItem, SAMPLE_LEN } from "./loader-work.js";

export interface HeavyParams {
  readonly n: number;
  readonly rounds: number;
}

export default defineDataset<HeavyParams>({
  fields: { x: { dtype: "float32", shape: [SAMPLE_LEN] } },
  length: (params) => params.n,
  getItem(index, out, ctx) {
    heavyItem(index, out["x"] as Float32Array, 0, ctx.params.rounds);
  },
});
