// A fresh process making its first ops call, as a user's script does: the
// data is built first (not timed), then the first call is timed (for sabre:
// the default engine's start, worker module load and cold JIT included),
// then a second, warm call. Prints one JSON line { first, second } in ms.
// Usage: node ops-first-call.js <case>   (cases in FIRST_CALL_CASES)
import { ops, shared } from "sabre";
import { FIRST_CALL_CASES, type FirstCallCase } from "./ops-first-call-cases.js";

const name = process.argv[2] as FirstCallCase;
const c = FIRST_CALL_CASES[name];
if (!c) {
  console.error(`unknown case ${name}; cases: ${Object.keys(FIRST_CALL_CASES).join(", ")}`);
  process.exit(2);
}
const x = shared.empty(c.dtype, c.shape);
const data = x.data as Float64Array | Float32Array;
// The same values the Python side builds: (i * 7919 % 1000) / 1000.
for (let i = 0; i < data.length; i++) data[i] = ((i * 7919) % 1000) / 1000;

const call = async (): Promise<number> => {
  const t0 = performance.now();
  const r = c.op === "sum" ? await ops.sum(x) : await ops.mean(x, { axis: 0 });
  const ms = performance.now() - t0;
  if (typeof r === "number" ? !Number.isFinite(r) : r.shape[0] !== c.shape[1]) throw new Error(`wrong result ${String(r)}`);
  return ms;
};
const first = await call();
const second = await call();
console.log(JSON.stringify({ first, second }));
