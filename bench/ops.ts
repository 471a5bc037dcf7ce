// `npm run bench ops`: sabre's numeric ops against numpy (its OpenBLAS for
// matmul), scikit-learn's KMeans and the JS libraries a Node user would pick
// (ml-matrix, ndarray-ops, tfjs-core on tfjs-backend-cpu, ml-kmeans), plus
// plain loops and the machine's memory bandwidth (bench/anchors/stream.c and
// a numpy copy), all in one run, medians of interleaved rounds, on the same
// seeded data (bench/workers/ops-data.ts). What each row measures and why is
// in bench/README.md ("The ops suite").
import os from "node:os";
import { Engine, shared } from "sabre";
import { machineInfo, measureRounds, Report, Skip, type SuiteOptions } from "./harness/index.js";
import { FULL, loadOpsData, QUICK } from "./workers/ops-data.js";
import { syncTimed } from "./workers/ops-js.js";
import { PyPeer } from "./workers/ops-python.js";
import { type Plan, type GroupSpec, streamAnchor, timed, pyStart, gbps, measureGroup, jsRows } from "./ops/plan.js";
import { wholeArrayGroup, axisGroup, smallSumGroup, mediumSumGroup, MEDIUM_SUM, MEDIUM_SUM_SMALL } from "./ops/reductions.js";
import { matmulGroup, matmulReason } from "./ops/matmul.js";
import { argsortGroup, histogramGroup, argsortReason } from "./ops/sort-histogram.js";
import { kmeansGroup, kmMedian, type KmCheck } from "./ops/kmeans.js";
import { firstCallGroups } from "./ops/first-call.js";

/** The parts `--only` may name: the bandwidth group and every op group, in run order. */
export const OPS_PARTS = ["bandwidth", "sum", "mean", "mean0", "mean1", "var0", "var1", "sum1000", "sum1m", "sum100k", "matmul64", "matmul32", "argsort", "histogram", "kmeans", "first"] as const;

// ---- the suite -----------------------------------------------------------------------------------

export default async function opsSuite(options: SuiteOptions): Promise<Report> {
  const log = options.log;
  const quick = options.quick;
  const sizes = quick ? QUICK : FULL;
  const threads = os.availableParallelism();
  const report = new Report("ops", "sabre ops against numpy, scikit-learn and JS libraries", machineInfo());

  const unknown = (options.only ?? []).filter((p) => !(OPS_PARTS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`ops: no part named ${unknown.join(", ")} (parts: ${OPS_PARTS.join(", ")})`);
  const runs = (part: string) => options.only === undefined || options.only.includes(part);

  // The data arrays live in shared WebAssembly.Memory, so that the reductions run their
  // WebAssembly SIMD leaves over them (src/ops/README.md). Under GLIBC_TUNABLES
  // glibc.malloc.hugetlb, as the benchmarks run, sabre's allocator keeps plain SharedArrayBuffers
  // by default (they get huge pages, a Memory does not: its first touch is slower); the data here
  // is loaded once, outside every timing, so the suite asks for Memories while it loads.
  const wasmEnv = process.env["SABRE_WASM_MEMORY"];
  process.env["SABRE_WASM_MEMORY"] = wasmEnv ?? "1";
  let data: ReturnType<typeof loadOpsData>;
  try {
    data = loadOpsData(sizes, log);
  } finally {
    if (wasmEnv === undefined) delete process.env["SABRE_WASM_MEMORY"];
    else process.env["SABRE_WASM_MEMORY"] = wasmEnv;
  }
  log(`data arrays in WebAssembly.Memory: ${shared.wasmMemory(data.big.array) !== undefined ? "yes" : "no (SABRE_WASM_MEMORY=0, or no Memory could be made)"}`);
  const started = await PyPeer.start(threads).catch((err: unknown) => {
    if (err instanceof Skip) return err;
    throw err;
  });
  const py = started instanceof Skip ? started : started.peer;
  const pyInfo = started instanceof Skip ? undefined : started.info;
  if (pyInfo) log(`numpy ${pyInfo.numpy}, scikit-learn ${pyInfo.sklearn ?? "missing"}, pools: ${pyInfo.pools.join("; ") || "none reported"}`);
  if (!(py instanceof Skip)) {
    for (const ds of [data.big, data.tab, data.small, data.A, data.B, data.A32, data.B32, data.km]) {
      await py.load(ds.name, ds.path, ds.dtype === "float64" ? "<f8" : "<f4", ds.shape);
    }
    // argsort's input is the first `sort` elements of the big array, as on this side.
    await py.load("sortx", data.big.path, "<f8", [sizes.sort]);
  }
  const engine = await Engine.start({ threads });
  const plan: Plan = {
    data,
    threads,
    engine,
    py,
    pyInfo,
    rounds: quick ? 3 : 7,
    heavyRounds: quick ? 2 : 5,
    sampleMs: quick ? 40 : 250,
    log,
  };

  try {
    // The machine's bandwidth first (every memory-bound group quotes it, so it is measured for any part), then the copies beside it.
    log("memory bandwidth: bench/anchors/stream.c");
    const bw = await streamAnchor(plan, quick ? 1 : 5);
    const bytes = sizes.big * 8;
    if (runs("bandwidth")) {
      const copy = await measureRounds(
        [
          timed("npcopy", plan, pyStart<number>(plan, "copy"), gbps(2 * bytes), () => undefined),
          timed("jscopy", plan, async () => {
            const src = data.big.array.data as Float64Array;
            const dst = new Float64Array(src.length);
            return syncTimed(() => {
              dst.set(src);
              return dst[0]!;
            });
          }, gbps(2 * bytes), () => undefined),
        ],
        plan.rounds,
        (id, round) => log(`bandwidth: ${id}, round ${round + 1}/${plan.rounds}`),
      );
      copy.set("bw", bw.read);
      copy.set("ccopy", bw.copy);
      report.addGroup({
        id: "bandwidth",
        title: "memory bandwidth",
        unit: "GB/s",
        better: "higher",
        reference: "bw",
        entries: [
          { id: "bw", label: `C stream read, ${threads} threads`, note: "sum with 8 accumulators; what a reduction can reach" },
          { id: "ccopy", label: `C stream copy, ${threads} threads`, note: "memcpy, read + write bytes counted" },
          { id: "npcopy", label: "numpy copyto", note: "one thread, read + write bytes counted" },
          { id: "jscopy", label: "JS Float64Array.set", note: "one thread, read + write bytes counted" },
        ],
        outcomes: copy,
        method: `bench/anchors/stream.c (gcc -O2 -pthread) over ${Math.max(64, Math.min(512, Math.round(bytes / 2 ** 20)))} MiB, threads first-touching their slices, median of 5 reps per run; numpy and JS copy the ${(bytes / 1e6).toFixed(0)} MB array.`,
      });
    }

    const specs: [string, () => GroupSpec][] = [
      ["sum", () => wholeArrayGroup(plan, "sum", bw)],
      ["mean", () => wholeArrayGroup(plan, "mean", bw)],
      ["mean0", () => axisGroup(plan, "mean", 0, bw)],
      ["mean1", () => axisGroup(plan, "mean", 1, bw)],
      ["var0", () => axisGroup(plan, "variance", 0, bw)],
      ["var1", () => axisGroup(plan, "variance", 1, bw)],
      ["sum1000", () => smallSumGroup(plan)],
      ["sum1m", () => mediumSumGroup(plan, MEDIUM_SUM, "sum1m")],
      ["sum100k", () => mediumSumGroup(plan, MEDIUM_SUM_SMALL, "sum100k")],
      ["matmul64", () => matmulGroup(plan, "float64")],
      ["matmul32", () => matmulGroup(plan, "float32")],
      ["argsort", () => argsortGroup(plan)],
      ["histogram", () => histogramGroup(plan, bw)],
    ];
    for (const [part, spec] of specs) if (runs(part)) await measureGroup(report, plan, spec());
    // The inertia each side reached goes beside its time (medians over the seeds of the rounds).
    const fits = new Map<string, KmCheck[]>();
    if (runs("kmeans")) await measureGroup(report, plan, kmeansGroup(plan, fits));
    if (runs("first")) await firstCallGroups(report, plan);

    addTargets(report, (id) => kmMedian(fits, id, "inertia"));
    if (runs("matmul64")) report.addNote(matmulReason(report, "matmul64", plan));
    if (runs("matmul32")) report.addNote(matmulReason(report, "matmul32", plan));
    if (runs("argsort")) report.addNote(argsortReason(report, plan));
    const hist = runs("histogram") ? report.ratio("histogram", "sabre", "bw") : undefined;
    if (hist !== undefined) report.addNote(`histogram: sabre reads at ${(hist * 100).toFixed(0)}% of the measured bandwidth.`);
    report.addNote(
      `Threads: sabre's Engine has ${threads} workers (os.availableParallelism()); numpy/scikit-learn run with OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=${threads} and threadpoolctl limits of ${threads} (${pyInfo?.pools.join("; ") || "pools not reported"}); the JS libraries are single-threaded.`,
    );
  } finally {
    await engine.close();
    if (!(py instanceof Skip)) py.close();
  }
  return report;
}

/** The targets of the groups this run measured (a part left out by `--only` has none). */
function addTargets(report: Report, medInertia: (id: string) => number | undefined): void {
  const ran = (id: string) => report.groups.some((g) => g.id === id);
  const pct = (v: number) => `${(v * 100).toFixed(0)}%`;
  if (ran("kmeans")) {
    report.addTarget("kmeans: sabre at least as fast as scikit-learn (time ratio <= 1)", report.ratio("kmeans", "sabre"), (r) => r <= 1);
    const si = medInertia("sabre");
    const ki = medInertia("sklearn");
    report.addTarget(
      "kmeans: sabre's inertia no worse than scikit-learn's (ratio <= 1 + 1e-6)",
      si === undefined || ki === undefined ? undefined : si / ki,
      (r) => r <= 1 + 1e-6,
      (r) => `${r.toFixed(8)}x`,
    );
  }
  for (const id of ["sum", "mean", "mean0", "mean1", "var0", "var1"].filter(ran)) {
    report.addTarget(`${id}: sabre at or above numpy's speed`, report.ratio(id, "sabre"), (r) => r >= 1);
    report.addTarget(`${id}: sabre within 80% of the measured bandwidth`, report.ratio(id, "sabre", "bw"), (r) => r >= 0.8, pct);
  }
  for (const [id, what] of [["sum1m", "1M"], ["sum100k", "100k"]] as const) {
    // Not one of issue 10's rows: the "at or above numpy" target, held to array sizes users have.
    if (ran(id)) report.addTarget(`${id}: sabre at or above numpy's speed (${what} float64, as shared.from gives it: a slab Memory)`, report.ratio(id, "sabre"), (r) => r >= 1);
  }
  if (ran("sum1000")) {
    report.addTarget("sum of 1,000 float64 within 10 us per call", report.median("sum1000", "sabre"), (v) => v <= 10, (v) => `${v.toFixed(2)} us`);
  }
  for (const [id, peers] of jsRows) {
    // The histogram has no JS library to be ahead of (its plain loop is context, not a library).
    if (peers.length === 0 || !ran(id)) continue;
    const g = report.group(id);
    const ours = report.median(id, "sabre");
    const theirs = peers.map((p) => report.median(id, p)).filter((v): v is number => v !== undefined);
    // The speedup over the best JS library measured (higher is better for both kinds of unit).
    const best = theirs.length === 0 ? undefined : g.better === "higher" ? Math.max(...theirs) : Math.min(...theirs);
    const speedup = ours === undefined || best === undefined ? undefined : g.better === "higher" ? ours / best : best / ours;
    report.addTarget(`${id}: sabre ahead of every JS library (speedup over the best)`, speedup, (r) => r > 1);
  }
}
