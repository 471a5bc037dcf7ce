// The reduction groups: whole-array sum and mean, mean and variance along an axis, the
// call latency of a small sum, and a medium sum.
import { shared } from "sabre";
import { sabreOp } from "../workers/ops-api.js";
import { checksumOf, exactSum } from "../workers/ops-data.js";
import {
  mlMatrix,
  ndarrayOps,
  ndColumnMeans,
  ndView,
  perCallMedian,
  plainSum,
  syncTimed,
  tfjs,
  tfValues,
  toMatrix,
} from "../workers/ops-js.js";
import { type Plan, type GroupSpec, type Bandwidth, timed, pyStart, sabreStart, near, gbps, usPerCall, remember, bwRow } from "./plan.js";

/** sum and mean of the big float64 array. */
export function wholeArrayGroup(plan: Plan, which: "sum" | "mean", bw: Bandwidth): GroupSpec {
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
export function axisGroup(plan: Plan, which: "mean" | "variance", axis: 0 | 1, bw: Bandwidth): GroupSpec {
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

export function smallSumGroup(plan: Plan): GroupSpec {
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

/** Elements of the medium sums: 8 MB and 800 KB of float64, arrays a user holds between the latency and bandwidth rows. */
export const MEDIUM_SUM = 1_000_000;
export const MEDIUM_SUM_SMALL = 100_000;

/** A shared.from copy made with SABRE_WASM_MEMORY set to `wasm` (npm run bench's hugetlb tunable would otherwise keep plain SABs). */
function copyWith(wasm: "0" | "1", source: Float64Array) {
  const env = process.env["SABRE_WASM_MEMORY"];
  process.env["SABRE_WASM_MEMORY"] = wasm;
  try {
    return shared.from(source);
  } finally {
    if (env === undefined) delete process.env["SABRE_WASM_MEMORY"];
    else process.env["SABRE_WASM_MEMORY"] = env;
  }
}

/**
 * sum of a medium array (the first `n` elements of the big one): sabre over
 * the copy `shared.from` gives a user running node (a region of a 64 MiB
 * slab Memory: src/memory/slab.md) and, beside it in the same rounds, over
 * a plain SharedArrayBuffer copy (what it gave before slabs, and still gives
 * under GLIBC_TUNABLES hugetlb); numpy over a slice of its own copy, the
 * same values.
 */
export function mediumSumGroup(plan: Plan, n0: number, id: "sum1m" | "sum100k"): GroupSpec {
  const d = plan.data;
  const n = Math.min(n0, d.sizes.big);
  const source = (d.big.array.data as Float64Array).subarray(0, n);
  const want = exactSum(source);
  const check = (what: string, rel: number) => (v: number) => near(what, v, want, rel);
  const fig = gbps(n * 8);
  const opts = { maxReps: 1e5 };
  const sabreRow = (wasm: "0" | "1") =>
    timed(wasm === "1" ? "sabre" : "sabresab", plan, sabreStart(plan, (engine) => {
      const op = sabreOp("sum");
      const x = copyWith(wasm, source);
      if ((shared.wasmMemory(x) !== undefined) !== (wasm === "1")) throw new Error(`${id}: the ${wasm === "1" ? "slab" : "plain"} copy is not where it should be`);
      return () => op(x, { engine });
    }), fig, check("ops.sum", 1e-9), opts);
  const size = n >= 1e6 ? `${(n / 1e6).toFixed(0)}M` : `${(n / 1e3).toFixed(0)}k`;
  return remember({
    id,
    title: `sum of ${size} float64 (a medium array, in cache or near it)`,
    unit: "GB/s",
    better: "higher",
    rounds: plan.rounds,
    method: `Bytes read per second (${((n * 8) / 1e6).toFixed(1)} MB per call), one call per iteration. sabre on an Engine of ${plan.threads} threads over what shared.from gives an array this size (a region of a 64 MiB slab, a shared WebAssembly.Memory, so the SIMD leaves read it in place; SABRE_WASM_MEMORY=1 as a user without GLIBC_TUNABLES gets), and over a plain SharedArrayBuffer copy (the JS leaves: what shared.from gave before slabs, and gives under glibc.malloc.hugetlb); numpy's sum over a slice of the same values, one thread.`,
    rows: [
      { id: "sabre", label: "sabre ops.sum (slab Memory)", ours: true, contender: sabreRow("1") },
      { id: "sabresab", label: "sabre ops.sum (plain SAB)", contender: sabreRow("0") },
      { id: "numpy", label: "numpy sum", contender: timed("numpy", plan, pyStart<number>(plan, id), fig, check("numpy sum", 1e-9), opts) },
      {
        id: "ndops",
        label: "ndarray-ops sum",
        js: true,
        contender: timed("ndops", plan, async () => {
          const nops = await ndarrayOps();
          const a = ndView(source);
          return syncTimed(() => nops.sum(a));
        }, fig, check("ndarray-ops", 1e-9), opts),
      },
      { id: "plain", label: "plain JS loop (1 thread)", contender: timed("plain", plan, async () => syncTimed(() => plainSum(source)), fig, check("plain loop", 1e-9), opts) },
    ],
  });
}
