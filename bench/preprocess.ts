// `npm run bench preprocess`: the preprocessing steps of a scikit-learn
// script (StandardScaler, SimpleImputer median, KBinsDiscretizer quantile,
// OneHotEncoder, stratified trainTestSplit) and readCsv of a ~500 MB numeric
// CSV, sabre against scikit-learn 1.2, numpy, pandas' read_csv and numpy's
// loadtxt, in the same run, interleaved rounds, medians, on the same data
// (bench/workers/preprocess-data.ts). Each step has a big row (2M x 32) and
// a small one (10,000 x 32, per call over several calls); the first-call
// rows run each side once in a fresh process. danfojs is a peer where it has
// the step; it is not installable here, so its rows are skipped with a hint.
import { spawn } from "node:child_process";
import os from "node:os";
import { join } from "node:path";
import { readNpy, type NdArray } from "sabre";
import { importPeer, machineInfo, measureRounds, repoRoot, Report, Skip, WrongAnswer, type Contender, type Entry, type Outcome, type SuiteOptions } from "./harness/index.js";
import { CAT_COLS, CATS, FULL, prepareCsv, prepareFiles, QUICK, type PreFiles, type PreSizes } from "./workers/preprocess-data.js";
import { PANDAS_HINT, PrePeer, pyHas, pythonCold, SKLEARN_HINT, type PreCheck } from "./workers/preprocess-python.js";
import { checkOf, compareChecks, sabreStep, type Step, type StepInput } from "./workers/preprocess-sabre.js";

/** The parts `--only` may name, in run order. */
export const PRE_PARTS = ["scaler", "imputer", "kbins", "onehot", "split", "csv", "cold"] as const;
type Part = (typeof PRE_PARTS)[number];

const DANFO_HINT = "danfojs not installed: `npm i danfojs-node` needs xlsx from cdn.sheetjs.com, which this machine cannot reach";

interface Ctx {
  sizes: PreSizes;
  threads: number;
  rounds: number;
  quick: boolean;
  smallReps: number;
  big: PreFiles;
  small: PreFiles;
  peer: PrePeer | Skip;
  hasSklearn: boolean;
  hasPandas: boolean;
  log: (line: string) => void;
  arrays: Map<string, NdArray>;
  pyLoaded: Set<string>;
}

async function sabreArray(ctx: Ctx, path: string): Promise<NdArray> {
  let a = ctx.arrays.get(path);
  if (!a) {
    a = await readNpy(path);
    ctx.arrays.set(path, a);
  }
  return a;
}

async function pyArray(ctx: Ctx, path: string): Promise<string> {
  if (ctx.peer instanceof Skip) throw ctx.peer;
  if (!ctx.pyLoaded.has(path)) {
    await ctx.peer.load(path, path);
    ctx.pyLoaded.add(path);
  }
  return path;
}

/** Checks of the first sample of each row, compared after the rounds. */
type Checks = Map<string, PreCheck>;

function sabreContender(id: string, ctx: Ctx, step: Step, input: () => Promise<StepInput>, reps: number, checks: Checks): Contender {
  let call: (() => Promise<unknown>) | undefined;
  return {
    id,
    async setup() {
      call = sabreStep(step, await input());
      // The warm-up: JIT, the default engine's start and the output's first allocation are the cold rows' business.
      checks.set(id, checkOf(await call()));
    },
    async sample() {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) await call!();
      const ms = (performance.now() - t0) / reps;
      // Outputs are garbage at once, but V8 frees a SharedArrayBuffer only when a GC runs: without one
      // here, five rounds of 1.6 GB one-hot outputs filled the 24 GiB machine (the run was OOM-killed).
      collect();
      return ms;
    },
  };
}

/** A full GC between samples, outside the timing (`npm run bench` runs Node with --expose-gc). */
function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function pyContender(id: string, ctx: Ctx, row: string, needs: "sklearn" | "pandas" | "numpy", args: () => Promise<Record<string, unknown>>, reps: number, checks: Checks): Contender {
  let a: Record<string, unknown> = {};
  return {
    id,
    async setup() {
      if (ctx.peer instanceof Skip) throw ctx.peer;
      if (needs === "sklearn" && !ctx.hasSklearn) throw new Skip(SKLEARN_HINT);
      if (needs === "pandas" && !ctx.hasPandas) throw new Skip(PANDAS_HINT);
      a = await args();
      checks.set(id, (await (ctx.peer as PrePeer).run(row, 1, a)).check);
    },
    async sample() {
      return (await (ctx.peer as PrePeer).run(row, reps, a)).ms;
    },
  };
}

function danfoContender(id: string): Contender {
  return {
    id,
    async setup() {
      try {
        await importPeer("danfojs-node");
      } catch {
        throw new Skip(DANFO_HINT);
      }
      // Installed after all: the rows are still to be written (never faked).
      throw new Skip("danfojs-node is installed but its rows are not written yet");
    },
    sample() {
      return 0;
    },
  };
}

/** A split's check as one part per input array: shapes stacked, train and test sums added. */
function pairTotals(c: PreCheck): PreCheck {
  const parts = c.parts ?? [];
  const out: PreCheck[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const [tr, te] = [parts[i]!, parts[i + 1]!];
    const shape = tr.shape && te.shape ? [tr.shape[0]! + te.shape[0]!, ...tr.shape.slice(1)] : undefined;
    out.push({ shape, sum: (tr.sum ?? NaN) + (te.sum ?? NaN), abs: (tr.abs ?? NaN) + (te.abs ?? NaN) });
  }
  return { parts: out };
}

/** Marks a row failed when its first result disagrees with the reference peer's. */
function verify(outcomes: Map<string, Outcome>, checks: Checks, id: string, against: string, rel: number, sums = true, pairSums = false): void {
  const a = checks.get(id);
  const b = checks.get(against);
  if (!a || !b || outcomes.get(id)?.kind !== "ok") return;
  const m = compareChecks(a, b, rel, sums) || (pairSums ? compareChecks(pairTotals(a), pairTotals(b), rel, true) : "");
  if (m) outcomes.set(id, { kind: "failed", message: new WrongAnswer(`${id} disagrees with ${against}: ${m}`).message });
}

interface StepSpec {
  part: Exclude<Part, "csv" | "cold">;
  title: string;
  pyRow: string;
  npRow?: string;
  danfo?: boolean;
  /** The input table: X (float32), Xnan, cats (float64 codes), or X with y. */
  input: "X" | "Xnan" | "cats";
  withY?: boolean;
  rel: number;
  sums?: boolean;
  /** Outputs come in (train, test) pairs: also compare each pair's total sum (every row once on one side or the other). */
  pairSums?: boolean;
  /** Rounds instead of the suite's, when the peer's time swings more than the others'. */
  rounds?: { full: number; quick: number };
  extra?: Record<string, unknown>;
}

const STEPS: StepSpec[] = [
  { part: "scaler", title: "StandardScaler fit+transform", pyRow: "scaler_sk", npRow: "scaler_np", danfo: true, input: "X", rel: 1e-3 },
  { part: "imputer", title: "SimpleImputer(strategy=median) fit+transform, 5% NaN", pyRow: "imputer_sk", npRow: "imputer_np", input: "Xnan", rel: 1e-4 },
  { part: "kbins", title: "KBinsDiscretizer(10 bins, quantile, ordinal) fit+transform", pyRow: "kbins_sk", npRow: "kbins_np", input: "X", rel: 1e-3 },
  { part: "onehot", title: `OneHotEncoder (dense) fit+transform, ${CAT_COLS} columns of ${CATS} categories`, pyRow: "onehot_sk", npRow: "onehot_np", danfo: true, input: "cats", rel: 1e-9 },
  // scikit-learn's split time swung 818-1,515 ms across earlier runs: a median of 9 rounds is steadier.
  { part: "split", title: "trainTestSplit(X, y, testSize 0.25, stratify y)", pyRow: "split_sk", input: "X", withY: true, rel: 1e-9, sums: false, pairSums: true, rounds: { full: 9, quick: 3 } },
];

async function stepGroups(ctx: Ctx, report: Report, s: StepSpec): Promise<void> {
  for (const size of ["big", "small"] as const) {
    const files = size === "big" ? ctx.big : ctx.small;
    const rows = size === "big" ? ctx.sizes.rows : ctx.sizes.small;
    const reps = size === "big" ? 1 : ctx.smallReps;
    const xPath = files[s.input];
    const checks: Checks = new Map();
    const sabreInput = async (): Promise<StepInput> => {
      const X = await sabreArray(ctx, xPath);
      const input: StepInput = { X };
      if (s.withY) input.y = await sabreArray(ctx, files.y);
      if (s.part === "onehot") input.dtype = "float32";
      return input;
    };
    const pyArgs = async (): Promise<Record<string, unknown>> => {
      const a: Record<string, unknown> = { x: await pyArray(ctx, xPath), ...s.extra };
      if (s.withY) a.y = await pyArray(ctx, files.y);
      if (s.part === "onehot") a.dtype = "float32";
      return a;
    };
    const entries: Entry[] = [
      { id: "sklearn", label: "scikit-learn 1.2" },
      { id: "sabre", label: "sabre", ours: true },
    ];
    const contenders: Contender[] = [pyContender("sklearn", ctx, s.pyRow, "sklearn", pyArgs, reps, checks), sabreContender("sabre", ctx, s.part, sabreInput, reps, checks)];
    if (s.npRow) {
      entries.push({ id: "numpy", label: "numpy (hand-written)" });
      contenders.push(pyContender("numpy", ctx, s.npRow, "numpy", pyArgs, reps, checks));
    }
    if (s.danfo) {
      entries.push({ id: "danfo", label: "danfojs" });
      contenders.push(danfoContender("danfo"));
    }
    const rounds = s.rounds ? (ctx.quick ? s.rounds.quick : s.rounds.full) : ctx.rounds;
    ctx.log(`${s.part} ${size}: ${rows} rows, ${rounds} rounds${reps > 1 ? ` of ${reps} calls` : ""}`);
    const outcomes = await measureRounds(contenders, rounds, (id, r) => ctx.log(`  ${s.part}/${size} ${id} round ${r + 1}`));
    verify(outcomes, checks, "sabre", "sklearn", s.rel, s.sums ?? true, s.pairSums ?? false);
    if (s.npRow) verify(outcomes, checks, "numpy", "sklearn", s.rel, s.sums ?? true);
    report.addGroup({
      id: `${s.part}-${size}`,
      title: `${s.title}, ${rows.toLocaleString("en")} rows${s.input === "cats" ? "" : ` x ${ctx.sizes.cols}`}`,
      unit: "ms",
      better: "lower",
      reference: "sklearn",
      entries,
      outcomes,
      method: `${ctx.threads} threads each side; median of ${rounds} interleaved rounds${reps > 1 ? `, each ${reps} calls (ms per call)` : ""}; the first result of each row checked against scikit-learn's (${s.pairSums ? "each output's shape, and train + test sums of each array" : "shape and sum"})`,
    });
  }
  const big = `${s.part}-big`;
  report.addTarget(`${s.title} (${ctx.sizes.rows.toLocaleString("en")} rows): sabre at least 2x scikit-learn`, report.ratio(big, "sklearn", "sabre"), (r) => r >= 2, (r) => `${r.toFixed(2)}x`);
}

async function csvGroups(ctx: Ctx, report: Report): Promise<void> {
  for (const size of ["big", "small"] as const) {
    const rows = size === "big" ? ctx.sizes.csvRows : ctx.sizes.csvSmall;
    const path = prepareCsv(rows, ctx.log);
    const reps = size === "big" ? 1 : ctx.smallReps;
    const rounds = size === "big" ? Math.max(2, ctx.rounds - 2) : ctx.rounds;
    const checks: Checks = new Map();
    const entries: Entry[] = [
      { id: "pandas", label: "pandas read_csv" },
      { id: "sabre", label: "sabre readCsv", ours: true },
      { id: "loadtxt", label: "numpy loadtxt" },
      { id: "danfo", label: "danfojs readCSV" },
    ];
    const contenders: Contender[] = [
      pyContender("pandas", ctx, "csv_pd", "pandas", () => Promise.resolve({ path }), reps, checks),
      sabreContender("sabre", ctx, "csv", () => Promise.resolve({ path }), reps, checks),
      pyContender("loadtxt", ctx, "csv_np", "numpy", () => Promise.resolve({ path }), reps, checks),
      danfoContender("danfo"),
    ];
    const { size: bytes } = await import("node:fs").then((fs) => fs.statSync(path));
    ctx.log(`csv ${size}: ${(bytes / 1e6).toFixed(0)} MB, ${rounds} rounds`);
    const outcomes = await measureRounds(contenders, rounds, (id, r) => ctx.log(`  csv/${size} ${id} round ${r + 1}`));
    verify(outcomes, checks, "sabre", "pandas", 1e-9);
    verify(outcomes, checks, "loadtxt", "pandas", 1e-9);
    report.addGroup({
      id: `csv-${size}`,
      title: `readCsv of a ${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB numeric CSV (${rows.toLocaleString("en")} rows x 32, "%.5f" cells, header)`,
      unit: "ms",
      better: "lower",
      reference: "pandas",
      entries,
      outcomes,
      method: `${ctx.threads} threads for sabre (pandas and loadtxt parse on one); the file in the page cache; median of ${rounds} interleaved rounds${reps > 1 ? `, each ${reps} calls (ms per call)` : ""}; X checked against pandas' values (shape and sum)`,
    });
  }
  report.addTarget("readCsv of the big CSV: at least pandas' read_csv speed", report.ratio("csv-big", "pandas", "sabre"), (r) => r >= 1, (r) => `${r.toFixed(2)}x`);
}

/** One first call of a step in a fresh node process. */
function nodeCold(step: string, args: Record<string, string>): Promise<{ ms: number; check: PreCheck }> {
  return new Promise((resolve, reject) => {
    const script = join(repoRoot(), "build", "bench", "workers", "preprocess-cold.js");
    const child = spawn(process.execPath, [script, step, ...Object.entries(args).map(([k, v]) => `${k}=${v}`)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (err = (err + b.toString()).slice(-2000)));
    child.on("exit", (code) => {
      if (code !== 0) {
        return reject(new Error(`cold ${step} exited ${code}: ${err.trim().split("\n").slice(-3).join(" | ")}`));
      }
      try {
        resolve(JSON.parse(out.trim().split("\n").pop()!) as { ms: number; check: PreCheck });
      } catch {
        reject(new Error(`cold ${step} printed ${out.slice(0, 200)}`));
      }
    });
  });
}

async function coldGroups(ctx: Ctx, report: Report): Promise<void> {
  const csv = prepareCsv(ctx.sizes.csvRows, ctx.log);
  const rows: { id: string; title: string; step: Step; pyRow: string; args: Record<string, string>; needs: "sklearn" | "pandas"; ref: string }[] = [
    { id: "cold-scaler", title: `first call in a fresh process: StandardScaler fit+transform, ${ctx.sizes.rows.toLocaleString("en")} x ${ctx.sizes.cols}`, step: "scaler", pyRow: "scaler_sk", args: { x: ctx.big.X }, needs: "sklearn", ref: "scikit-learn 1.2" },
    { id: "cold-scaler-small", title: `first call in a fresh process: StandardScaler fit+transform, ${ctx.sizes.small.toLocaleString("en")} x ${ctx.sizes.cols}`, step: "scaler", pyRow: "scaler_sk", args: { x: ctx.small.X }, needs: "sklearn", ref: "scikit-learn 1.2" },
    { id: "cold-csv", title: `first call in a fresh process: readCsv of the big CSV`, step: "csv", pyRow: "csv_pd", args: { path: csv }, needs: "pandas", ref: "pandas read_csv" },
  ];
  const rounds = Math.max(1, ctx.rounds - 2);
  for (const r of rows) {
    const entries: Entry[] = [
      { id: "py", label: r.ref },
      { id: "sabre", label: "sabre", ours: true },
    ];
    const contenders: Contender[] = [
      {
        id: "py",
        setup() {
          if (r.needs === "sklearn" && !ctx.hasSklearn) throw new Skip(SKLEARN_HINT);
          if (r.needs === "pandas" && !ctx.hasPandas) throw new Skip(PANDAS_HINT);
        },
        async sample() {
          return (await pythonCold(r.pyRow, r.args, ctx.threads)).ms;
        },
      },
      {
        id: "sabre",
        async sample() {
          return (await nodeCold(r.step, r.args)).ms;
        },
      },
    ];
    ctx.log(`${r.id}: ${rounds} rounds, a fresh process per call`);
    const outcomes = await measureRounds(contenders, rounds, (id, k) => ctx.log(`  ${r.id} ${id} round ${k + 1}`));
    report.addGroup({
      id: r.id,
      title: r.title,
      unit: "ms",
      better: "lower",
      reference: "py",
      entries,
      outcomes,
      method: `each sample a fresh process: imports and the data load not timed; sabre's first call includes the default engine's start (${ctx.threads} workers) and the JIT; median of ${rounds} rounds`,
    });
  }
}

export default async function preprocess(options: SuiteOptions): Promise<Report> {
  const only = options.only;
  if (only) {
    const unknown = only.filter((p) => !(PRE_PARTS as readonly string[]).includes(p));
    if (unknown.length > 0) throw new Error(`preprocess has no part ${unknown.join(", ")} (parts: ${PRE_PARTS.join(", ")})`);
  }
  const want = (p: Part): boolean => !only || only.includes(p);
  const sizes = options.quick ? QUICK : FULL;
  const threads = os.availableParallelism();
  const report = new Report("preprocess", "Preprocessing steps and readCsv against scikit-learn, numpy and pandas", machineInfo());
  const log = options.log;
  const big = await prepareFiles(sizes.rows, sizes.cols, log, "big");
  const small = await prepareFiles(sizes.small, sizes.cols, log, "small");
  let peer: PrePeer | Skip;
  try {
    peer = (await PrePeer.start(threads)).peer;
  } catch (err) {
    peer = err instanceof Skip ? err : new Skip(String(err));
  }
  const ctx: Ctx = {
    sizes,
    threads,
    rounds: options.quick ? 2 : 5,
    quick: options.quick ?? false,
    smallReps: options.quick ? 5 : 20,
    big,
    small,
    peer,
    hasSklearn: pyHas("sklearn"),
    hasPandas: pyHas("pandas"),
    log,
    arrays: new Map(),
    pyLoaded: new Set(),
  };
  try {
    for (const s of STEPS) if (want(s.part)) await stepGroups(ctx, report, s);
    if (want("csv")) await csvGroups(ctx, report);
    if (want("cold")) await coldGroups(ctx, report);
  } finally {
    if (!(peer instanceof Skip)) peer.close();
  }
  report.notes.push(
    "scikit-learn's KBinsDiscretizer runs with subsample=None (1.2's default behaviour: quantiles of every row); one-hot output is float32 on both sides (dense 2M x 200 float64 would be 3.2 GB per side).",
    "The small rows time many calls and report ms per call: there the fixed cost of a call (dispatch to the workers, allocation) is what is measured.",
    "readCsv: files of 1 MiB or more are parsed in parallel in byte ranges (src/data/csv-parallel.md); pandas' C parser and numpy's loadtxt use one thread.",
    DANFO_HINT,
  );
  return report;
}
