// One sabre contender run of the forest suite, in its own process so that its
// peak RSS is its own: `node build/bench/workers/forest-sabre.js '<RunSpec JSON>'`.
// Prints one RunResult JSON line last on stdout.
import { join } from "node:path";
import ndarray from "ndarray";
import { Engine, RandomForestClassifier, RandomForestRegressor, shared, type NdArray } from "sabre";
import { FASHION_FILES, loadIdxShared, processCpuS, readRaw, runAsChild, type RunResult, type RunSpec } from "./forest-data.js";

interface Loaded {
  Xtr: NdArray;
  ytr: ArrayLike<number>;
  Xte: NdArray;
  yte: ArrayLike<number>;
}

/** The share of predicted labels equal to the true ones. */
function shareEqual(pred: ArrayLike<number>, truth: ArrayLike<number>): number {
  let correct = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === truth[i]) correct++;
  return correct / pred.length;
}

/** Test R^2 (1 - residual / total sum of squares), as scikit-learn's r2_score. */
function r2(pred: ArrayLike<number>, truth: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < truth.length; i++) mean += truth[i]!;
  mean /= truth.length;
  let res = 0;
  let tot = 0;
  for (let i = 0; i < truth.length; i++) {
    res += (pred[i]! - truth[i]!) ** 2;
    tot += (truth[i]! - mean) ** 2;
  }
  return 1 - res / tot;
}

async function load(spec: RunSpec): Promise<Loaded> {
  const d = spec.data;
  if (d.kind === "fashion") {
    // One file at a time, as the Python side reads them, so transient buffers do not pile up.
    const all: NdArray[] = [];
    const scaled = d.pixels === "float32";
    for (const f of Object.values(FASHION_FILES)) all.push(await loadIdxShared(join(d.dir, f), scaled && f.includes("images")));
    const [Xtr, ytr, Xte, yte] = all;
    // The first trainRows rows as a view: no copy, still shared memory.
    const n = d.trainRows;
    return {
      Xtr: ndarray((Xtr!.data as Uint8Array | Float32Array).subarray(0, n * Xtr!.shape[1]!), [n, Xtr!.shape[1]!]) as unknown as NdArray,
      ytr: (ytr!.data as Uint8Array).subarray(0, n),
      Xte: Xte!,
      yte: yte!.data as Uint8Array,
    };
  }
  const { files } = d;
  const rows = files.train + files.test;
  const regression = spec.task === "regression";
  const X = shared.empty("float64", [rows, files.features]);
  const y = regression ? shared.empty("float64", [rows]) : shared.empty("int32", [rows]);
  // An array may be a region of a larger buffer (a slab: src/memory/slab.md), so the bytes are its own range.
  readRaw(files.x, new Uint8Array(X.data.buffer, X.data.byteOffset, X.data.byteLength));
  readRaw(regression ? files.yr : files.y, new Uint8Array(y.data.buffer, y.data.byteOffset, y.data.byteLength));
  const f = files.features;
  const xd = X.data as Float64Array;
  const yd = y.data as Int32Array | Float64Array;
  return {
    Xtr: ndarray(xd.subarray(0, files.train * f), [files.train, f]) as unknown as NdArray,
    ytr: yd.subarray(0, files.train),
    Xte: ndarray(xd.subarray(files.train * f), [files.test, f]) as unknown as NdArray,
    yte: yd.subarray(files.train),
  };
}

const MiB = 2 ** 20;

/**
 * The binning step of RandomForestClassifier.fit alone: the time from the
 * start of a 1-tree fit to its first progress report, which comes when the
 * trees are handed to the workers, i.e. right after binning. Measured through
 * the public API so it always times what fit really does.
 */
async function binningOnce(engine: Engine, X: NdArray, y: ArrayLike<number>, regression: boolean): Promise<number> {
  const t0 = performance.now();
  let binned = Number.NaN;
  const rf = regression ? new RandomForestRegressor({ nEstimators: 1, seed: 1, engine }) : new RandomForestClassifier({ nEstimators: 1, seed: 1, engine });
  await rf.fit(X, y, {
    onProgress: () => {
      if (Number.isNaN(binned)) binned = (performance.now() - t0) / 1000;
    },
  });
  return binned;
}

async function main(spec: RunSpec): Promise<RunResult> {
  const data = await load(spec);
  const engine = await Engine.start({ threads: spec.threads });
  try {
    if (spec.mode === "binning") {
      const binningS: number[] = [];
      for (let i = 0; i < (spec.repeats ?? 1); i++) binningS.push(await binningOnce(engine, data.Xtr, data.ytr, spec.task === "regression"));
      return { binningS, version: "sabre", cpuS: processCpuS() };
    }
    const loadedRssMiB = process.memoryUsage.rss() / MiB;
    for (let i = 0; i < (spec.warmFits ?? 0); i++) {
      const warm = { nEstimators: spec.trees, seed: spec.seed + 1000 + i, engine };
      await (spec.task === "regression" ? new RandomForestRegressor(warm) : new RandomForestClassifier(warm)).fit(data.Xtr, data.ytr);
    }
    const options = { nEstimators: spec.trees, seed: spec.seed, engine };
    const rf = spec.task === "regression" ? new RandomForestRegressor(options) : new RandomForestClassifier(options);
    const c0 = processCpuS();
    let t0 = performance.now();
    await rf.fit(data.Xtr, data.ytr);
    const fitS = (performance.now() - t0) / 1000;
    const fitCpuS = processCpuS() - c0;
    t0 = performance.now();
    const pred = (await rf.predict(data.Xte)) as ArrayLike<number>;
    const predictS = (performance.now() - t0) / 1000;
    if (pred.length !== data.yte.length) throw new Error(`predict returned ${pred.length} values for ${data.yte.length} rows`);
    const accuracy = spec.task === "regression" ? r2(pred, data.yte) : shareEqual(pred, data.yte);
    const nodes = rf.trees.reduce((s, t) => s + t.nodeCount, 0);
    // maxRSS (KiB) covers the whole process: the main thread, every engine worker, all shared memory touched.
    const peakRssMiB = (process.resourceUsage().maxRSS * 1024) / MiB;
    return { fitS, fitCpuS, predictS, accuracy, peakRssMiB, loadedRssMiB, nodes, version: "sabre", cpuS: processCpuS() };
  } finally {
    await engine.close();
  }
}

runAsChild(main);
