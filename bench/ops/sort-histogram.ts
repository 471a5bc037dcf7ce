// argsort and histogram against numpy.
import { type NdArray } from "sabre";
import { Report, WrongAnswer } from "../harness/index.js";
import { sabreOp } from "../workers/ops-api.js";
import { plainArgsort, plainHistogram, syncTimed, tfjs, tfValues } from "../workers/ops-js.js";
import { type Plan, type GroupSpec, type Bandwidth, timed, pyStart, sabreStart, gbps, asMs, remember, versusNumpy, bwRow } from "./plan.js";

export function argsortGroup(plan: Plan): GroupSpec {
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

export function histogramGroup(plan: Plan, bw: Bandwidth): GroupSpec {
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

export function argsortReason(report: Report, plan: Plan): string {
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
