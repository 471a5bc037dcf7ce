// Runs one forest fit in a fresh child process (sabre or scikit-learn), so
// each run has its own peak RSS and a cold start, as a user's script has.
// Shared by the forest and forest-scaling suites.
import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { PYTHON, SKLEARN_HINT, Skip } from "../harness/index.js";
import type { RunResult } from "./forest-data.js";

export { PYTHON, SKLEARN_HINT } from "../harness/index.js";

/** Runs `file args...` and parses the JSON of its last stdout line. */
export function runChild(file: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, encoding: "utf8", maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const why = err.killed ? `killed after ${timeoutMs / 1000} s` : err.message.split("\n")[0];
        reject(new Error(`${args[0] ?? file} failed (${why})${stderr ? `: ${stderr.trim().split("\n").slice(-5).join(" | ")}` : ""}`));
        return;
      }
      const last = stdout.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(last) as RunResult);
      } catch {
        reject(new Error(`${args[0] ?? file} printed no result line (last line: ${last.slice(0, 200)})`));
      }
    });
  });
}

let sklearnProbe: string | Skip | undefined;

/** scikit-learn's version under PYTHON, or Skip with the install line. */
export function requireSklearn(): string {
  if (sklearnProbe === undefined) {
    const r = existsSync(PYTHON)
      ? spawnSync(PYTHON, ["-c", "import sklearn, numpy; print(sklearn.__version__)"], { encoding: "utf8" })
      : undefined;
    sklearnProbe = r?.status === 0 ? r.stdout.trim() : new Skip(SKLEARN_HINT);
  }
  if (sklearnProbe instanceof Skip) throw sklearnProbe;
  return sklearnProbe;
}

/** scikit-learn's version, or undefined when it is not installed (for labels). */
export function sklearnVersion(): string | undefined {
  try {
    return requireSklearn();
  } catch {
    return undefined;
  }
}
