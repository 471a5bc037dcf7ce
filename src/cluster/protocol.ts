// Names, payloads and limits of the cluster's job protocol (README.md).
import type { Wire } from "./wire.js";

/** Default BullMQ queue name (no ':' allowed in it: BullMQ builds its keys with ':'). */
export const DEFAULT_QUEUE = "sabre";

/** The two queues of a cluster: chunk jobs (one engine thread each) and whole-engine jobs (forest growth). */
export function queueNames(queue: string): { chunks: string; engine: string } {
  return { chunks: queue, engine: `${queue}-engine` };
}

/** Redis key prefix of the cluster's own keys (blobs, heartbeats), beside BullMQ's "bull:<queue>:..." keys. */
export function keyPrefix(queue: string): string {
  return `sabre:${queue}`;
}

/** Heartbeats: written every HEARTBEAT_MS, expire after HEARTBEAT_TTL_S; a host that died drops out of hosts() within that. */
export const HEARTBEAT_MS = 2_000;
export const HEARTBEAT_TTL_S = 8;

/**
 * Job locks. A host renews its lock every LOCK_MS / 2 from its event loop
 * (the heavy work runs in its Engine's workers, so the loop stays free);
 * a SIGKILLed host's lock expires after LOCK_MS and the next stalled check
 * (every STALLED_MS) puts its job back in the wait list: about 5-7 s.
 * A job survives MAX_STALLED dead hosts before it fails.
 */
export const LOCK_MS = 5_000;
export const STALLED_MS = 1_500;
export const MAX_STALLED = 20;

/**
 * Blob pieces (Redis strings are limited to 512 MB). 1 MiB pieces, a few per
 * pipelined round trip, keep each command short (Redis serves other clients
 * between them) and the client's buffers small; 8 MiB pieces cost each side
 * an 8 MiB Buffer per command.
 */
export const BLOB_CHUNK = 1 << 20;
/** One array shipped as args or a fit's data: checked on the calling side before anything is written. */
export const MAX_BLOB_BYTES = 2 ** 31 - 1;
/** Blobs live this long in Redis after their last use (refreshed each time a call puts them). */
export const BLOB_TTL_S = 3_600;
/** The JSON of one job (args without blob bytes): checked on the calling side. */
export const MAX_JOB_JSON = 1 << 20;
/** The JSON of one job's result: checked on the host, which fails the job with a clear message. */
export const MAX_RESULT_JSON = 256 << 20;
/** A host keeps at most this many bytes of blobs in its shared memory (least recently used go first). */
export const HOST_CACHE_BYTES = 4 * 2 ** 30;

/** A chunk of a cluster.parallelFor. */
export interface ChunkJob {
  kind: "chunk";
  kernel: string;
  start: number;
  end: number;
  chunk: number;
  nChunks: number;
  /** Encoded args (wire.ts), arrays as blob references. */
  args: Wire;
}

/** Trees [first, first + count) of a forest fit, grown by one host on its whole engine. */
export interface GrowJob {
  kind: "grow";
  first: number;
  count: number;
  /** Encoded ForestGrowData (blob references for the codes, labels, weights, bins). */
  data: Wire;
}

/** Rows [start, end) of a forest prediction. */
export interface PredictJob {
  kind: "predict";
  start: number;
  end: number;
  /** Blob reference of the model's trees (binary, model-json.ts treesToBinary) and the encoded X. */
  trees: string;
  nOutputs: number;
  classification: boolean;
  X: Wire;
}

export type JobData = ChunkJob | GrowJob | PredictJob;

/** What a failed job's failedReason holds (after this prefix): JSON of RemoteFailure. */
export const FAILURE_PREFIX = "sabre-remote-failure ";

export interface RemoteFailure {
  host: string;
  /** "kernel": the kernel threw; "refused": the host does not serve this kernel or payload; "limit": a size limit. */
  type: "kernel" | "refused" | "limit" | "protocol" | "file";
  kernel: string;
  message: string;
  code?: string;
  stack?: string;
  chunk?: { start: number; end: number };
}

/**
 * BullMQ's event stream repeats each job's return value (a grow job's trees:
 * megabytes), and keeps 10,000 events by default. A short stream bounds that
 * memory; a caller that falls further behind settles its jobs by polling.
 */
export const EVENTS_MAX_LEN = 200;

/** A heartbeat, as hosts() returns it. */
export interface HostInfo {
  /** The host's name (its `--name`, default hostname:pid). */
  name: string;
  /** Its engine's worker threads. */
  threads: number;
  /** Its process id. */
  pid: number;
  /** The machine's hostname. */
  hostname: string;
  /** ISO time the host started. */
  startedAt: string;
  /** Jobs this host has finished (completed or failed). */
  jobs: number;
  /** Jobs running on it now. */
  running: number;
  /** The kernels it serves beyond the built-ins. */
  kernels: string[];
}
