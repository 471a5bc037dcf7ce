import { parentPort, Worker, type TransferListItem } from "node:worker_threads";
import { withTimeout } from "./measure.js";

/**
 * Long-lived benchmark workers. Starting a worker costs tens of ms, far more
 * than one sample, so a team is started once per contender and then asked to
 * run one sample per message; the JIT stays warm between samples.
 *
 * Main thread:
 *   const team = await WorkerTeam.start(new URL("./workers/sync-floor.js", import.meta.url), 2);
 *   const [a, b] = await team.run((i) => ({ op: "spin-lock", gate, n }));
 *   await team.close();
 * Worker:
 *   serve({ "spin-lock": (args) => { ...; return elapsedMs; } });
 */
export class WorkerTeam {
  private closed = false;

  private constructor(private readonly workers: Worker[]) {}

  /** Starts `count` workers on `url` and waits until each one is listening. */
  static async start(url: URL, count: number, workerData: (i: number) => unknown = () => undefined): Promise<WorkerTeam> {
    const workers: Worker[] = [];
    try {
      for (let i = 0; i < count; i++) workers.push(new Worker(url, { workerData: workerData(i) }));
      await Promise.all(workers.map((w) => reply(w, { op: "ping" })));
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw err;
    }
    return new WorkerTeam(workers);
  }

  get size(): number {
    return this.workers.length;
  }

  /**
   * Posts message(i) to worker i and resolves with every worker's answer, in
   * worker order. If they have not all answered within `timeoutMs`, the team
   * is terminated (a thread stuck in Atomics.wait cannot be interrupted
   * otherwise) and the run rejects.
   */
  async run<R>(
    message: (i: number) => unknown,
    transfer: (i: number) => readonly TransferListItem[] = () => [],
    timeoutMs = 60_000,
  ): Promise<R[]> {
    if (this.closed) throw new Error("this benchmark worker team was closed");
    const answers = Promise.all(this.workers.map((w, i) => reply<R>(w, message(i), transfer(i))));
    try {
      return await withTimeout(answers, timeoutMs, "a benchmark worker team");
    } catch (err) {
      answers.catch(() => {}); // the terminated workers reject too; that is expected now
      await this.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

type Answer = { ok: true; value: unknown } | { ok: false; error: string };

/** Sends one request and waits for the worker's one answer (or its death). */
function reply<R>(w: Worker, message: unknown, transfer: readonly TransferListItem[] = []): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const cleanup = () => {
      w.off("message", onMessage);
      w.off("error", onError);
      w.off("exit", onExit);
    };
    const onMessage = (a: Answer) => {
      cleanup();
      if (a.ok) resolve(a.value as R);
      else reject(new Error(a.error));
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`benchmark worker exited with code ${code} before answering`));
    };
    w.on("message", onMessage);
    w.on("error", onError);
    w.on("exit", onExit);
    w.postMessage(message, transfer as TransferListItem[]);
  });
}

export type Handler = (args: Record<string, unknown>) => unknown;

/**
 * Worker side of a WorkerTeam: answers each `{ op, ...args }` message with
 * the handler's result. One request at a time; a thrown error is sent back
 * as text (the team's run() rejects with it).
 */
export function serve(handlers: Record<string, Handler>): void {
  const port = parentPort;
  if (!port) throw new Error("serve() must run in a worker thread");
  port.on("message", async (msg: Record<string, unknown>) => {
    const op = msg["op"];
    try {
      if (op === "ping") return port.postMessage({ ok: true, value: "pong" });
      const h = typeof op === "string" ? handlers[op] : undefined;
      if (!h) throw new Error(`no benchmark op ${String(op)} in this worker`);
      port.postMessage({ ok: true, value: await h(msg) });
    } catch (err) {
      port.postMessage({ ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
    }
  });
}

/** A fresh start gate for `parties` threads (one Int32 cell counting arrivals). */
export function newGate(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}

/**
 * Waits until all `parties` threads have arrived at the gate, so their timed
 * loops start together. Spins first (the usual case: all are on a core);
 * parks if a thread is descheduled, so oversubscription cannot livelock.
 */
export function passGate(gate: Int32Array, parties: number): void {
  const arrived = Atomics.add(gate, 0, 1) + 1;
  if (arrived >= parties) {
    Atomics.notify(gate, 0);
    return;
  }
  for (let i = 0; i < 1_000_000; i++) if (Atomics.load(gate, 0) >= parties) return;
  for (;;) {
    const v = Atomics.load(gate, 0);
    if (v >= parties) return;
    Atomics.wait(gate, 0, v, 100);
  }
}
