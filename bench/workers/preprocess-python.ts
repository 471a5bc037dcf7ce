// The suite's side of bench/peers/preprocess-sklearn.py: one long-lived
// Python process (numpy, scikit-learn, pandas) answering one JSON request
// per line, and fresh processes for the first-call rows.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { repoRoot, Skip } from "../harness/index.js";

/** Debian's python3: `apt-get install python3-sklearn python3-pandas` installs for it. */
export const PYTHON = "/usr/bin/python3";
export const SKLEARN_HINT = `scikit-learn not importable by ${PYTHON}: apt-get update && apt-get install python3-sklearn`;
export const PANDAS_HINT = `pandas not importable by ${PYTHON}: apt-get update && apt-get install python3-pandas`;
export const NUMPY_HINT = `numpy not importable by ${PYTHON}: apt-get update && apt-get install python3-numpy`;

export interface PreCheck {
  shape?: number[];
  sum?: number;
  /** Sum of absolute values (NaN skipped). */
  abs?: number;
  parts?: PreCheck[];
}

export interface PyVersions {
  numpy: string;
  sklearn: string | null;
  pandas: string | null;
}

type Reply = { ok: true } & Record<string, unknown>;

function script(): string {
  return join(repoRoot(), "bench", "peers", "preprocess-sklearn.py");
}

function threadEnv(threads: number): NodeJS.ProcessEnv {
  const t = String(threads);
  return { ...process.env, OPENBLAS_NUM_THREADS: t, OMP_NUM_THREADS: t, MKL_NUM_THREADS: t };
}

export class PrePeer {
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
        else w.reject(new Error(`preprocess-sklearn.py: ${r.error ?? "failed"}`));
      } catch {
        w.reject(new Error(`preprocess-sklearn.py printed a line that is not JSON: ${line.slice(0, 200)}`));
      }
    });
    child.stderr.on("data", (b: Buffer) => {
      this.stderr = (this.stderr + b.toString()).slice(-4000);
    });
    child.on("exit", (code, signal) => {
      this.exited = new Error(`preprocess-sklearn.py exited (${signal ?? code})${this.stderr ? `: ${this.stderr.trim().split("\n").slice(-3).join(" | ")}` : ""}`);
      for (const w of this.waiting.splice(0)) w.reject(this.exited);
    });
  }

  /** Starts the peer with its native pools limited to `threads`, or throws Skip when numpy is missing. */
  static async start(threads: number): Promise<{ peer: PrePeer; versions: PyVersions }> {
    const probe = existsSync(PYTHON) ? spawnSync(PYTHON, ["-c", "import numpy"], { encoding: "utf8" }) : undefined;
    if (probe?.status !== 0) throw new Skip(NUMPY_HINT);
    const child = spawn(PYTHON, [script()], { env: threadEnv(threads), stdio: ["pipe", "pipe", "pipe"] });
    const peer = new PrePeer(child);
    const versions = (await peer.request({ cmd: "init", threads })) as unknown as PyVersions;
    return { peer, versions };
  }

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

  async load(name: string, path: string): Promise<void> {
    await this.request({ cmd: "load", name, path });
  }

  async drop(name: string): Promise<void> {
    await this.request({ cmd: "drop", name });
  }

  /** Times `reps` calls of `row` inside Python; resolves to ms per call and the last result's check. */
  async run(row: string, reps: number, args: Record<string, unknown>): Promise<{ ms: number; check: PreCheck }> {
    const r = await this.request({ cmd: "run", row, reps, ...args });
    return { ms: (r.ms as number) / reps, check: r.check as PreCheck };
  }

  close(): void {
    if (!this.exited) this.child.stdin.end();
  }
}

/** One first call of `row` in a fresh Python process (imports and data load not timed). */
export function pythonCold(row: string, args: Record<string, string>, threads: number): Promise<{ ms: number; check: PreCheck }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [script(), "--cold", row, ...Object.entries(args).map(([k, v]) => `${k}=${v}`)], { env: threadEnv(threads), stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (err = (err + b.toString()).slice(-2000)));
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`cold ${row} exited ${code}: ${err.trim().split("\n").slice(-2).join(" | ")}`));
      try {
        resolve(JSON.parse(out.trim().split("\n").pop()!) as { ms: number; check: PreCheck });
      } catch {
        reject(new Error(`cold ${row} printed ${out.slice(0, 200)}`));
      }
    });
  });
}

/** Whether `module` imports in Debian's python3. */
export function pyHas(module: string): boolean {
  return existsSync(PYTHON) && spawnSync(PYTHON, ["-c", `import ${module}`]).status === 0;
}
