// The calling side of a cluster: Cluster.connect, parallelFor over hosts,
// forests over hosts (the ForestCluster seam), hosts(), close().
// bullmq is loaded by connect(), not by `import "sabre"` (only a cluster needs it).
import type { Job, Queue, QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import { ClosedError, ClusterError, SabreTypeError, type SabreError } from "../errors.js";
import { Reduction } from "../engine/clauses.js";
import type { NdArray } from "../memory/ndarray-type.js";
import { checkInteger, checkSignal, describe } from "../validate.js";
import type { ForestCluster, ForestGrowData, GrownTrees } from "../ml/forest/remote.js";
import type { FlatTree } from "../../kernels/forest/tree.js";
import { treesToBinary } from "../ml/forest/model-json.js";
import { dropBlob, fetchBlob, putBlobs } from "./blobs.js";
import { guidedJobSizes } from "./guided.js";
import { clusterFile, type ClusterFile, type FileFormat } from "./file-ref.js";
import { JobTracker } from "./jobs.js";
import { DEFAULT_QUEUE, EVENTS_MAX_LEN, keyPrefix, MAX_JOB_JSON, queueNames, type ChunkJob, type GrowJob, type HostInfo, type PredictJob } from "./protocol.js";
import { closeConnection, connection, connectWithin, COMMAND_TIMEOUT_MS, redactUrl, within, type RedisTarget } from "./redis.js";
import { decode, encode, hashBytes, type Blob, type Wire } from "./wire.js";

/** Options of {@link Cluster.connect}. */
export interface ClusterOptions {
  /** redis://[user:password@]host:port[/db], or rediss:// for TLS. */
  redis: string;
  /** Password, when not in the URL. */
  password?: string;
  /** TLS options handed to ioredis (true: TLS with its defaults). */
  tls?: boolean | Record<string, unknown>;
  /** The queue hosts serve (default "sabre"; no ':'). Hosts started with --queue Q serve Q. */
  queue?: string;
  /** Milliseconds to wait for Redis at connect (default 5000). */
  connectTimeout?: number;
  /** Redis unreachable for this long fails every call in flight (default 10000 ms). */
  redisLostTimeout?: number;
}

/** Options of {@link Cluster.parallelFor}. */
export interface ClusterParallelForOptions {
  /** Indices per job. Default: about four jobs per host thread; with a reduction, 64 equal chunks (as Engine.parallelFor). */
  chunk?: number;
  /** Called with (chunks done, chunks total) as jobs finish on any host. */
  onProgress?: (done: number, total: number) => void;
  /** Rejects the call with AbortError; jobs not yet taken are removed. */
  signal?: AbortSignal;
}

const HEALTH_MS = 1_000;
const POLL_MS = 1_000;

/** Elementwise or scalar combine of a reduction's partials, in chunk order. */
function combine(op: "sum" | "min" | "max", a: number, b: number): number {
  return op === "sum" ? a + b : op === "min" ? Math.min(a, b) : Math.max(a, b);
}

/**
 * A connection to a cluster of `sabre worker` hosts through BullMQ on Redis.
 *
 * Calls fail with {@link ClusterError}: `ERR_SABRE_CLUSTER_REDIS` when Redis
 * is unreachable or lost (within `redisLostTimeout`, never a hang),
 * `ERR_SABRE_CLUSTER_LIMIT` for data too large to ship; a kernel that
 * throws on a host rejects with {@link RemoteKernelError}
 * (`ERR_SABRE_CLUSTER_KERNEL`); after close(), with {@link ClosedError}.
 *
 * @example
 * ```ts
 * const cluster = await Cluster.connect({ redis: "redis://10.0.0.5:6379" });
 * const parts = await cluster.parallelFor(1_000_000, "myKernel", { x: readOnly(x) });
 * await rf.fit(X, y, { cluster });
 * await cluster.close();
 * ```
 */
export class Cluster implements ForestCluster {
  /** The BullMQ queue this cluster's jobs go to (hosts started with the same `--queue` serve it). */
  readonly queue: string;
  private readonly tracker = new JobTracker();
  private readonly timers: NodeJS.Timeout[] = [];
  private closing: Promise<void> | undefined;
  private lastHealthy = Date.now();
  private lost: SabreError | undefined;
  private polling = false;

  private constructor(
    private readonly redis: Redis,
    private readonly eventConnections: Redis[],
    private readonly queues: { chunks: Queue; engine: Queue },
    private readonly events: QueueEvents[],
    private readonly prefix: string,
    private readonly lostAfter: number,
  ) {
    this.queue = queues.chunks.name;
    this.timers.push(setInterval(() => void this.health(), HEALTH_MS));
    this.timers.push(setInterval(() => void this.poll(), POLL_MS));
    for (const t of this.timers) t.unref();
  }

  /**
   * An arg naming a file every host reads itself (.npy, IDX or CSV, by an
   * absolute path that is the same on every host), for data that should not
   * go through Redis. Each host reads it once (again when it changes) and
   * shares it between its jobs: kernels must only read it. A CSV arrives as
   * { X, y, columns, target } (readCsv's table).
   */
  static file(path: string | URL, format?: FileFormat): ClusterFile {
    return clusterFile(path, format);
  }

  /**
   * Connects to Redis; rejects within connectTimeout (5 s) with a ClusterError when nothing answers.
   * @throws {@link ClusterError} `ERR_SABRE_CLUSTER_REDIS` when Redis does not answer
   * @throws {@link SabreTypeError} (`ERR_SABRE_TYPE`) for bad options
   */
  static async connect(options: ClusterOptions): Promise<Cluster> {
    if (typeof options !== "object" || options === null) throw new SabreTypeError(`Cluster.connect takes { redis: url, ... }, got ${describe(options)}`);
    const url = options.redis;
    if (typeof url !== "string" || !/^rediss?:\/\//.test(url)) throw new SabreTypeError(`redis must be a redis:// or rediss:// URL, got ${describe(url)}`);
    const queue = options.queue ?? DEFAULT_QUEUE;
    if (typeof queue !== "string" || queue.length === 0 || queue.includes(":")) throw new SabreTypeError(`queue must be a non-empty name without ':', got ${describe(queue)}`);
    const connectTimeout = options.connectTimeout === undefined ? 5_000 : checkInteger("connectTimeout", options.connectTimeout, 1, 600_000);
    const lostAfter = options.redisLostTimeout === undefined ? 10_000 : checkInteger("redisLostTimeout", options.redisLostTimeout, 1_000, 600_000);
    const target: RedisTarget = { url, password: options.password, tls: options.tls as RedisTarget["tls"], connectTimeout };
    // Errors surface through the calls and the health check; the listener keeps an unheard 'error' from crashing Node.
    const ignore = (): void => {};
    const { Queue, QueueEvents } = await import("bullmq");
    const redis = await connection(target, false, ignore);
    await connectWithin(redis, connectTimeout, url);
    const names = queueNames(queue);
    const eventConnections = await Promise.all([connection(target, true, ignore), connection(target, true, ignore)]);
    const streams = { events: { maxLen: EVENTS_MAX_LEN } };
    const chunks = new Queue(names.chunks, { connection: redis, streams });
    const engine = new Queue(names.engine, { connection: redis, streams });
    chunks.on("error", ignore);
    engine.on("error", ignore);
    const events = [new QueueEvents(names.chunks, { connection: eventConnections[0]! }), new QueueEvents(names.engine, { connection: eventConnections[1]! })];
    const cluster = new Cluster(redis, eventConnections, { chunks, engine }, events, keyPrefix(queue), lostAfter);
    for (const ev of events) {
      ev.on("error", ignore);
      ev.on("completed", ({ jobId, returnvalue }) => cluster.tracker.completed(jobId, returnvalue));
      ev.on("failed", ({ jobId, failedReason }) => cluster.tracker.failed(jobId, failedReason, "?"));
      ev.on("progress", ({ jobId, data }) => cluster.tracker.progress(jobId, data));
    }
    try {
      await within(Promise.all(events.map((e) => e.waitUntilReady())), connectTimeout, `connecting to ${redactUrl(url)}`);
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  /** The hosts whose heartbeat is fresh (within a few seconds), by name. */
  async hosts(): Promise<HostInfo[]> {
    this.check();
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, found] = await within(this.redis.scan(cursor, "MATCH", `${this.prefix}:host:*`, "COUNT", 1000), COMMAND_TIMEOUT_MS, "listing hosts");
      cursor = next;
      keys.push(...found);
    } while (cursor !== "0");
    if (keys.length === 0) return [];
    const values = await within(this.redis.mget(keys), COMMAND_TIMEOUT_MS, "listing hosts");
    const hosts: HostInfo[] = [];
    for (const v of values) {
      if (v === null) continue;
      try {
        hosts.push(JSON.parse(v) as HostInfo);
      } catch {
        // a torn heartbeat: skip it, the next one will do
      }
    }
    return hosts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Jobs waiting, running, done and failed on the cluster's queues (what `sabre cluster status` prints). */
  async jobCounts(): Promise<{
    /** Jobs queued, not yet taken by a host. */
    waiting: number;
    /** Jobs a host is running. */
    running: number;
    /** Jobs kept as completed. */
    completed: number;
    /** Jobs kept as failed. */
    failed: number;
  }> {
    this.check();
    const counts = await within(Promise.all([this.queues.chunks.getJobCounts("wait", "active", "completed", "failed", "prioritized"), this.queues.engine.getJobCounts("wait", "active", "completed", "failed", "prioritized")]), COMMAND_TIMEOUT_MS, "counting jobs");
    const sum = (k: string): number => counts.reduce((s, c) => s + (c[k] ?? 0), 0);
    return { waiting: sum("wait") + sum("prioritized"), running: sum("active"), completed: sum("completed"), failed: sum("failed") };
  }

  /** Total threads of the hosts alive now (at least 1, so a call made before any host starts still splits). */
  private async totalThreads(): Promise<{ hosts: number; threads: number }> {
    const hosts = await this.hosts();
    return { hosts: Math.max(1, hosts.length), threads: Math.max(1, hosts.reduce((s, h) => s + h.threads, 0)) };
  }

  /**
   * Runs `kernel` (from the hosts' --kernels modules) over chunks [start, end)
   * of 0..n, one job per chunk, and resolves to the chunks' return values in
   * chunk order. Reductions are combined in chunk order, as Engine.parallelFor.
   * Args travel by value: arrays once per content hash, cached by each host.
   */
  async parallelFor(n: number, kernel: string, args: Record<string, unknown> = {}, options: ClusterParallelForOptions = {}): Promise<unknown[]> {
    this.check();
    checkInteger("n", n, 0, Number.MAX_SAFE_INTEGER);
    if (typeof kernel !== "string" || kernel.length === 0) throw new SabreTypeError(`kernel must be a kernel name, got ${describe(kernel)}`);
    if (typeof args !== "object" || args === null || Array.isArray(args)) throw new SabreTypeError(`args must be an object, got ${describe(args)}`);
    if (typeof options !== "object" || options === null) throw new SabreTypeError(`options must be an object, got ${describe(options)}`);
    const signal = checkSignal(options.signal);
    if (options.onProgress !== undefined && typeof options.onProgress !== "function") throw new SabreTypeError("onProgress must be a function (done, total) => void");
    const reductions = Object.entries(args).filter((e): e is [string, Reduction] => e[1] instanceof Reduction);
    for (const [, r] of reductions) r.value = typeof r.initial === "number" ? r.initial : r.initial.slice();
    if (n === 0) return [];
    let chunk: number;
    if (options.chunk !== undefined) chunk = checkInteger("chunk", options.chunk, 1, Number.MAX_SAFE_INTEGER);
    else if (reductions.length > 0) chunk = Math.max(1, Math.ceil(n / 64));
    else chunk = Math.max(1, Math.ceil(n / ((await this.totalThreads()).threads * 4)));
    const blobs = new Map<string, Blob>();
    const wire = encode(args, "args", blobs, true);
    const nChunks = Math.ceil(n / chunk);
    const payloads: ChunkJob[] = [];
    for (let i = 0; i < nChunks; i++) payloads.push({ kind: "chunk", kernel, start: i * chunk, end: Math.min(n, (i + 1) * chunk), chunk: i, nChunks, args: wire });
    this.checkJobSize(payloads[0]!);
    await putBlobs(this.redis, this.prefix, blobs.values());
    let done = 0;
    const report = (): void => {
      try {
        options.onProgress?.(done, nChunks);
      } catch {
        // a throwing progress callback must not wedge the call
      }
    };
    const raw = await this.tracker.run(this.queues.chunks, kernel, payloads, {
      signal,
      onDone: () => {
        done++;
        report();
      },
    });
    const values: unknown[] = [];
    const partials: Array<Record<string, unknown>> = [];
    raw.forEach((r, i) => {
      const o = r as { value?: Wire; partials?: Wire } | null;
      if (o === null || typeof o !== "object" || !("value" in o)) throw new ClusterError("ERR_SABRE_CLUSTER_PROTOCOL", `chunk ${i}: malformed result ${describe(r)}`);
      values.push(decode(o.value ?? null, `chunk ${i} result`));
      partials.push((decode(o.partials ?? { $o: {} }, `chunk ${i} partials`) ?? {}) as Record<string, unknown>);
    });
    for (const [name, r] of reductions) {
      let acc = typeof r.initial === "number" ? r.initial : r.initial.slice();
      for (let i = 0; i < partials.length; i++) {
        const p = partials[i]![name] as { value?: unknown } | Float64Array | undefined;
        if (typeof acc === "number") {
          const v = p && !(p instanceof Float64Array) ? p.value : undefined;
          if (typeof v !== "number") throw new ClusterError("ERR_SABRE_CLUSTER_PROTOCOL", `chunk ${i}: reduction "${name}" came back as ${describe(v)}; the kernel must leave a number in its value`);
          acc = combine(r.op, acc, v);
        } else {
          if (!(p instanceof Float64Array) || p.length !== acc.length) throw new ClusterError("ERR_SABRE_CLUSTER_PROTOCOL", `chunk ${i}: reduction "${name}" came back malformed`);
          for (let k = 0; k < acc.length; k++) acc[k] = combine(r.op, acc[k]!, p[k]!);
        }
      }
      r.value = acc;
    }
    return values;
  }

  /**
   * ForestCluster: grows the fit's trees as ranges over the hosts (each on its whole engine), in guided
   * job sizes (guided.ts), handing each job's trees to `accept` as soon as they are back.
   * @internal called by the forests' fit with `{ cluster }`
   */
  async growForest(
    data: ForestGrowData,
    nTrees: number,
    options: { onProgress?: ((done: number, total: number) => void) | undefined; signal?: AbortSignal | undefined; accept: (trees: GrownTrees) => void },
  ): Promise<void> {
    this.check();
    const { hosts } = await this.totalThreads();
    const blobs = new Map<string, Blob>();
    const wire = encode(data, "data", blobs);
    const payloads: GrowJob[] = [];
    let first = 0;
    for (const count of guidedJobSizes(nTrees, hosts)) {
      payloads.push({ kind: "grow", first, count, data: wire });
      first += count;
    }
    if (payloads.length === 0) return;
    this.checkJobSize(payloads[0]!);
    await putBlobs(this.redis, this.prefix, blobs.values());
    const doneIn = new Array<number>(payloads.length).fill(0);
    let reported = -1;
    const report = (): void => {
      const done = doneIn.reduce((a, b) => a + b, 0);
      if (done === reported) return;
      reported = done;
      try {
        options.onProgress?.(done, nTrees);
      } catch {
        // as a local fit: a throwing callback must not wedge the fit
      }
    };
    report();
    // Each job's trees are a binary blob (host.ts): fetched, hash-checked and handed to accept (which decodes and
    // validates them) as soon as the job is done, while the hosts grow the others; then dropped from Redis.
    // A blob or tree that is refused stops the call: the jobs not yet taken are removed.
    const stop = new AbortController();
    let refused: unknown;
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    const parts: Array<Promise<void>> = [];
    const take = async (i: number, value: unknown): Promise<void> => {
      const p = payloads[i]!;
      const v = value as { treesBlob?: unknown; host?: unknown } | null;
      const host = typeof v?.host === "string" ? v.host : "?";
      if (typeof v?.treesBlob !== "string") throw new ClusterError("ERR_SABRE_CLUSTER_PROTOCOL", `host ${host}: trees [${p.first}, ${p.first + p.count}) came back malformed (${describe(value)})`);
      const range = `trees [${p.first}, ${p.first + p.count})`;
      try {
        let bytes: Uint8Array;
        try {
          bytes = await fetchBlob(this.redis, this.prefix, v.treesBlob);
        } catch (err) {
          const e = err as SabreError;
          throw new ClusterError(e.code === "ERR_SABRE_CLUSTER_REDIS" ? e.code : "ERR_SABRE_CLUSTER_PROTOCOL", `host ${host}: ${range}: ${e.message}`, { cause: err });
        }
        options.accept({ first: p.first, count: p.count, bytes, host });
      } finally {
        // Used or refused, the blob has served its one purpose (a torn one left behind would stand for its hash).
        void dropBlob(this.redis, this.prefix, v.treesBlob);
      }
    };
    try {
      await this.tracker.run(this.queues.engine, "sabre.forest.grow", payloads, {
        signal,
        onProgress: (i, d) => {
          if (typeof d === "number" && d >= 0 && d <= payloads[i]!.count) doneIn[i] = d;
          report();
        },
        onDone: (i, value) => {
          const part = take(i, value);
          part.catch((err: unknown) => {
            refused ??= err;
            stop.abort();
          });
          parts.push(part);
          doneIn[i] = payloads[i]!.count;
          report();
        },
      });
    } catch (err) {
      throw refused ?? err;
    }
    await Promise.all(parts);
  }

  /**
   * ForestCluster: the mean leaf values of the trees over X, rows split over the hosts.
   * @internal called by the forests' predict with `{ cluster }`
   */
  async predictForest(X: NdArray, trees: readonly FlatTree[], options: { signal?: AbortSignal | undefined } = {}): Promise<Float64Array> {
    this.check();
    const n = X.shape[0]!;
    const C = trees[0]!.nOutputs;
    const { threads } = await this.totalThreads();
    const blobs = new Map<string, Blob>();
    const bin = treesToBinary(trees);
    const treesBlob: Blob = { hash: hashBytes(bin), bytes: bin };
    blobs.set(treesBlob.hash, treesBlob);
    const xWire = encode(X, "X", blobs);
    const rows = Math.max(1, Math.ceil(n / threads));
    const payloads: PredictJob[] = [];
    for (let start = 0; start < n; start += rows) payloads.push({ kind: "predict", start, end: Math.min(n, start + rows), trees: treesBlob.hash, nOutputs: C, classification: trees[0]!.classification, X: xWire });
    await putBlobs(this.redis, this.prefix, blobs.values());
    const raw = await this.tracker.run(this.queues.engine, "sabre.forest.predict", payloads, { signal: options.signal });
    const out = new Float64Array(n * C);
    raw.forEach((r, i) => {
      const p = payloads[i]!;
      const part = decode(((r as { out?: Wire } | null)?.out ?? null) as Wire, `rows [${p.start}, ${p.end})`);
      if (!(part instanceof Float64Array) || part.length !== (p.end - p.start) * C) throw new ClusterError("ERR_SABRE_CLUSTER_PROTOCOL", `predictions of rows [${p.start}, ${p.end}) came back malformed`);
      out.set(part, p.start * C);
    });
    return out;
  }

  /** Stops waiting, fails calls in flight with ClosedError and drops the connections; bounded even with Redis gone. Idempotent. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closing = (async () => {
        for (const t of this.timers) clearInterval(t);
        this.tracker.failAll(new ClosedError("the cluster"));
        const quick = <T>(p: Promise<T>): Promise<unknown> => within(p, 2_000, "closing").catch(() => undefined);
        await Promise.all([...this.events.map((e) => quick(e.close())), quick(this.queues.chunks.close()), quick(this.queues.engine.close())]);
        await Promise.all([this.redis, ...this.eventConnections].map((c) => closeConnection(c)));
      })();
    }
    return this.closing;
  }

  /** close(), for `await using cluster = await Cluster.connect(...)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private check(): void {
    if (this.closing) throw new ClosedError("the cluster");
    if (this.lost) throw this.lost;
  }

  private checkJobSize(job: object): void {
    const size = Buffer.byteLength(JSON.stringify(job));
    if (size > MAX_JOB_JSON) {
      throw new ClusterError("ERR_SABRE_CLUSTER_LIMIT", `a job's payload is ${size} bytes of JSON (over ${MAX_JOB_JSON}): put large data in typed arrays or ndarrays, which travel as blobs`);
    }
  }

  /** Fails every call in flight once Redis has not answered a PING for lostAfter ms (the calls would otherwise wait forever). */
  private async health(): Promise<void> {
    if (this.closing) return;
    try {
      await within(this.redis.ping(), HEALTH_MS * 2, "ping");
      this.lastHealthy = Date.now();
      this.lost = undefined;
    } catch (err) {
      if (Date.now() - this.lastHealthy >= this.lostAfter) {
        // Until Redis answers again, new calls fail at once instead of each waiting out its own time limits.
        this.lost = new ClusterError("ERR_SABRE_CLUSTER_REDIS", `Redis has not answered for ${Date.now() - this.lastHealthy} ms (${(err as Error).message})`, { cause: err });
        if (this.tracker.size > 0) {
          this.tracker.failAll(new ClusterError("ERR_SABRE_CLUSTER_REDIS", `Redis has not answered for ${Date.now() - this.lastHealthy} ms: the call was abandoned (${(err as Error).message})`, { cause: err }));
        }
      }
    }
  }

  private async poll(): Promise<void> {
    if (this.closing || this.polling || this.tracker.size === 0) return;
    this.polling = true;
    try {
      await this.tracker.poll((queue, id) => within(queue.getJob(id) as Promise<Job | undefined>, COMMAND_TIMEOUT_MS, "reading a job"));
    } catch {
      // Redis trouble: the health check decides when it is fatal.
    } finally {
      this.polling = false;
    }
  }
}
