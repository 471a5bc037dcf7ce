// The suite's side of bench/peers/ops-numpy.py (numpy, scikit-learn), a
// long-lived peer process (bench/harness/python.ts).
import { PyProcess } from "../harness/index.js";

export { NUMPY_HINT, PYTHON, SKLEARN_HINT } from "../harness/index.js";

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

export class PyPeer {
  private constructor(private readonly py: PyProcess) {}

  /**
   * Starts the peer with OpenBLAS and OpenMP limited to `threads` (the
   * environment, read when the libraries load, and threadpoolctl after), or
   * throws Skip when numpy is not importable.
   */
  static async start(threads: number): Promise<{ peer: PyPeer; info: PyInfo }> {
    const peer = new PyPeer(PyProcess.start("ops-numpy.py", threads));
    const info = (await peer.py.request({ cmd: "init", threads })) as unknown as PyInfo;
    return { peer, info };
  }

  /** Loads a raw little-endian file as an array named `name`. */
  async load(name: string, path: string, dtype: "<f8" | "<f4", shape: readonly number[]): Promise<void> {
    await this.py.request({ cmd: "load", name, path, dtype, shape });
  }

  /** Times `reps` calls of `row` inside Python. */
  async run<C>(row: string, reps: number, extra: Record<string, unknown> = {}): Promise<PyRun<C>> {
    const r = await this.py.request({ cmd: "run", row, reps, ...extra });
    return { ms: r.ms as number, check: r.check as C };
  }

  close(): void {
    this.py.close();
  }
}
