// Child process of the loader benchmark's memory group: allocates a float32
// TensorDataset of `bytes` in shared memory (touching every page, so it is
// resident), runs one epoch of 1 MB batches through one loader and prints
// one JSON line with the process's peak RSS (every thread counted).
// It imports only what its row measures: the loaders are loaded by URL at
// run time (a static import would be hoisted into this bundle's top and load
// sabre in every row). The floor rows split what any loader pays:
//   "node"   a bare node process running this file (no dataset);
//   "sab"    + the dataset's SharedArrayBuffer, touched;
//   "import" + `import "sabre"` (no loader);
//   "floor"  + numWorkers bare worker_threads that each read a row of the source (no sabre);
//   "ring"   + the least a shared-ring loader can be: numWorkers bare workers
//            gathering one shuffled epoch into numWorkers x 2 slots with
//            Atomics (loader-ring-floor.ts), the main thread taking each batch.
//   node build/bench/workers/loader-memory.js '{"loader":"sabre","bytes":1e9,"numWorkers":4}'
import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { fillSource, EpochCheck } from "./loader-work.js";
import type { BenchLoader, LoaderSpec } from "../peers/loader-common.js";
import type { RingFloorData } from "./loader-ring-floor.js";

const ROW_LEN = 1024; // 4 KB rows
const BATCH = 256; // 1 MB batches

export type MemoryRow = "sabre" | "postmessage" | "floor" | "node" | "sab" | "import" | "ring";

interface Request {
  loader: MemoryRow;
  bytes: number;
  numWorkers: number;
}

const here = (p: string) => new URL(p, import.meta.url);

async function main(): Promise<void> {
  const req = JSON.parse(process.argv[2] ?? "{}") as Request;
  const t0 = performance.now();
  const report = (samples: number, loaded: number, problem: string | null = null) =>
    console.log(JSON.stringify({ peak: peakRss(), loaded, seconds: (performance.now() - t0) / 1000, samples, problem }));
  if (req.loader === "node") return report(0, process.memoryUsage().rss);
  const n = Math.floor(req.bytes / (ROW_LEN * 4));
  const source = new SharedArrayBuffer(n * ROW_LEN * 4);
  fillSource(new Float32Array(source), ROW_LEN);
  const loaded = process.memoryUsage().rss;
  if (req.loader === "sab") return report(0, loaded);
  if (req.loader === "import") {
    await import("sabre");
    return report(0, loaded);
  }
  if (req.loader === "floor") {
    await bareWorkers(source, req.numWorkers);
    return report(0, loaded);
  }
  if (req.loader === "ring") {
    const check = new EpochCheck(n);
    await ringFloor(source, n, req.numWorkers, check);
    return report(n, loaded, check.problem() ?? null);
  }
  const spec: LoaderSpec = {
    kind: "gather",
    rowLen: ROW_LEN,
    rounds: 0,
    source,
    n,
    batchSize: BATCH,
    numWorkers: req.numWorkers,
    prefetchFactor: 2,
    seed: 1,
    shuffle: true,
  };
  let loader: BenchLoader;
  if (req.loader === "sabre") {
    const { SabreLoader } = (await import(here("./loader-sabre.js").href)) as typeof import("./loader-sabre.js");
    loader = SabreLoader.start(spec, here("./loader-dataset.js"));
  } else {
    const { PostMessageLoader } = (await import(here("../peers/loader-postmessage.js").href)) as typeof import("../peers/loader-postmessage.js");
    loader = await PostMessageLoader.start(spec, here("./loader-postmessage.js"));
  }
  const check = new EpochCheck(n);
  for await (const b of loader.epoch(0)) {
    check.add(b.values, b.b, b.stride, b.offset);
    b.release?.();
  }
  await loader.close();
  report(n, loaded, check.problem() ?? null);
}

/**
 * The process's peak RSS in bytes (every thread: they share one address
 * space). Linux's VmHWM belongs to this process image; getrusage's maxRSS
 * (process.resourceUsage) is not reset by exec, so a child spawned by a
 * large benchmark process reports its parent's peak when that is higher.
 */
function peakRss(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux: fall back to getrusage
  }
  return process.resourceUsage().maxRSS * 1024;
}

/** numWorkers plain Workers, each reading one row of the shared source and answering; all alive together. */
async function bareWorkers(source: SharedArrayBuffer, count: number): Promise<void> {
  const code = `const { parentPort, workerData } = require("node:worker_threads");
    const x = new Float32Array(workerData.source, workerData.row * ${ROW_LEN * 4}, ${ROW_LEN});
    let s = 0; for (let i = 0; i < x.length; i++) s += x[i];
    parentPort.postMessage(s); parentPort.once("message", () => process.exit(0));`;
  const workers = Array.from({ length: count }, (_, i) => new Worker(code, { eval: true, workerData: { source, row: i } }));
  await Promise.all(workers.map((w) => new Promise((resolve, reject) => (w.once("message", resolve), w.once("error", reject)))));
  await Promise.all(workers.map((w) => new Promise((resolve) => (w.once("exit", resolve), w.postMessage("exit")))));
}

/**
 * The "ring" floor: one shuffled epoch (the last batch partial) through numWorkers x 2
 * slots filled by bare workers (loader-ring-floor.ts), each batch checked
 * and released in order on this thread, as a training loop would take them.
 */
async function ringFloor(source: SharedArrayBuffer, n: number, numWorkers: number, check: EpochCheck): Promise<void> {
  const slots = numWorkers * 2;
  const batches = Math.ceil(n / BATCH);
  const order = new SharedArrayBuffer(4 * n);
  const perm = new Int32Array(order);
  for (let i = 0; i < n; i++) perm[i] = i;
  let state = 1;
  for (let i = n - 1; i > 0; i--) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const j = state % (i + 1);
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  const data: RingFloorData = {
    source,
    ring: new SharedArrayBuffer(slots * BATCH * ROW_LEN * 4),
    ctl: new SharedArrayBuffer(4 * (1 + slots)),
    order,
    rowLen: ROW_LEN,
    batch: BATCH,
    batches,
    slots,
    n,
  };
  const ctl = new Int32Array(data.ctl);
  for (let s = 0; s < slots; s++) ctl[1 + s] = 2 * s;
  const workers = Array.from({ length: numWorkers }, () => new Worker(here("./loader-ring-floor.js"), { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 2 } }));
  // Registered at once: a worker may finish (and exit) before the last batch is taken.
  const exited = workers.map((w) => new Promise<void>((resolve, reject) => (w.once("exit", () => resolve()), w.once("error", reject))));
  const values = new Float32Array(data.ring);
  for (let b = 0; b < batches; b++) {
    const word = 1 + (b % slots);
    for (let v = Atomics.load(ctl, word); v !== 2 * b + 1; v = Atomics.load(ctl, word)) {
      const w = Atomics.waitAsync(ctl, word, v);
      if (w.async) await w.value;
    }
    check.add(values, Math.min(BATCH, n - b * BATCH), ROW_LEN, (b % slots) * BATCH * ROW_LEN);
    Atomics.store(ctl, word, 2 * (b + slots));
    Atomics.notify(ctl, word);
  }
  await Promise.all(exited);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack : String(err));
    process.exit(1);
  },
);
