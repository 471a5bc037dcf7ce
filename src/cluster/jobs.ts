// The calling side's view of its jobs: added in bulk, settled by QueueEvents
// (fast) or by polling their hashes (a backstop: events a reconnecting
// QueueEvents missed), failed all at once when Redis is gone.
import { randomBytes } from "node:crypto";
import type { Job, JobsOptions, Queue } from "bullmq";
import { AbortError, ClusterError, RemoteKernelError, type SabreError } from "../errors.js";
import { FAILURE_PREFIX, type JobData, type RemoteFailure } from "./protocol.js";
import { COMMAND_TIMEOUT_MS, within } from "./redis.js";

interface Waiter {
  resolve: (value: unknown) => void;
  reject: (err: SabreError) => void;
  onProgress: ((data: unknown) => void) | undefined;
  queue: Queue;
}

/** A new call id: job ids are `<call>-<index>` (BullMQ refuses ':' and integer ids). */
export function callId(): string {
  return `c${randomBytes(8).toString("hex")}`;
}

const JOB_OPTIONS: JobsOptions = {
  // A kernel error is the user's to see at once, not to retry; a dead host's job is not an attempt (stalled jobs go back to wait).
  attempts: 1,
  removeOnComplete: { age: 600 },
  removeOnFail: { age: 3_600 },
};

/** The error a failed job's reason stands for. */
export function failureError(reason: string, fallbackKernel: string): SabreError {
  if (reason.startsWith(FAILURE_PREFIX)) {
    try {
      const f = JSON.parse(reason.slice(FAILURE_PREFIX.length)) as RemoteFailure;
      if (f.type === "kernel") {
        const site = f.chunk ? { host: f.host, kernel: f.kernel, chunk: f.chunk } : { host: f.host, kernel: f.kernel };
        const original: { message: string; code?: string; stack?: string } = { message: f.message };
        if (f.code !== undefined) original.code = f.code;
        if (f.stack !== undefined) original.stack = f.stack;
        return new RemoteKernelError(site, original);
      }
      const code = f.type === "refused" ? "ERR_SABRE_CLUSTER_REFUSED" : f.type === "limit" ? "ERR_SABRE_CLUSTER_LIMIT" : f.type === "file" ? "ERR_SABRE_CLUSTER_FILE" : "ERR_SABRE_CLUSTER_PROTOCOL";
      return new ClusterError(code, `host ${f.host}: ${f.message}`);
    } catch {
      // fall through: not ours after all
    }
  }
  return new ClusterError("ERR_SABRE_CLUSTER_JOB", `a job of "${fallbackKernel}" failed: ${reason}`);
}

export class JobTracker {
  private readonly waiters = new Map<string, Waiter>();

  get size(): number {
    return this.waiters.size;
  }

  /** Adds the jobs and resolves to their return values in order; rejects on the first failure. */
  async run(queue: Queue, name: string, payloads: JobData[], options: { onProgress?: (index: number, data: unknown) => void; onDone?: (index: number, value: unknown) => void; signal?: AbortSignal | undefined } = {}): Promise<unknown[]> {
    const id = callId();
    const ids = payloads.map((_, i) => `${id}-${i}`);
    const results = new Array<unknown>(payloads.length);
    const failed = new Set<number>();
    const settled = Promise.all(
      ids.map(
        (jobId, i) =>
          new Promise<unknown>((resolve, reject) => {
            this.waiters.set(jobId, {
              resolve: (v) => {
                results[i] = v;
                options.onDone?.(i, v);
                resolve(v);
              },
              reject: (err) => {
                failed.add(i);
                reject(err);
              },
              onProgress: options.onProgress ? (data) => options.onProgress!(i, data) : undefined,
              queue,
            });
          }),
      ),
    );
    settled.catch(() => {});
    // Whatever ends the call, its jobs stop mattering: forget them, and drop them from Redis (results can be
    // megabytes of trees; a job still running is not removed and expires with removeOnComplete/removeOnFail).
    // Failed jobs stay (an hour) for `sabre cluster status` and a look at their reason.
    const cleanup = (): void => {
      for (const j of ids) this.waiters.delete(j);
      const drop = ids.filter((_, i) => !failed.has(i));
      void Promise.allSettled(drop.map((j) => within(queue.remove(j), COMMAND_TIMEOUT_MS, "removing a job")));
    };
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      if (!options.signal) return;
      onAbort = () => reject(new AbortError("cluster call", options.signal!.reason));
      if (options.signal.aborted) onAbort();
      else options.signal.addEventListener("abort", onAbort, { once: true });
    });
    aborted.catch(() => {});
    try {
      await within(
        queue.addBulk(payloads.map((data, i) => ({ name, data, opts: { ...JOB_OPTIONS, jobId: ids[i]! } }))),
        COMMAND_TIMEOUT_MS,
        "adding jobs",
      );
      await Promise.race([settled, aborted]);
      return results;
    } finally {
      if (onAbort) options.signal!.removeEventListener("abort", onAbort);
      cleanup();
    }
  }

  completed(jobId: string, returnvalue: unknown): void {
    const w = this.waiters.get(jobId);
    if (!w) return;
    this.waiters.delete(jobId);
    let value = returnvalue;
    if (typeof value === "string") {
      try {
        value = JSON.parse(value);
      } catch {
        // a plain string result
      }
    }
    w.resolve(value);
  }

  failed(jobId: string, reason: string, kernel: string): void {
    const w = this.waiters.get(jobId);
    if (!w) return;
    this.waiters.delete(jobId);
    w.reject(failureError(reason, kernel));
  }

  progress(jobId: string, data: unknown): void {
    this.waiters.get(jobId)?.onProgress?.(data);
  }

  /** Rejects every waiting call (Redis gone, or close()). */
  failAll(err: SabreError): void {
    const all = [...this.waiters.values()];
    this.waiters.clear();
    for (const w of all) w.reject(err);
  }

  /** The backstop: reads the hash of every job still waited for and settles those that finished. */
  async poll(getJob: (queue: Queue, id: string) => Promise<Job | undefined>): Promise<void> {
    const ids = [...this.waiters.keys()];
    for (const jobId of ids) {
      const w = this.waiters.get(jobId);
      if (!w) continue;
      const job = await getJob(w.queue, jobId);
      if (!job) continue;
      if (job.finishedOn !== undefined && job.failedReason) this.failed(jobId, job.failedReason, job.name);
      else if (job.finishedOn !== undefined) this.completed(jobId, job.returnvalue);
    }
  }
}
