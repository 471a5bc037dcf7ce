/**
 * Every error sabre throws on purpose is a `SabreError` with a stable `code`.
 * Codes never change between versions; messages may improve. Catch by class
 * (`err instanceof TimeoutError`) or by code (`err.code === "ERR_SABRE_TIMEOUT"`):
 * the code also survives a trip through `postMessage`, where classes do not.
 *
 * @example
 * ```ts
 * try {
 *   mutex.lock(100);
 * } catch (err) {
 *   if (err instanceof TimeoutError) console.log(`gave up after ${err.timeout} ms`);
 *   else throw err;
 * }
 * ```
 */
export class SabreError extends Error {
  /** The stable error code, e.g. `"ERR_SABRE_TIMEOUT"`: fixed per class (per failure for {@link ClusterError}). */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A blocking call's timeout expired before it could proceed. Code `ERR_SABRE_TIMEOUT`. */
export class TimeoutError extends SabreError {
  /** The timeout that expired, in milliseconds. */
  readonly timeout: number;
  constructor(what: string, timeout: number) {
    super("ERR_SABRE_TIMEOUT", `${what} timed out after ${timeout} ms`);
    this.timeout = timeout;
  }
}

/** A barrier was broken (a party timed out, was aborted, or reset() ran) while this party waited. Code `ERR_SABRE_BROKEN_BARRIER`. */
export class BrokenBarrierError extends SabreError {
  constructor(message = "the barrier is broken: a party timed out, was aborted or the barrier was reset") {
    super("ERR_SABRE_BROKEN_BARRIER", message);
  }
}

/**
 * The previous owner of a mutex died holding it. The thread that receives this
 * error HOLDS the lock: it may repair the protected state, call
 * `markConsistent()`, and unlock. Code `ERR_SABRE_OWNER_DIED`.
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

/** Unlocking (or otherwise acting as owner of) a lock this thread does not hold. Code `ERR_SABRE_NOT_OWNER`. */
export class NotOwnerError extends SabreError {
  constructor(message: string) {
    super("ERR_SABRE_NOT_OWNER", message);
  }
}

/** A call that could never return: e.g. a thread locking, synchronously, a mutex it already holds. Code `ERR_SABRE_DEADLOCK`. */
export class DeadlockError extends SabreError {
  constructor(message: string) {
    super("ERR_SABRE_DEADLOCK", message);
  }
}

/** A queue was closed: push after close, or pop once a closed queue is drained. Code `ERR_SABRE_QUEUE_CLOSED`. */
export class QueueClosedError extends SabreError {
  constructor(message = "the queue is closed") {
    super("ERR_SABRE_QUEUE_CLOSED", message);
  }
}

/** A value of the wrong type, shape, size or range was given to a public function. Code `ERR_SABRE_TYPE`. */
export class SabreTypeError extends SabreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_SABRE_TYPE", message, options);
  }
}

/** A file or serialized object (npy, idx, csv, model JSON) is malformed, truncated or tampered with. Code `ERR_SABRE_FORMAT`. */
export class FormatError extends SabreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_SABRE_FORMAT", message, options);
  }
}

/** An operation was cancelled through an AbortSignal. `cause` is the signal's reason. Code `ERR_SABRE_ABORTED`. */
export class AbortError extends SabreError {
  constructor(what: string, reason?: unknown) {
    super("ERR_SABRE_ABORTED", `${what} was aborted`, { cause: reason });
  }
}

/** Where a kernel failure happened. */
export interface KernelFailureSite {
  /** The kernel's registered name. */
  kernel: string;
  /** The engine worker (0-based) it ran on; -1 for the calling thread (a built-in kernel's chunk it took itself). */
  workerId: number;
  /** The [start, end) range of the chunk that threw, when the call had chunks. */
  chunk?: {
    /** First index of the chunk. */
    start: number;
    /** One past its last index. */
    end: number;
  };
}

/**
 * A kernel threw. `message` and `kernelStack` carry the original error's text
 * and stack. Code `ERR_SABRE_KERNEL`; the original error's code is in
 * `originalCode`.
 */
export class KernelError extends SabreError {
  /** The kernel's registered name. */
  readonly kernel: string;
  /** The engine worker (0-based) it ran on; -1 for the calling thread (a built-in kernel's chunk it took itself). */
  readonly workerId: number;
  /** The [start, end) range of the chunk that threw, or undefined for `run`/`broadcast`. */
  readonly chunk: {
    /** First index of the chunk. */
    start: number;
    /** One past its last index. */
    end: number;
  } | undefined;
  /** The stack of the original error, as the worker printed it. */
  readonly kernelStack: string | undefined;
  /** The original error's `code`, if it had one (e.g. a SabreError raised inside the kernel). */
  readonly originalCode: string | undefined;
  /** The original error's message, without the "kernel ... threw" prefix. */
  readonly originalMessage: string;
  constructor(site: KernelFailureSite, original: { message: string; stack?: string; code?: string; name?: string }) {
    const where = site.chunk ? ` on chunk [${site.chunk.start}, ${site.chunk.end})` : "";
    const thread = site.workerId < 0 ? "on the calling thread" : `in worker ${site.workerId}`;
    super("ERR_SABRE_KERNEL", `kernel "${site.kernel}" threw ${thread}${where}: ${original.message}`);
    this.kernel = site.kernel;
    this.workerId = site.workerId;
    this.chunk = site.chunk;
    this.kernelStack = original.stack;
    this.originalCode = original.code;
    this.originalMessage = original.message;
  }
}

/**
 * A worker exited or crashed (process.exit, out of memory, an uncaught error)
 * while running work. Code `ERR_SABRE_WORKER_CRASHED`. The engine replaces
 * the worker; the call that was running on it is not retried.
 */
export class WorkerCrashedError extends SabreError {
  /** The engine worker (0-based) that died. */
  readonly workerId: number;
  /** Its exit code, when it exited rather than failed to start or errored. */
  readonly exitCode: number | undefined;
  constructor(workerId: number, detail: string, exitCode?: number) {
    super("ERR_SABRE_WORKER_CRASHED", `worker ${workerId} crashed: ${detail}`);
    this.workerId = workerId;
    this.exitCode = exitCode;
  }
}

/** In checked mode: a kernel wrote where its data-sharing clauses forbid it. Code `ERR_SABRE_RACE`. */
export class RaceError extends SabreError {
  constructor(message: string) {
    super("ERR_SABRE_RACE", message);
  }
}

/** An engine, queue or loader was used after close(). Code `ERR_SABRE_CLOSED`. */
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

/**
 * A kernel threw on a cluster host. `host` names it; `originalMessage` is the
 * kernel's own message. Code `ERR_SABRE_CLUSTER_KERNEL`.
 */
export class RemoteKernelError extends SabreError {
  /** The name of the host whose kernel threw. */
  readonly host: string;
  /** The kernel's registered name. */
  readonly kernel: string;
  /** The [start, end) range of the chunk that threw, when the call had chunks. */
  readonly chunk: {
    /** First index of the chunk. */
    start: number;
    /** One past its last index. */
    end: number;
  } | undefined;
  /** The original error's message, without the "kernel ... threw on host" prefix. */
  readonly originalMessage: string;
  /** The original error's `code`, if it had one. */
  readonly originalCode: string | undefined;
  /** The stack of the original error, as the host printed it. */
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
