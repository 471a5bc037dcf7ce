// Child process of the loader benchmark's memory group: allocates a float32
// TensorDataset of `bytes` in shared memory (touching every page, so it is
// resident), runs one epoch of 1 MB batches through one loader and prints
// one JSON line with the process's peak RSS (every thread counted). The
// "floor" loader only starts numWorkers bare worker_threads that each read
// a row of the source: what any loader with that many workers pays.
//   node build/bench/workers/loader-memory.js '{"loader":"sabre","bytes":1e9,"numWorkers":4}'
import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { fillSource, EpochCheck } from "./loader-work.js";
import { SabreLoader } from "./loader-sabre.js";
import { PostMessageLoader } from "../peers/loader-postmessage.js";
import type { BenchLoader, LoaderSpec } from "../peers/loader-common.js";

const ROW_LEN = 1024; // 4 KB rows
const BATCH = 256; // 1 MB batches

interface Request {
  loader: "sabre" | "postmessage" | "floor";
  bytes: number;
  numWorkers: number;
}

async function main(): Promise<void> {
  const req = JSON.parse(process.argv[2] ?? "{}") as Request;
  const n = Math.floor(req.bytes / (ROW_LEN * 4));
  const source = new SharedArrayBuffer(n * ROW_LEN * 4);
  fillSource(new Float32Array(source), ROW_LEN);
  const loaded = process.memoryUsage().rss;
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
  const here = (p: string) => new URL(p, import.meta.url);
  if (req.loader === "floor") {
    const t0 = performance.now();
    await bareWorkers(source, req.numWorkers);
    console.log(JSON.stringify({ peak: peakRss(), loaded, seconds: (performance.now() - t0) / 1000, samples: 0, problem: null }));
    return;
  }
  const loader: BenchLoader =
    req.loader === "sabre" ? SabreLoader.start(spec, here("./loader-dataset.js")) : await PostMessageLoader.start(spec, here("./loader-postmessage.js"));
  const check = new EpochCheck(n);
  const t0 = performance.now();
  for await (const b of loader.epoch(0)) {
    check.add(b.values, b.b, b.stride, b.offset);
    b.release?.();
  }
  const seconds = (performance.now() - t0) / 1000;
  await loader.close();
  const problem = check.problem();
  console.log(JSON.stringify({ peak: peakRss(), loaded, seconds, samples: n, problem: problem ?? null }));
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

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack : String(err));
    process.exit(1);
  },
);
