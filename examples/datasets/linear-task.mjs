// A dataset module for examples/dataloader-training.mjs: it runs inside the
// DataLoader's worker threads, which call getItem(index) to write each
// sample straight into a batch slot in shared memory.
//
// The task: x ~ N(0, 1)^dims, label 1 when w.x + noise > 0 for a hidden
// weight vector w. Every sample is generated from its own random stream
// (seed, split, index), so it is the same whichever worker makes it and
// however many workers there are; nothing is stored.
import { defineDataset, rng } from "sabre/worker";

/** @typedef {{ samples: number, dims: number, seed: number, split: "train" | "test", noise: number }} Params */

export default defineDataset({
  // The shape of one sample; a batch of B samples has x [B, dims] and y [B, 1].
  fields: {
    x: { dtype: "float32", shape: [16] },
    y: { dtype: "float32", shape: [1] },
  },
  /** Once per worker: the hidden weights (the same in every worker: same seed). @param {Params} p */
  init(p) {
    if (p.dims !== 16) throw new Error("this dataset's fields are declared for dims = 16");
    return { w: rng(p.seed, 0).fillNormal(new Float64Array(p.dims)) };
  },
  /** @param {Params} p */
  length(p) {
    return p.samples;
  },
  getItem(index, out, { params, state }) {
    const r = rng(params.seed, params.split === "train" ? 1 : 2, index);
    r.fillNormal(out.x);
    let z = 0;
    for (let j = 0; j < params.dims; j++) z += state.w[j] * out.x[j];
    out.y[0] = z / Math.sqrt(params.dims) + r.normal(0, params.noise) > 0 ? 1 : 0;
  },
});
