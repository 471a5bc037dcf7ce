// The suite's side of bench/peers/ops-numpy.py: one long-lived Python
// process (numpy, scikit-learn) answering one JSON request per line, so its
// rows run in the same interleaved rounds as sabre's, on data loaded once.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { repoRoot, Skip } from "../harness/index.js";

/** Debian's python3: `apt-get install python3-numpy python3-sklearn` installs for it, not for a pyenv python3 on the PATH. */
export const PYTHON = "/usr/bin/python3";
export const NUMPY_HINT = `numpy not importable by ${PYTHON}: apt-get update && apt-get install python3-numpy`;
export const SKLEARN_HINT = `scikit-learn not importable by ${PYTHON}: apt-get update && apt-get install python3-sklearn`;

export interface PyInfo {
  numpy: string;
  sklearn: string | null;
  /** threadpoolctl's view of the native pools (OpenBLAS, OpenMP) after limiting them. */
  pools: string[];
  threads: number;
}

export interface PyRun<C = unknown> {
  ms: number;
  check: C;
}

type Reply = { ok: true } & Record<string, unknown>;

export class PyPeer {
  private readonly waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  private stderr = "";
  private exited: Error | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      const w = this.waiting.shift();
      if (!w) return;
      try {
        const r = JSON.parse(line) as { ok: boolean; error?: string };
        if (r.ok) w.resolve(r as Reply);
        else w.reject(new Error(`ops-numpy.py: ${r.error ?? "failed"}`));
      } catch {
        w.reject(new Error(`ops-numpy.py printed a line that is not JSON: ${line.slice(0, 200)}`));
      }
    });
    child.stderr.on("data", (b: Buffer) => {
      this.stderr = (this.stderr + b.toString()).slice(-4000);
    });
    child.on("exit", (code, signal) => {
      this.exited = new Error(`ops-numpy.py exited (${signal ?? code})${this.stderr ? `: ${this.stderr.trim().split("\n").slice(-3).join(" | ")}` : ""}`);
      for (const w of this.waiting.splice(0)) w.reject(this.exited);
    });
  }

  /**
   * Starts the peer with OpenBLAS and OpenMP limited to `threads` (the
   * environment, read when the libraries load, and threadpoolctl after), or
   * throws Skip when numpy is not importable.
   */
  static async start(threads: number): Promise<{ peer: PyPeer; info: PyInfo }> {
    const probe = existsSync(PYTHON) ? spawnSync(PYTHON, ["-c", "import numpy"], { encoding: "utf8" }) : undefined;
    if (probe?.status !== 0) throw new Skip(NUMPY_HINT);
    const t = String(threads);
    const child = spawn(PYTHON, [join(repoRoot(), "bench", "peers", "ops-numpy.py")], {
      env: { ...process.env, OPENBLAS_NUM_THREADS: t, OMP_NUM_THREADS: t, MKL_NUM_THREADS: t },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const peer = new PyPeer(child);
    const info = (await peer.request({ cmd: "init", threads })) as unknown as PyInfo;
    return { peer, info };
  }

  /** One request, answered in order (requests are queued, never interleaved on the pipe). */
  request(msg: Record<string, unknown>): Promise<Reply> {
    const next = this.chain.then(
      () =>
        new Promise<Reply>((resolve, reject) => {
          if (this.exited) return reject(this.exited);
          this.waiting.push({ resolve, reject });
          this.child.stdin.write(`${JSON.stringify(msg)}\n`);
        }),
    );
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Loads a raw little-endian file as an array named `name`. */
  async load(name: string, path: string, dtype: "<f8" | "<f4", shape: readonly number[]): Promise<void> {
    await this.request({ cmd: "load", name, path, dtype, shape });
  }

  /** Times `reps` calls of `row` inside Python. */
  async run<C>(row: string, reps: number, extra: Record<string, unknown> = {}): Promise<PyRun<C>> {
    const r = await this.request({ cmd: "run", row, reps, ...extra });
    return { ms: r.ms as number, check: r.check as C };
  }

  close(): void {
    if (!this.exited) this.child.stdin.end();
  }
}
