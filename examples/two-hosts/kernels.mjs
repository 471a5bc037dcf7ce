// The kernels every host serves: `sabre worker --kernels examples/two-hosts/kernels.mjs`.
// A cluster job names a kernel; code never travels, so each host loads this
// module itself (the same file, deployed with your code, on every machine).
import { defineKernels, rng } from "sabre/worker";

export default defineKernels({
  /**
   * Monte Carlo estimate of pi: darts thrown into the unit square for the
   * indices [start, end). Dart i uses its own random stream (seed, i), so the
   * total is the same whichever host or thread throws it.
   */
  "hosts.darts"({ start, end }, { seed, inside }) {
    let hits = 0;
    for (let i = start; i < end; i++) {
      const r = rng(seed, i);
      const x = r.float();
      const y = r.float();
      if (x * x + y * y < 1) hits++;
    }
    inside.value += hits; // a reduction: per-chunk partials, combined in chunk order
    return { start, end, hits };
  },
});
