import { availableParallelism } from "node:os";
import type { ResourceLimits } from "node:worker_threads";
import { AbortError, ClosedError, KernelError, SabreTypeError, WorkerCrashedError, type SabreError } from "../errors.js";
import { serialize, type SerializedMessage } from "../memory/serialize.js";
import { checkInteger, checkKnownKeys, describe } from "../validate.js";
import { ArgsCache } from "./args-cache.js";
import { ArgsMemo } from "./args-memo.js";
import { Reduction, RowsClause } from "./clauses.js";
import * as C from "./control.js";
import { PendingJob } from "./job.js";
import { TAG_NUMBER, blockUnits, byName, clearTags, valuesAt, type ArenaMessage } from "./results.js";
import { ResultsHeap, type ResultsBlock } from "./results-heap.js";
import { callSignal, moduleUrl, planParallelFor, type Call, type LocalChunk } from "./plan.js";
import { recoverAbandonedLocks } from "../sync/mutex.js";
import { spawnWorker, stopWorker, type WorkerHandle } from "./pool.js";

/** Options of {@link Engine.start}. */
export interface EngineOptions {
  /** Worker threads to start; defaults to os.availableParallelism(). */
  threads?: number;
  /** Kernel modules (file paths, relative to the current directory, or file: URLs) whose default export is defineKernels({...}). */
  kernels?: ReadonlyArray<string | URL>;
  /** Enforce the data-sharing clauses: a write to a readOnly array or outside a chunk's rows throws RaceError. Slow; for debugging. */
  checked?: boolean;
  /**
   * How long an idle worker spins on the doorbell before it parks, in
   * microseconds (default 50). Spinning answers back-to-back calls in about a
   * microsecond; a parked worker costs a futex wake-up (~10 us). 0 parks at once.
   */
  spinMicros?: number;
  /** A heap limit per worker in MiB (worker_threads resourceLimits.maxOldGenerationSizeMb): a kernel that exceeds it crashes only its worker. */
  workerHeapMB?: number;
}

/**
 * Internal engine settings, not part of EngineOptions (see `internalEngine`):
 * which set of sabre's built-in kernels the workers load, and a cap on each
 * worker's young generation. The DataLoader's private engines use them.
 */
export interface InternalEngineSettings {
  /** "all" (the default) or only the DataLoader's kernels (kernels/loader/builtin.ts): a lighter worker. */
  builtins: BuiltinKernelSet;
  /** worker_threads resourceLimits.maxYoungGenerationSizeMb. */
  youngGenerationMB?: number;
  /**
   * Whether the workers load sabre's sync and queue primitives at start, so
   * that args holding one revive (default true). Only an owner that knows
   * every args set it will send holds none may say false (a DataLoader checks its plan).
   */
  primitives?: boolean;
  /**
   * Whether the main thread spins and polls after submitting a call (the
   * default: a short call is answered sooner). A loader's one call lasts an
   * epoch, so those 2 ms of polling per call only take a core from its workers.
   */
  longCalls?: boolean;
  /** The args cache's byte budget (args-cache.ts, ARGS_CACHE_BYTES); tests set a small one. */
  argsCacheBytes?: number;
}

export type BuiltinKernelSet = "all" | "loader";

const internalSettings = new WeakMap<object, InternalEngineSettings>();

/** Tags an options object with internal settings for Engine.start (not exported from the package). */
export function internalEngine(options: EngineOptions, settings: InternalEngineSettings): EngineOptions {
  internalSettings.set(options, settings);
  return options;
}

/** How chunks go to workers: see {@link ParallelForOptions.schedule}. */
export type Schedule = "static" | "dynamic";

/** Options of {@link Engine.parallelFor}. */
export interface ParallelForOptions {
  /** Indices per chunk. Default: static, one balanced range per thread; dynamic, about 4 chunks per thread. With a reduction clause, 64 equal chunks whatever the thread count. */
  chunk?: number;
  /** "static": chunk i always runs on worker i % threads. "dynamic" (default): workers claim chunks from a shared counter. */
  schedule?: Schedule;
  /** Cancels the call between chunks (a chunk already running finishes). The call rejects with AbortError. */
  signal?: AbortSignal;
  /** Called with (chunks done, chunks total) at most every 100 ms while the call runs, and once at the end. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * A call's named arguments: anything {@link serialize} carries (shared
 * ndarrays and sync primitives arrive live), plus the top-level clauses
 * {@link readOnly}, {@link rows} and {@link reduction}.
 */
export type KernelArgs = Record<string, unknown>;

/** The serialized form of `{}`: the args of most short calls, made once. */
const EMPTY_ARGS = serialize({});

function isEmpty(args: object): boolean {
  for (const _ in args) return false;
  return true;
}

/** The main thread spins at most this long, blocking, for a call to finish. */
const MAIN_SPIN_MS = 0.05;
/**
 * Then, for this long after a call started, the watcher polls between event
 * loop turns (setImmediate) rather than parking on Atomics.waitAsync, whose
 * wake-up goes through the event loop's async handle (50-150 us on this VM).
 */
const MAIN_POLL_MS = 2;
/**
 * A kernel whose last call took longer than the polling window polls no
 * more: its next call most likely outlasts the window too, and while the
 * workers fill the cores the polling main thread only takes one from them
 * (1M x 24 axis reductions: ~1 ms of a 6-7 ms call on 2 cores). Such a call
 * parks on Atomics.waitAsync at once and pays its wake-up (50-150 us) once.
 */
const LONG_CALL_MS = MAIN_POLL_MS;
/**
 * The calling thread takes chunks of a call that brought its own copy of the
 * kernel (`parallelForLocal`) until this long after publishing it, then
 * leaves the rest to the workers: the event loop is never blocked longer
 * than this plus one chunk.
 */
const LOCAL_BUDGET_MS = 1;
/** How often a call with onProgress is reported, in ms. */
const PROGRESS_MS = 100;
/** Replacement attempts for a worker that keeps dying while it starts. */
const MAX_RESPAWNS = 3;


/**
 * A pool of worker threads that run kernels over shared memory.
 *
 * Dispatch goes through shared memory, not messages: a call writes a job
 * into a slot, rings a doorbell, and workers claim chunks from an atomic
 * counter (src/engine/dispatch.md). Idle workers do not keep the process
 * alive; close() stops them.
 *
 * Calls reject with {@link KernelError} (`ERR_SABRE_KERNEL`) when a kernel
 * throws, {@link WorkerCrashedError} (`ERR_SABRE_WORKER_CRASHED`) when its
 * worker dies (the worker is replaced), {@link AbortError}
 * (`ERR_SABRE_ABORTED`) when their signal aborts, {@link ClosedError}
 * (`ERR_SABRE_CLOSED`) after close(), {@link RaceError} (`ERR_SABRE_RACE`)
 * for a clause violation in checked mode, and {@link SabreTypeError}
 * (`ERR_SABRE_TYPE`) for an unknown kernel or bad args.
 *
 * @example
 * ```ts
 * await using engine = await Engine.start({ kernels: [new URL("./kernels.js", import.meta.url)] });
 * const x = shared.zeros("float64", [1_000_000]);
 * await engine.parallelFor(x.size, "fill", { x, value: 1 });            // chunks run in parallel
 * const total = reduction(0, "sum");
 * await engine.parallelFor(x.size, "sum", { x: readOnly(x), total });  // total.value === 1e6
 * ```
 */
export class Engine {
  /** How many workers run kernels. */
  readonly threads: number;
  /** Whether the data-sharing clauses are enforced ({@link EngineOptions.checked}). */
  readonly checked: boolean;
  private readonly control = C.createControlBlock();
  private readonly handles: Array<WorkerHandle | undefined>;
  private readonly kernelIds = new Map<string, number>();
  private readonly pending = new Map<number, PendingJob>();
  /** Each kernel's last call duration in ms (by kernel id), for the watcher's choice to poll or park. */
  private readonly lastCallMs = new Map<number, number>();
  private readonly args: ArgsCache;
  private readonly argsMemo = new ArgsMemo();
  /** Shared memory the workers write results and reduction partials into (results.ts). */
  private readonly heap = new ResultsHeap(
    (m) => this.postToWorkers(m),
    (seq) => this.allPassed(seq),
  );
  /** The next job's sequence number (int32, wrapping: the doorbell word is an Int32). */
  private nextSeq = 0;
  /** Jobs published so far (not wrapping). */
  private published = 0;
  private closing: Promise<void> | undefined;
  private broken: SabreError | undefined;
  private watching = false;
  private progressJobs = 0;
  private referenced = false;
  private readonly respawns: number[];
  /** Workers spawned but not yet ready: they get new args messages too. */
  private readonly starting = new Set<WorkerHandle>();
  /** Waiters for a free job slot or args slot. */
  private slotWaiters: Array<() => void> = [];

  private constructor(
    threads: number,
    checked: boolean,
    private readonly modules: string[],
    private readonly spinMicros: number,
    private readonly workerHeapMB: number | undefined,
    private readonly internal: InternalEngineSettings,
  ) {
    this.threads = threads;
    this.checked = checked;
    this.args = new ArgsCache(internal.argsCacheBytes);
    this.handles = new Array(threads).fill(undefined);
    this.respawns = new Array(threads).fill(0);
  }

  /**
   * Starts the workers and loads every kernel module in each; rejects if any module fails to load.
   * @throws {@link SabreTypeError} (`ERR_SABRE_TYPE`) for bad options or a module without a defineKernels default export
   */
  static async start(options: EngineOptions = {}): Promise<Engine> {
    if (typeof options !== "object" || options === null) {
      throw new SabreTypeError(`Engine.start options must be an object, got ${describe(options)}`);
    }
    checkKnownKeys("Engine.start options", options, ["threads", "kernels", "checked", "spinMicros", "workerHeapMB"]);
    const threads =
      options.threads === undefined ? availableParallelism() : checkInteger("threads", options.threads, 1, C.MAX_WORKERS);
    if (options.kernels !== undefined && !Array.isArray(options.kernels)) {
      throw new SabreTypeError(`kernels must be an array of module paths or URLs, got ${describe(options.kernels)}`);
    }
    const modules = (options.kernels ?? []).map(moduleUrl);
    if (options.checked !== undefined && typeof options.checked !== "boolean") {
      throw new SabreTypeError(`checked must be a boolean, got ${describe(options.checked)}`);
    }
    const spin = options.spinMicros ?? 50;
    if (typeof spin !== "number" || !(spin >= 0 && spin <= 1e6)) {
      throw new SabreTypeError(`spinMicros must be a number in [0, 1e6], got ${describe(spin)}`);
    }
    const heap = options.workerHeapMB === undefined ? undefined : checkInteger("workerHeapMB", options.workerHeapMB, 16);
    const internal = internalSettings.get(options) ?? { builtins: "all" };
    const engine = new Engine(threads, options.checked ?? false, modules, spin, heap, internal);
    const started = await Promise.allSettled(Array.from({ length: threads }, (_, i) => engine.startWorker(i, 0)));
    const failure = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failure) {
      await engine.close();
      throw failure.reason;
    }
    engine.setReferenced(false);
    return engine;
  }

  private resourceLimits(): ResourceLimits | undefined {
    const limits: ResourceLimits = {};
    if (this.workerHeapMB) limits.maxOldGenerationSizeMb = this.workerHeapMB;
    if (this.internal.youngGenerationMB) limits.maxYoungGenerationSizeMb = this.internal.youngGenerationMB;
    return Object.keys(limits).length > 0 ? limits : undefined;
  }

  /** The names of every kernel the workers loaded (built-ins first, then each module's, in order). */
  get kernels(): string[] {
    return [...this.kernelIds.keys()];
  }

  /** True once close() has been called. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  private async startWorker(id: number, startSeq: number): Promise<void> {
    const { handle, names } = await spawnWorker({
      boot: {
        workerId: id,
        threads: this.threads,
        control: this.control,
        modules: this.modules,
        checked: this.checked,
        startSeq,
        spinMicros: this.spinMicros,
        builtins: this.internal.builtins,
        primitives: this.internal.primitives ?? true,
      },
      resourceLimits: this.resourceLimits(),
      onReport: (report) => this.onReport(report),
      onExit: (h, code, ready) => this.onWorkerExit(h, code, ready),
      onCreated: (h) => {
        // Queue every arena and argument set jobs may refer to before the worker runs any of them.
        for (const m of this.heap.replay()) h.argsPort.postMessage(m);
        for (const m of this.args.replay()) h.argsPort.postMessage(m);
        this.starting.add(h);
      },
    }).finally(() => {
      for (const h of this.starting) if (h.id === id) this.starting.delete(h);
    });
    if (this.closing) {
      await stopWorker(handle);
      return;
    }
    if (this.kernelIds.size === 0) names.forEach((n, i) => this.kernelIds.set(n, i));
    else if (names.length !== this.kernelIds.size || names.some((n, i) => this.kernelIds.get(n) !== i)) {
      await stopWorker(handle);
      throw new SabreTypeError(`worker ${id} loaded different kernels than its siblings: ${names.join(", ")}`);
    }
    this.handles[id] = handle;
    if (this.referenced) handle.worker.ref();
    else handle.worker.unref();
  }

  // ---- public calls ---------------------------------------------------------------------------

  /**
   * Runs `kernel` over disjoint chunks [start, end) of 0..n on the workers and
   * resolves to the kernel's per-chunk return values, in chunk order.
   */
  parallelFor(n: number, kernel: string, args: KernelArgs = {}, options: ParallelForOptions = {}): Promise<unknown[]> {
    try {
      return this.submit(planParallelFor(n, kernel, args, options, this.threads));
    } catch (err) {
      return Promise.reject(err);
    }
  }


  /**
   * @internal parallelFor for sabre's own kernels that the calling thread
   * can also run (ops): after publishing the call, the calling thread takes
   * chunks from the same counter as the workers, for up to LOCAL_BUDGET_MS,
   * instead of waiting for parked workers to wake (dispatch.md, "The caller
   * takes chunks"). Only for a dynamic schedule without reduction clauses.
   */
  parallelForLocal(n: number, kernel: string, args: KernelArgs, options: ParallelForOptions, local: LocalChunk): Promise<unknown[]> {
    try {
      const call = planParallelFor(n, kernel, args, options, this.threads);
      if (call.schedule === C.SCHEDULE_DYNAMIC && !this.checked) call.local = local;
      return this.submit(call);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Runs `kernel` once on a free worker (ctx.start = 0, ctx.end = 1) and resolves to its return value. */
  async run(kernel: string, args: KernelArgs = {}, options: { signal?: AbortSignal } = {}): Promise<unknown> {
    const results = await this.submit({ kernel, args, n: 1, nChunks: 1, chunkSize: 1, schedule: C.SCHEDULE_DYNAMIC, signal: callSignal("run", options) });
    return results[0];
  }

  /**
   * Runs `kernel` once on every worker at the same time (ctx.start = worker
   * index), SPMD style: the kernel may use a Barrier of `engine.threads`
   * parties. Resolves to the per-worker return values, in worker order.
   */
  broadcast(kernel: string, args: KernelArgs = {}, options: { signal?: AbortSignal } = {}): Promise<unknown[]> {
    try {
      const n = this.threads;
      return this.submit({ kernel, args, n, nChunks: n, chunkSize: 0, schedule: C.SCHEDULE_STATIC, signal: callSignal("broadcast", options) });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Stops every worker. Calls still running reject with ClosedError. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** close(), for `await using engine = await Engine.start()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- submission --------------------------------------------------------------------------

  /** Validates and publishes a call; every failure comes back as a rejected promise. */
  private submit(call: Call): Promise<unknown[]> {
    try {
      return this.submitNow(call);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Stays synchronous on the common path (args already cached or a free
   * slot, a free job slot): awaiting costs more than the whole dispatch of a
   * short call.
   */
  private submitNow(call: Call): Promise<unknown[]> {
    const { kernel, args, n, signal } = call;
    if (this.closing) throw new ClosedError("the engine");
    if (this.broken) throw this.broken;
    const kernelId = this.kernelIds.get(kernel);
    if (kernelId === undefined) {
      throw new SabreTypeError(
        typeof kernel === "string"
          ? `unknown kernel "${kernel}"; this engine has: ${this.kernels.join(", ")}`
          : `kernel must be a kernel name (a string), got ${describe(kernel)}`,
      );
    }
    if (typeof args !== "object" || args === null || Array.isArray(args)) {
      throw new SabreTypeError(`args must be a plain object of named arguments, got ${describe(args)}`);
    }
    const reductions = this.checkClauses(args, n);
    if (signal?.aborted) throw new AbortError(`the call of kernel "${kernel}"`, signal.reason);
    if (n === 0) {
      for (const [, r] of reductions) r.value = typeof r.initial === "number" ? r.initial : r.initial.slice();
      return Promise.resolve([]);
    }
    const mutexes: unknown[] = [];
    const message = isEmpty(args) ? EMPTY_ARGS : (this.argsMemo.get(args) ?? this.serializeArgs(args, mutexes));
    const argsRef = this.args.find(message) ?? this.assignArgs(message, mutexes);
    // A slot is pinned from the moment a call holds it until the call settles, so
    // that no other call can give it new contents in between (dispatch.md).
    if (argsRef) this.args.pin(argsRef.slot);
    if (!argsRef || !this.jobSlotReady(this.nextSeq) || this.slotWaiters.length > 0) {
      // Slow path: wait for an args slot or a job slot, then publish.
      return (async () => {
        let ref = argsRef;
        try {
          if (!ref) {
            ref = await this.argsSlotFor(message, mutexes);
          }
          // Check and publish in one synchronous step: any await in between would
          // let another waiting call take the same job slot.
          for (;;) {
            if (this.closing) throw new ClosedError("the engine");
            if (this.broken) throw this.broken;
            if (this.jobSlotReady(this.nextSeq)) break;
            await this.slotFreed();
          }
        } catch (err) {
          if (ref) this.args.unpin(ref.slot);
          throw err;
        }
        return this.publish(call, kernelId, ref, reductions);
      })();
    }
    return this.publish(call, kernelId, argsRef, reductions);
  }

  private publish(
    call: Call,
    kernelId: number,
    argsRef: { slot: number; version: number },
    reductions: Array<[string, Reduction]>,
  ): Promise<unknown[]> {
    const { kernel, n, nChunks, chunkSize, schedule, signal, onProgress } = call;
    const seq = this.nextSeq;
    let block: ResultsBlock;
    try {
      let width = 0;
      for (const [, r] of reductions) width += r.width;
      // A new arena is posted to the workers here, before the job that uses it is published.
      block = this.heap.alloc(blockUnits(nChunks, width), seq);
    } catch (err) {
      this.args.unpin(argsRef.slot);
      throw err;
    }
    this.nextSeq = (seq + 1) | 0;
    this.published++;
    const { ctl, jobs, jobsF } = this.control;
    const b = C.slotOf(seq) * C.JOB_STRIDE;
    const f = C.slotOf(seq) * C.F_STRIDE;
    // Plain writes: the Atomics.add on HEAD below publishes them (a worker reads
    // HEAD with an atomic load first, which orders every read of the slot after).
    jobsF[f + C.F_N] = n;
    jobsF[f + C.F_CHUNK] = chunkSize;
    jobs[b + C.J_SEQ] = seq;
    jobs[b + C.J_KERNEL] = kernelId;
    jobs[b + C.J_ARGS_SLOT] = argsRef.slot;
    jobs[b + C.J_ARGS_VERSION] = argsRef.version;
    jobs[b + C.J_SCHEDULE] = schedule;
    jobs[b + C.J_NCHUNKS] = nChunks;
    jobs[b + C.J_NEXT] = 0;
    jobs[b + C.J_DONE] = 0;
    jobs[b + C.J_CANCEL] = 0;
    jobs[b + C.J_POSTED] = 0;
    clearTags(block.arena.i32, block.offset, nChunks);
    jobs[b + C.J_RES_ARENA] = block.arena.id;
    jobs[b + C.J_RES_OFFSET] = block.offset;

    let resolveFn!: (v: unknown[]) => void;
    let rejectFn!: (e: SabreError) => void;
    const promise = new Promise<unknown[]>((res, rej) => {
      resolveFn = res;
      rejectFn = rej;
    });
    const job = new PendingJob(seq, kernel, kernelId, nChunks, argsRef.slot, reductions, block, onProgress, resolveFn, rejectFn);
    this.pending.set(seq, job);
    if (onProgress) this.progressJobs++;
    if (this.pending.size === 1) this.setReferenced(true);
    job.cleanup = (completed) => {
      // A completed job's block has no writer left; otherwise a chunk may still be running.
      if (completed) this.heap.release(block);
      else this.heap.retire(block, seq);
      this.pending.delete(seq);
      this.args.unpin(argsRef.slot);
      if (onProgress) this.progressJobs--;
      if (this.pending.size === 0) this.setReferenced(false);
      this.wakeSlotWaiters();
    };
    if (signal) {
      const onAbort = (): void => {
        Atomics.store(jobs, b + C.J_CANCEL, 1);
        job.reject(new AbortError(`the call of kernel "${kernel}"`, signal.reason));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      const prior = job.cleanup;
      job.cleanup = (completed) => {
        signal.removeEventListener("abort", onAbort);
        prior(completed);
      };
    }

    // Publish: everything above is visible to a worker that sees the new HEAD.
    Atomics.add(ctl, C.HEAD, 1);
    if (Atomics.load(ctl, C.SLEEPERS) > 0) Atomics.notify(ctl, C.HEAD);
    // A kernel whose last call was long gets no help: the dispatch is a small part of such a call,
    // and the calling thread would only add a third runner on cores the workers already fill.
    if (call.local && reductions.length === 0 && (this.lastCallMs.get(kernelId) ?? 0) <= LONG_CALL_MS) {
      this.runLocal(job, call, call.local, b);
    }

    // A lone short call finishes while we spin (the cost is bounded: 50 us of a
    // core the caller is not using). With other calls in flight the caller is
    // pipelining: spinning would only delay its next submission.
    if (this.pending.size === 1 && !this.internal.longCalls) {
      const until = performance.now() + MAIN_SPIN_MS;
      do {
        if (this.check(job)) return promise;
      } while (performance.now() < until);
    }
    void this.watch();
    return promise;
  }

  /**
   * The calling thread's share of a call: claims chunks from the job's NEXT
   * counter, as a worker does, runs them with the local copy of the kernel
   * and counts each in DONE after writing its value, so completion, results
   * and cancellation work as if a worker had run it. Stops at the budget,
   * when no chunk is left or when the job is cancelled.
   */
  private runLocal(job: PendingJob, call: Call, local: LocalChunk, b: number): void {
    const { jobs } = this.control;
    const { n, nChunks, chunkSize } = call;
    const { f64, i32 } = job.block.arena;
    const tags = 2 * job.block.offset;
    const values = valuesAt(job.block.offset, nChunks);
    const until = performance.now() + LOCAL_BUDGET_MS;
    while (Atomics.load(jobs, b + C.J_CANCEL) === 0) {
      const i = Atomics.add(jobs, b + C.J_NEXT, 1);
      if (i >= nChunks) return;
      const start = i * chunkSize;
      const end = Math.min(n, start + chunkSize);
      let value: number | undefined;
      try {
        value = local(start, end, i);
      } catch (err) {
        Atomics.store(jobs, b + C.J_CANCEL, 1);
        const e = err instanceof Error ? err : new Error(String(err));
        const code = (e as { code?: unknown }).code;
        job.reject(
          new KernelError(
            { kernel: call.kernel, workerId: -1, chunk: { start, end } },
            { message: e.message, ...(e.stack ? { stack: e.stack } : {}), ...(typeof code === "string" ? { code } : {}) },
          ),
        );
        return;
      }
      if (value !== undefined) {
        f64[values + i] = value;
        i32[tags + i] = TAG_NUMBER;
      }
      Atomics.add(jobs, b + C.J_DONE, 1);
      if (performance.now() >= until) return;
    }
  }

  private serializeArgs(args: KernelArgs, mutexes: unknown[]): SerializedMessage {
    const message = serialize(args, {
      requireShared: true,
      name: "args",
      onShareable: (v, kind, path) => {
        if (kind === "Mutex") mutexes.push(v);
        // Clauses only mean something at the top level, where the runner looks for them.
        if (kind.startsWith("clause.") && path.split(".").length !== 2) {
          throw new SabreTypeError(`${path}: readOnly/rows/reduction clauses must be top-level properties of args`);
        }
      },
    });
    this.argsMemo.remember(args, message);
    return message;
  }

  /** Validates the clauses in args and returns the reductions, in name order (the order of their partials in the results block). */
  private checkClauses(args: KernelArgs, n: number): Array<[string, Reduction]> {
    const reductions: Array<[string, Reduction]> = [];
    for (const [name, v] of Object.entries(args)) {
      if (v instanceof Reduction) reductions.push([name, v]);
      else if (v instanceof RowsClause && v.array.shape[0] !== n) {
        throw new SabreTypeError(`args.${name}: rows() needs an array with n = ${n} rows, it has ${v.array.shape[0]}`);
      }
    }
    return reductions.length > 1 ? reductions.sort(byName) : reductions;
  }

  /**
   * Gives `message` a fresh args slot and sends it to every worker; undefined
   * if all slots are pinned. The slot keeps the args' mutexes reachable from
   * this thread while workers may hold them: crash recovery finds a dead
   * worker's mutexes through this thread's registry, which holds them weakly.
   */
  private assignArgs(message: SerializedMessage, mutexes: unknown[]): { slot: number; version: number } | undefined {
    const fresh = this.args.assign(message, mutexes);
    if (!fresh) return undefined;
    // Evictions first: a worker drains its port in order, so it drops the old
    // sets (and may collect them) on its way to the new one.
    for (const { slot, version } of fresh.evicted) this.postToWorkers({ kind: "evict", slot, version });
    this.postToWorkers({ kind: "args", slot: fresh.slot, version: fresh.version, args: message, bytes: fresh.bytes });
    return { slot: fresh.slot, version: fresh.version };
  }

  /** Posts on every worker's args port, starting workers included (dispatch.md, "args slots"). */
  private postToWorkers(m: C.ArgsMessage | C.EvictMessage | ArenaMessage): void {
    for (const h of this.handles) h?.argsPort.postMessage(m);
    for (const h of this.starting) h.argsPort.postMessage(m);
  }

  /** Waits for an args slot for `message` and returns it pinned (pinned in the same step it is found). */
  private async argsSlotFor(message: SerializedMessage, mutexes: unknown[]): Promise<{ slot: number; version: number }> {
    for (;;) {
      const ref = this.args.find(message) ?? this.assignArgs(message, mutexes);
      if (ref) {
        this.args.pin(ref.slot);
        return ref;
      }
      await new Promise<void>((r) => this.slotWaiters.push(r));
    }
  }

  /** True when the job slot `seq` will use is retired: its previous job settled and every worker past it. */
  private jobSlotReady(seq: number): boolean {
    if (this.published < C.JOB_SLOTS) return true;
    const prev = (seq - C.JOB_SLOTS) | 0;
    if (this.pending.has(prev)) return false;
    return this.allPassed(prev);
  }

  /**
   * True once every worker, starting ones included (they run jobs from their
   * first W_PASSED on), has left job `seq`. A worker never lags more than
   * JOB_SLOTS jobs behind, so the wrapping comparison is safe.
   */
  private allPassed(seq: number): boolean {
    const { ctl } = this.control;
    const past = (id: number) => ((Atomics.load(ctl, C.WORKER_BASE + id * C.WORKER_STRIDE + C.W_PASSED) - seq) | 0) > 0;
    for (let i = 0; i < this.handles.length; i++) if (this.handles[i] !== undefined && !past(i)) return false;
    for (const h of this.starting) if (!past(h.id)) return false;
    return true;
  }

  /**
   * Resolves when a call settles (a slot may be free) or on the next turn of
   * the event loop (workers passing a slot do not signal: with 1024 slots a
   * wait is rare and short, and a 1 ms timer here cost 18 us per call on
   * average with 64 slots).
   */
  private slotFreed(): Promise<void> {
    return new Promise<void>((r) => {
      this.slotWaiters.push(r);
      setImmediate(r);
    });
  }

  private wakeSlotWaiters(): void {
    const waiters = this.slotWaiters;
    this.slotWaiters = [];
    for (const w of waiters) w();
  }

  // ---- completion ----------------------------------------------------------------------------

  /** Settles `job` if it is complete; true if it is settled. */
  private check(job: PendingJob): boolean {
    if (job.settled) return true;
    const { jobs } = this.control;
    const b = C.slotOf(job.seq) * C.JOB_STRIDE;
    const done = Atomics.load(jobs, b + C.J_DONE);
    if (job.onProgress && done !== job.lastProgress) {
      job.lastProgress = done;
      try {
        job.onProgress(done, job.nChunks);
      } catch {
        // A throwing progress callback must not wedge the call.
      }
    }
    if (done < job.nChunks) return false;
    if (job.received < Atomics.load(jobs, b + C.J_POSTED)) return false;
    this.lastCallMs.set(job.kernelId, performance.now() - job.started);
    job.resolve();
    return true;
  }

  /** Waits for workers' completion signals while calls are pending. One watcher per engine. */
  private async watch(): Promise<void> {
    if (this.watching) return;
    this.watching = true;
    const { ctl } = this.control;
    try {
      while (this.pending.size > 0 && !this.closing) {
        Atomics.store(ctl, C.MAIN_WAITING, 1);
        const seen = Atomics.load(ctl, C.COMPLETIONS);
        let youngest = -Infinity;
        for (const job of [...this.pending.values()]) {
          if (!this.check(job) && (this.lastCallMs.get(job.kernelId) ?? 0) <= LONG_CALL_MS) youngest = Math.max(youngest, job.started);
        }
        if (this.pending.size === 0) break;
        if (!this.internal.longCalls && performance.now() - youngest < MAIN_POLL_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          continue;
        }
        // The timeout paces progress reports and is a safety net; completions normally wake us.
        const r = Atomics.waitAsync(ctl, C.COMPLETIONS, seen, this.progressJobs > 0 ? PROGRESS_MS : 1000);
        if (r.async) await r.value;
      }
    } finally {
      Atomics.store(ctl, C.MAIN_WAITING, 0);
      this.watching = false;
    }
  }

  private onReport(report: C.JobReport): void {
    const job = this.pending.get(report.seq);
    if (!job) return; // the call was already settled (aborted, crashed, closed)
    let err: SabreError | undefined;
    try {
      err = job.absorb(report);
    } catch (e) {
      err = e instanceof SabreTypeError ? e : new SabreTypeError(`a kernel result could not be revived: ${(e as Error).message}`);
    }
    const posted = (): number => Atomics.load(this.control.jobs, C.slotOf(job.seq) * C.JOB_STRIDE + C.J_POSTED);
    if (err instanceof KernelError && err.originalCode === "ERR_SABRE_BROKEN_BARRIER" && job.received < posted()) {
      // A party that found its Barrier broken is usually the echo of another
      // chunk's failure (a failing chunk breaks the barriers in its args, and
      // starts its report before it does, so that report is counted in POSTED
      // already). Hold this one until the reports started so far are in: the
      // root cause, if among them, wins.
      job.brokenBarrier ??= err;
      return;
    }
    if (!err && job.brokenBarrier && job.received >= posted()) err = job.brokenBarrier;
    if (err) {
      // Stop the other workers' chunks too (a kernel error already did; a result that could not be revived did not).
      Atomics.store(this.control.jobs, C.slotOf(job.seq) * C.JOB_STRIDE + C.J_CANCEL, 1);
      job.reject(err);
    } else this.check(job);
  }

  // ---- workers coming and going ----------------------------------------------------------------

  /**
   * @internal For an owner whose one call lasts long (the DataLoader's epoch
   * loop): whether the workers keep the process alive, overriding the
   * engine's own toggle until the next call starts or ends.
   */
  keepProcessAlive(on: boolean): void {
    this.setReferenced(on);
  }

  private setReferenced(on: boolean): void {
    this.referenced = on;
    for (const h of this.handles) {
      if (!h) continue;
      if (on) h.worker.ref();
      else h.worker.unref();
    }
  }

  /**
   * A worker died. Its current job is cancelled and rejected whether it was
   * ready or still starting (a starting worker already runs jobs); a ready
   * one is replaced, while a starting one's failure goes back to the start
   * (or replace) loop that is waiting for it.
   */
  private onWorkerExit(handle: WorkerHandle, code: number, ready: boolean): void {
    if (this.handles[handle.id] === handle) this.handles[handle.id] = undefined;
    if (handle.exiting || this.closing) return;
    const { ctl, jobs } = this.control;
    const w = C.WORKER_BASE + handle.id * C.WORKER_STRIDE;
    const detail = handle.lastError ?? `exited with code ${code}`;
    const crash = new WorkerCrashedError(handle.id, detail, code);
    if (Atomics.load(ctl, w + C.W_INSIDE) !== 0) {
      const seq = Atomics.load(ctl, w + C.W_PASSED);
      Atomics.store(jobs, C.slotOf(seq) * C.JOB_STRIDE + C.J_CANCEL, 1);
      const job = this.pending.get(seq);
      if (job) {
        job.reject(new WorkerCrashedError(handle.id, `${detail} while running kernel "${job.kernel}"`, code));
      }
      Atomics.store(ctl, w + C.W_INSIDE, 0);
    }
    this.afterCrash(handle.threadId);
    if (ready) void this.replace(handle.id, crash);
  }

  /**
   * A dead worker's mutexes are handed to their next lockers with
   * OwnerDiedError instead of staying locked forever.
   */
  private afterCrash(threadId: number): void {
    try {
      recoverAbandonedLocks(threadId);
    } catch {
      // Only a bad thread id throws; a worker that never started has none to recover.
    }
  }

  private async replace(id: number, crash: WorkerCrashedError): Promise<void> {
    while (!this.closing) {
      try {
        // Read per attempt: a replacement that died while starting may have run jobs past its start.
        await this.startWorker(id, Atomics.load(this.control.ctl, C.WORKER_BASE + id * C.WORKER_STRIDE + C.W_PASSED));
        this.respawns[id] = 0;
        return;
      } catch (err) {
        if (++this.respawns[id]! >= MAX_RESPAWNS) {
          this.broken = new WorkerCrashedError(id, `${crash.message}; no replacement could be started: ${(err as Error).message}`);
          for (const job of [...this.pending.values()]) job.reject(this.broken);
          return;
        }
        await new Promise((r) => setTimeout(r, 50 * this.respawns[id]!));
      }
    }
  }

  private async shutdown(): Promise<void> {
    const { ctl, jobs } = this.control;
    Atomics.store(ctl, C.SHUTDOWN, 1);
    Atomics.notify(ctl, C.HEAD);
    for (const job of [...this.pending.values()]) {
      Atomics.store(jobs, C.slotOf(job.seq) * C.JOB_STRIDE + C.J_CANCEL, 1);
      job.reject(new ClosedError("the engine (closed while this call ran)"));
    }
    this.wakeSlotWaiters();
    const live = this.handles.filter((h): h is WorkerHandle => h !== undefined);
    await Promise.all(live.map((h) => stopWorker(h)));
    for (const h of live) this.afterCrash(h.threadId);
  }
}
