/**
 * Every error sabre throws on purpose is a `SabreError` with a stable `code`.
 * Codes never change between versions; messages may improve. Catch by class
 * (`err instanceof TimeoutError`) or by code (`err.code === "ERR_SABRE_TIMEOUT"`):
 * the code also survives a trip through `postMessage`, where classes do not.
 */
export class SabreError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A blocking call's timeout expired before it could proceed. */
export class TimeoutError extends SabreError {
  /** The timeout that expired, in milliseconds. */
  readonly timeout: number;
  constructor(what: string, timeout: number) {
    super("ERR_SABRE_TIMEOUT", `${what} timed out after ${timeout} ms`);
    this.timeout = timeout;
  }
}

/** A barrier was broken (a party timed out, was aborted, or reset() ran) while this party waited. */
export class BrokenBarrierError extends SabreError {
  constructor(message = "the barrier is broken: a party timed out, was aborted or the barrier was reset") {
    super("ERR_SABRE_BROKEN_BARRIER", message);
  }
}

/**
 * The previous owner of a mutex died holding it. The thread that receives this
 * error HOLDS the lock: it may repair the protected state, call
 * `markConsistent()`, and unlock.
 */
export class OwnerDiedError extends SabreError {
  /** The thread id of the owner that died, when known. */
  readonly deadOwner: number;
  constructor(deadOwner: number, lock: "mutex" | "rwlock" = "mutex") {
    super(
      "ERR_SABRE_OWNER_DIED",
      `the previous owner of this ${lock} (thread ${deadOwner}) died holding it; ` +
        "you now hold the lock: repair the shared state, call markConsistent(), then release it",
    );
    this.deadOwner = deadOwner;
  }
}

/** Unlocking (or otherwise acting as owner of) a lock this thread does not hold. */
export class NotOwnerError extends SabreError {
  constructor(message: string) {
    super("ERR_SABRE_NOT_OWNER", message);
  }
}

/** A call that could never return: e.g. a thread locking, synchronously, a mutex it already holds. */
export class DeadlockError extends SabreError {
  constructor(message: string) {
    super("ERR_SABRE_DEADLOCK", message);
  }
}

/** A queue was closed: push after close, or pop once a closed queue is drained. */
export class QueueClosedError extends SabreError {
  constructor(message = "the queue is closed") {
    super("ERR_SABRE_QUEUE_CLOSED", message);
  }
}

/** A value of the wrong type, shape, size or range was given to a public function. */
export class SabreTypeError extends SabreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_SABRE_TYPE", message, options);
  }
}

/** A file or serialized object (npy, idx, csv, model JSON) is malformed, truncated or tampered with. */
export class FormatError extends SabreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_SABRE_FORMAT", message, options);
  }
}

/** An operation was cancelled through an AbortSignal. `cause` is the signal's reason. */
export class AbortError extends SabreError {
  constructor(what: string, reason?: unknown) {
    super("ERR_SABRE_ABORTED", `${what} was aborted`, { cause: reason });
  }
}

/** Where a kernel failure happened. */
export interface KernelFailureSite {
  kernel: string;
  workerId: number;
  /** The [start, end) range of the chunk that threw, when the call had chunks. */
  chunk?: { start: number; end: number };
}

/** A kernel threw. `message` and `kernelStack` carry the original error's text and stack. */
export class KernelError extends SabreError {
  readonly kernel: string;
  readonly workerId: number;
  readonly chunk: { start: number; end: number } | undefined;
  /** The stack of the original error, as the worker printed it. */
  readonly kernelStack: string | undefined;
  /** The original error's `code`, if it had one (e.g. a SabreError raised inside the kernel). */
  readonly originalCode: string | undefined;
  /** The original error's message, without the "kernel ... threw" prefix. */
  readonly originalMessage: string;
  constructor(site: KernelFailureSite, original: { message: string; stack?: string; code?: string; name?: string }) {
    const where = site.chunk ? ` on chunk [${site.chunk.start}, ${site.chunk.end})` : "";
    super("ERR_SABRE_KERNEL", `kernel "${site.kernel}" threw in worker ${site.workerId}${where}: ${original.message}`);
    this.kernel = site.kernel;
    this.workerId = site.workerId;
    this.chunk = site.chunk;
    this.kernelStack = original.stack;
    this.originalCode = original.code;
    this.originalMessage = original.message;
  }
}

/** A worker exited or crashed (process.exit, out of memory, an uncaught error) while running work. */
export class WorkerCrashedError extends SabreError {
  readonly workerId: number;
  readonly exitCode: number | undefined;
  constructor(workerId: number, detail: string, exitCode?: number) {
    super("ERR_SABRE_WORKER_CRASHED", `worker ${workerId} crashed: ${detail}`);
    this.workerId = workerId;
    this.exitCode = exitCode;
  }
}

/** In checked mode: a kernel wrote where its data-sharing clauses forbid it. */
export class RaceError extends SabreError {
  constructor(message: string) {
    super("ERR_SABRE_RACE", message);
  }
}

/** An engine, queue or loader was used after close(). */
export class ClosedError extends SabreError {
  constructor(what: string) {
    super("ERR_SABRE_CLOSED", `${what} is closed`);
  }
}

/**
 * A cluster (src/cluster) could not do what was asked: Redis unreachable or
 * lost (ERR_SABRE_CLUSTER_REDIS), a host refused a job (ERR_SABRE_CLUSTER_REFUSED),
 * data too large to ship (ERR_SABRE_CLUSTER_LIMIT), or a host's answer failed
 * validation (ERR_SABRE_CLUSTER_PROTOCOL).
 */
export class ClusterError extends SabreError {
  constructor(code: `ERR_SABRE_CLUSTER_${string}`, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A kernel threw on a cluster host. `host` names it; `originalMessage` is the kernel's own message. */
export class RemoteKernelError extends SabreError {
  readonly host: string;
  readonly kernel: string;
  readonly chunk: { start: number; end: number } | undefined;
  readonly originalMessage: string;
  readonly originalCode: string | undefined;
  readonly kernelStack: string | undefined;
  constructor(
    site: { host: string; kernel: string; chunk?: { start: number; end: number } },
    original: { message: string; code?: string; stack?: string },
  ) {
    const where = site.chunk ? ` on chunk [${site.chunk.start}, ${site.chunk.end})` : "";
    super("ERR_SABRE_CLUSTER_KERNEL", `kernel "${site.kernel}" threw on host ${site.host}${where}: ${original.message}`);
    this.host = site.host;
    this.kernel = site.kernel;
    this.chunk = site.chunk;
    this.originalMessage = original.message;
    this.originalCode = original.code;
    this.kernelStack = original.stack;
  }
}
