// The suite's side of bench/peers/preprocess-sklearn.py (numpy,
// scikit-learn, pandas): a long-lived peer process (bench/harness/python.ts),
// and fresh processes for the first-call rows.
import { spawn } from "node:child_process";
import { PyProcess, PYTHON, pythonThreadEnv } from "../harness/index.js";

export { NUMPY_HINT, PANDAS_HINT, pyHas, PYTHON, SKLEARN_HINT } from "../harness/index.js";

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

export class PrePeer {
  private constructor(private readonly py: PyProcess) {}

  /** Starts the peer with its native pools limited to `threads`, or throws Skip when numpy is missing. */
  static async start(threads: number): Promise<{ peer: PrePeer; versions: PyVersions }> {
    const peer = new PrePeer(PyProcess.start("preprocess-sklearn.py", threads));
    const versions = (await peer.py.request({ cmd: "init", threads })) as unknown as PyVersions;
    return { peer, versions };
  }

  async load(name: string, path: string): Promise<void> {
    await this.py.request({ cmd: "load", name, path });
  }

  async drop(name: string): Promise<void> {
    await this.py.request({ cmd: "drop", name });
  }

  /** Times `reps` calls of `row` inside Python; resolves to ms per call and the last result's check. */
  async run(row: string, reps: number, args: Record<string, unknown>): Promise<{ ms: number; check: PreCheck }> {
    const r = await this.py.request({ cmd: "run", row, reps, ...args });
    return { ms: (r.ms as number) / reps, check: r.check as PreCheck };
  }

  close(): void {
    this.py.close();
  }
}

/** One first call of `row` in a fresh Python process (imports and data load not timed). */
export function pythonCold(row: string, args: Record<string, string>, threads: number): Promise<{ ms: number; check: PreCheck }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [PyProcess.script("preprocess-sklearn.py"), "--cold", row, ...Object.entries(args).map(([k, v]) => `${k}=${v}`)], { env: pythonThreadEnv(threads), stdio: ["ignore", "pipe", "pipe"] });
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
