// Runs the kernels of kernels.ts on an Engine and checks each answer against
// a plain loop on the main thread.
//
//   node examples/kernel-module/run.mjs [--n N] [--threads N]
import { Barrier, Engine, Mutex, reduction, readOnly, rng, shared } from "sabre";

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const raw = at >= 0 ? process.argv[at + 1] : undefined;
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1) {
    console.error(`--${name} must be a positive integer, got ${raw}`);
    process.exit(2);
  }
  return v;
}

const n = option("n", 1_000_000);
const threads = option("threads", 4);

// x ~ N(5, 2), in shared memory: the workers read it where it is.
const x = shared.zeros("float64", [n]);
rng(7).fillNormal(x.data, 5, 2);

await using engine = await Engine.start({ threads, kernels: [new URL("./kernels.js", import.meta.url)] });
console.log(`engine: ${engine.threads} worker threads; x: ${n.toLocaleString("en")} float64 in shared memory`);

// ---- a reduction: sum and histogram ----------------------------------------------------------------
const total = reduction(0, "sum"); // Reduction<number>
const counts = reduction(new Float64Array(8)); // Reduction<Float64Array>
const [lo, hi] = [-3, 13];
await engine.parallelFor(n, "km.stats", { x: readOnly(x), lo, hi, total, counts });
// total.value is a number and counts.value a Float64Array: no casts.
const mean = total.value / n;
let check = 0;
for (let i = 0; i < n; i++) check += x.data[i]!;
console.log(`reduction: sum ${total.value.toFixed(3)} (a plain loop: ${check.toFixed(3)}), mean ${mean.toFixed(4)}`);
const bars = Array.from(counts.value, (c) => "#".repeat(Math.round((40 * c) / n)));
console.log(`histogram of x over [${lo}, ${hi}), ${counts.value.length} bins, ${counts.value.reduce((a, b) => a + b, 0)} values:`);
bars.forEach((b, i) => console.log(`  ${String(lo + i * 2).padStart(3)} .. ${String(lo + i * 2 + 2).padStart(3)} ${b}`));

// ---- a mutex: argmax ---------------------------------------------------------------------------
const lock = new Mutex();
const best = shared.from([-Infinity, -1], { dtype: "float64" }).data;
await engine.parallelFor(n, "km.argmax", { x: readOnly(x), lock, best }, { schedule: "dynamic" });
let at = 0;
for (let i = 1; i < n; i++) if (x.data[i]! > x.data[at]!) at = i;
console.log(`mutex: max x[${best[1]}] = ${best[0]!.toFixed(4)} (a plain loop: x[${at}] = ${x.data[at]!.toFixed(4)})`);

// ---- a barrier: centre x in place --------------------------------------------------------------
const barrier = new Barrier(engine.threads);
const partials = shared.zeros("float64", [engine.threads]).data;
const perWorker = (await engine.broadcast("km.center", { x, barrier, partials })) as Array<{ leader: boolean; mean: number }>;
const after = reduction(0);
await engine.parallelFor(n, "km.stats", { x: readOnly(x), lo, hi, total: after, counts: reduction(new Float64Array(8)) });
console.log(
  `barrier: ${perWorker.length} workers each saw mean ${perWorker[0]!.mean.toFixed(4)}, ` +
    `${perWorker.filter((w) => w.leader).length} leader per round; mean after centring ${(after.value / n).toExponential(2)}`,
);

const ok =
  Math.abs(total.value - check) <= 1e-9 * Math.abs(check) &&
  best[1] === at &&
  perWorker.every((w) => w.mean === perWorker[0]!.mean) &&
  Math.abs(after.value / n) < 1e-9;
console.log(ok ? "all three agree with the main thread" : "MISMATCH");
process.exitCode = ok ? 0 : 1;
