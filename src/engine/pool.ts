import { MessageChannel, type MessagePort, type ResourceLimits } from "node:worker_threads";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { Worker as ThreadsWorker } from "threads";
import { SabreTypeError, WorkerCrashedError } from "../errors.js";
import { packageRoot } from "../package-root.js";
import type { WorkerBoot } from "./boot.js";
import type { JobReport } from "./control.js";

/** What the worker entry exposes through threads.js. */
interface WorkerApi {
  init(): { names: string[]; threadId: number };
}

/** One live worker as the main thread tracks it. */
export interface WorkerHandle {
  readonly id: number;
  readonly worker: ThreadsWorker;
  readonly thread: unknown;
  /** worker_threads' threadId (what Mutex owner tags are made of). */
  readonly threadId: number;
  readonly argsPort: MessagePort;
  readonly resultsPort: MessagePort;
  /** Set when an exit is expected (close) or has happened. */
  exiting: boolean;
  /** The last 'error' event's message, reported with the crash. */
  lastError: string | undefined;
}

export interface SpawnOptions {
  boot: Omit<WorkerBoot, "argsPort" | "resultsPort">;
  resourceLimits: ResourceLimits | undefined;
  onReport(report: JobReport): void;
  /**
   * Called for every exit that close() did not ask for, also while the worker
   * was still starting: it already runs jobs then (its loop starts inside
   * init), so the engine must treat its death as a crash either way.
   */
  onExit(handle: WorkerHandle, code: number, ready: boolean): void;
  /** Called once the worker's ports exist, before it runs any code: the place to queue its first args messages. */
  onCreated(handle: WorkerHandle): void;
}

/**
 * threads.js resolves a worker path against the folder of the file that calls
 * `new Worker` (even absolute paths are joined to it), so hand it a path
 * relative to this module's own file, wherever the bundler put it.
 */
function entryPathFromHere(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const entry = join(packageRoot(), "dist", "worker-entry.js");
  const rel = relative(here, entry);
  return rel.startsWith(".") ? rel : `./${rel}`;
}

type ThreadsModule = typeof import("threads");
let threadsModule: Promise<ThreadsModule> | undefined;

/**
 * threads.js installs SIGINT/SIGTERM handlers that call process.exit(0) as
 * soon as it is loaded. A library must not change what Ctrl-C does to its
 * host program, so threads.js is loaded on first use and those handlers are
 * removed again (the workers die with the process anyway).
 */
function loadThreads(): Promise<ThreadsModule> {
  return (threadsModule ??= (async () => {
    const before = { SIGINT: process.listeners("SIGINT"), SIGTERM: process.listeners("SIGTERM") };
    try {
      return await import("threads");
    } finally {
      for (const sig of ["SIGINT", "SIGTERM"] as const) {
        for (const l of process.listeners(sig)) if (!before[sig].includes(l)) process.removeListener(sig, l);
      }
    }
  })());
}

/** Starts one worker and waits until it has loaded every kernel module. */
export async function spawnWorker(opts: SpawnOptions): Promise<{ handle: WorkerHandle; names: string[] }> {
  const args = new MessageChannel();
  const results = new MessageChannel();
  const boot: WorkerBoot = { ...opts.boot, argsPort: args.port2, resultsPort: results.port2 };
  const { Worker, spawn } = await loadThreads();
  const worker = new Worker(entryPathFromHere(), {
    workerData: boot,
    transferList: [args.port2, results.port2],
    ...(opts.resourceLimits ? { resourceLimits: opts.resourceLimits } : {}),
  });
  const handle: WorkerHandle = {
    id: opts.boot.workerId,
    worker,
    thread: undefined,
    threadId: worker.threadId,
    argsPort: args.port1,
    resultsPort: results.port1,
    exiting: false,
    lastError: undefined,
  };
  opts.onCreated(handle);
  results.port1.on("message", (m: JobReport) => opts.onReport(m));
  results.port1.unref();
  worker.on("error", (err: Error) => {
    handle.lastError = `${err.name}: ${err.message}`;
  });
  // threads.js leaves a pending call unresolved forever when its worker dies
  // (upstream #386): race init against the worker's own exit.
  let exited: ((code: number) => void) | undefined;
  const exitedEarly = new Promise<never>((_, reject) => {
    exited = (code) =>
      reject(
        new WorkerCrashedError(
          opts.boot.workerId,
          `exited (code ${code}) while starting${handle.lastError ? `: ${handle.lastError}` : ""}`,
          code,
        ),
      );
  });
  let ready = false;
  worker.on("exit", (code: number) => {
    // The results port stays open: reports the worker posted before dying are still delivered.
    args.port1.close();
    if (!handle.exiting) opts.onExit(handle, code, ready);
    if (!ready) exited?.(code);
  });
  try {
    const thread = await Promise.race([spawn<WorkerApi>(worker, { timeout: 60_000 }), exitedEarly]);
    (handle as { thread: unknown }).thread = thread;
    const info = await Promise.race([thread.init(), exitedEarly]);
    ready = true;
    return { handle, names: info.names };
  } catch (err) {
    handle.exiting = true;
    await worker.terminate();
    if (err instanceof SabreTypeError || err instanceof WorkerCrashedError) throw err;
    const e = err as Error;
    throw new SabreTypeError(`engine worker ${opts.boot.workerId} failed to start: ${e.message}`, { cause: err });
  }
}

/** Stops a worker (close, or giving up on it). */
export async function stopWorker(handle: WorkerHandle): Promise<void> {
  handle.exiting = true;
  try {
    if (handle.thread) await (await loadThreads()).Thread.terminate(handle.thread);
    else await handle.worker.terminate();
  } catch {
    await handle.worker.terminate();
  }
}
