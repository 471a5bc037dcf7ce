// Python peers: Debian's python3 (where `apt-get install python3-numpy
// python3-sklearn python3-pandas` installs, not a pyenv python3 on the PATH),
// and one long-lived peer process answering one JSON request per line, so
// its rows run in the same interleaved rounds as sabre's, on data loaded once.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { createInterface } from "node:readline";
import { repoRoot } from "./paths.js";
import { Skip } from "./measure.js";

// SABRE_BENCH_PYTHON names another interpreter: a machine whose scikit-learn
// lives in a virtual environment (bench/device/ runs there).
export const PYTHON = process.env.SABRE_BENCH_PYTHON ?? "/usr/bin/python3";
export const NUMPY_HINT = `numpy not importable by ${PYTHON}: apt-get update && apt-get install python3-numpy`;
export const SKLEARN_HINT = `scikit-learn not importable by ${PYTHON}: apt-get update && apt-get install python3-sklearn`;
export const PANDAS_HINT = `pandas not importable by ${PYTHON}: apt-get update && apt-get install python3-pandas`;

/** The environment that limits OpenBLAS, OpenMP and MKL to `threads` (read when the libraries load). */
export function pythonThreadEnv(threads: number): NodeJS.ProcessEnv {
  const t = String(threads);
  return { ...process.env, OPENBLAS_NUM_THREADS: t, OMP_NUM_THREADS: t, MKL_NUM_THREADS: t };
}

/** Whether `module` imports in Debian's python3. */
export function pyHas(module: string): boolean {
  return existsSync(PYTHON) && spawnSync(PYTHON, ["-c", `import ${module}`]).status === 0;
}

/** A reply of the peer script: `{ ok: true, ... }` (an `{ ok: false, error }` line rejects). */
export type PyReply = { ok: true } & Record<string, unknown>;

/** A peer script under bench/peers/ run by PYTHON, one JSON request and one JSON reply per line. */
export class PyProcess {
  private readonly waiting: { resolve: (r: PyReply) => void; reject: (e: Error) => void }[] = [];
  private stderr = "";
  private exited: Error | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    name: string,
  ) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      const w = this.waiting.shift();
      if (!w) return;
      try {
        const r = JSON.parse(line) as { ok: boolean; error?: string };
        if (r.ok) w.resolve(r as PyReply);
        else w.reject(new Error(`${name}: ${r.error ?? "failed"}`));
      } catch {
        w.reject(new Error(`${name} printed a line that is not JSON: ${line.slice(0, 200)}`));
      }
    });
    child.stderr.on("data", (b: Buffer) => {
      this.stderr = (this.stderr + b.toString()).slice(-4000);
    });
    child.on("exit", (code, signal) => {
      this.exited = new Error(`${name} exited (${signal ?? code})${this.stderr ? `: ${this.stderr.trim().split("\n").slice(-3).join(" | ")}` : ""}`);
      for (const w of this.waiting.splice(0)) w.reject(this.exited);
    });
  }

  /** The path of bench/peers/<script>. */
  static script(script: string): string {
    return join(repoRoot(), "bench", "peers", script);
  }

  /** Starts bench/peers/<script> with the native pools limited to `threads`; Skip when numpy is not importable. */
  static start(script: string, threads: number): PyProcess {
    if (!pyHas("numpy")) throw new Skip(NUMPY_HINT);
    const path = PyProcess.script(script);
    const child = spawn(PYTHON, [path], { env: pythonThreadEnv(threads), stdio: ["pipe", "pipe", "pipe"] });
    return new PyProcess(child, basename(path));
  }

  /** One request, answered in order (requests are queued, never interleaved on the pipe). */
  request(msg: Record<string, unknown>): Promise<PyReply> {
    const next = this.chain.then(
      () =>
        new Promise<PyReply>((resolve, reject) => {
          if (this.exited) return reject(this.exited);
          this.waiting.push({ resolve, reject });
          this.child.stdin.write(`${JSON.stringify(msg)}\n`);
        }),
    );
    this.chain = next.catch(() => undefined);
    return next;
  }

  close(): void {
    if (!this.exited) this.child.stdin.end();
  }
}
