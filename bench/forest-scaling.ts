// `npm run bench forest-scaling`: how a forest fit scales with threads when
// there are few trees per thread (kernels/forest/parallel.md), against
// scikit-learn at the same n_jobs, in one run:
//  - a scaling row: a 200,000 x 40 continuous table (bench/workers/forest-data.ts,
//    binary label), 8 trees, threads 1, 2, 4, 8: fit wall time and CPU time,
//    each run its own child process (the forest suite's sabre child and
//    scikit-learn child);
//  - one fully grown Fashion-MNIST uint8 tree on 1 vs 2 threads, in this
//    process on warm engines: target "2 threads at least 1.4x faster than 1".
// On a bigger machine: FOREST_SCALING_THREADS=1,2,4,8,16 FOREST_SCALING_TREES=32
// (threads beyond the cores oversubscribe, which is what 8 threads do on 2 cores);
// FOREST_SCALING_ROUNDS sets the rounds (3). bench/device/ runs it on a lent
// 16-core machine, where issue 9's target applies: at 16 threads with 32
// trees, a fit at least 3x faster than scikit-learn's.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ndarray from "ndarray";
import { Engine, RandomForestClassifier, type NdArray } from "sabre";
import {
  cacheDir,
  currentLoad,
  machineInfo,
  Report,
  repoRoot,
  Skip,
  summarize,
  type Entry,
  type Outcome,
  type SuiteOptions,
} from "./harness/index.js";
import { ensureTable, FASHION_DIR, FASHION_FILES, fashionPresent, loadIdxShared, type RunResult, type RunSpec } from "./workers/forest-data.js";
import { PYTHON, requireSklearn, runChild, sklearnVersion } from "./workers/forest-children.js";

const FASHION_HINT = `Fashion-MNIST not found in ${FASHION_DIR}: apt-get update && apt-get install dataset-fashion-mnist`;

interface Plan {
  rows: number;
  features: number;
  trees: number;
  threads: number[];
  rounds: number;
  fashionRows: number;
  oneTreeRounds: number;
}

function plan(quick: boolean): Plan {
  const env = process.env;
  const threads = (env.FOREST_SCALING_THREADS ?? (quick ? "1,2" : "1,2,4,8")).split(",").map(Number);
  if (threads.some((t) => !Number.isInteger(t) || t < 1)) throw new Error(`FOREST_SCALING_THREADS must be a list of thread counts, got ${env.FOREST_SCALING_THREADS}`);
  const trees = Number(env.FOREST_SCALING_TREES ?? (quick ? 4 : 8));
  if (!Number.isInteger(trees) || trees < 1) throw new Error(`FOREST_SCALING_TREES must be a number of trees, got ${env.FOREST_SCALING_TREES}`);
  const rounds = Number(env.FOREST_SCALING_ROUNDS ?? (quick ? 1 : 3));
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`FOREST_SCALING_ROUNDS must be a number of rounds, got ${env.FOREST_SCALING_ROUNDS}`);
  return quick
    ? { rows: 20_000, features: 40, trees, threads, rounds, fashionRows: 10_000, oneTreeRounds: 2 }
    : { rows: 200_000, features: 40, trees, threads, rounds, fashionRows: 60_000, oneTreeRounds: 7 };
}



type Fit = Extract<RunResult, { fitS: number }>;

async function launch(who: "sabre" | "sklearn", spec: RunSpec): Promise<Fit> {
  const json = JSON.stringify(spec);
  const timeout = 20 * 60_000;
  const r =
    who === "sklearn"
      ? await runChild(PYTHON, [join(repoRoot(), "bench", "peers", "forest-sklearn.py"), json], timeout)
      : await runChild(process.execPath, [fileURLToPath(new URL("./workers/forest-sabre.js", import.meta.url)), json], timeout);
  if ("skip" in r) throw new Skip(r.skip);
  if (!("fitS" in r) || !(r.fitS > 0) || !(r.nodes >= spec.trees)) throw new Error(`the ${who} child answered ${JSON.stringify(r)}`);
  return r;
}

const ok = (values: readonly number[]): Outcome => ({ kind: "ok", stats: summarize(values) });
const failed = (err: unknown): Outcome =>
  err instanceof Skip ? { kind: "skipped", hint: err.hint } : { kind: "failed", message: err instanceof Error ? err.message : String(err) };
const median = (values: readonly number[]): number => summarize(values).median;

/** The scaling rows: each (contender, threads) a child process per round, rounds interleaved. */
async function scaling(report: Report, p: Plan, log: (s: string) => void): Promise<void> {
  const files = ensureTable(cacheDir(), p.rows, 10_000, p.features);
  const runs = new Map<string, { wall: number[]; cpu: number[]; acc: number[]; error?: unknown }>();
  const ids: Array<["sabre" | "sklearn", number]> = [];
  for (const t of p.threads) ids.push(["sabre", t], ["sklearn", t]);
  for (const [who, t] of ids) runs.set(`${who}-${t}`, { wall: [], cpu: [], acc: [] });
  for (let round = 0; round < p.rounds; round++) {
    for (const [who, t] of ids) {
      const r = runs.get(`${who}-${t}`)!;
      if (r.error !== undefined) continue;
      try {
        if (who === "sklearn") requireSklearn();
        log(`table ${p.rows} x ${p.features}, ${p.trees} trees: ${who} on ${t} threads, round ${round + 1}/${p.rounds} (load ${currentLoad().toFixed(1)})`);
        const f = await launch(who, { data: { kind: "table", files }, trees: p.trees, seed: 1 + round, threads: t });
        r.wall.push(f.fitS);
        r.cpu.push(f.fitCpuS);
        r.acc.push(f.accuracy);
      } catch (err) {
        r.error = err;
      }
    }
  }
  const outcome = (id: string, pick: "wall" | "cpu"): Outcome => {
    const r = runs.get(id)!;
    return r.error !== undefined ? failed(r.error) : ok(r[pick]);
  };
  const sklearnLabel = `scikit-learn ${sklearnVersion() ?? ""}`.trim();
  const entries: Entry[] = [];
  for (const t of p.threads) {
    entries.push({ id: `sklearn-${t}`, label: `${sklearnLabel}, n_jobs=${t}` }, { id: `sabre-${t}`, label: `sabre, ${t} thread${t > 1 ? "s" : ""}`, ours: true });
  }
  const title = `${p.trees} trees, ${p.rows.toLocaleString("en")} x ${p.features} table`;
  const method = `Each run a child process (the forest suite's children); medians of ${p.rounds} runs (seeds 1..${p.rounds}), contenders interleaved.`;
  for (const pick of ["wall", "cpu"] as const) {
    report.addGroup({
      id: `table-${pick}`,
      title: pick === "wall" ? `fit wall time (binning included), ${title}` : `fit CPU time (every thread of the process), ${title}`,
      unit: "s",
      better: "lower",
      reference: `sklearn-${p.threads[0]!}`,
      entries,
      outcomes: new Map(entries.map((e) => [e.id, outcome(e.id, pick)])),
      method,
    });
  }
  const t1 = p.threads[0]!;
  const speed = (who: string, t: number): string => {
    const a = runs.get(`${who}-${t1}`)!;
    const b = runs.get(`${who}-${t}`)!;
    if (a.error !== undefined || b.error !== undefined || a.wall.length === 0 || b.wall.length === 0) return "n/a";
    const s = median(a.wall) / median(b.wall);
    return `${s.toFixed(2)}x (efficiency ${((100 * s) / (t / t1)).toFixed(0)}%)`;
  };
  report.addNote(
    `Scaling over ${t1} thread: ` +
      p.threads
        .filter((t) => t !== t1)
        .map((t) => `${t} threads sabre ${speed("sabre", t)}, scikit-learn ${speed("sklearn", t)}`)
        .join("; ") +
      `. This machine has ${machineInfo().cores} cores: thread counts above that oversubscribe them.`,
  );
  for (const t of p.threads) {
    const r = report.ratio("table-wall", `sklearn-${t}`, `sabre-${t}`);
    report.addTarget(`sabre fit faster than scikit-learn's at ${t} thread${t > 1 ? "s" : ""} (${p.trees} trees)`, r, (v) => v > 1, (v) => `${v.toFixed(2)}x faster`);
    if (t >= 16 && p.trees >= 32) {
      report.addTarget(`sabre fit at least 3x faster than scikit-learn's at ${t} threads (${p.trees} trees)`, r, (v) => v >= 3, (v) => `${v.toFixed(2)}x faster`);
    }
  }
}

/** One Fashion-MNIST tree, warm engines of 1 and 2 threads in this process, rounds interleaved. */
async function oneTree(report: Report, p: Plan, log: (s: string) => void): Promise<void> {
  const ids = ["1", "2", "grow-1", "grow-2"];
  const outcomes = new Map<string, Outcome>();
  const entries: Entry[] = [
    { id: "1", label: "fit, 1 thread", ours: true },
    { id: "2", label: "fit, 2 threads", ours: true },
    { id: "grow-1", label: "growth only (after binning), 1 thread", ours: true },
    { id: "grow-2", label: "growth only (after binning), 2 threads", ours: true },
  ];
  const group = (): void =>
    report.addGroup({
      id: "one-tree",
      title: `one fully grown tree, Fashion-MNIST ${p.fashionRows.toLocaleString("en")} x 784 uint8`,
      unit: "s",
      better: "lower",
      reference: "1",
      entries,
      outcomes,
      method: `Warm engines (a 1-tree warm-up fit each), one tree per fit, seeds 1..${p.oneTreeRounds}, 1 and 2 threads alternating. Growth only: from the fit's first progress report (binning done) to its end.`,
    });
  if (!fashionPresent()) {
    for (const id of ids) outcomes.set(id, { kind: "skipped", hint: FASHION_HINT });
    group();
    report.addTarget("one Fashion-MNIST tree: 2 threads at least 1.4x faster than 1", undefined, () => false);
    return;
  }
  const Xall = await loadIdxShared(join(FASHION_DIR, FASHION_FILES.trainX));
  const yall = await loadIdxShared(join(FASHION_DIR, FASHION_FILES.trainY));
  const n = p.fashionRows;
  const X = ndarray((Xall.data as Uint8Array).subarray(0, n * 784), [n, 784]) as unknown as NdArray;
  const y = (yall.data as Uint8Array).subarray(0, n);
  const engines = [await Engine.start({ threads: 1 }), await Engine.start({ threads: 2 })];
  const wall: number[][] = [[], []];
  const grow: number[][] = [[], []];
  try {
    const fitOnce = async (engine: Engine, seed: number): Promise<[number, number]> => {
      const rf = new RandomForestClassifier({ nEstimators: 1, seed, engine });
      let binned = Number.NaN;
      const t0 = performance.now();
      await rf.fit(X, y, { onProgress: () => (binned = Number.isNaN(binned) ? performance.now() : binned) });
      const end = performance.now();
      return [(end - t0) / 1000, (end - binned) / 1000];
    };
    for (const e of engines) await fitOnce(e, 1000);
    for (let r = 0; r < p.oneTreeRounds; r++) {
      for (let k = 0; k < 2; k++) {
        log(`one Fashion-MNIST tree on ${k + 1} thread${k ? "s" : ""}, round ${r + 1}/${p.oneTreeRounds} (load ${currentLoad().toFixed(1)})`);
        const [w, g] = await fitOnce(engines[k]!, 1 + r);
        wall[k]!.push(w);
        grow[k]!.push(g);
      }
    }
    outcomes.set("1", ok(wall[0]!));
    outcomes.set("2", ok(wall[1]!));
    outcomes.set("grow-1", ok(grow[0]!));
    outcomes.set("grow-2", ok(grow[1]!));
  } catch (err) {
    for (const id of ids) if (!outcomes.has(id)) outcomes.set(id, failed(err));
  } finally {
    for (const e of engines) await e.close();
  }
  group();
  const speedup = report.ratio("one-tree", "1", "2");
  report.addTarget("one Fashion-MNIST tree: 2 threads at least 1.4x faster than 1 (fit)", speedup, (s) => s >= 1.4, (s) => `${s.toFixed(2)}x`);
  report.addTarget("one Fashion-MNIST tree: growth on 2 threads at least 1.4x faster than on 1", report.ratio("one-tree", "grow-1", "grow-2"), (s) => s >= 1.4, (s) => `${s.toFixed(2)}x`);
}

export default async function forestScalingSuite(options: SuiteOptions): Promise<Report> {
  const p = plan(options.quick);
  const report = new Report("forest-scaling", "Forest fit scaling with threads, few trees per thread", machineInfo());
  await oneTree(report, p, options.log);
  await scaling(report, p, options.log);
  report.addNote(`Load average at the end: ${currentLoad().toFixed(2)} (a shared machine makes parallel figures noisy: read them beside the CPU times).`);
  return report;
}
