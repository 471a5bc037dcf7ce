// One ml-random-forest contender run of the forest suite, in its own process:
// `node build/bench/peers/forest-mlrf.js '<RunSpec JSON>'` (Fashion-MNIST only).
// Prints one RunResult JSON line last on stdout, or { skip } when the package
// is not installed.
//
// ml-random-forest 2.1 is single-threaded and takes plain arrays of rows. It
// draws a feature subset once per tree (not per split, as scikit-learn and
// sabre do) and votes by majority; it is run with maxFeatures = sqrt(d), so
// each split weighs the same number of features as the others' "sqrt", and
// noOOB (no out-of-bag pass, which it would otherwise add to its fit).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { importPeer } from "../harness/peers.js";
import { Skip } from "../harness/measure.js";
import { FASHION_FILES, processCpuS, runAsChild, type RunResult, type RunSpec } from "../workers/forest-data.js";

interface MlRandomForest {
  RandomForestClassifier: new (options: Record<string, unknown>) => {
    train(X: number[][], y: number[]): void;
    predict(X: number[][]): number[];
    estimators: { root: unknown }[];
  };
}

/** An IDX file of unsigned bytes as rows of numbers (or one number per item for labels). */
function readIdxRows(path: string): { rows: number; width: number; data: Uint8Array } {
  const b = gunzipSync(readFileSync(path));
  if (b[0] !== 0 || b[1] !== 0 || b[2] !== 0x08) throw new Error(`${path}: not an IDX file of unsigned bytes`);
  const ndim = b[3]!;
  const dims = Array.from({ length: ndim }, (_, i) => b.readUInt32BE(4 + 4 * i));
  const rows = dims[0]!;
  const width = dims.slice(1).reduce((a, x) => a * x, 1);
  const data = new Uint8Array(b.buffer, b.byteOffset + 4 + 4 * ndim, rows * width);
  return { rows, width, data };
}

function asRows(m: { width: number; data: Uint8Array }, n: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from(m.data.subarray(i * m.width, (i + 1) * m.width)));
}

function countNodes(node: unknown): number {
  if (node === null || typeof node !== "object") return 0;
  const o = node as { left?: unknown; right?: unknown };
  return 1 + countNodes(o.left) + countNodes(o.right);
}

const MiB = 2 ** 20;

async function main(spec: RunSpec): Promise<RunResult> {
  let mlrf: MlRandomForest;
  try {
    mlrf = await importPeer<MlRandomForest>("ml-random-forest");
  } catch (err) {
    if (err instanceof Skip) return { skip: err.hint };
    throw err;
  }
  const d = spec.data;
  if (d.kind !== "fashion") throw new Error("the ml-random-forest child runs Fashion-MNIST subsamples only");
  const [trX, trY, teX, teY] = Object.values(FASHION_FILES).map((f) => readIdxRows(join(d.dir, f)));
  const Xtr = asRows(trX!, d.trainRows);
  const ytr = Array.from(trY!.data.subarray(0, d.trainRows));
  const Xte = asRows(teX!, teX!.rows);
  const yte = teY!.data;
  const loadedRssMiB = process.memoryUsage.rss() / MiB;
  const rf = new mlrf.RandomForestClassifier({
    nEstimators: spec.trees,
    seed: spec.seed,
    maxFeatures: Math.floor(Math.sqrt(trX!.width)),
    noOOB: true,
  });
  const c0 = processCpuS();
  let t0 = performance.now();
  rf.train(Xtr, ytr);
  const fitS = (performance.now() - t0) / 1000;
  const fitCpuS = processCpuS() - c0;
  t0 = performance.now();
  const pred = rf.predict(Xte);
  const predictS = (performance.now() - t0) / 1000;
  let correct = 0;
  for (let i = 0; i < yte.length; i++) if (pred[i] === yte[i]) correct++;
  const nodes = rf.estimators.reduce((s, e) => s + countNodes(e.root), 0);
  const version = (JSON.parse(readFileSync(new URL(import.meta.resolve("ml-random-forest/package.json")), "utf8")) as { version: string }).version;
  return { fitS, fitCpuS, predictS, accuracy: correct / yte.length, peakRssMiB: (process.resourceUsage().maxRSS * 1024) / MiB, loadedRssMiB, nodes, version: `ml-random-forest ${version}`, cpuS: processCpuS() };
}

runAsChild(main);
