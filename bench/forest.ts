// `npm run bench forest`: sabre's RandomForestClassifier against scikit-learn
// 1.2 and ml-random-forest on the same data, the same number of trees and the
// same cores, in one run. Every contender run is its own child process (so its
// peak RSS is its own): bench/workers/forest-sabre.ts, bench/peers/forest-sklearn.py,
// bench/peers/forest-mlrf.ts. What each row measures is in bench/README.md.
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  cacheDir,
  currentLoad,
  machineInfo,
  measureRounds,
  Report,
  repoRoot,
  Skip,
  summarize,
  WrongAnswer,
  type Contender,
  type Entry,
  type Outcome,
  type SuiteOptions,
} from "./harness/index.js";
import { ensureFriedman, ensureTable, FASHION_DIR, fashionPresent, type RunResult, type RunSpec } from "./workers/forest-data.js";
import { PYTHON, requireSklearn, runChild } from "./workers/forest-children.js";

/** scikit-learn comes from Debian's python3-sklearn, which installs for this interpreter only. */
const FASHION_HINT = `Fashion-MNIST not found in ${FASHION_DIR}: apt-get update && apt-get install dataset-fashion-mnist`;
const FASHION_TRAIN = 60_000;

interface Plan {
  /** Fashion-MNIST training rows for the 10- and 100-tree rows (the test set is always all 10,000). */
  fashionRows: number;
  smallTrees: number;
  smallRounds: number;
  /** 0: no 100-tree rows (--quick). */
  bigTrees: number;
  bigRounds: number;
  table: { train: number; test: number; features: number; trees: number; rounds: number };
  /** RandomForestRegressor on a continuous table's continuous target (maxFeatures 1.0: every feature at every split). */
  regression: { train: number; test: number; features: number; trees: number; rounds: number };
  /** The ml-random-forest row: a subsample of Fashion-MNIST, few trees. */
  sub: { rows: number; trees: number; rounds: number };
  binningRounds: number;
  /** Fashion-MNIST as float32 / 255 beside uint8: rounds of the smallTrees and bigTrees rows (0: none). */
  floatRounds: number;
  floatBigRounds: number;
  /** RandomForestRegressor (defaults) on make_friedman1. */
  friedman: { train: number; test: number; trees: number; rounds: number };
}

const FULL: Plan = {
  fashionRows: FASHION_TRAIN,
  smallTrees: 10,
  smallRounds: 3,
  bigTrees: 100,
  bigRounds: 3,
  table: { train: 300_000, test: 60_000, features: 20, trees: 20, rounds: 3 },
  regression: { train: 100_000, test: 20_000, features: 20, trees: 10, rounds: 3 },
  sub: { rows: 2_000, trees: 5, rounds: 3 },
  binningRounds: 3,
  floatRounds: 3,
  floatBigRounds: 3,
  friedman: { train: 25_000, test: 5_000, trees: 20, rounds: 3 },
};

const QUICK: Plan = {
  fashionRows: 10_000,
  smallTrees: 10,
  smallRounds: 1,
  bigTrees: 0,
  bigRounds: 0,
  table: { train: 50_000, test: 10_000, features: 20, trees: 10, rounds: 1 },
  regression: { train: 20_000, test: 5_000, features: 20, trees: 5, rounds: 1 },
  sub: { rows: 500, trees: 2, rounds: 1 },
  binningRounds: 1,
  floatRounds: 1,
  floatBigRounds: 0,
  friedman: { train: 25_000, test: 5_000, trees: 5, rounds: 1 },
};

/**
 * The suite's parts, in run order, as `--only` names them (`npm run bench --
 * forest --only float,friedman`). A part whose figures another part quotes
 * (the binning group quotes fm10's fit rows) shows them as "not run" when
 * that part is left out. A new part (a scaling row, a single tree) adds its
 * name here and one `if (want(...))` block in forestSuite.
 */
export const FOREST_PARTS = {
  fm10: "Fashion-MNIST uint8, few trees, 1 and all threads",
  binning: "the binning step alone, uint8 and float32, 1 and all threads",
  fm100: "Fashion-MNIST uint8, 100 trees",
  float: "Fashion-MNIST as float32 / 255 beside uint8, few and 100 trees",
  table: "a continuous 300,000 x 20 table, classifier",
  reg: "a continuous 100,000 x 20 table, regressor",
  friedman: "make_friedman1 25,000 x 10, regressor defaults",
  sub: "a Fashion-MNIST subsample with ml-random-forest",
} as const;

// ---- child processes ---------------------------------------------------------------------------

type Fit = Extract<RunResult, { fitS: number }>;



type Who = "sabre" | "sklearn" | "mlrf";

/** The machine's CPU seconds so far, from /proc/stat: busy (user, nice, system, irq, softirq) and stolen by the hypervisor. */
function machineCpu(): { busy: number; steal: number } | undefined {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    const hz = 100; // USER_HZ, 100 on every Linux this runs on
    return { busy: (user + nice + system + irq + softirq) / hz, steal: steal / hz };
  } catch {
    return undefined;
  }
}

/**
 * CPU used by other processes while the children ran: the machine's busy
 * time minus each child's own CPU time, summed with the children's wall time.
 * The load average cannot say this: this suite's own two threads raise it.
 */
const contention = { others: 0, steal: 0, wall: 0 };

async function launch(who: Who, spec: RunSpec): Promise<RunResult> {
  const json = JSON.stringify(spec);
  // A full-size fit takes up to ~1 min here; ml-random-forest's subsample row about as long.
  const timeout = 15 * 60_000;
  const script = who === "sabre" ? "./workers/forest-sabre.js" : "./peers/forest-mlrf.js";
  const before = machineCpu();
  const t0 = performance.now();
  const r = await (who === "sklearn"
    ? runChild(PYTHON, [join(repoRoot(), "bench", "peers", "forest-sklearn.py"), json], timeout)
    : runChild(process.execPath, [fileURLToPath(new URL(script, import.meta.url)), json], timeout));
  const after = machineCpu();
  if (before && after && "cpuS" in r) {
    contention.others += Math.max(0, after.busy - before.busy - r.cpuS);
    contention.steal += after.steal - before.steal;
    contention.wall += (performance.now() - t0) / 1000;
  }
  return r;
}

/** Every figure of every run of one contender, in run order. */
interface Runs {
  fit: number[];
  fitCpu: number[];
  predict: number[];
  accuracy: number[];
  rss: number[];
  loadedRss: number[];
  nodes: number[];
  version: string;
}

/**
 * A contender whose sample is one child process: one fit and one predict.
 * The sample's figure is the fit time; the other figures go into `runs`.
 * Run r uses seed 1 + r on every side, so accuracy is a median over seeds.
 */
function child(id: string, who: Who, spec: (seed: number) => RunSpec, runs: Map<string, Runs>, needs: () => void): Contender {
  const mine: Runs = { fit: [], fitCpu: [], predict: [], accuracy: [], rss: [], loadedRss: [], nodes: [], version: "" };
  runs.set(id, mine);
  return {
    id,
    setup: needs,
    async sample(round) {
      const s = spec(1 + round);
      const r = await launch(who, s);
      if ("skip" in r) throw new Skip(r.skip);
      if (!("fitS" in r)) throw new WrongAnswer(`the ${who} child answered a fit with ${JSON.stringify(r)}`);
      if (!(r.accuracy >= 0 && r.accuracy <= 1) || !(r.fitS > 0) || !(r.nodes >= s.trees)) {
        throw new WrongAnswer(`the ${who} child reported impossible figures: ${JSON.stringify(r)}`);
      }
      record(mine, r);
      return r.fitS;
    },
  };
}

function record(runs: Runs, r: Fit): void {
  runs.fit.push(r.fitS);
  runs.fitCpu.push(r.fitCpuS);
  runs.predict.push(r.predictS * 1000);
  runs.accuracy.push(r.accuracy * 100);
  runs.rss.push(r.peakRssMiB);
  runs.loadedRss.push(r.loadedRssMiB);
  runs.nodes.push(r.nodes);
  runs.version = r.version;
}

/** The outcome of another figure of the same runs: the fit's skip or failure carries over. */
function derived(fit: Outcome | undefined, values: readonly number[]): Outcome {
  if (!fit) return { kind: "failed", message: "not run" };
  if (fit.kind !== "ok") return fit;
  return { kind: "ok", stats: summarize(values) };
}

const median = (xs: readonly number[]): number => summarize(xs).median;

// ---- the suite -----------------------------------------------------------------------------------

interface ScenarioEntry {
  id: string;
  label: string;
  ours?: boolean;
  who: Who;
  threads: number;
  /** Fashion-MNIST rows: which copy of the pixels this entry fits (default: the scenario's). */
  pixels?: "uint8" | "float32";
}

interface Scenario {
  id: string;
  title: string;
  /** How it was run, printed under every group of the scenario. */
  method: string;
  entries: ScenarioEntry[];
  spec: (who: Who, threads: number, seed: number, entry: ScenarioEntry) => RunSpec;
  rounds: number;
  /** What "accuracy" holds: the share of correct labels (default) or a regressor's R^2. */
  metric?: "accuracy" | "r2";
  needs: Record<Who, () => void>;
}

/** Forest figures: fit, predict, accuracy, peak RSS; sklearn (threads = cores) is every group's reference. */
async function measureScenario(report: Report, sc: Scenario, log: (s: string) => void): Promise<Map<string, Runs>> {
  const load = currentLoad();
  log(`${sc.title}: ${sc.rounds} round(s), load average ${load.toFixed(2)}`);
  const runs = new Map<string, Runs>();
  Object.assign(contention, { others: 0, steal: 0, wall: 0 });
  const contenders = sc.entries.map((e) =>
    child(e.id, e.who, (seed) => sc.spec(e.who, e.threads, seed, e), runs, sc.needs[e.who]),
  );
  const started = performance.now();
  const outcomes = await measureRounds(contenders, sc.rounds, (id, r) => log(`  ${id}, round ${r + 1}/${sc.rounds}`));
  const took = (performance.now() - started) / 1000;
  const method = `${sc.method} ${busyText(load, took)}`;
  const entries: Entry[] = sc.entries.map((e) => ({ id: e.id, label: e.label, ours: e.ours ?? false }));
  const withNote = (note: (r: Runs) => string): Entry[] =>
    entries.map((e) => {
      const r = runs.get(e.id)!;
      return r.fit.length > 0 ? { ...e, note: note(r) } : e;
    });
  const figure = (pick: (r: Runs) => number[]) => new Map(sc.entries.map((e) => [e.id, derived(outcomes.get(e.id), pick(runs.get(e.id)!))]));
  const perTree = (r: Runs, trees: number) => Math.round(median(r.nodes) / trees).toLocaleString("en-US");
  const trees = sc.spec("sabre", 1, 1, sc.entries[0]!).trees;
  const same = "The same runs as the fit group above.";
  report.addGroup({
    id: `${sc.id}-fit`,
    title: `${sc.title}: fit`,
    unit: "s",
    better: "lower",
    reference: "sklearn",
    entries: withNote(
      (r) => `${r.version}; ${perTree(r, trees)} nodes/tree; fit CPU ${median(r.fitCpu).toFixed(1)} s (all threads, ${(median(r.fitCpu) / trees).toFixed(2)} s/tree)`,
    ),
    outcomes: outcomes,
    method,
  });
  report.addGroup({
    id: `${sc.id}-predict`,
    title: `${sc.title}: predict the test set`,
    unit: "ms",
    better: "lower",
    reference: "sklearn",
    entries,
    outcomes: figure((r) => r.predict),
    method: same,
  });
  const r2 = sc.metric === "r2";
  report.addGroup({
    id: `${sc.id}-acc`,
    title: `${sc.title}: test ${r2 ? "R^2" : "accuracy"}`,
    unit: r2 ? "R^2 x 100" : "% correct",
    better: "higher",
    reference: "sklearn",
    entries: withNote((r) => `runs (seed 1, 2, ...): ${r.accuracy.map((a) => (a / 100).toFixed(4)).join(", ")}`),
    outcomes: figure((r) => r.accuracy),
    method: same,
  });
  report.addGroup({
    id: `${sc.id}-rss`,
    title: `${sc.title}: peak memory (RSS of the child process)`,
    unit: "MiB",
    better: "lower",
    reference: "sklearn",
    entries: withNote((r) => `${Math.round(median(r.loadedRss))} MiB once the data was loaded, before fit`),
    outcomes: figure((r) => r.rss),
    method: same,
  });
  return runs;
}

/** How busy the machine was during a group (reads and resets `contention`). */
function busyText(load: number, took: number): string {
  const { others, steal, wall } = contention;
  const during =
    wall > 0
      ? ` Other processes used ${(others / wall).toFixed(2)} cores on average while the children ran (/proc/stat minus the children's own CPU time)` +
        `${steal / wall >= 0.05 ? `, and the hypervisor stole ${(steal / wall).toFixed(2)} cores` : ""}.`
      : "";
  return `Load average ${load.toFixed(2)} when this group started (${os.availableParallelism()} cores; it includes this suite's own previous group).${during} The group took ${took.toFixed(0)} s.`;
}

/** The four targets of issue 4 for one scenario (a regressor's R^2 is held to the accuracy target). */
function addTargets(report: Report, id: string, what: string, metric: "accuracy" | "R^2" = "accuracy"): void {
  const speedup = report.ratio(`${id}-fit`, "sklearn", "sabre");
  report.addTarget(`${what}: fit at least 3x faster than scikit-learn`, speedup, (s) => s >= 3, (s) => `${s.toFixed(2)}x faster`);
  const a = report.median(`${id}-acc`, "sabre");
  const b = report.median(`${id}-acc`, "sklearn");
  report.addTarget(
    `${what}: ${metric} at most 0.01 below scikit-learn`,
    a === undefined || b === undefined ? undefined : (a - b) / 100,
    (d) => d >= -0.01,
    (d) => `${d >= 0 ? "+" : ""}${d.toFixed(4)} (${(a! / 100).toFixed(4)} vs ${(b! / 100).toFixed(4)})`,
  );
  report.addTarget(`${what}: predict no slower than scikit-learn`, report.ratio(`${id}-predict`, "sabre"), (r) => r <= 1, (r) => `${r.toFixed(2)}x its time`);
  report.addTarget(`${what}: peak memory no higher than scikit-learn`, report.ratio(`${id}-rss`, "sabre"), (r) => r <= 1, (r) => `${r.toFixed(2)}x its peak`);
}

/** Charts only the fit-time groups: the other figures read better in the tables. */
class ForestReport extends Report {
  override svg(): string {
    const chart = new Report(this.suite, `${this.title}: fit seconds (log scale)`, this.machine);
    for (const g of this.groups) if (g.id.endsWith("-fit") || g.id === "binning") chart.addGroup(g);
    return chart.svg();
  }
}

export default async function forestSuite(options: SuiteOptions): Promise<Report> {
  const plan = options.quick ? QUICK : FULL;
  const { log } = options;
  const cores = os.availableParallelism();
  const report = new ForestReport("forest", "sabre random forests vs scikit-learn and ml-random-forest", machineInfo());
  const load = currentLoad();
  if (load > cores * 0.75) {
    log(`WARNING: load average ${load.toFixed(2)} on ${cores} cores: other work shares the machine; figures will be noisy (re-run later if you can)`);
  }
  const needs: Record<Who, () => void> = {
    sabre: () => {},
    sklearn: () => void requireSklearn(),
    mlrf: () => {},
  };
  const needFashion = (n: Record<Who, () => void>): Record<Who, () => void> => {
    const check = () => {
      if (!fashionPresent()) throw new Skip(FASHION_HINT);
    };
    return { sabre: check, sklearn: () => (check(), n.sklearn()), mlrf: check };
  };
  const fashion =
    (rows: number, trees: number, pixels: "uint8" | "float32" = "uint8") =>
    (_who: Who, threads: number, seed: number, entry?: ScenarioEntry): RunSpec => ({
      data: { kind: "fashion", dir: FASHION_DIR, trainRows: rows, pixels: entry?.pixels ?? pixels },
      trees,
      seed,
      threads,
    });
  const only = options.only;
  for (const name of only ?? []) {
    if (!(name in FOREST_PARTS)) throw new Error(`the forest suite has no part "${name}" (parts: ${Object.keys(FOREST_PARTS).join(", ")})`);
  }
  const want = (part: keyof typeof FOREST_PARTS): boolean => only === undefined || only.includes(part);
  const scenarioRuns = new Map<string, Map<string, Runs>>();
  const both = [
    { id: "sabre", label: `sabre, ${cores} threads`, ours: true, who: "sabre" as const, threads: cores },
    { id: "sklearn", label: `scikit-learn, n_jobs=${cores}`, who: "sklearn" as const, threads: cores },
  ];
  const rowsText = plan.fashionRows === FASHION_TRAIN ? "60,000 x 784 uint8" : `the first ${plan.fashionRows.toLocaleString("en-US")} of 60,000 rows x 784 uint8 (--quick)`;
  const sameForest =
    "Both: bootstrap, sqrt(d) features drawn per split, gini, fully grown trees (scikit-learn's defaults); each run is a fresh child process, run r uses seed r on both sides.";

  // 1. Fashion-MNIST, few trees, with 1-thread runs of both for the scaling figure.
  const small = !want("fm10") ? new Map<string, Runs>() : await measureScenario(
    report,
    {
      id: "fm10",
      title: `Fashion-MNIST, ${plan.smallTrees} trees`,
      method: `Train ${rowsText}, test 10,000; ${plan.smallTrees} trees. ${sameForest}`,
      entries: [
        ...both,
        { id: "sabre-1", label: "sabre, 1 thread", ours: true, who: "sabre", threads: 1 },
        { id: "sklearn-1", label: "scikit-learn, n_jobs=1", who: "sklearn", threads: 1 },
      ],
      spec: fashion(plan.fashionRows, plan.smallTrees),
      rounds: plan.smallRounds,
      needs: needFashion(needs),
    },
    log,
  );
  if (want("fm10")) {
    addTargets(report, "fm10", `Fashion-MNIST ${plan.smallTrees} trees`);
    scenarioRuns.set("fm10", small);
  }

  // 2. Where sabre's fit time goes: the binning step alone, cold, in a fresh process, on 1 and `cores` threads, for both copies of the pixels.
  if (want("binning")) {
    const binner = (id: string, threads: number, pixels: "uint8" | "float32"): Contender => ({
      id,
      setup: () => needFashion(needs).sabre(),
      async sample() {
        const r = await launch("sabre", { ...fashion(plan.fashionRows, 1, pixels)("sabre", threads, 1), mode: "binning", repeats: 1 });
        if (!("binningS" in r) || r.binningS.length !== 1) throw new WrongAnswer(`the sabre child answered binning with ${JSON.stringify(r)}`);
        return r.binningS[0]!;
      },
    });
    const binLoad = currentLoad();
    log(`binning alone: ${plan.binningRounds} round(s), load average ${binLoad.toFixed(2)}`);
    Object.assign(contention, { others: 0, steal: 0, wall: 0 });
    const binStarted = performance.now();
    const binOutcomes = await measureRounds(
      [binner("bin-1", 1, "uint8"), binner(`bin-${cores}`, cores, "uint8"), binner("bin-f32-1", 1, "float32"), binner(`bin-f32-${cores}`, cores, "float32")],
      plan.binningRounds,
    );
    const fm10 = hasGroup(report, "fm10-fit") ? report.group("fm10-fit").outcomes : new Map<string, Outcome>();
    const binEntries = [
      { id: `bin-${cores}`, label: `sabre binning uint8, ${cores} threads`, ours: true },
      { id: "bin-1", label: "sabre binning uint8, 1 thread", ours: true },
      { id: `bin-f32-${cores}`, label: `sabre binning float32 / 255, ${cores} threads`, ours: true },
      { id: "bin-f32-1", label: "sabre binning float32 / 255, 1 thread", ours: true },
      { id: "sabre", label: `sabre fit ${plan.smallTrees} trees, ${cores} threads`, ours: true },
      { id: "sabre-1", label: `sabre fit ${plan.smallTrees} trees, 1 thread`, ours: true },
      { id: "sklearn", label: `scikit-learn fit ${plan.smallTrees} trees, n_jobs=${cores}` },
      { id: "sklearn-1", label: `scikit-learn fit ${plan.smallTrees} trees, n_jobs=1` },
    ];
    report.addGroup({
      id: "binning",
      title: `Where the fit time goes, and 1 vs ${cores} threads (Fashion-MNIST, ${plan.smallTrees} trees)`,
      unit: "s",
      better: "lower",
      reference: "sklearn",
      entries: binEntries,
      outcomes: new Map<string, Outcome>([
        ...[...binOutcomes.entries()],
        ...(["sabre", "sabre-1", "sklearn", "sklearn-1"].map((id) => [id, fm10.get(id) ?? { kind: "failed", message: "not run (part fm10)" }]) as [string, Outcome][]),
      ]),
      method:
        "Binning = the first step of fit alone: the time from the start of a 1-tree fit to its first progress report, " +
        "when the trees are handed to the workers, in a fresh process each run as fit pays it (JIT cold). For the uint8 pixels the code is the value, " +
        "so binning is a transpose into the feature-major layout; for the same pixels as float32 / 255 it is a scan that finds each feature's " +
        "distinct values (hashing the float bits) and writes their ids, then a pass that turns ids into codes in both layouts. " +
        `The fit rows are the uint8 group above (fm10). ${busyText(binLoad, (performance.now() - binStarted) / 1000)}`,
    });
  }

  // 3. Fashion-MNIST, many trees.
  if (plan.bigTrees > 0 && want("fm100")) {
    const big = await measureScenario(
      report,
      {
        id: "fm100",
        title: `Fashion-MNIST, ${plan.bigTrees} trees`,
        method: `Train ${rowsText}, test 10,000; ${plan.bigTrees} trees. ${sameForest}`,
        entries: both,
        spec: fashion(plan.fashionRows, plan.bigTrees),
        rounds: plan.bigRounds,
        needs: needFashion(needs),
      },
      log,
    );
    scenarioRuns.set("fm100", big);
    addTargets(report, "fm100", `Fashion-MNIST ${plan.bigTrees} trees`);
  }

  // 3b. The same pixels as float32 / 255 (what most users hold after normalizing), beside the uint8 copy, against scikit-learn on the float32 data.
  if (want("float")) {
    const floatEntries: ScenarioEntry[] = [
      { id: "sabre", label: `sabre float32, ${cores} threads`, ours: true, who: "sabre", threads: cores, pixels: "float32" },
      { id: "sabre-u8", label: `sabre uint8, ${cores} threads`, ours: true, who: "sabre", threads: cores, pixels: "uint8" },
      { id: "sklearn", label: `scikit-learn float32, n_jobs=${cores}`, who: "sklearn", threads: cores, pixels: "float32" },
    ];
    const floatText = rowsText.replace("uint8", "as float32 / 255 (and the uint8 copy)");
    for (const [trees, rounds, id] of [
      [plan.smallTrees, plan.floatRounds, "f32-10"],
      [plan.bigTrees, plan.floatBigRounds, "f32-100"],
    ] as const) {
      if (trees === 0 || rounds === 0) continue;
      const runs = await measureScenario(
        report,
        {
          id,
          title: `Fashion-MNIST as float32 / 255, ${trees} trees`,
          method:
            `Train ${floatText}, test 10,000 the same way; ${trees} trees. Both children read the IDX files and convert the pixels to float32 / 255 ` +
            `(sabre while streaming the gzip into shared memory; numpy with astype + an in-place divide). ${sameForest}`,
          entries: floatEntries,
          spec: fashion(plan.fashionRows, trees, "float32"),
          rounds,
          needs: needFashion(needs),
        },
        log,
      );
      scenarioRuns.set(id, runs);
      addTargets(report, id, `Fashion-MNIST float32 / 255, ${trees} trees`);
    }
  }

  // 4. A large continuous table (quantile bins are not exact there).
  if (want("table")) {
    const t = plan.table;
    log(`continuous table ${t.train + t.test} x ${t.features}: generating or reusing bench/.cache`);
    const files = ensureTable(cacheDir(), t.train, t.test, t.features);
    const table = await measureScenario(
      report,
      {
        id: "table",
        title: `Continuous table ${t.train.toLocaleString("en-US")} x ${t.features}, ${t.trees} trees`,
        method:
          `Train ${t.train.toLocaleString("en-US")} x ${t.features} float64 (standard normal; label = sin(2 x0) + x1 x2 + (x3^2 - 1)/2 - |x4|/2 + 0.3 x5 + 0.4 + noise(sd 0.5) > 0, ` +
          `the other ${t.features - 6} features are noise), test ${t.test.toLocaleString("en-US")}, generated once by sabre's RNG (seed 1) into bench/.cache and read byte for byte by both; ` +
          `every value is distinct, so sabre's 256 quantile bins are not exact (scikit-learn converts X to float32 and splits between sorted values). ${t.trees} trees. ${sameForest}`,
        entries: both,
        spec: (_who, threads, seed) => ({ data: { kind: "table", files }, trees: t.trees, seed, threads }),
        rounds: t.rounds,
        needs,
      },
      log,
    );
    scenarioRuns.set("table", table);
    addTargets(report, "table", `continuous table ${t.train.toLocaleString("en-US")} x ${t.features}`);
  }

  // 5. The regressor on a continuous target: maxFeatures 1.0, so every split scans every feature (sibling subtraction applies).
  if (want("reg")) {
    const g = plan.regression;
    const regFiles = ensureTable(cacheDir(), g.train, g.test, g.features);
    const regression = await measureScenario(
      report,
      {
        id: "reg",
        title: `Regression, continuous table ${g.train.toLocaleString("en-US")} x ${g.features}, ${g.trees} trees`,
        method:
          `RandomForestRegressor on both sides with its defaults (bootstrap, squared error, max_features 1.0: all ${g.features} features at every split, fully grown trees); ` +
          `the table is generated as above (${g.train.toLocaleString("en-US")} train, ${g.test.toLocaleString("en-US")} test rows) and the target is the label's score before ` +
          `thresholding: sin(2 x0) + x1 x2 + (x3^2 - 1)/2 - |x4|/2 + 0.3 x5 + 0.4 + noise(sd 0.5). The metric is R^2 on the test rows. ${g.trees} trees; ` +
          "each run is a fresh child process, run r uses seed r on both sides.",
        entries: both,
        spec: (_who, threads, seed) => ({ data: { kind: "table", files: regFiles }, task: "regression", trees: g.trees, seed, threads }),
        rounds: g.rounds,
        needs,
        metric: "r2",
      },
      log,
    );
    scenarioRuns.set("reg", regression);
    addTargets(report, "reg", `regression table ${g.train.toLocaleString("en-US")} x ${g.features}`, "R^2");
  }

  // 5b. make_friedman1, RandomForestRegressor with its defaults: a small fit where fixed costs (set-up, binning, dispatch) show.
  if (want("friedman")) {
    const fr = plan.friedman;
    const frFiles = ensureFriedman(cacheDir(), fr.train, fr.test);
    const friedman = await measureScenario(
      report,
      {
        id: "friedman",
        title: `Regression, make_friedman1 ${fr.train.toLocaleString("en-US")} x 10, ${fr.trees} trees`,
        method:
          `RandomForestRegressor on both sides with its defaults (bootstrap, squared error, all 10 features at every split, fully grown trees), ${fr.trees} trees; ` +
          `scikit-learn's make_friedman1 (noise 1.0) ported to sabre's RNG (seed 1; bench/workers/forest-data.ts), ${fr.train.toLocaleString("en-US")} train and ` +
          `${fr.test.toLocaleString("en-US")} test rows of float64 written once into bench/.cache and read byte for byte by both. The metric is R^2 on the test rows; ` +
          "each run is a fresh child process, run r uses seed r on both sides. The \"after one fit\" row fits once with another seed in the same child before the timed fit " +
          "(not a target: it shows what V8 compiling the growth code costs a fresh process; its peak memory holds both forests).",
        entries: [...both, { id: "sabre-warm", label: `sabre, ${cores} threads, after one fit in the same process`, ours: true, who: "sabre" as const, threads: cores }],
        spec: (_who, threads, seed, e) => ({ data: { kind: "table", files: frFiles }, task: "regression", trees: fr.trees, seed, threads, ...(e.id === "sabre-warm" ? { warmFits: 1 } : {}) }),
        rounds: fr.rounds,
        needs,
        metric: "r2",
      },
      log,
    );
    scenarioRuns.set("friedman", friedman);
    addTargets(report, "friedman", `make_friedman1 ${fr.train.toLocaleString("en-US")} x 10`, "R^2");
  }

  // 6. ml-random-forest, on a subsample it can finish.
  if (want("sub")) {
    const s = plan.sub;
    await measureScenario(
      report,
      {
        id: "sub",
        title: `Fashion-MNIST subsample ${s.rows.toLocaleString("en-US")} rows, ${s.trees} trees, with ml-random-forest`,
        method:
          `ml-random-forest is too slow for the full set (single-threaded; ~2 s per tree on 1,000 rows, growing with the square of the rows), so this row trains ` +
          `all three on the first ${s.rows.toLocaleString("en-US")} training rows only (test: all 10,000). ml-random-forest draws sqrt(d) = 28 features once per tree ` +
          `(not per split), votes by majority, stops at 3 samples or a gain below 0.01 (ml-cart's defaults), and runs with noOOB. ${sameForest}`,
        entries: [...both, { id: "mlrf", label: "ml-random-forest, 1 thread", who: "mlrf", threads: 1 }],
        spec: fashion(s.rows, s.trees),
        rounds: s.rounds,
        needs: needFashion(needs),
      },
      log,
    );
  }

  // Notes: scaling, the fit split, versions.
  const med = (group: string, id: string) => (hasGroup(report, group) ? report.median(group, id) : undefined);
  const fit = (id: string) => med("fm10-fit", id);
  const scale = (one: number | undefined, many: number | undefined) => (one && many ? `${(one / many).toFixed(2)}x` : "n/a");
  const b1 = med("binning", "bin-1");
  const bN = med("binning", `bin-${cores}`);
  report.addNote(
    `1 -> ${cores} threads on Fashion-MNIST ${plan.smallTrees} trees (fit medians): sabre ${scale(fit("sabre-1"), fit("sabre"))}, ` +
      `scikit-learn ${scale(fit("sklearn-1"), fit("sklearn"))}, sabre's binning step ${scale(b1, bN)}. This VM's ${cores} vCPUs may not scale like ${cores} real cores.`,
  );
  const cpuPerTree = (id: string) => {
    const r = small.get(id);
    return r && r.fitCpu.length > 0 ? `${(median(r.fitCpu) / plan.smallTrees).toFixed(2)}` : "n/a";
  };
  report.addNote(
    `Fit CPU time per tree (every thread of the process, binning included, medians; Fashion-MNIST ${plan.smallTrees} trees): ` +
      `sabre ${cpuPerTree("sabre-1")} s on 1 thread, ${cpuPerTree("sabre")} s on ${cores}; scikit-learn ${cpuPerTree("sklearn-1")} s with n_jobs=1, ${cpuPerTree("sklearn")} s with n_jobs=${cores}. ` +
      `CPU per tree that grows with the thread count means the threads slow each other (shared caches, memory bandwidth, vCPUs on one physical core, or spinning while waiting).`,
  );
  if (bN !== undefined && fit("sabre") !== undefined) {
    const share = bN / fit("sabre")!;
    report.addNote(
      `sabre's fit of ${plan.smallTrees} trees on ${cores} threads: binning ~${bN.toFixed(2)} s (${(share * 100).toFixed(0)}%), growing the trees ~${(fit("sabre")! - bN).toFixed(2)} s ` +
        `(~${(((fit("sabre")! - bN) * cores) / plan.smallTrees).toFixed(3)} thread-seconds per tree).`,
    );
  }
  const cpuRatio = (id: string) => {
    const r = scenarioRuns.get(id);
    const a = r?.get("sklearn")?.fitCpu ?? [];
    const b = r?.get("sabre")?.fitCpu ?? [];
    return a.length > 0 && b.length > 0 ? `${(median(a) / median(b)).toFixed(2)}x` : "n/a";
  };
  report.addNote(
    `Fit CPU seconds (every thread), scikit-learn / sabre: Fashion-MNIST ${plan.smallTrees} trees ${cpuRatio("fm10")}` +
      `${plan.bigTrees > 0 ? `, ${plan.bigTrees} trees ${cpuRatio("fm100")}` : ""}, float32 / 255 ${plan.smallTrees} trees ${cpuRatio("f32-10")}` +
      `${plan.bigTrees > 0 ? `, ${plan.bigTrees} trees ${cpuRatio("f32-100")}` : ""}, continuous table ${cpuRatio("table")}, regression ${cpuRatio("reg")}, ` +
      `make_friedman1 ${cpuRatio("friedman")} (n/a: part not run). ` +
      "CPU time moves much less than wall time when other processes take a core (a long scikit-learn run loses more wall time to them than a short sabre run), " +
      "so it is the steadier measure of the work each side does; the targets use wall time.",
  );
  const sk = small.get("sklearn")?.version;
  if (sk) report.addNote(`Peer versions: ${sk} (${PYTHON}, n_jobs threads), ${mlrfVersion() ?? "ml-random-forest not installed"}; Node ${process.version}.`);
  report.addNote(
    `The load average at the top counts this suite's own ${cores} busy threads, so it reads "busy" even on an otherwise idle machine; ` +
      "each group's method line says how many cores other processes actually used while its children ran.",
  );
  report.addNote(
    "Peak memory is each child process's maximum RSS (all its threads: sabre's engine workers, joblib's threads), data loading included; " +
      "both sides load the same files into one array each (sabre streams the gzip into shared memory; numpy reads one bytes object).",
  );
  report.addNote(
    "Accuracy is the median over runs with seeds 1, 2, 3, ... on each side (the same seed does not give the same forest across libraries); " +
      "predict times of ~0.1 s differ by amounts close to the run-to-run noise.",
  );
  return report;
}

function hasGroup(report: Report, id: string): boolean {
  return report.groups.some((g) => g.id === id);
}

function mlrfVersion(): string | undefined {
  try {
    const pkg = join(repoRoot(), "node_modules", "ml-random-forest", "package.json");
    if (!existsSync(pkg)) return undefined;
    return `ml-random-forest ${(JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version}`;
  } catch {
    return undefined;
  }
}
