// The worker side of dispatch: wait on the doorbell, take chunks of published
// jobs, run kernels, report. The protocol is in src/engine/dispatch.md.
import { collectGarbage } from "../src/memory/collect.js";
import { receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import * as C from "../src/engine/control.js";
import { identity, isClauseMarker, type ReductionMarker, type RowsMarker } from "../src/engine/clauses.js";
import * as R from "../src/engine/results.js";
import { SabreTypeError } from "../src/errors.js";
import { describe } from "../src/validate.js";
import type { Kernel, KernelContext } from "../src/engine/define.js";
import { deserialize, serialize } from "../src/memory/serialize.js";
import { checkedReadOnly, checkedRows, current } from "./checked.js";
import { spinWhileEqualFor } from "../src/sync/wait.js";
import type { NdArray } from "../src/memory/ndarray-type.js";
import { Barrier } from "../src/sync/barrier.js";

/** How long one blocking park lasts before the worker's event loop gets a turn, in ms. */
const PARK_SLICE_MS = 50;

export interface RunnerConfig {
  workerId: number;
  threads: number;
  control: C.ControlBlock;
  argsPort: MessagePort;
  resultsPort: MessagePort;
  kernels: Kernel<unknown>[];
  names: string[];
  /** Kernels [0, builtins) are sabre's own: checked mode leaves them unguarded. */
  builtins: number;
  checked: boolean;
  /** The first job sequence number this worker looks at (a replacement starts where its predecessor stopped). */
  startSeq: number;
  /** How long to spin on the doorbell before parking, in microseconds. */
  spinMicros: number;
}

/** A reduction clause as a job runs it: where its partials go in the results block. */
interface PreparedReduction {
  name: string;
  marker: ReductionMarker;
  /** Total width of the reductions before it in name order (results.ts). */
  widthBefore: number;
}

/** A revived argument set, with its clauses found once. */
interface PreparedArgs {
  version: number;
  base: Record<string, unknown>;
  /** readOnly clauses by name: checked mode hands user kernels guarded views of these. */
  readOnly: Array<[string, NdArray]>;
  /** Barriers among the args: a failing chunk breaks them, so parties waiting there are not left waiting forever. */
  barriers: Barrier[];
  /** `base` with every readOnly array guarded, built on the first checked user-kernel chunk. */
  guarded?: Record<string, unknown>;
  /** Clauses that change per chunk: rows views, and reduction accumulators (in name order, as their partials are laid out). */
  rows: Array<[string, RowsMarker]>;
  reductions: PreparedReduction[];
}

/** An argument set whose revival threw. */
interface FailedArgs {
  version: number;
  failed: unknown;
}

function prepare(version: number, message: unknown): PreparedArgs {
  const value = deserialize<unknown>(message);
  const base: Record<string, unknown> =
    typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
  const rows: Array<[string, RowsMarker]> = [];
  const readOnly: Array<[string, NdArray]> = [];
  const found: Array<[string, ReductionMarker]> = [];
  const barriers: Barrier[] = [];
  for (const [name, v] of Object.entries(base)) {
    if (v instanceof Barrier) barriers.push(v);
    if (!isClauseMarker(v)) continue;
    if (v.clause === "readOnly") {
      base[name] = v.value;
      readOnly.push([name, v.value]);
    }
    else if (v.clause === "rows") rows.push([name, v]);
    else found.push([name, v]);
  }
  let widthBefore = 0;
  const reductions = found.sort(R.byName).map(([name, marker]) => {
    const r = { name, marker, widthBefore };
    widthBefore += marker.width;
    return r;
  });
  return { version, base, readOnly, rows, reductions, barriers };
}

/** The args a checked-mode user kernel sees: readOnly arrays behind guards. */
function guardedBase(p: PreparedArgs): Record<string, unknown> {
  if (p.guarded) return p.guarded;
  const g = { ...p.base };
  for (const [name, array] of p.readOnly) g[name] = checkedReadOnly(array, name);
  return (p.guarded = g);
}

/** A results arena as a worker holds it. */
interface WorkerArena extends R.ArenaViews {
  forSeq: number | null;
}

/** Shared bytes of dropped argument sets after which a worker collects its garbage. */
const COLLECT_AFTER_BYTES = 64 * 2 ** 20;

/** A private accumulator a kernel sees for a reduction clause. */
function accumulator(m: ReductionMarker): { value: number } | Float64Array {
  return m.scalar ? { value: identity(m.op) } : new Float64Array(m.width).fill(identity(m.op));
}

export class Runner {
  private readonly ctl: Int32Array;
  private readonly jobs: Int32Array;
  private readonly jobsF: Float64Array;
  private readonly me: number;
  /** Revived argument sets by slot; one that could not be revived holds the error, thrown by every chunk that needs it. */
  private readonly args: Array<PreparedArgs | FailedArgs | undefined> = new Array(C.ARGS_SLOTS);
  /** Shared bytes each slot's set refers to (as the main thread counted them). */
  private readonly argsBytes = new Float64Array(C.ARGS_SLOTS);
  /** Shared bytes of sets dropped since the last collection. */
  private droppedBytes = 0;
  private readonly arenas = new Map<number, WorkerArena>();
  /** How many of `arenas` were made for one job (dropped once this worker is past it). */
  private oneOffs = 0;
  /** The job this worker is at (it drops a one-off arena that arrives after its job). */
  private seq = 0;

  constructor(private readonly cfg: RunnerConfig) {
    this.ctl = cfg.control.ctl;
    this.jobs = cfg.control.jobs;
    this.jobsF = cfg.control.jobsF;
    this.me = C.WORKER_BASE + cfg.workerId * C.WORKER_STRIDE;
  }

  /** Runs until the engine shuts down. */
  async loop(): Promise<void> {
    const { ctl } = this;
    let seq = this.cfg.startSeq;
    Atomics.store(ctl, this.me + C.W_PASSED, seq);
    for (;;) {
      if (Atomics.load(ctl, C.SHUTDOWN) !== 0) return;
      const head = Atomics.load(ctl, C.HEAD);
      if (((head - seq) | 0) > 0) {
        this.seq = seq;
        const pending = this.runJob(seq);
        if (pending) await pending;
        seq = (seq + 1) | 0;
        Atomics.store(ctl, this.me + C.W_PASSED, seq);
        // After W_PASSED: between leaving a job and passing it nothing may allocate (a
        // worker that died there would be replaced at this job, not counted as inside it).
        if (this.oneOffs > 0) this.dropOneOffs((seq - 1) | 0);
        if (this.droppedBytes >= COLLECT_AFTER_BYTES) {
          this.droppedBytes = 0;
          collectGarbage("major");
        }
        continue;
      }
      // Idle: spin a little (a main thread that publishes again soon is answered in
      // well under a microsecond), then park. Parking blocks in Atomics.wait: a
      // futex wake-up costs ~10 us here, where waking an Atomics.waitAsync goes
      // through the event loop and cost 50-150 us. The park is cut into slices,
      // and between slices the event loop gets a turn, so this worker's timers
      // and messages still run while it idles.
      if (spinWhileEqualFor(ctl, C.HEAD, head, this.cfg.spinMicros)) continue;
      Atomics.add(ctl, C.SLEEPERS, 1);
      if (Atomics.load(ctl, C.HEAD) === head && Atomics.load(ctl, C.SHUTDOWN) === 0) {
        if (Atomics.wait(ctl, C.HEAD, head, PARK_SLICE_MS) === "timed-out") {
          Atomics.sub(ctl, C.SLEEPERS, 1);
          await new Promise<void>((resolve) => setImmediate(resolve));
          continue;
        }
      }
      Atomics.sub(ctl, C.SLEEPERS, 1);
    }
  }

  /**
   * Takes the next message off the args port (argument sets and arenas come
   * in the order they were posted, dispatch.md); false if there is none.
   */
  private receive(): boolean {
    const m = receiveMessageOnPort(this.cfg.argsPort);
    if (m === undefined) return false;
    const msg = m.message as C.PortMessage;
    if (msg.kind === "args") {
      this.drop(msg.slot);
      // An argument set this thread cannot revive (e.g. a kind registered only
      // on the main thread) must fail the job's chunks, not the worker: thrown
      // here it would escape the loop that drains the port, outside any chunk.
      try {
        this.args[msg.slot] = prepare(msg.version, msg.args);
      } catch (err) {
        this.args[msg.slot] = { version: msg.version, failed: err };
      }
      this.argsBytes[msg.slot] = msg.bytes;
    } else if (msg.kind === "evict") {
      if (this.args[msg.slot]?.version === msg.version) this.drop(msg.slot);
    } else if (msg.forSeq === null || ((msg.forSeq - this.seq) | 0) >= 0) {
      // (A one-off arena for a job this worker has already left is never needed.)
      this.arenas.set(msg.id, { forSeq: msg.forSeq, ...R.arenaViews(msg.buffer) });
      if (msg.forSeq !== null) this.oneOffs++;
    }
    return true;
  }

  /** Forgets the set in `slot` (superseded or evicted), counting its shared bytes toward a collection. */
  private drop(slot: number): void {
    if (this.args[slot] === undefined) return;
    this.args[slot] = undefined;
    this.droppedBytes += this.argsBytes[slot]!;
    this.argsBytes[slot] = 0;
  }

  /** The revived args of (slot, version), pulling messages off the port in order until it arrives. */
  private fetchArgs(slot: number, version: number): PreparedArgs {
    let a = this.args[slot];
    while (a === undefined || a.version !== version) {
      if (!this.receive()) {
        throw new Error(`sabre: args slot ${slot} version ${version} never arrived (dispatch protocol broken)`);
      }
      a = this.args[slot];
    }
    if ("failed" in a) throw a.failed;
    return a;
  }

  /** Results arena `id`, pulling messages off the port in order until it arrives; undefined if the port runs dry first. */
  private fetchArena(id: number): WorkerArena | undefined {
    let a = this.arenas.get(id);
    while (a === undefined && this.receive()) a = this.arenas.get(id);
    return a;
  }

  /** Forgets the one-off arenas of jobs up to `seq`, which this worker is leaving. */
  private dropOneOffs(seq: number): void {
    for (const [id, a] of this.arenas) {
      if (a.forSeq !== null && ((a.forSeq - seq) | 0) <= 0) {
        this.arenas.delete(id);
        this.oneOffs--;
      }
    }
  }

  /**
   * Takes and runs this worker's chunks of job `seq`. Returns a promise only
   * when a kernel returned one (async kernels); the common path stays synchronous.
   */
  private runJob(seq: number): Promise<void> | undefined {
    const { ctl, cfg, jobs } = this;
    const b = C.slotOf(seq) * C.JOB_STRIDE;
    // A slot that names another seq was reused by a later job: this one is long
    // settled. (Only a replacement worker that starts behind its predecessor meets one.)
    if (Atomics.load(jobs, b + C.J_SEQ) !== seq) return undefined;
    // Take in the job's arena now if it is new, even when this worker runs no chunk
    // of it: a one-off arena left on the port would keep its memory alive until some
    // later job made this worker drain the port. One that never arrives was dropped
    // with its settled job (a replacement started behind is sent only live arenas).
    if (this.fetchArena(Atomics.load(jobs, b + C.J_RES_ARENA)) === undefined) return undefined;
    // A job with every chunk done leaves nothing to do, and its results block may
    // already serve another job: never run a chunk of it again (only a replacement
    // started behind meets one with static chunks of its own).
    if (Atomics.load(jobs, b + C.J_DONE) >= Atomics.load(jobs, b + C.J_NCHUNKS)) return undefined;
    Atomics.store(ctl, this.me + C.W_INSIDE, 1);
    const job = new JobRun(this, seq, b);
    const pending = job.run(cfg.workerId);
    if (pending) return pending.then(() => this.leave(job));
    this.leave(job);
    return undefined;
  }

  private leave(job: JobRun): void {
    const { ctl } = this;
    // POSTED was counted when the report was started, before any DONE it covers.
    if (job.report) this.cfg.resultsPort.postMessage(job.report);
    Atomics.store(ctl, this.me + C.W_INSIDE, 0);
    Atomics.add(ctl, C.COMPLETIONS, 1);
    if (Atomics.load(ctl, C.MAIN_WAITING) !== 0) Atomics.notify(ctl, C.COMPLETIONS);
  }

  /** @internal used by JobRun */
  get config(): RunnerConfig {
    return this.cfg;
  }
  /** @internal */
  argsFor(slot: number, version: number): PreparedArgs {
    return this.fetchArgs(slot, version);
  }
  /** @internal */
  arenaFor(id: number): WorkerArena {
    const a = this.fetchArena(id);
    if (a === undefined) throw new Error(`sabre: results arena ${id} never arrived (dispatch protocol broken)`);
    return a;
  }
  /** @internal */
  get jobWords(): Int32Array {
    return this.jobs;
  }
  /** @internal */
  get jobFloats(): Float64Array {
    return this.jobsF;
  }
}

/** One worker's pass through one job. */
class JobRun {
  report: C.JobReport | undefined;
  private readonly kernelId: number;
  private readonly nChunks: number;
  private readonly n: number;
  private readonly chunk: number;
  private readonly dynamic: boolean;
  private prepared: PreparedArgs | undefined;
  /** The job's results block (found on the first chunk): its arena, and where tags and values start. */
  private arena: WorkerArena | undefined;
  private tags = 0;
  private values = 0;
  private offset = 0;

  constructor(
    private readonly runner: Runner,
    private readonly seq: number,
    readonly base: number,
  ) {
    const jobs = runner.jobWords;
    const f = C.slotOf(seq) * C.F_STRIDE;
    this.kernelId = Atomics.load(jobs, base + C.J_KERNEL);
    this.nChunks = Atomics.load(jobs, base + C.J_NCHUNKS);
    this.dynamic = Atomics.load(jobs, base + C.J_SCHEDULE) === C.SCHEDULE_DYNAMIC;
    this.n = runner.jobFloats[f + C.F_N]!;
    this.chunk = runner.jobFloats[f + C.F_CHUNK]!;
  }

  private cancelled(): boolean {
    return Atomics.load(this.runner.jobWords, this.base + C.J_CANCEL) !== 0;
  }

  /** The next chunk index this worker should run, or -1. */
  private nextChunk(prev: number, workerId: number, threads: number): number {
    if (this.cancelled()) return -1;
    let i: number;
    if (this.dynamic) i = Atomics.add(this.runner.jobWords, this.base + C.J_NEXT, 1);
    else i = prev < 0 ? workerId : prev + threads;
    return i < this.nChunks ? i : -1;
  }

  run(workerId: number): Promise<void> | undefined {
    const { threads } = this.runner.config;
    for (let i = this.nextChunk(-1, workerId, threads); i >= 0; i = this.nextChunk(i, workerId, threads)) {
      const out = this.runChunk(i, workerId);
      if (out) return out.then(() => this.continueFrom(i, workerId));
      if (this.report?.error) return undefined;
    }
    return undefined;
  }

  /** Resumes the chunk loop after an async kernel finished chunk `prev`. */
  private async continueFrom(prev: number, workerId: number): Promise<void> {
    const { threads } = this.runner.config;
    if (this.report?.error) return;
    for (let i = this.nextChunk(prev, workerId, threads); i >= 0; i = this.nextChunk(i, workerId, threads)) {
      const out = this.runChunk(i, workerId);
      if (out) await out;
      if (this.report?.error) return;
    }
  }

  /**
   * The report this worker will post for the job, started on first need.
   * Starting one counts it in POSTED before the DONE of the chunk it is for,
   * so a main thread that sees DONE == nChunks knows how many reports to
   * wait for (dispatch.md, "completion").
   */
  private ensureReport(): C.JobReport {
    if (this.report === undefined) {
      Atomics.add(this.runner.jobWords, this.base + C.J_POSTED, 1);
      this.report = { seq: this.seq, workerId: this.runner.config.workerId, results: [] };
    }
    return this.report;
  }


  /** Runs chunk i; returns a promise only for an async kernel. */
  private runChunk(i: number, workerId: number): Promise<void> | undefined {
    const cfg = this.runner.config;
    const [start, end] = C.chunkRange(this.n, this.nChunks, this.chunk, i);
    const jobs = this.runner.jobWords;
    try {
      const prepared = (this.prepared ??= this.runner.argsFor(
        Atomics.load(jobs, this.base + C.J_ARGS_SLOT),
        Atomics.load(jobs, this.base + C.J_ARGS_VERSION),
      ));
      const kernel = cfg.kernels[this.kernelId]!;
      const name = cfg.names[this.kernelId]!;
      current.kernel = name;
      // Checked mode guards user kernels only: the built-ins are tested code,
      // a Proxy per element access would make them crawl, and their argument
      // checks (ArrayBuffer.isView) refuse a proxied array.
      const guard = cfg.checked && this.kernelId >= cfg.builtins;
      let args = guard ? guardedBase(prepared) : prepared.base;
      let accs: Array<{ value: number } | Float64Array> | undefined;
      if (prepared.rows.length > 0 || prepared.reductions.length > 0) {
        args = { ...args };
        for (const [argName, m] of prepared.rows) {
          args[argName] = guard ? checkedRows(m.array, argName, start, end) : (m.array.hi(end).lo(start) as NdArray);
        }
        if (prepared.reductions.length > 0) {
          this.checkReductionWidths(prepared.reductions);
          accs = [];
          for (const r of prepared.reductions) {
            const acc = accumulator(r.marker);
            accs.push(acc);
            args[r.name] = acc;
          }
        }
      }
      const ctx: KernelContext = { start, end, chunk: i, nChunks: this.nChunks, threadId: workerId, threads: cfg.threads, kernel: name };
      const value = (kernel as (c: KernelContext, a: unknown) => unknown)(ctx, args);
      if (value !== null && typeof value === "object" && typeof (value as { then?: unknown }).then === "function") {
        return (value as Promise<unknown>).then(
          (v) => this.finishChunk(i, v, accs),
          (err: unknown) => this.fail(err, i, start, end),
        );
      }
      this.finishChunk(i, value, accs);
    } catch (err) {
      this.fail(err, i, start, end);
    }
    return undefined;
  }

  /**
   * The reductions' partials must fit the results arena holding the block
   * the caller sized for this call (nChunks x their total width): a message
   * whose widths say otherwise (forged, or corrupt) would have each chunk
   * allocate an accumulator of any size, gigabytes included, and write past
   * the arena. So an accumulator is never larger than memory the caller
   * already allocated. Checked before any accumulator is allocated.
   */
  private checkReductionWidths(reductions: ReadonlyArray<{ name: string; marker: ReductionMarker; widthBefore: number }>): void {
    const last = reductions[reductions.length - 1]!;
    const { f64 } = this.block();
    const end = R.partialsAt(this.offset, this.nChunks, last.widthBefore + last.marker.width);
    if (end > f64.length) {
      throw new SabreTypeError(
        `reduction "${last.name}": the call's reductions claim ${last.widthBefore + last.marker.width} elements per chunk, ` +
          `more than the results arena the caller allocated holds (a forged or corrupt message)`,
      );
    }
  }

  /** The job's results block, found on first need (a kernel that returns nothing never needs it). */
  private block(): WorkerArena {
    if (this.arena === undefined) {
      const jobs = this.runner.jobWords;
      this.arena = this.runner.arenaFor(Atomics.load(jobs, this.base + C.J_RES_ARENA));
      this.offset = Atomics.load(jobs, this.base + C.J_RES_OFFSET);
      this.tags = 2 * this.offset;
      this.values = R.valuesAt(this.offset, this.nChunks);
    }
    return this.arena;
  }

  /**
   * Records chunk i's return value and reduction partials in the results
   * block with plain writes, then counts the chunk in DONE: the main thread
   * reads the block only after it has seen DONE == nChunks (atomically), so
   * it sees every write made before the increments (dispatch.md, "results").
   * A chunk returning undefined leaves its tag as the main thread zeroed it.
   * Only a value shared memory cannot hold goes into the job's report.
   */
  private finishChunk(i: number, value: unknown, accs: Array<{ value: number } | Float64Array> | undefined): void {
    try {
      if (value !== undefined || accs !== undefined) this.record(i, value, accs);
    } catch (err) {
      const [start, end] = C.chunkRange(this.n, this.nChunks, this.chunk, i);
      this.fail(err, i, start, end);
      return;
    }
    Atomics.add(this.runner.jobWords, this.base + C.J_DONE, 1);
  }

  private record(i: number, value: unknown, accs: Array<{ value: number } | Float64Array> | undefined): void {
    const { f64, i32 } = this.block();
    if (accs) {
      const reductions = this.prepared!.reductions;
      for (let k = 0; k < accs.length; k++) {
        const r = reductions[k]!;
        const at = R.partialsAt(this.offset, this.nChunks, r.widthBefore);
        const acc = accs[k]!;
        if (acc instanceof Float64Array) f64.set(acc, at + i * r.marker.width);
        else if (typeof acc.value === "number") f64[at + i] = acc.value;
        else throw new SabreTypeError(`reduction "${r.name}": the kernel set its value to ${describe(acc.value)}; it must be a number`);
      }
    }
    if (value === undefined) return;
    let tag: number;
    if (typeof value === "number") {
      f64[this.values + i] = value;
      tag = R.TAG_NUMBER;
    } else if (value === null) tag = R.TAG_NULL;
    else if (value === true) tag = R.TAG_TRUE;
    else if (value === false) tag = R.TAG_FALSE;
    else {
      this.ensureReport().results.push([i, serialize(value)]);
      tag = R.TAG_REPORT;
    }
    i32[this.tags + i] = tag;
  }

  private fail(err: unknown, chunk: number, start: number, end: number): void {
    Atomics.store(this.runner.jobWords, this.base + C.J_CANCEL, 1);
    const e = err instanceof Error ? err : new Error(String(err));
    const code = (e as { code?: unknown }).code;
    this.ensureReport().error = {
      message: e.message,
      ...(e.stack !== undefined ? { stack: e.stack } : {}),
      ...(typeof code === "string" ? { code } : {}),
      name: e.name,
      chunk,
      start,
      end,
    };
    // An SPMD kernel whose parties meet at a Barrier would otherwise leave the
    // others waiting for a party that will never arrive: break it for them, as
    // an aborted waitAsync does (they get BrokenBarrierError; reset() reopens
    // it). Only now, with this report counted in POSTED, so the engine knows
    // to wait for it before it blames a broken barrier (engine.onReport).
    for (const barrier of this.prepared?.barriers ?? []) {
      if (!barrier.isBroken) barrier.waitAsync({ signal: AbortSignal.abort() }).catch(() => {});
    }
  }
}
