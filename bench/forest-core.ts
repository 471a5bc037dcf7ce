// Single-thread measurement of the forest core on Fashion-MNIST: binning,
// seconds per fully grown tree, nodes per tree, test accuracy of a 10-tree
// soft vote. Not part of `npm test`:
//   node scripts/build.mjs --bench && node build/bench/forest-core.js [trees] [maxFeatures]
import { existsSync } from "node:fs";
import { readIdxSync } from "../src/data/idx.js";
import { ndarray, type NdArray } from "../src/memory/ndarray-type.js";
import { sharedTypedArray } from "../src/memory/shared.js";
import { rng } from "../src/random/rng.js";
import { forestTuning, accumulatePredictions, applyBins, applyBinsBoth, applyBinsRows, fitBins, growTree, type FlatTree, type ForestData, type TreeParams } from "../kernels/forest/index.js";

const DIR = "/usr/share/datasets/fashion-mnist";
if (!existsSync(`${DIR}/train-images-idx3-ubyte.gz`)) {
  console.log(`Fashion-MNIST not found in ${DIR}: apt-get install dataset-fashion-mnist`);
  process.exit(0);
}
const nTrees = Number(process.argv[2] ?? 10);
const mfArg = process.argv[3];
const params: TreeParams = { maxFeatures: mfArg === undefined ? "sqrt" : mfArg === "null" ? null : Number(mfArg) };

function flat(a: NdArray): NdArray {
  const n = a.shape[0]!;
  const d = a.size / n;
  return ndarray(a.data, [n, d], [d, 1], 0);
}

let t = performance.now();
let c = process.cpuUsage();
const cpuSince = (): string => {
  const u = process.cpuUsage(c);
  c = process.cpuUsage();
  return `${((u.user + u.system) / 1e6).toFixed(3)} s CPU`;
};
const Xtr = flat(readIdxSync(`${DIR}/train-images-idx3-ubyte.gz`));
const ytr = readIdxSync(`${DIR}/train-labels-idx1-ubyte.gz`);
const Xte = flat(readIdxSync(`${DIR}/t10k-images-idx3-ubyte.gz`));
const yte = readIdxSync(`${DIR}/t10k-labels-idx1-ubyte.gz`);
const [n, d] = Xtr.shape as [number, number];
console.log(`read ${n} x ${d} train, ${Xte.shape[0]} test in ${((performance.now() - t) / 1000).toFixed(2)} s`);

cpuSince();
const bins = fitBins(Xtr, 256);
const tFit = cpuSince();
const codes = applyBins(Xtr, bins, sharedTypedArray("uint8", n * d));
const tApply = cpuSince();
const rowCodes = applyBinsRows(Xtr, bins, sharedTypedArray("uint8", n * d));
const tRows = cpuSince();
applyBinsBoth(Xtr, bins, sharedTypedArray("uint8", n * d), sharedTypedArray("uint8", n * d));
const tBoth = cpuSince();
console.log(`fitBins ${tFit}, applyBins ${tApply}, applyBinsRows ${tRows}, or both in one pass (applyBinsBoth) ${tBoth} (single thread)`);

const y = Int32Array.from(ytr.data as Uint8Array);
if (process.env.HIST_MIN) forestTuning.histMin = Number(process.env.HIST_MIN);
if (process.env.ROW_MAX) forestTuning.rowMax = Number(process.env.ROW_MAX);
console.log(`tuning ${JSON.stringify(forestTuning)}`);
const useRows = process.env.ROWCODES !== "0";
const data: ForestData = { nSamples: n, nFeatures: d, codes, rowCodes: useRows ? rowCodes : null, bins, y, nClasses: 10 };
// This machine is shared and often oversubscribed: CPU time (user + system)
// of this thread is the figure to read, wall time is shown beside it.
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const trees: FlatTree[] = [];
const times: number[] = [];
for (let i = 0; i < nTrees; i++) {
  t = performance.now();
  const c0 = cpu();
  const tree = growTree(data, params, i, 42);
  times.push(cpu() - c0);
  trees.push(tree);
  console.log(`tree ${i}: ${times[i]!.toFixed(3)} s CPU (${((performance.now() - t) / 1000).toFixed(3)} s wall), ${tree.nodeCount} nodes, depth ${tree.maxDepth}`);
}
const sorted = times.slice().sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)]!;
const nodes = trees.reduce((s, tr) => s + tr.nodeCount, 0) / trees.length;

const nt = Xte.shape[0]!;
t = performance.now();
const proba = new Float64Array(nt * 10);
accumulatePredictions(trees, Xte, 0, nt, proba, 1 / trees.length);
const tPred = (performance.now() - t) / 1000;
let correct = 0;
for (let r = 0; r < nt; r++) {
  let best = 0;
  for (let c = 1; c < 10; c++) if (proba[r * 10 + c]! > proba[r * 10 + best]!) best = c;
  if (best === (yte.data as Uint8Array)[r]) correct++;
}
console.log(
  `\n${nTrees} trees, maxFeatures ${JSON.stringify(params.maxFeatures)}, rowCodes ${useRows}: median ${median.toFixed(3)} s CPU/tree ` +
    `(min ${sorted[0]!.toFixed(3)}, max ${sorted[sorted.length - 1]!.toFixed(3)}), ${nodes.toFixed(0)} nodes/tree, ` +
    `predict ${tPred.toFixed(3)} s, test accuracy ${(correct / nt).toFixed(4)}`,
);

// EXTRA=1: a regression tree over all 784 features, and a continuous table
// (quantile bins, not exact) of 300,000 x 20 normal features.
if (process.env.EXTRA === "1") {
  const yr = Float64Array.from(y);
  let c0 = cpu();
  const rt = growTree({ ...data, y: yr, nClasses: 0 }, {}, 0, 42);
  console.log(`regression tree (maxFeatures 1.0 = 784 per node): ${(cpu() - c0).toFixed(2)} s CPU, ${rt.nodeCount} nodes`);
  const nc = 300_000;
  const dc = 20;
  const r = rng(1);
  const Xc = ndarray(r.fillNormal(new Float64Array(nc * dc)), [nc, dc], [dc, 1], 0);
  const yc = new Int32Array(nc);
  const xd = Xc.data as Float64Array;
  for (let i = 0; i < nc; i++) yc[i] = xd[i * dc]! + 0.5 * xd[i * dc + 1]! + 0.3 * r.normal() > 0 ? 1 : 0;
  c0 = cpu();
  const bc = fitBins(Xc, 256);
  const tb = cpu() - c0;
  c0 = cpu();
  const cc = applyBins(Xc, bc, sharedTypedArray("uint8", nc * dc));
  const rc = applyBinsRows(Xc, bc, sharedTypedArray("uint8", nc * dc));
  const ta = cpu() - c0;
  c0 = cpu();
  const ct = growTree({ nSamples: nc, nFeatures: dc, codes: cc, rowCodes: rc, bins: bc, y: yc, nClasses: 2 }, {}, 0, 1);
  console.log(
    `continuous ${nc} x ${dc}: fitBins ${tb.toFixed(2)} s, applyBins + applyBinsRows ${ta.toFixed(2)} s, ` +
      `one tree ${(cpu() - c0).toFixed(2)} s CPU, ${ct.nodeCount} nodes`,
  );
}
