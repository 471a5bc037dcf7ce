// `npm run bench ops`: sabre's numeric ops against numpy (its OpenBLAS for
// matmul), scikit-learn's KMeans and the JS libraries a Node user would pick
// (ml-matrix, ndarray-ops, tfjs-core on tfjs-backend-cpu, ml-kmeans), plus
// plain loops and the machine's memory bandwidth (bench/anchors/stream.c and
// a numpy copy), all in one run, medians of interleaved rounds, on the same
// seeded data (bench/workers/ops-data.ts). What each row measures and why is
// in bench/README.md ("The ops suite").
import os from "node:os";
import { Engine, type NdArray } from "sabre";
import {
  buildAnchor,
  machineInfo,
  measureRounds,
  parseFigures,
  Report,
  runAnchor,
  Skip,
  summarize,
  WrongAnswer,
  type Contender,
  type Entry,
  type Outcome,
  type SuiteOptions,
} from "./harness/index.js";
import { sabreOp } from "./workers/ops-api.js";
import { checksumOf, FULL, KM_STD, loadOpsData, QUICK, type OpsData } from "./workers/ops-data.js";
import {
  asyncTimed,
  inertiaOf,
  mlKmeans,
  mlMatrix,
  ndarrayOps,
  ndColumnMeans,
  ndView,
  perCallMedian,
  plainArgsort,
  plainHistogram,
  plainSum,
  syncTimed,
  tfjs,
  tfValues,
  toMatrix,
  toRows,
  type Timed,
} from "./workers/ops-js.js";
import { PyPeer, SKLEARN_HINT, type PyInfo } from "./workers/ops-python.js";


/** The parts `--only` may name: the bandwidth group and every op group, in run order. */
export const OPS_PARTS = ["bandwidth", "sum", "mean", "mean0", "mean1", "var0", "var1", "sum1000", "matmul64", "matmul32", "argsort", "histogram", "kmeans"] as const;

/** Rounds of a row whose one call takes seconds (GroupSpec.rows' `slow`). */
const SLOW_ROUNDS = 3;

/** k-means settings, the same on every side: scikit-learn's defaults for max_iter and tol, one init. */
const KM = { maxIter: 300, tol: 1e-4, nInit: 1 };

interface Plan {
  readonly data: OpsData;
  readonly threads: number;
  readonly engine: Engine;
  readonly py: PyPeer | Skip;
  readonly pyInfo: PyInfo | undefined;
  readonly rounds: number;
  /** Rounds for the rows whose one call takes seconds (argsort, k-means). */
  readonly heavyRounds: number;
  /** Target length of one sample, ms (the call count is sized to it). */
  readonly sampleMs: number;
  readonly log: (line: string) => void;
}

// ---- contenders ---------------------------------------------------------------------------------

/**
 * A contender timing `reps` calls per sample: the first call is checked and
 * warms the JIT, a second pilot at the estimated count sizes the sample to
 * about sampleMs, and every sample's last result is checked again (outside
 * the timing), so a fast wrong answer fails its row. `verify` gets the round
 * (-1 for the pilot calls).
 */
function timed<C>(
  id: string,
  plan: Plan,
  start: () => Promise<Timed<C>>,
  figure: (msPerCall: number) => number,
  verify: (check: C, round: number) => void,
  opts: { fixedReps?: number; maxReps?: number } = {},
): Contender {
  let t: Timed<C> | undefined;
  let reps = 1;
  const estimate = (ms: number, n: number) => Math.max(1, Math.min(opts.maxReps ?? 1e6, Math.round((plan.sampleMs * n) / Math.max(ms, 1e-3))));
  return {
    id,
    async setup() {
      t = await start();
      const first = await t.run(1, -1);
      verify(first.check, -1);
      if (opts.fixedReps !== undefined) {
        reps = opts.fixedReps;
        return;
      }
      reps = estimate(first.ms, 1);
      if (reps > 1) {
        const second = await t.run(reps, -1);
        reps = estimate(second.ms, reps);
      }
    },
    async sample(round) {
      const r = await t!.run(reps, round);
      verify(r.check, round);
      return figure(r.ms / reps);
    },
    async teardown() {
      await t?.close?.();
    },
  };
}

/** A row of the Python peer (numpy, scikit-learn), timed inside Python. */
function pyStart<C>(plan: Plan, row: string, extra: Record<string, unknown> = {}): () => Promise<Timed<C>> {
  return async () => {
    if (plan.py instanceof Skip) throw plan.py;
    const py = plan.py;
    return { run: (reps, round) => py.run<C>(row, reps, { seed: Math.max(round, 0), ...extra }) };
  };
}

/**
 * A sabre row: `make` looks its ops up (an op missing from the build fails
 * the row with its name); `how` times the calls (all together by default).
 */
function sabreStart<C>(
  plan: Plan,
  make: (engine: Engine) => (round: number) => Promise<C>,
  how: (fn: (round: number) => Promise<C>) => Timed<C> = asyncTimed,
): () => Promise<Timed<C>> {
  return async () => how(make(plan.engine));
}

function near(what: string, got: number, want: number, rel: number): void {
  if (!(Math.abs(got - want) <= rel * Math.abs(want))) {
    throw new WrongAnswer(`${what}: got ${got}, expected ${want} (relative tolerance ${rel})`);
  }
}

const gbps = (bytes: number) => (ms: number) => bytes / (ms * 1e6);
const usPerCall = (ms: number) => ms * 1e3;
const asMs = (ms: number) => ms;
const asS = (ms: number) => ms / 1e3;

// ---- the memory bandwidth -----------------------------------------------------------------------

interface Bandwidth {
  read: Outcome;
  copy: Outcome;
}

/** bench/anchors/stream.c on `threads` threads over 2 x the big array's size (capped at 512 MiB), `runs` times. */
async function streamAnchor(plan: Plan, runs: number): Promise<Bandwidth> {
  try {
    const bin = buildAnchor("bench/anchors/stream.c", ["-O2", "-pthread"]);
    const mib = Math.max(64, Math.min(512, Math.round((plan.data.sizes.big * 8) / 2 ** 20)));
    const read: number[] = [];
    const copy: number[] = [];
    for (let i = 0; i < runs; i++) {
      const out = await runAnchor(bin, [String(plan.threads), String(mib), "5"]);
      const f = parseFigures(out, { read: /read: ([\d.]+) GB\/s/, copy: /copy: ([\d.]+) GB\/s/ });
      read.push(f.read);
      copy.push(f.copy);
    }
    return { read: { kind: "ok", stats: summarize(read) }, copy: { kind: "ok", stats: summarize(copy) } };
  } catch (err) {
    const o: Outcome = err instanceof Skip ? { kind: "skipped", hint: err.hint } : { kind: "failed", message: String(err) };
    return { read: o, copy: o };
  }
}

// ---- the groups ---------------------------------------------------------------------------------

interface GroupSpec {
  id: string;
  title: string;
  unit: string;
  better: "lower" | "higher";
  method: string;
  rounds: number;
  /**
   * Rows in order; the reference is "numpy" (or "sklearn"). `slow`: one call
   * takes seconds at full size (pure-JS matmul, tfjs's generic strided
   * kernels, comparator sorts), so the row gets SLOW_ROUNDS rounds, run after
   * the group's other rows, instead of the group's count.
   */
  rows: (Entry & { js?: boolean; slow?: boolean; contender?: Contender })[];
  reference?: string;
  /** Outcomes measured elsewhere (the bandwidth rows quoted in a memory-bound group). */
  extra?: Map<string, Outcome>;
  /** A note for a row known only once measured (k-means: the inertia reached; which side of numpy sabre landed). */
  annotate?: (id: string, outcomes: ReadonlyMap<string, Outcome>) => string | undefined;
}

async function measureGroup(report: Report, plan: Plan, g: GroupSpec): Promise<void> {
  const pick = (slow: boolean) => g.rows.flatMap((r) => (r.contender && (r.slow ?? false) === slow ? [r.contender] : []));
  const slowRounds = Math.min(g.rounds, SLOW_ROUNDS);
  const outcomes = await measureRounds(pick(false), g.rounds, (id, round) => plan.log(`${g.id}: ${id}, round ${round + 1}/${g.rounds}`));
  const slow = await measureRounds(pick(true), slowRounds, (id, round) => plan.log(`${g.id}: ${id}, round ${round + 1}/${slowRounds} (slow row)`));
  for (const [id, o] of slow) outcomes.set(id, o);
  for (const [id, o] of g.extra ?? []) outcomes.set(id, o);
  for (const [id, o] of outcomes) if (o.kind === "failed") plan.log(`${g.id}: ${id} FAILED: ${o.message}`);
  report.addGroup({
    id: g.id,
    title: g.title,
    unit: g.unit,
    better: g.better,
    reference: g.reference ?? "numpy",
    entries: g.rows.map(({ id, label, ours, note, slow }) => {
      const parts = [g.annotate?.(id, outcomes) ?? note, slow && g.rounds > slowRounds ? `${slowRounds} rounds (seconds per call)` : undefined];
      const n = parts.filter((p) => p !== undefined).join("; ");
      return { id, label, ...(ours ? { ours } : {}), ...(n ? { note: n } : {}) };
    }),
    outcomes,
    method: g.method,
  });
}

/** The JS library rows of each group (for "ahead of every JS library"). */
const jsRows = new Map<string, string[]>();

function remember(g: GroupSpec): GroupSpec {
  jsRows.set(
    g.id,
    g.rows.filter((r) => r.js).map((r) => r.id),
  );
  return g;
}

/**
 * The sabre row's note in the groups measured against numpy with a reason
 * (matmul, argsort): the reason for the gap when numpy is ahead.
 */
function versusNumpy(better: "lower" | "higher", gap: string) {
  return (id: string, outcomes: ReadonlyMap<string, Outcome>): string | undefined => {
    const a = outcomes.get("sabre");
    const b = outcomes.get("numpy");
    if (id !== "sabre" || a?.kind !== "ok" || b?.kind !== "ok") return undefined;
    const ahead = better === "higher" ? a.stats.median > b.stats.median : a.stats.median < b.stats.median;
    return ahead ? "ahead of numpy (the notes say how each side runs)" : `behind numpy: ${gap} (see the notes)`;
  };
}

function bwRow(label = "machine: C stream read"): Entry {
  return { id: "bw", label, note: "bench/anchors/stream.c, same threads" };
}

/** sum and mean of the big float64 array. */
function wholeArrayGroup(plan: Plan, which: "sum" | "mean", bw: Bandwidth): GroupSpec {
  const d = plan.data;
  const x = d.big.array;
  const n = d.sizes.big;
  const bytes = n * 8;
  const want = which === "sum" ? d.refs.sum : d.refs.mean;
  const check = (what: string, rel: number) => (v: number) => near(what, v, want, rel);
  const fig = gbps(bytes);
  const data = x.data as Float64Array;
  return remember({
    id: which,
    title: `${which} of ${(n / 1e6).toFixed(0)}M float64`,
    unit: "GB/s",
    better: "higher",
    rounds: plan.rounds,
    method: `Bytes of the array read per second (${(bytes / 1e6).toFixed(0)} MB per call), one call per iteration. sabre on an Engine of ${plan.threads} threads; numpy's ${which} is one C loop (pairwise sum, one thread); tfjs holds the data as float32 (half the bytes, counted as the float64 array's here: same elements).`,
    extra: new Map([["bw", bw.read]]),
    rows: [
      {
        id: "sabre",
        label: `sabre ops.${which}`,
        ours: true,
        contender: timed("sabre", plan, sabreStart(plan, (engine) => {
          const op = sabreOp(which);
          return () => op(x, { engine });
        }), fig, check(`ops.${which}`, 1e-12)),
      },
      { id: "numpy", label: `numpy ${which}`, contender: timed("numpy", plan, pyStart<number>(plan, which), fig, check(`numpy ${which}`, 1e-12)) },
      {
        id: "ndops",
        label: which === "sum" ? "ndarray-ops sum" : "ndarray-ops sum / n",
        js: true,
        contender: timed("ndops", plan, async () => {
          const nops = await ndarrayOps();
          const a = ndView(data);
          return syncTimed(() => (which === "sum" ? nops.sum(a) : nops.sum(a) / n));
        }, fig, check("ndarray-ops", 1e-9)),
      },
      {
        id: "tfjs",
        slow: true,
        label: `tfjs-backend-cpu ${which} (float32)`,
        js: true,
        contender: timed("tfjs", plan, async () => {
          const tf = await tfjs();
          const t = tf.tensor1d(Float32Array.from(data));
          const f = which === "sum" ? tf.sum : tf.mean;
          return syncTimed(() => tfValues(tf, () => f(t))[0]!, () => t.dispose());
        }, fig, check("tfjs", 1e-5)),
      },
      {
        id: "plain",
        label: "plain JS loop (1 thread)",
        note: "for (...) s += x[i]",
        contender: timed("plain", plan, async () => syncTimed(() => (which === "sum" ? plainSum(data) : plainSum(data) / n)), fig, check("plain loop", 1e-9)),
      },
      bwRow(),
    ],
  });
}

/** mean or variance along axis 0 or 1 of the float32 table. */
function axisGroup(plan: Plan, which: "mean" | "variance", axis: 0 | 1, bw: Bandwidth): GroupSpec {
  const d = plan.data;
  const tab = d.tab.array;
  const [R, C] = [d.sizes.tabRows, d.sizes.tabCols];
  const t = tab.data as Float32Array;
  const bytes = R * C * 4;
  const key = `${which === "mean" ? "mean" : "var"}${axis}` as "mean0" | "mean1" | "var0" | "var1";
  const want = d.refs[key];
  // A checksum of the result (float64 sum of its elements); float32 accumulation along 1M rows (numpy's axis-0 reduce) drifts by ~1e-4.
  const check = (what: string) => (v: number) => near(`${what} (checksum of the result)`, v, want, 1e-3);
  const fig = gbps(bytes);
  const rows: GroupSpec["rows"] = [
    {
      id: "sabre",
      label: `sabre ops.${which}(axis ${axis})`,
      ours: true,
      contender: timed("sabre", plan, sabreStart(plan, (engine) => {
        const op = sabreOp(which);
        return async () => checksumOf(await op(tab, { axis, engine }));
      }), fig, check(`ops.${which}`)),
    },
    { id: "numpy", label: `numpy ${which === "mean" ? "mean" : "var"}(axis=${axis})`, contender: timed("numpy", plan, pyStart<number>(plan, key), fig, check("numpy")) },
    {
      id: "mlmatrix",
      slow: true,
      label: `ml-matrix ${which}("${axis === 0 ? "column" : "row"}")`,
      js: true,
      note: "float64 rows (no float32)",
      contender: timed("mlmatrix", plan, async () => {
        const ml = await mlMatrix();
        const m = toMatrix(ml, t, R, C);
        const by = axis === 0 ? "column" : "row";
        return syncTimed(() => {
          const r = which === "mean" ? m.mean(by) : m.variance(by, { unbiased: false });
          let s = 0;
          for (const v of r) s += v;
          return s;
        });
      }, fig, check("ml-matrix")),
    },
    {
      id: "tfjs",
      slow: true,
      label: `tfjs-backend-cpu ${which === "mean" ? "mean" : "moments"}(axis ${axis})`,
      js: true,
      contender: timed("tfjs", plan, async () => {
        const tf = await tfjs();
        const t2 = tf.tensor2d(t, [R, C]);
        return syncTimed(() => {
          const v = tfValues(tf, () => (which === "mean" ? tf.mean(t2, axis) : tf.moments(t2, axis).variance));
          let s = 0;
          for (let i = 0; i < v.length; i++) s += v[i]!;
          return s;
        }, () => t2.dispose());
      }, fig, check("tfjs")),
    },
  ];
  if (which === "mean" && axis === 0) {
    rows.push({
      id: "ndops",
      label: "ndarray-ops sum(pick(null, j)) / n per column",
      js: true,
      contender: timed("ndops", plan, async () => {
        const nops = await ndarrayOps();
        return syncTimed(() => {
          const r = ndColumnMeans(nops, t, R, C);
          let s = 0;
          for (const v of r) s += v;
          return s;
        });
      }, fig, check("ndarray-ops")),
    });
  }
  rows.push(bwRow());
  return remember({
    id: key,
    title: `${which} along axis ${axis} of ${R >= 1e6 ? `${R / 1e6}M` : `${R / 1e3}k`} x ${C} float32`,
    unit: "GB/s",
    better: "higher",
    rounds: plan.rounds,
    method: `Bytes of the table read per second (${(bytes / 1e6).toFixed(0)} MB per call; a two-pass variance reads it twice but is counted once). sabre on ${plan.threads} threads; numpy one thread.`,
    extra: new Map([["bw", bw.read]]),
    rows,
  });
}

function smallSumGroup(plan: Plan): GroupSpec {
  const d = plan.data;
  const x = d.small.array;
  const data = x.data as Float64Array;
  const want = d.refs.sum1000;
  const check = (what: string, rel: number) => (v: number) => near(what, v, want, rel);
  const opts = { maxReps: 2e6 };
  return remember({
    id: "sum1000",
    title: `sum of ${d.sizes.small} float64 (call latency)`,
    unit: "us/call",
    better: "lower",
    rounds: plan.rounds,
    method: "Many calls one after another (sabre's awaited, as a caller's loop awaits them), each timed on its own; figure = the median call of a sample (then the median over rounds): the whole cost of one small call (option checks, dispatch or not, the promise), not moved by a stall of the busy machine. numpy's calls are timed the same way in Python (perf_counter_ns).",
    rows: [
      {
        id: "sabre",
        label: "sabre await ops.sum",
        ours: true,
        contender: timed("sabre", plan, sabreStart(plan, (engine) => {
          const op = sabreOp("sum");
          return () => op(x, { engine });
        }, (fn) => perCallMedian(() => fn(0))), usPerCall, check("ops.sum", 1e-12), opts),
      },
      { id: "numpy", label: "numpy sum (Python loop)", contender: timed("numpy", plan, pyStart<number>(plan, "sum1000"), usPerCall, check("numpy sum", 1e-12), opts) },
      {
        id: "ndops",
        label: "ndarray-ops sum",
        js: true,
        contender: timed("ndops", plan, async () => {
          const nops = await ndarrayOps();
          const a = ndView(data);
          return perCallMedian(() => nops.sum(a));
        }, usPerCall, check("ndarray-ops", 1e-9), opts),
      },
      {
        id: "tfjs",
        label: "tfjs-backend-cpu sum (float32)",
        js: true,
        contender: timed("tfjs", plan, async () => {
          const tf = await tfjs();
          const t = tf.tensor1d(Float32Array.from(data));
          return { ...perCallMedian(() => tfValues(tf, () => tf.sum(t))[0]!), close: () => t.dispose() };
        }, usPerCall, check("tfjs", 1e-5), opts),
      },
      { id: "plain", label: "plain JS loop", contender: timed("plain", plan, async () => perCallMedian(() => plainSum(data)), usPerCall, check("plain loop", 1e-9), opts) },
    ],
  });
}

function matmulGroup(plan: Plan, dt: "float64" | "float32"): GroupSpec {
  const d = plan.data;
  const m = d.sizes.mat;
  const [A, B] = dt === "float64" ? [d.A.array, d.B.array] : [d.A32.array, d.B32.array];
  const want = dt === "float64" ? d.refs.matmul64 : d.refs.matmul32;
  // sum(A @ B) against its closed form: numpy's product is off by 2e-15 (float64) and 7e-7 (float32) of it
  // at 1024 x 1024; the tolerances leave room for another summation order, not for a wrong product.
  const rel = dt === "float64" ? 1e-10 : 1e-4;
  const check = (what: string) => (v: number) => near(`${what} (sum of the product)`, v, want, rel);
  const fig = (ms: number) => (2 * m ** 3) / (ms * 1e6);
  const tag = dt === "float64" ? "64" : "32";
  const rows: GroupSpec["rows"] = [
    {
      id: "sabre",
      label: "sabre ops.matmul",
      ours: true,
      contender: timed("sabre", plan, sabreStart(plan, (engine) => {
        const op = sabreOp("matmul");
        return async () => checksumOf(await op(A, B, { engine }));
      }), fig, check("ops.matmul")),
    },
    { id: "numpy", label: "numpy A @ B (OpenBLAS)", contender: timed("numpy", plan, pyStart<number>(plan, `matmul${tag}`), fig, check("numpy")) },
    {
      id: "mlmatrix",
      slow: true,
      label: "ml-matrix mmul",
      js: true,
      ...(dt === "float32" ? { note: "computes in float64 (no float32)" } : {}),
      contender: timed("mlmatrix", plan, async () => {
        const ml = await mlMatrix();
        const a = toMatrix(ml, A.data as ArrayLike<number>, m, m);
        const b = toMatrix(ml, B.data as ArrayLike<number>, m, m);
        return syncTimed(() => a.mmul(b).sum());
      }, fig, check("ml-matrix")),
    },
  ];
  if (dt === "float32") {
    rows.push({
      id: "tfjs",
      slow: true,
      label: "tfjs-backend-cpu matMul",
      js: true,
      contender: timed("tfjs", plan, async () => {
        const tf = await tfjs();
        const a = tf.tensor2d(A.data as Float32Array, [m, m]);
        const b = tf.tensor2d(B.data as Float32Array, [m, m]);
        return syncTimed(() => {
          const v = tfValues(tf, () => tf.matMul(a, b));
          let s = 0;
          for (let i = 0; i < v.length; i++) s += v[i]!;
          return s;
        }, () => {
          a.dispose();
          b.dispose();
        });
      }, fig, check("tfjs")),
    });
  }
  const pools = plan.pyInfo?.pools.join(", ") || "OpenBLAS";
  return remember({
    id: `matmul${tag}`,
    title: `matmul ${m} x ${m} ${dt}`,
    unit: "GFLOP/s",
    better: "higher",
    rounds: plan.rounds,
    annotate: versusNumpy("higher", "OpenBLAS's 256-bit FMA assembly kernels against 128-bit WebAssembly SIMD without FMA"),
    method: `2 n^3 / time. sabre on ${plan.threads} threads; numpy's ${pools} limited to ${plan.threads} threads (OPENBLAS_NUM_THREADS, threadpoolctl).${dt === "float64" ? " tfjs has no float64 (see the float32 group)." : ""}`,
    rows,
  });
}

function argsortGroup(plan: Plan): GroupSpec {
  const x = plan.data.sortx;
  const data = x.data as Float64Array;
  const n = data.length;
  const checkOrder = (what: string) => (idx: ArrayLike<number>) => {
    if (idx.length !== n) throw new WrongAnswer(`${what}: ${idx.length} indices for ${n} elements`);
    const seen = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const k = idx[i]!;
      if (!(k >= 0 && k < n) || seen[k]) throw new WrongAnswer(`${what}: not a permutation (index ${k} at ${i})`);
      seen[k] = 1;
      if (i > 0) {
        const a = data[idx[i - 1]!]!;
        const b = data[k]!;
        if (a > b || (a === b && idx[i - 1]! > k)) throw new WrongAnswer(`${what}: not a stable ascending order at ${i}`);
      }
    }
  };
  const pyCheck = (what: string) => (ok: boolean) => {
    if (!ok) throw new WrongAnswer(`${what}: numpy's own check of the order failed`);
  };
  return remember({
    id: "argsort",
    title: `argsort of ${n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`} float64`,
    unit: "ms",
    better: "lower",
    rounds: plan.heavyRounds,
    annotate: versusNumpy("lower", "one C thread sorting indices against JS passes over keys and indices per run, then merges"),
    method: `One call per sample, uniform random values (no ties). sabre's argsort is stable, on ${plan.threads} threads; numpy's is one thread: its default (introsort, not stable) and kind="stable" (radix sort does not apply to floats: timsort). The JS rows sort an index array with a comparator.`,
    rows: [
      {
        id: "sabre",
        label: "sabre ops.argsort (stable)",
        ours: true,
        contender: timed("sabre", plan, sabreStart(plan, (engine) => {
          const op = sabreOp("argsort");
          return async () => {
            const r: NdArray = await op(x, { engine });
            const idx = r.data as ArrayLike<number | bigint>;
            // int64 indices (numpy's intp) come back as bigints: compared as numbers (n < 2^53).
            return typeof idx[0] === "bigint" ? Array.from(idx, Number) : (idx as ArrayLike<number>);
          };
        }), asMs, checkOrder("ops.argsort"), { fixedReps: 1 }),
      },
      { id: "numpy", label: "numpy argsort (quicksort)", contender: timed("numpy", plan, pyStart<boolean>(plan, "argsort"), asMs, pyCheck("numpy"), { fixedReps: 1 }) },
      { id: "numpy_stable", label: 'numpy argsort(kind="stable")', contender: timed("numpy_stable", plan, pyStart<boolean>(plan, "argsort_stable"), asMs, pyCheck("numpy stable"), { fixedReps: 1 }) },
      {
        id: "tfjs",
        slow: true,
        label: "tfjs-backend-cpu topk(x, n) (float32)",
        js: true,
        note: "descending; float32 values (ties possible), order not checked",
        contender: timed("tfjs", plan, async () => {
          const tf = await tfjs();
          const t = tf.tensor1d(Float32Array.from(data));
          return syncTimed(() => tfValues(tf, () => tf.topk(t, n, true).indices), () => t.dispose());
        }, asMs, (idx) => {
          if (idx.length !== n) throw new WrongAnswer(`tfjs topk: ${idx.length} indices for ${n}`);
        }, { fixedReps: 1 }),
      },
      { id: "plain", label: "plain JS indices.sort((a, b) => x[a] - x[b])", slow: true, contender: timed("plain", plan, async () => syncTimed(() => plainArgsort(data)), asMs, checkOrder("plain sort"), { fixedReps: 1 }) },
    ],
  });
}

function histogramGroup(plan: Plan, bw: Bandwidth): GroupSpec {
  const d = plan.data;
  const x = d.big.array;
  const data = x.data as Float64Array;
  const bins = d.sizes.bins;
  const want = d.refs.counts;
  const check = (what: string) => (counts: ArrayLike<number>) => {
    if (counts.length !== bins) throw new WrongAnswer(`${what}: ${counts.length} counts, expected ${bins}`);
    for (let i = 0; i < bins; i++) {
      if (counts[i] !== want[i]) throw new WrongAnswer(`${what}: bin ${i} holds ${counts[i]}, numpy's binning gives ${want[i]}`);
    }
  };
  const fig = gbps(d.sizes.big * 8);
  return remember({
    id: "histogram",
    title: `histogram of ${(d.sizes.big / 1e6).toFixed(0)}M float64, ${bins} bins`,
    unit: "GB/s",
    better: "higher",
    rounds: plan.rounds,
    method: `range (0, 1) given on every side (numpy's fast path for equal bins); counts checked bin for bin against numpy's binning. sabre on ${plan.threads} threads; numpy one thread. None of the JS libraries has a histogram: the plain loop is what a Node user writes.`,
    extra: new Map([["bw", bw.read]]),
    rows: [
      {
        id: "sabre",
        label: "sabre ops.histogram",
        ours: true,
        contender: timed("sabre", plan, sabreStart(plan, (engine) => {
          const op = sabreOp("histogram");
          return async () => {
            const r = await op(x, { bins, range: [0, 1], engine });
            const c = r.counts;
            return Array.from({ length: c.shape[0]! }, (_, i) => Number(c.get(i)));
          };
        }), fig, check("ops.histogram")),
      },
      { id: "numpy", label: "numpy histogram", contender: timed("numpy", plan, pyStart<number[]>(plan, "histogram", { bins }), fig, check("numpy")) },
      { id: "plain", label: "plain JS loop (1 thread)", contender: timed("plain", plan, async () => syncTimed(() => plainHistogram(data, bins)), fig, check("plain loop")) },
      bwRow(),
    ],
  });
}

interface KmCheck {
  inertia: number;
  iterations: number;
}

/** k-means: time per fit (seed = round on every side) and the inertia reached, collected per contender. */
/** The medians, over the rounds' seeds, of what each k-means row reached. */
function kmMedian(fits: Map<string, KmCheck[]>, id: string, key: keyof KmCheck): number | undefined {
  const l = fits.get(id);
  return l && l.length > 0 ? summarize(l.map((c) => c[key])).median : undefined;
}

function kmeansGroup(plan: Plan, fits: Map<string, KmCheck[]>): GroupSpec {
  const d = plan.data;
  const X = d.km.array;
  const x = X.data as Float64Array;
  const [n, dim, k] = [d.sizes.kmRows, d.sizes.kmCols, d.sizes.k];
  const record = (id: string) => (c: KmCheck, round: number) => {
    if (!(Number.isFinite(c.inertia) && c.inertia > 0)) throw new WrongAnswer(`${id}: inertia ${c.inertia}`);
    // The pilot fit (seed 0, like round 0) warms up; only the rounds' fits count.
    if (round < 0) return;
    const list = fits.get(id) ?? [];
    list.push(c);
    fits.set(id, list);
  };
  return remember({
    id: "kmeans",
    title: `k-means k=${k} on ${n >= 1e3 ? `${n / 1e3}k` : n} x ${dim} float64`,
    unit: "s",
    better: "lower",
    rounds: plan.heavyRounds,
    reference: "sklearn",
    method: `One fit per sample (n_init=${KM.nInit}, max_iter=${KM.maxIter}, tol=${KM.tol}; round r uses seed r on every side, so the inertia and iteration count beside each row are medians over seeds; tol as scikit-learn reads it, relative to the mean feature variance). Data: ${k} overlapping Gaussian blobs (std ${KM_STD} around centers uniform in [-10, 10)^${dim}), so Lloyd's loop is most of a fit. sabre on ${plan.threads} threads; scikit-learn's KMeans (lloyd) with OpenMP limited to ${plan.threads} threads (OMP_NUM_THREADS, threadpoolctl); ml-kmeans is one thread (tolerance and seed semantics its own).`,
    rows: [
      {
        id: "sabre",
        label: "sabre ops.kmeans",
        ours: true,
        contender: timed("sabre", plan, sabreStart(plan, (engine) => {
          const op = sabreOp("kmeans");
          return async (round) => {
            const r = await op(X, { k, ...KM, seed: Math.max(round, 0), engine });
            return { inertia: r.inertia, iterations: r.iterations };
          };
        }), asS, record("sabre"), { fixedReps: 1 }),
      },
      {
        id: "sklearn",
        label: "scikit-learn KMeans",
        contender: timed("sklearn", plan, async () => {
          if (plan.pyInfo && !plan.pyInfo.sklearn) throw new Skip(SKLEARN_HINT);
          return pyStart<KmCheck>(plan, "kmeans", { k, ...KM })();
        }, asS, record("sklearn"), { fixedReps: 1 }),
      },
      {
        id: "mlkmeans",
        slow: true,
        label: "ml-kmeans",
        js: true,
        contender: timed("mlkmeans", plan, async () => {
          const { kmeans } = await mlKmeans();
          const rows = toRows(X);
          return syncTimed((round) => {
            const r = kmeans(rows, k, { maxIterations: KM.maxIter, tolerance: KM.tol, initialization: "kmeans++", seed: Math.max(round, 0) + 1 });
            return { inertia: inertiaOf(x, dim, r.clusters, r.centroids.flat()), iterations: r.iterations };
          });
        }, asS, record("mlkmeans"), { fixedReps: 1 }),
      },
    ],
    annotate: (id) => {
      const v = kmMedian(fits, id, "inertia");
      const it = kmMedian(fits, id, "iterations");
      return v === undefined ? undefined : `inertia ${v.toExponential(6)}, ${it} iterations (medians over seeds)`;
    },
  });
}

// ---- notes: why matmul and argsort stand where they do ------------------------------------------

function matmulReason(report: Report, id: string, plan: Plan): string {
  const r = report.ratio(id, "sabre");
  const blas = plan.pyInfo?.pools.find((p) => p.toLowerCase().includes("blas")) ?? "OpenBLAS";
  const where = r === undefined ? "not measured" : `at ${r.toFixed(2)}x numpy's GFLOP/s`;
  return (
    `${id}: sabre ${where}. numpy calls ${blas}: hand-written assembly micro-kernels with 256-bit FMA ` +
    `(4 float64 / 8 float32 lanes, two FMAs per cycle per core), panels packed for L1/L2. JavaScript has no SIMD ` +
    `(V8 does not vectorize loops), and WebAssembly SIMD is 128-bit (2 / 4 lanes) without a guaranteed fused ` +
    `multiply-add, so a JS or Wasm kernel tops out at a fraction of that peak per core even when cache-blocked.`
  );
}

function argsortReason(report: Report, plan: Plan): string {
  const r = report.ratio("argsort", "sabre");
  const rs = report.ratio("argsort", "sabre", "numpy_stable");
  const where = r === undefined ? "not measured" : `at ${(1 / r).toFixed(2)}x numpy's default speed, ${rs === undefined ? "?" : (1 / rs).toFixed(2)}x its stable sort's`;
  return (
    `argsort: sabre ${where}. numpy ${plan.pyInfo?.numpy ?? "?"} sorts the index array in compiled C on one thread ` +
    `(introsort; timsort for kind="stable"), reading each key through its index. sabre's stable argsort sorts ` +
    `a run per worker (${plan.threads} threads) and then merges the runs: every pass over a run (a radix sort makes ` +
    `one per key digit) and every merge moves keys and indices through memory again, in JS loops without SIMD, ` +
    `so ${plan.threads} cores buy less than ${plan.threads}x over a one-thread C sort.`
  );
}

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

  const data = loadOpsData(sizes, log);
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
      ["matmul64", () => matmulGroup(plan, "float64")],
      ["matmul32", () => matmulGroup(plan, "float32")],
      ["argsort", () => argsortGroup(plan)],
      ["histogram", () => histogramGroup(plan, bw)],
    ];
    for (const [part, spec] of specs) if (runs(part)) await measureGroup(report, plan, spec());
    // The inertia each side reached goes beside its time (medians over the seeds of the rounds).
    const fits = new Map<string, KmCheck[]>();
    if (runs("kmeans")) await measureGroup(report, plan, kmeansGroup(plan, fits));

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
