// `npm run bench loader`: sabre's DataLoader (workers fill batches in a ring
// of shared-memory slots, handed over with Atomics) against the loaders a
// Node user writes today: worker_threads + postMessage (PyTorch's design,
// a structured clone per batch), piscina tasks returning transferred
// buffers, and @tensorflow/tfjs-data's generator -> map -> batch -> prefetch
// (no workers). Every loader runs the same per-sample function
// (bench/workers/loader-work.ts). What each group measures and why is in
// docs/loader-readme-section.md ("The loader suite", for bench/README.md).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { machineInfo, measureRounds, Report, summarize, WrongAnswer, type Contender, type Outcome, type SuiteOptions } from "./harness/index.js";
import type { BenchLoader, LoaderSpec } from "./peers/loader-common.js";
import { PiscinaLoader } from "./peers/loader-piscina.js";
import { PostMessageLoader } from "./peers/loader-postmessage.js";
import { TfjsDataLoader } from "./peers/loader-tfjs.js";
import { EpochCheck, fillSource, SAMPLE_LEN } from "./workers/loader-work.js";
import type { MemoryRow } from "./workers/loader-memory.js";
import { SabreLoader } from "./workers/loader-sabre.js";

const here = (path: string) => new URL(path, import.meta.url);
const DATASET_MODULE = here("./workers/loader-dataset.js");
const POSTMESSAGE_WORKER = here("./workers/loader-postmessage.js");
const PISCINA_WORKER = here("./workers/loader-piscina.js");
const MEMORY_CHILD = here("./workers/loader-memory.js");

/** sabre's rows over these worker counts (0: getItem on the calling thread). 4 oversubscribes 2 cores on purpose. */
const WORKER_COUNTS = [0, 1, 2, 4] as const;
/** The peers' worker count in every group: the machine has 2 cores. */
const PEER_WORKERS = 2;
const PREFETCH = 2;
/** Smoothing rounds of the heavy getItem: ~150-250 µs per sample here. */
const HEAVY_ROUNDS = 48;
/** Overhead groups: 4 KB rows, so 256 rows = 1 MB and 4,096 rows = 16 MB. */
const OVH_ROW = 1024;
/** `--only` parts: heavy (warm epochs + the cores they got), cold, light, ovh1, ovh16, memory. */
export const LOADER_PARTS = ["heavy", "cold", "light", "ovh1", "ovh16", "memory"] as const;

interface Sizes {
  rounds: number;
  coldRounds: number;
  /** Heavy group: samples per epoch, batch size. */
  heavyN: number;
  heavyBatch: number;
  /** Light group: rows of SAMPLE_LEN float32, batch size. */
  lightN: number;
  lightBatch: number;
  /** Overhead groups: rows of OVH_ROW float32 in the source. */
  ovhRows: number;
  /** Memory group: bytes of the dataset; child runs per row. */
  memBytes: number;
  memRuns: number;
}

const FULL: Sizes = {
  rounds: 5,
  coldRounds: 3,
  heavyN: 2048,
  heavyBatch: 32,
  lightN: 32768,
  lightBatch: 256,
  ovhRows: 32768,
  memBytes: 1e9,
  memRuns: 2,
};

const QUICK: Sizes = {
  rounds: 2,
  coldRounds: 1,
  heavyN: 512,
  heavyBatch: 32,
  lightN: 8192,
  lightBatch: 256,
  ovhRows: 16384,
  memBytes: 2.5e8,
  memRuns: 1,
};

type Kind = "sabre" | "postmessage" | "piscina" | "tfjs";

function startLoader(kind: Kind, spec: LoaderSpec): Promise<BenchLoader> {
  switch (kind) {
    case "sabre":
      return Promise.resolve(SabreLoader.start(spec, DATASET_MODULE));
    case "postmessage":
      return PostMessageLoader.start(spec, POSTMESSAGE_WORKER);
    case "piscina":
      return PiscinaLoader.start(spec, PISCINA_WORKER);
    case "tfjs":
      return TfjsDataLoader.start(spec);
  }
}

/** Burns the main thread for `ms`: the training step between batches (wall time, so a descheduled spin still ends on time). */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** One epoch, consumed as fast as it comes; checks every index arrived once. Returns the elapsed ms. */
async function runEpoch(loader: BenchLoader, e: number, n: number, id: string): Promise<number> {
  const check = new EpochCheck(n);
  const t0 = performance.now();
  for await (const b of loader.epoch(e)) {
    check.add(b.values, b.b, b.stride, b.offset);
    b.release?.();
  }
  const ms = performance.now() - t0;
  const problem = check.problem();
  if (problem) throw new WrongAnswer(`${id}: ${problem}`);
  return ms;
}

/** Per contender, the cores its process used in each sample: CPU time of every thread / wall time. */
type CoresLog = Map<string, number[]>;

/**
 * Warm epochs (samples/s): one loader kept across rounds, its first epoch run
 * in setup (worker start, JIT). With `cores`, also records the cores the
 * process got during each epoch: on a machine shared with other work, a
 * speedup is bounded by that, not by the loader.
 */
function warmEpochs(id: string, kind: Kind, spec: LoaderSpec, cores?: CoresLog): Contender {
  let loader: BenchLoader | undefined;
  let epoch = 0;
  return {
    id,
    async setup() {
      loader = await startLoader(kind, spec);
      await runEpoch(loader, epoch++, spec.n, id);
    },
    async sample() {
      const cpu0 = process.cpuUsage();
      const ms = await runEpoch(loader!, epoch++, spec.n, id);
      const cpu = process.cpuUsage(cpu0);
      if (cores) (cores.get(id) ?? cores.set(id, []).get(id)!).push((cpu.user + cpu.system) / 1000 / ms);
      return (spec.n * 1000) / ms;
    },
    async teardown() {
      await loader?.close();
    },
  };
}

/** The first epoch of a fresh loader (samples/s): worker start-up, module loading and a cold JIT count. */
function coldEpoch(id: string, kind: Kind, spec: LoaderSpec): Contender {
  return {
    id,
    async sample() {
      const t0 = performance.now();
      const loader = await startLoader(kind, spec);
      try {
        await runEpoch(loader, 0, spec.n, id);
        return (spec.n * 1000) / (performance.now() - t0);
      } finally {
        await loader.close();
      }
    },
  };
}

/**
 * Per-batch overhead (µs per batch): the training loop runs a step of
 * `stepMs` on the main thread between batches, long enough for the loader's
 * workers to have the next batch ready; the figure is the time spent inside
 * the iterator's next() per batch, i.e. what handing a ready batch to the
 * loop costs it (a structured clone's deserialisation, a tfjs map + stack on
 * the main thread, an Atomics hand-off). The first batch of each epoch waits
 * for the pipeline to fill and is not counted.
 */
function overhead(id: string, kind: Kind, spec: LoaderSpec, stepMs: number, epochs: number): Contender {
  let loader: BenchLoader | undefined;
  let epoch = 0;
  const pass = async (): Promise<number> => {
    let waited = 0;
    let counted = 0;
    for (let k = 0; k < epochs; k++) {
      const check = new EpochCheck(spec.n);
      const it = loader!.epoch(epoch++)[Symbol.asyncIterator]();
      for (let step = 0; ; step++) {
        const t0 = performance.now();
        const r = await it.next();
        const dt = performance.now() - t0;
        if (r.done) break;
        if (step > 0) {
          waited += dt;
          counted++;
        }
        const b = r.value;
        check.add(b.values, b.b, b.stride, b.offset);
        busy(stepMs);
        b.release?.();
      }
      const problem = check.problem();
      if (problem) throw new WrongAnswer(`${id}: ${problem}`);
    }
    return (waited * 1000) / counted;
  };
  return {
    id,
    async setup() {
      loader = await startLoader(kind, spec);
      await pass();
    },
    sample: pass,
    async teardown() {
      await loader?.close();
    },
  };
}

interface MemoryAnswer {
  peak: number;
  loaded: number;
  seconds: number;
  samples: number;
  problem: string | null;
}

/**
 * One child process (bench/workers/loader-memory.ts): its peak RSS over one
 * epoch, every thread counted. `hugetlb` sets GLIBC_TUNABLES=glibc.malloc.hugetlb=1
 * in the child (what `npm run bench` sets), or removes it (what a user gets by default).
 */
function memoryChild(loader: MemoryRow, bytes: number, numWorkers: number, hugetlb: boolean): Promise<MemoryAnswer> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    if (hugetlb) env["GLIBC_TUNABLES"] = "glibc.malloc.hugetlb=1";
    else delete env["GLIBC_TUNABLES"];
    const child = spawn(process.execPath, [fileURLToPath(MEMORY_CHILD), JSON.stringify({ loader, bytes, numWorkers })], {
      stdio: ["ignore", "pipe", "pipe"],
      env,
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`memory child (${loader}, ${numWorkers} workers) exited with ${code}: ${err.trim().split("\n").slice(-3).join(" | ")}`));
      try {
        const a = JSON.parse(out.trim().split("\n").pop()!) as MemoryAnswer;
        if (a.problem) reject(new WrongAnswer(a.problem));
        else resolve(a);
      } catch (e) {
        reject(e);
      }
    });
  });
}

function memoryRow(id: string, loader: MemoryRow, bytes: number, numWorkers: number, hugetlb = true): Contender {
  return { id, sample: async () => (await memoryChild(loader, bytes, numWorkers, hugetlb)).peak / 1e6 };
}

/** A row that is a known quantity rather than a timing (the dataset's own size). */
function fixedOutcome(value: number): Outcome {
  return { kind: "ok", stats: summarize([value]) };
}

const workersLabel = (w: number) => (w === 0 ? "numWorkers 0 (calling thread)" : `numWorkers ${w}`);

export default async function loaderSuite(options: SuiteOptions): Promise<Report> {
  const sizes = options.quick ? QUICK : FULL;
  const { log } = options;
  const machine = machineInfo();
  const report = new Report("loader", "DataLoader: samples/s, per-batch overhead and memory", machine);
  const progress = (group: string) => (id: string, round: number) => log(`${group}: ${id} round ${round + 1}`);
  const base = { prefetchFactor: PREFETCH, seed: 7, shuffle: true } as const;
  const unknown = (options.only ?? []).filter((p) => !(LOADER_PARTS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`no loader part ${unknown.join(", ")}; parts: ${LOADER_PARTS.join(", ")}`);
  const want = (part: (typeof LOADER_PARTS)[number]) => !options.only || options.only.includes(part);

  // ---- samples/s, heavy getItem -------------------------------------------------------------
  const heavy = (numWorkers: number): LoaderSpec => ({
    ...base,
    kind: "heavy",
    rowLen: SAMPLE_LEN,
    rounds: HEAVY_ROUNDS,
    n: sizes.heavyN,
    batchSize: sizes.heavyBatch,
    numWorkers,
  });
  const samplesRows = (spec: (w: number) => LoaderSpec, cores?: CoresLog): Contender[] => [
    ...WORKER_COUNTS.map((w) => warmEpochs(`sabre-${w}`, "sabre", spec(w), cores)),
    warmEpochs("postmessage", "postmessage", spec(PEER_WORKERS), cores),
    warmEpochs("piscina", "piscina", spec(PEER_WORKERS), cores),
    warmEpochs("tfjs", "tfjs", spec(PEER_WORKERS), cores),
  ];
  const samplesEntries = (what: string) => [
    ...WORKER_COUNTS.map((w) => ({ id: `sabre-${w}`, label: `sabre DataLoader, ${workersLabel(w)}`, ours: true })),
    { id: "postmessage", label: "postMessage loader (structured clone)", note: `${PEER_WORKERS} workers, ${what}` },
    { id: "piscina", label: "piscina 5, transferred buffers", note: `${PEER_WORKERS} threads` },
    { id: "tfjs", label: "tfjs-data generator/map/batch/prefetch", note: "main thread only (tfjs-data has no workers)" },
  ];
  const heavyCores: CoresLog = new Map();
  if (want("heavy")) {
    log("heavy getItem, warm epochs");
    report.addGroup({
      id: "heavy",
      title: `Heavy getItem (decode-like, ${HEAVY_ROUNDS} rounds over 784 floats), warm epochs`,
      unit: "samples/s",
      better: "higher",
      reference: "sabre-0",
      entries: samplesEntries("round robin, in order"),
      outcomes: await measureRounds(samplesRows(heavy, heavyCores), sizes.rounds, progress("heavy")),
      method: `${sizes.heavyN} samples per epoch, batch ${sizes.heavyBatch}, prefetchFactor ${PREFETCH}, shuffled; one sample = one whole epoch of a loader kept across rounds (its first epoch, cold, ran before); ${sizes.rounds} rounds, interleaved. ${machine.cores} cores available.`,
    });
    const coresOutcomes = new Map<string, Outcome>();
    for (const [id, v] of heavyCores) coresOutcomes.set(id, { kind: "ok", stats: summarize(v) });
    report.addGroup({
      id: "heavy-cores",
      title: "Heavy getItem, warm epochs: cores the process got",
      unit: "cores",
      better: "higher",
      reference: "sabre-0",
      entries: samplesEntries("round robin, in order"),
      outcomes: coresOutcomes,
      method: `CPU time of every thread of the benchmark process (process.cpuUsage) / wall time, over each epoch of the group above. On ${machine.cores} idle cores numWorkers 2 can get 2; when other processes share the cores, this (not the loader) bounds the speedup.`,
    });
  }

  if (want("cold")) {
    log("heavy getItem, first epoch of a fresh loader");
    report.addGroup({
      id: "cold",
      title: "Heavy getItem, first epoch (cold: workers started, modules loaded, JIT cold)",
      unit: "samples/s",
      better: "higher",
      reference: "sabre-0",
      entries: WORKER_COUNTS.map((w) => ({ id: `sabre-${w}`, label: `sabre DataLoader, ${workersLabel(w)}`, ours: true })),
      outcomes: await measureRounds(
        WORKER_COUNTS.map((w) => coldEpoch(`sabre-${w}`, "sabre", heavy(w))),
        sizes.coldRounds,
        progress("cold"),
      ),
      method: `Timed from new DataLoader(...) to the end of its first epoch (close() not counted); same epoch as the warm group; ${sizes.coldRounds} rounds.`,
    });
  }

  // ---- samples/s, light getItem (row gather) -------------------------------------------------
  if (want("light")) {
    const lightSource = new SharedArrayBuffer(sizes.lightN * SAMPLE_LEN * 4);
    fillSource(new Float32Array(lightSource), SAMPLE_LEN);
    const light = (numWorkers: number): LoaderSpec => ({
      ...base,
      kind: "gather",
      rowLen: SAMPLE_LEN,
      rounds: 0,
      source: lightSource,
      n: sizes.lightN,
      batchSize: sizes.lightBatch,
      numWorkers,
    });
    log("light getItem (row gather), warm epochs");
    report.addGroup({
      id: "light",
      title: "Light getItem (row gather from a TensorDataset), warm epochs",
      unit: "samples/s",
      better: "higher",
      reference: "sabre-0",
      entries: samplesEntries("rows read from the same shared source"),
      outcomes: await measureRounds(samplesRows(light), sizes.rounds, progress("light")),
      method: `${sizes.lightN} rows x ${SAMPLE_LEN} float32 (${((sizes.lightN * SAMPLE_LEN * 4) / 1e6).toFixed(0)} MB, one SharedArrayBuffer every loader reads), batch ${sizes.lightBatch}, shuffled; one sample = one epoch; ${sizes.rounds} rounds.`,
    });
  }

  // ---- per-batch overhead, 1 MB and 16 MB batches ---------------------------------------------
  const ovhParts = ([1, 16] as const).filter((mb) => want(`ovh${mb}`));
  const ovhSource = new SharedArrayBuffer(ovhParts.length > 0 ? sizes.ovhRows * OVH_ROW * 4 : 0);
  fillSource(new Float32Array(ovhSource), OVH_ROW);
  for (const mb of ovhParts) {
    const batchSize = (mb * 2 ** 20) / (OVH_ROW * 4);
    const spec: LoaderSpec = {
      ...base,
      kind: "gather",
      rowLen: OVH_ROW,
      rounds: 0,
      source: ovhSource,
      n: sizes.ovhRows,
      batchSize,
      numWorkers: PEER_WORKERS,
    };
    // The step outlasts producing a batch with the second core (a 16 MB clone is ~10 ms of worker time).
    const stepMs = mb === 1 ? 2 : 20;
    const epochs = Math.max(1, Math.ceil(24 / (sizes.ovhRows / batchSize - 1)));
    const id = `ovh${mb}`;
    log(`per-batch overhead, ${mb} MB batches`);
    report.addGroup({
      id,
      title: `Per-batch overhead, ${mb} MB batches (time inside next() while the loop trains)`,
      unit: "µs/batch",
      better: "lower",
      reference: "postmessage",
      entries: [
        { id: "sabre", label: "sabre DataLoader (TensorDataset)", ours: true, note: `${PEER_WORKERS} workers` },
        { id: "postmessage", label: "postMessage loader (structured clone)", note: `${PEER_WORKERS} workers` },
        { id: "piscina", label: "piscina 5, transferred buffers", note: `${PEER_WORKERS} threads` },
        { id: "tfjs", label: "tfjs-data generator/map/batch/prefetch", note: "map and stack run inside next(): no workers" },
      ],
      outcomes: await measureRounds(
        (["sabre", "postmessage", "piscina", "tfjs"] as const).map((k) => overhead(k, k, spec, stepMs, epochs)),
        sizes.rounds,
        progress(id),
      ),
      method: `Batches of ${batchSize} rows x ${OVH_ROW} float32 gathered from a ${((sizes.ovhRows * OVH_ROW * 4) / 1e6).toFixed(0)} MB shared source; a ${stepMs} ms training step (a busy loop) between batches; figure = time inside the iterator's next() per batch, the first batch of each epoch (pipeline fill) not counted; ${epochs} epoch(s) per sample, ${sizes.rounds} rounds.`,
    });
  }

  // ---- peak memory ------------------------------------------------------------------------------
  const gb = sizes.memBytes / 1e9;
  if (want("memory")) {
    log(`peak memory, ${gb} GB TensorDataset`);
    const memOutcomes = await measureRounds(
      [
        memoryRow("sabre-4", "sabre", sizes.memBytes, 4),
        memoryRow("sabre-0", "sabre", sizes.memBytes, 0),
        memoryRow("postmessage-4", "postmessage", sizes.memBytes, 4),
        memoryRow("node", "node", sizes.memBytes, 0),
        memoryRow("sab", "sab", sizes.memBytes, 0),
        memoryRow("import", "import", sizes.memBytes, 0),
        memoryRow("floor-4", "floor", sizes.memBytes, 4),
        memoryRow("ring-4", "ring", sizes.memBytes, 4),
        memoryRow("sabre-4-malloc", "sabre", sizes.memBytes, 4, false),
        memoryRow("floor-4-malloc", "floor", sizes.memBytes, 4, false),
        memoryRow("node-malloc", "node", sizes.memBytes, 0, false),
      ],
      sizes.memRuns,
      progress("memory"),
    );
    memOutcomes.set("data", fixedOutcome(sizes.memBytes / 1e6));
    report.addGroup({
      id: "memory",
      title: `Peak memory, ${gb} GB TensorDataset, one epoch of 1 MB batches`,
      unit: "MB",
      better: "lower",
      reference: "data",
      entries: [
        { id: "data", label: "the dataset itself" },
        { id: "sabre-4", label: "sabre DataLoader, numWorkers 4", ours: true },
        { id: "sabre-0", label: "sabre DataLoader, numWorkers 0", ours: true },
        { id: "postmessage-4", label: "postMessage loader, 4 workers", note: "source shared with its workers (its best case)" },
        { id: "node", label: "floor 1: a bare node process", note: "no dataset, nothing imported" },
        { id: "sab", label: "floor 2: + the dataset's SharedArrayBuffer, touched", note: "what holding the data costs in Node" },
        { id: "import", label: "floor 3: floor 2 + import \"sabre\"", note: "no loader" },
        { id: "floor-4", label: "floor 4: floor 2 + 4 bare worker_threads", note: "no sabre: what any 4-worker loader pays" },
        { id: "ring-4", label: "floor 5: the least a 4-worker ring loader can be", note: "bare workers fill 8 shared slots with Atomics (bench/workers/loader-ring-floor.ts): no library, no errors, no timeout" },
        { id: "sabre-4-malloc", label: "sabre DataLoader, numWorkers 4, default malloc", ours: true, note: "GLIBC_TUNABLES unset: what a user gets by default" },
        { id: "floor-4-malloc", label: "floor 4, default malloc", note: "GLIBC_TUNABLES unset" },
        { id: "node-malloc", label: "floor 1, default malloc", note: "GLIBC_TUNABLES unset" },
      ],
      outcomes: memOutcomes,
      method: `Each row a fresh child process (bench/workers/loader-memory.ts) that imports only what its row measures: the float32 dataset allocated in one SharedArrayBuffer and touched, one shuffled epoch, peak RSS from /proc/self/status VmHWM (every thread; getrusage's maxRSS survives exec, so a child would report this large parent's peak); ${sizes.memRuns} run(s) per row. Rows run with GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (as npm run bench sets it) unless marked "default malloc" (unset, as a user runs node).`,
    });
  }

  // ---- targets ---------------------------------------------------------------------------------
  // A part left out by --only leaves its target "not measured".
  const ran = (group: string) => report.groups.some((g) => g.id === group);
  report.addTarget(
    `heavy getItem: 2 workers at least 1.7x numWorkers 0 (on ${machine.cores} cores)`,
    ran("heavy") ? report.ratio("heavy", "sabre-2") : undefined,
    (r) => r >= 1.7,
  );
  report.addTarget(
    "per-batch overhead, 1 MB batches: at most 1/10 of the postMessage loader's",
    ran("ovh1") ? report.ratio("ovh1", "sabre") : undefined,
    (r) => r <= 0.1,
  );
  const limit = sizes.memBytes / 1e6 + 100;
  report.addTarget(
    `peak memory with 4 workers at most ${(limit / 1000).toFixed(2)} GB (${gb} GB dataset)`,
    ran("memory") ? report.median("memory", "sabre-4") : undefined,
    (v) => v <= limit,
    (v) => `${(v / 1000).toFixed(3)} GB`,
  );
  report.addNote(
    "Every loader runs the same per-sample function (bench/workers/loader-work.ts) and reads the same shared source; only how a batch reaches the training loop differs. The peers use sabre's seeded permutation of bench/workers/loader-work.ts; sabre draws its own (same work, other batches).",
  );
  report.addNote(
    "Per-batch overhead: sabre's workers write straight into a slot of a shared ring and hand it over with Atomics; the postMessage loader's batch is cloned twice (serialised in the worker, deserialised on the main thread inside next()); piscina's buffer is transferred (no copy, but a task message and a fresh allocation per batch); tfjs-data builds every batch on the main thread.",
  );
  return report;
}
