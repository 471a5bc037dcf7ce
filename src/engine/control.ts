import type { ArenaMessage } from "./results.js";

/**
 * Layout of the engine's control block: the shared memory through which the
 * main thread publishes jobs and workers claim chunks, with no message per
 * job or chunk. `dispatch.md` beside this file states the protocol.
 */

/**
 * Jobs that may be published and not yet retired at once (a power of two). A
 * slot is reused only once every worker has passed its previous job, so the
 * ring must be long enough that a worker descheduled for a while (3 threads
 * on 2 cores) does not hold up the main thread: 64 slots stalled 1 call in 70.
 */
export const JOB_SLOTS = 1024;

/** The slot of job `seq` (seq is an int32 that wraps; & keeps negative values in range). */
export function slotOf(seq: number): number {
  return seq & (JOB_SLOTS - 1);
}
/** Distinct argument sets a worker keeps revived at once. */
export const ARGS_SLOTS = 16;

// ---- control words (Int32 indices) -----------------------------------------------------------
/** Number of jobs published so far (int32, wrapping): the doorbell workers wait on. Job `seq` lives in slotOf(seq). */
export const HEAD = 0;
/** Workers parked (waiting asynchronously) on HEAD; the main thread notifies only when > 0. */
export const SLEEPERS = 1;
/** Set once by close(): workers leave their loop. */
export const SHUTDOWN = 2;
/** Bumped by a worker that leaves a job the main thread must look at again (done, or a message posted). */
export const COMPLETIONS = 3;
/** 1 while the main thread waits on COMPLETIONS; workers notify only then. */
export const MAIN_WAITING = 4;

/** Per-worker words start here, WORKER_STRIDE each. */
export const WORKER_BASE = 16;
export const WORKER_STRIDE = 4;
/** The next job sequence number this worker will look at (all below it are finished for it). */
export const W_PASSED = 0;
/** 1 while this worker is inside job W_PASSED (it advances W_PASSED only after leaving), else 0. */
export const W_INSIDE = 1;

export const MAX_WORKERS = 1024;
export const CONTROL_WORDS = WORKER_BASE + MAX_WORKERS * WORKER_STRIDE;

// ---- job slots (Int32 fields, JOB_STRIDE per slot; two Float64 fields per slot in a parallel array)
export const JOB_STRIDE = 16;
export const J_SEQ = 0;
export const J_KERNEL = 1;
export const J_ARGS_SLOT = 2;
export const J_ARGS_VERSION = 3;
export const J_SCHEDULE = 4;
export const J_NCHUNKS = 5;
/** Claim counter for dynamic schedules. */
export const J_NEXT = 6;
/** Chunks finished (also the progress counter). */
export const J_DONE = 7;
/** Non-zero once the job must stop: a kernel threw, the call was aborted, a worker crashed, close(). */
export const J_CANCEL = 8;
/** The job's results block (results.ts): its arena id and its offset there, in units of 8 bytes. */
export const J_RES_ARENA = 9;
export const J_RES_OFFSET = 10;
/**
 * Reports workers will post for this job (structured return values, errors),
 * each counted before the DONE increment of the first chunk it covers.
 */
export const J_POSTED = 11;
/** 1 when the job's arguments carry clauses that need per-chunk treatment. */
export const J_FLAGS = 12;

export const F_N = 0;
/** Fixed chunk size, or 0 for "nChunks balanced ranges". */
export const F_CHUNK = 1;
export const F_STRIDE = 2;

export const SCHEDULE_STATIC = 0;
export const SCHEDULE_DYNAMIC = 1;

export const FLAG_CHECKED = 1;

/**
 * The [start, end) range of chunk `i`. Below 2^31 the bounds are made int32
 * (`| 0`): they come from float64 fields, and a kernel's `for (let i = start;
 * i < end; i++)` over a double index ran 1.7x slower on a memory-bound sum.
 */
export function chunkRange(n: number, nChunks: number, chunk: number, i: number): [number, number] {
  let start: number;
  let end: number;
  if (chunk > 0) {
    start = i * chunk;
    end = Math.min(n, start + chunk);
  } else {
    const base = Math.floor(n / nChunks);
    const extra = n % nChunks;
    start = i * base + Math.min(i, extra);
    end = start + base + (i < extra ? 1 : 0);
  }
  return n <= 0x7fffffff ? [start | 0, end | 0] : [start, end];
}

/** The shared memory of one engine, as both sides see it. */
export interface ControlBlock {
  ctl: Int32Array;
  jobs: Int32Array;
  jobsF: Float64Array;
}

export function createControlBlock(): ControlBlock {
  return {
    ctl: new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4)),
    jobs: new Int32Array(new SharedArrayBuffer(JOB_SLOTS * JOB_STRIDE * 4)),
    jobsF: new Float64Array(new SharedArrayBuffer(JOB_SLOTS * F_STRIDE * 8)),
  };
}

/** An argument set on the main -> worker args port. */
export interface ArgsMessage {
  kind: "args";
  slot: number;
  version: number;
  /** A SerializedMessage of the call's args. */
  args: unknown;
  /** Bytes of shared memory the set refers to (a worker counts them when it drops the set). */
  bytes: number;
}

/**
 * Forget argument set (slot, version): no unsettled call uses it and the
 * main thread will never reuse it (args-cache.ts, "evicting large sets").
 */
export interface EvictMessage {
  kind: "evict";
  slot: number;
  version: number;
}

/** Everything the args port carries: argument sets and results arenas, in the order they were posted. */
export type PortMessage = ArgsMessage | EvictMessage | ArenaMessage;

/**
 * What a worker posts back for a job when it has something shared memory
 * cannot carry (at most once per job): structured return values, an error.
 */
export interface JobReport {
  seq: number;
  workerId: number;
  /** [chunk, serialized value] for chunks whose kernel returned a value tagged TAG_REPORT. */
  results: Array<[number, unknown]>;
  error?: { message: string; stack?: string; code?: string; name?: string; chunk: number; start: number; end: number; race?: boolean };
}
