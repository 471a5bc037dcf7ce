// matmul (float64 and float32) against numpy's OpenBLAS, and why the gap stands where it does.
import { Report } from "../harness/index.js";
import { sabreOp } from "../workers/ops-api.js";
import { checksumOf } from "../workers/ops-data.js";
import { mlMatrix, syncTimed, tfjs, tfValues, toMatrix } from "../workers/ops-js.js";
import { type Plan, type GroupSpec, timed, pyStart, sabreStart, near, remember, versusNumpy } from "./plan.js";

export function matmulGroup(plan: Plan, dt: "float64" | "float32"): GroupSpec {
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

export function matmulReason(report: Report, id: string, plan: Plan): string {
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
