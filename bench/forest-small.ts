// Single-thread measurement of the forest core on a small table: make_friedman1
// 25,000 x 10 (bench/.cache, as the forest suite writes it), regressor
// defaults (or, with --classify, a classifier of y > 14.4 with sqrt
// features). Not part of `npm test`:
//   node scripts/build.mjs --bench && node build/bench/forest-small.js [trees] [--classify] [--shared] [--alt knob=v1,v2,...]
// Plain: CPU per tree from the first (JIT cold) to the last, and a digest of
// the trees (two builds that print the same digest grew the same trees).
// --alt: grows each tree once per value of the forestTuning knob, values
// alternating tree by tree in one process (paired: the machine is shared and
// its load moves), and prints each value's median CPU per tree after a
// warm-up, with its trees' digest.
import { createHash, type Hash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ndarray } from "../src/memory/ndarray-type.js";
import { sharedTypedArray } from "../src/memory/shared.js";
import { applyBinsBoth, fitBins, forestTuning, growTree, type FlatTree, type ForestData, type TreeParams } from "../kernels/forest/index.js";
import { ensureFriedman } from "./workers/forest-data.js";

const args = process.argv.slice(2);
const altAt = args.indexOf("--alt");
const alt = altAt >= 0 ? args.splice(altAt, 2)[1]! : null;
const classify = args.includes("--classify");
// --shared: the trees' arrays in SharedArrayBuffers, as a fit's workers write them.
const grow = { shared: args.includes("--shared") };
const nTrees = Number(args.find((a) => /^\d+$/.test(a)) ?? 20);

const cacheDir = join(fileURLToPath(new URL(".", import.meta.url)), "../../bench/.cache");
const files = ensureFriedman(cacheDir, 25_000, 5_000);
const n = files.train;
const d = files.features;
const all = new Float64Array(readFileSync(files.x).buffer.slice(0));
const yAll = new Float64Array(readFileSync(files.yr).buffer.slice(0));
const X = ndarray(all.subarray(0, n * d), [n, d], [d, 1], 0);
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
let c0 = cpu();
const bins = fitBins(X, 256);
const codes = sharedTypedArray("uint8", n * d);
const rowCodes = sharedTypedArray("uint8", n * d);
applyBinsBoth(X, bins, codes, rowCodes, 0, n);
console.log(`binning ${(cpu() - c0).toFixed(3)} s CPU`);
const y = classify ? Int32Array.from(yAll.subarray(0, n), (v) => (v > 14.4 ? 1 : 0)) : yAll.subarray(0, n);
const data: ForestData = { nSamples: n, nFeatures: d, codes, rowCodes, bins, y, nClasses: classify ? 2 : 0 };
const params: TreeParams = classify ? { maxFeatures: "sqrt" } : {};

const digest = (hash: Hash, t: FlatTree): void => {
  for (const a of [t.feature, t.threshold, t.left, t.right, t.value, t.nNodeSamples, t.weightedNNodeSamples, t.impurity]) {
    hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
};
const median = (a: number[]): number => a.slice().sort((p, q) => p - q)[a.length >> 1]!;

if (alt !== null) {
  const [knob, list] = alt.split("=") as [keyof typeof forestTuning, string];
  if (!(knob in forestTuning) || !list) throw new Error(`--alt wants knob=v1,v2 with a forestTuning knob, got ${alt}`);
  const values = list.split(",").map(Number);
  const saved = forestTuning[knob];
  const times: number[][] = values.map(() => []);
  const hashes = values.map(() => createHash("sha256"));
  for (let i = 0; i < nTrees; i++) {
    for (let v = 0; v < values.length; v++) {
      (forestTuning as Record<string, unknown>)[knob] = values[v];
      c0 = cpu();
      const tree = growTree(data, params, i, 1, grow);
      if (i >= 5) times[v]!.push(cpu() - c0);
      digest(hashes[v]!, tree);
    }
  }
  (forestTuning as Record<string, unknown>)[knob] = saved;
  console.log(values.map((v, k) => `${knob}=${v}: ${(median(times[k]!) * 1000).toFixed(1)} ms/tree, trees ${hashes[k]!.digest("hex").slice(0, 16)}`).join("  "));
} else {
  const hash = createHash("sha256");
  const times: number[] = [];
  let nodes = 0;
  for (let i = 0; i < nTrees; i++) {
    c0 = cpu();
    const tree = growTree(data, params, i, 1, grow);
    times.push(cpu() - c0);
    nodes += tree.nodeCount;
    digest(hash, tree);
  }
  const warm = times.slice(Math.min(5, nTrees - 1));
  console.log(
    `first trees ${times.slice(0, 5).map((t) => (t * 1000).toFixed(0)).join(", ")} ms CPU; warm median ${(median(warm) * 1000).toFixed(1)} ms; ` +
      `total ${times.reduce((a, b) => a + b, 0).toFixed(3)} s; ${(nodes / nTrees).toFixed(0)} nodes/tree; trees ${hash.digest("hex").slice(0, 16)}`,
  );
}
