// A first call in a fresh process (the preprocess suite's "cold" rows):
//   node build/bench/workers/preprocess-cold.js STEP x=PATH.npy | path=PATH.csv
// loads the data (not timed), times one call of the step (engine start, JIT
// and first-touch page faults included) and prints {"ms": ..., "check": ...}.
import { readNpy } from "sabre";
import { checkOf, sabreStep, type Step, type StepInput } from "./preprocess-sabre.js";

const [step, ...rest] = process.argv.slice(2);
const args = Object.fromEntries(rest.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
const input: StepInput = {};
if (args.x) input.X = await readNpy(args.x);
if (args.y) input.y = await readNpy(args.y);
if (args.path) input.path = args.path;
const call = sabreStep(step as Step, input);
const t0 = performance.now();
const out = await call();
const ms = performance.now() - t0;
console.log(JSON.stringify({ ms, check: checkOf(out) }));
process.exit(0);
