// First calls: a user's script makes its first op call in a fresh process.
// For sabre that call starts the default engine (workers spawned, the worker
// module loaded, cold JIT); numpy's first call pays its own first-touch
// costs. Each round is a fresh child process per side; the data is built
// before the timed call on both sides.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { measureRounds, Report, type Contender } from "../harness/index.js";
import { FIRST_CALL_CASES, pythonFirstCall, type FirstCallCase } from "../workers/ops-first-call-cases.js";
import { PYTHON } from "../workers/ops-python.js";
import type { Plan } from "./plan.js";

interface Calls {
  first: number;
  second: number;
}

function child(cmd: string, args: string[]): Promise<Calls> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 120_000, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${cmd} ${args[0] ?? ""}: ${err.message}\n${stderr}`));
      const last = stdout.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(last) as Calls);
      } catch {
        reject(new Error(`${cmd}: no JSON result in its output: ${stdout.slice(-300)}`));
      }
    });
  });
}

/** Two rows from one child per round: its first call, then (from the same child) its second. */
function pair(id: string, run: () => Promise<Calls>): [Contender, Contender] {
  let last: Calls | undefined;
  return [
    {
      id: `${id}_first`,
      async sample() {
        last = await run();
        return last.first;
      },
    },
    {
      id: `${id}_second`,
      sample() {
        if (!last) throw new Error(`${id}: the second call is read from the first row's child`);
        return last.second;
      },
    },
  ];
}

export async function firstCallGroups(report: Report, plan: Plan): Promise<void> {
  // This module is bundled into build/bench/ops.js: the child script sits beside it under workers/.
  const script = fileURLToPath(new URL("./workers/ops-first-call.js", import.meta.url));
  const rounds = Math.max(3, Math.min(plan.rounds, 5));
  for (const c of Object.keys(FIRST_CALL_CASES) as FirstCallCase[]) {
    const k = FIRST_CALL_CASES[c];
    const elements = (k.shape as readonly number[]).reduce((a, b) => a * b, 1);
    const how = elements <= 65_536 ? "runs on the calling thread (no engine)" : "starts the default engine; reductions run on the calling thread until it is up";
    const contenders = [
      ...pair("sabre", () => child(process.execPath, [script, c])),
      ...pair("numpy", () => child(PYTHON, ["-c", pythonFirstCall(c)])),
    ];
    const outcomes = await measureRounds(contenders, rounds, (id, round) => plan.log(`first-${c}: ${id}, round ${round + 1}/${rounds}`));
    report.addGroup({
      id: `first-${c}`,
      title: `first call in a fresh process: ${k.label}`,
      unit: "ms",
      better: "lower",
      reference: "numpy_first",
      entries: [
        { id: "sabre_first", label: `sabre ops.${k.op}, first call`, ours: true, note: how },
        { id: "numpy_first", label: `numpy ${k.op}, first call` },
        { id: "sabre_second", label: `sabre ops.${k.op}, second call`, ours: true },
        { id: "numpy_second", label: `numpy ${k.op}, second call` },
      ],
      outcomes,
      method: `Each round a fresh child process per side (${rounds} rounds): the data is built (not timed), then the first call and a second call are timed. sabre's first call starts the default engine (${plan.threads} workers); reductions do not wait for it (up to 2^25 elements they run on the calling thread until it is up: same bits); numpy is imported before the timing.`,
    });
  }
}
