// One host of a cluster (`sabre worker`): its own Engine, BullMQ workers on
// the cluster's two queues, a heartbeat, and a graceful stop.
import { hostname } from "node:os";
import type * as BullMQ from "bullmq";
import type { Job, UnrecoverableError } from "bullmq";
import type { Redis } from "ioredis";
import { KernelError, SabreError, SabreTypeError } from "../errors.js";
import { readOnly } from "../engine/clauses.js";
import { Engine } from "../engine/engine.js";
import { moduleUrl } from "../engine/plan.js";
import { isNdArray, ndarray, type NdArray } from "../memory/ndarray-type.js";
import { isShared, sharedTypedArray } from "../memory/shared.js";
import { checkInteger, describe } from "../validate.js";
import type { FlatTree } from "../../kernels/forest/tree.js";
import { treesFromBinary, treesToBinary } from "../ml/forest/model-json.js";
import { featureMajorCodes, growTreeRange, predictRows, type ForestGrowData } from "../ml/forest/remote.js";
import { BlobCache, putBlobs } from "./blobs.js";
import { CHUNK_KERNEL, META_KEY, writeShim, type ShimMeta, type ShimResult } from "./host-shim.js";
import {
  DEFAULT_QUEUE,
  FAILURE_PREFIX,
  HEARTBEAT_MS,
  HEARTBEAT_TTL_S,
  HOST_CACHE_BYTES,
  keyPrefix,
  LOCK_MS,
  MAX_RESULT_JSON,
  MAX_STALLED,
  queueNames,
  STALLED_MS,
  type ChunkJob,
  type GrowJob,
  type HostInfo,
  type JobData,
  type PredictJob,
  type RemoteFailure,
} from "./protocol.js";
import { closeConnection, connection, connectWithin, within, type RedisTarget } from "./redis.js";
import { blobHashes, decode, encode, fileRefs, hashBytes, type Wire } from "./wire.js";
import { FileCache } from "./file-ref.js";

/** Options of {@link ClusterHost.start} (the flags of `sabre worker`). */
export interface HostOptions {
  /** redis://[user:password@]host:port[/db], or rediss:// for TLS. */
  redis: string;
  /** Password, when not in the URL. */
  password?: string;
  /** TLS options handed to ioredis (true: TLS with its defaults). */
  tls?: boolean | Record<string, unknown>;
  /** Engine threads (default: every core). */
  threads?: number;
  /** Kernel modules served beyond the built-ins (paths or file: URLs). */
  kernels?: string[];
  /** Default hostname:pid. */
  name?: string;
  /** The queue to serve (default "sabre"; no ':'); callers connect with the same `queue`. */
  queue?: string;
  /** Where the host says what it does (default: nowhere). */
  log?: (line: string) => void;
}

/** Kernels a chunk job may name besides the modules': the ones that need no shared output. */
const CHUNK_BUILTINS = new Set(["sabre.noop"]);
/** A stop waits this long for running jobs; then it leaves them to stalled-job detection (another host redoes them). */
const STOP_GRACE_MS = 60_000;
/** Then this long for the workers to report back to Redis (which may be gone). */
const CLOSE_MS = 3_000;

function identity(op: "sum" | "min" | "max"): number {
  return op === "sum" ? 0 : op === "min" ? Infinity : -Infinity;
}

/** bullmq, loaded by start(): `import "sabre"` must not load it (only a host needs it). */
let bull: typeof BullMQ;

/** The job's failure as BullMQ stores it (FAILURE_PREFIX + JSON), never retried. */
function failure(f: RemoteFailure): UnrecoverableError {
  return new bull.UnrecoverableError(FAILURE_PREFIX + JSON.stringify(f));
}

/**
 * One cluster host: an {@link Engine} serving the jobs of a queue on Redis,
 * what `sabre worker --redis <url>` runs. Each job names a kernel (a
 * built-in or one of `kernels`), never carries code.
 *
 * @example
 * ```ts
 * const host = await ClusterHost.start({ redis: "redis://10.0.0.5:6379", kernels: ["/srv/kernels.js"] });
 * process.once("SIGTERM", () => host.stop());
 * ```
 */
export class ClusterHost {
  private readonly cache: BlobCache;
  private readonly files = new FileCache();
  private readonly workers: BullMQ.Worker[] = [];
  private heartbeat: NodeJS.Timeout | undefined;
  private jobs = 0;
  private running = 0;
  private stopping: Promise<void> | undefined;
  private readonly startedAt = new Date().toISOString();
  private codesFor = new Map<string, Uint8Array>();
  private treesFor = new Map<string, FlatTree[]>();

  private constructor(
    /** The host's name in `cluster.hosts()` (default hostname:pid). */
    readonly name: string,
    /** The queue it serves. */
    readonly queue: string,
    private readonly engine: Engine,
    private readonly userKernels: string[],
    private readonly redis: Redis,
    private readonly workerConnections: Redis[],
    private readonly log: (line: string) => void,
  ) {
    this.cache = new BlobCache(redis, keyPrefix(queue), HOST_CACHE_BYTES);
  }

  /** Its engine's worker threads. */
  get threads(): number {
    return this.engine.threads;
  }

  /** The kernel modules it serves beyond the built-ins. */
  get kernels(): string[] {
    return this.userKernels.slice();
  }

  /**
   * Connects to Redis, starts the engine (loading `kernels`) and begins taking jobs.
   * @throws {@link ClusterError} `ERR_SABRE_CLUSTER_REDIS` when Redis does not answer
   * @throws {@link SabreTypeError} (`ERR_SABRE_TYPE`) for bad options; {@link Engine.start}'s errors when a kernel module does not load
   */
  static async start(options: HostOptions): Promise<ClusterHost> {
    const url = options.redis;
    if (typeof url !== "string" || !/^rediss?:\/\//.test(url)) throw new SabreTypeError(`--redis must be a redis:// or rediss:// URL, got ${describe(url)}`);
    const queue = options.queue ?? DEFAULT_QUEUE;
    if (queue.length === 0 || queue.includes(":")) throw new SabreTypeError(`queue must be a non-empty name without ':', got ${describe(queue)}`);
    const name = options.name ?? `${hostname()}:${process.pid}`;
    if (typeof name !== "string" || name.length === 0 || name.length > 200) throw new SabreTypeError(`name must be a non-empty string, got ${describe(name)}`);
    const threads = options.threads === undefined ? undefined : checkInteger("threads", options.threads, 1, 256);
    const modules = (options.kernels ?? []).map((k, i) => moduleUrl(k, i));
    const log = options.log ?? (() => {});
    const target: RedisTarget = { url, password: options.password, tls: options.tls as RedisTarget["tls"] };
    const onError = (err: Error): void => log(`redis: ${err.message}`);
    bull = await import("bullmq");
    const redis = await connection(target, false, onError);
    await connectWithin(redis, 5_000, url);
    let engine: Engine;
    try {
      engine = await Engine.start({ ...(threads === undefined ? {} : { threads }), kernels: [...modules, writeShim(modules)] });
    } catch (err) {
      redis.disconnect();
      throw err;
    }
    const listed = (await engine.run(CHUNK_KERNEL, { [META_KEY]: { list: true, kernel: "", start: 0, end: 0, chunk: 0, nChunks: 0, reductions: [] } satisfies ShimMeta })) as ShimResult;
    const host = new ClusterHost(name, queue, engine, listed.value as string[], redis, await Promise.all([connection(target, true, onError), connection(target, true, onError)]), log);
    host.startWorkers();
    await host.beat();
    host.heartbeat = setInterval(() => void host.beat(), HEARTBEAT_MS);
    return host;
  }

  private startWorkers(): void {
    const names = queueNames(this.queue);
    const common = { lockDuration: LOCK_MS, stalledInterval: STALLED_MS, maxStalledCount: MAX_STALLED };
    const chunks = new bull.Worker<JobData>(names.chunks, (job) => this.process(job), { ...common, connection: this.workerConnections[0]!, concurrency: this.engine.threads });
    // Forest jobs take the whole engine (one SPMD call over every thread): one at a time.
    const whole = new bull.Worker<JobData>(names.engine, (job) => this.process(job), { ...common, connection: this.workerConnections[1]!, concurrency: 1 });
    for (const w of [chunks, whole]) {
      w.on("error", (err) => this.log(`worker: ${err.message}`));
      this.workers.push(w);
    }
  }

  /** The heartbeat hosts() reads: refreshed every HEARTBEAT_MS, gone HEARTBEAT_TTL_S after the host is. */
  private async beat(): Promise<void> {
    const info: HostInfo = { name: this.name, threads: this.engine.threads, pid: process.pid, hostname: hostname(), startedAt: this.startedAt, jobs: this.jobs, running: this.running, kernels: this.userKernels };
    try {
      await within(this.redis.set(`${keyPrefix(this.queue)}:host:${this.name}`, JSON.stringify(info), "EX", HEARTBEAT_TTL_S), 2_000, "heartbeat");
    } catch (err) {
      this.log(`heartbeat: ${(err as Error).message}`);
    }
  }

  private async process(job: Job<JobData>): Promise<unknown> {
    this.running++;
    try {
      const data = job.data;
      switch (data?.kind) {
        case "chunk":
          return await this.chunk(data);
        case "grow":
          return await this.grow(data);
        case "predict":
          return await this.predict(data);
        default:
          throw failure({ host: this.name, type: "refused", kernel: job.name, message: `does not know jobs of kind ${describe((data as { kind?: unknown } | undefined)?.kind)}` });
      }
    } catch (err) {
      if (err instanceof bull.UnrecoverableError) throw err;
      const kernel = job.data?.kind === "chunk" ? job.data.kernel : job.name;
      const chunk = job.data?.kind === "chunk" ? { start: job.data.start, end: job.data.end } : undefined;
      if (err instanceof KernelError) {
        throw failure({ host: this.name, type: "kernel", kernel, message: err.originalMessage, ...(err.originalCode ? { code: err.originalCode } : {}), ...(err.kernelStack ? { stack: err.kernelStack } : {}), ...(chunk ? { chunk } : {}) });
      }
      const e = err as { message?: string; code?: string };
      const type = e.code === "ERR_SABRE_CLUSTER_LIMIT" ? "limit" : e.code === "ERR_SABRE_CLUSTER_PROTOCOL" ? "protocol" : e.code === "ERR_SABRE_CLUSTER_FILE" ? "file" : "kernel";
      throw failure({ host: this.name, type, kernel, message: String(e.message ?? err), ...(e.code ? { code: e.code } : {}), ...(chunk ? { chunk } : {}) });
    } finally {
      this.running--;
      this.jobs++;
    }
  }

  private result(value: unknown): unknown {
    const size = Buffer.byteLength(JSON.stringify(value));
    if (size > MAX_RESULT_JSON) {
      throw new SabreError("ERR_SABRE_CLUSTER_LIMIT", `a job's result is ${size} bytes of JSON, over the limit of ${MAX_RESULT_JSON}: use smaller chunks`);
    }
    return value;
  }

  private async chunk(job: ChunkJob): Promise<unknown> {
    if (!this.userKernels.includes(job.kernel) && !CHUNK_BUILTINS.has(job.kernel)) {
      const served = this.userKernels.length > 0 ? this.userKernels.join(", ") : "none (start it with --kernels mod.js)";
      throw failure({
        host: this.name,
        type: "refused",
        kernel: job.kernel,
        message: `has no kernel "${job.kernel}"; it runs only the kernels of its own --kernels modules (${served}) and sabre.noop (a job names a kernel, it never carries code)`,
      });
    }
    if (CHUNK_BUILTINS.has(job.kernel)) return { value: null, partials: { $o: {} } };
    await this.cache.ensure(blobHashes(job.args));
    const files = new Map<string, unknown>();
    for (const [path, fmt] of fileRefs(job.args)) files.set(path, await this.files.get(path, fmt));
    const reductions: string[] = [];
    const args = decode(job.args, "args", {
      blob: (h) => this.cache.peek(h)!,
      file: (p) => files.get(p),
      shared: true,
      readOnly: (x) => (isNdArray(x) && isShared(x) ? readOnly(x) : x),
      reduction: (op, initial, name) => {
        reductions.push(name);
        return typeof initial === "number" ? { value: identity(op) } : sharedTypedArray("float64", initial.length).fill(identity(op));
      },
    }, true) as Record<string, unknown>;
    const meta: ShimMeta = { kernel: job.kernel, start: job.start, end: job.end, chunk: job.chunk, nChunks: job.nChunks, reductions };
    const out = (await this.engine.run(CHUNK_KERNEL, { ...args, [META_KEY]: meta })) as ShimResult;
    return this.result({ host: this.name, value: encode(out.value, "result"), partials: encode(out.partials, "partials") });
  }

  private async grow(job: GrowJob): Promise<unknown> {
    const hashes = blobHashes(job.data);
    await this.cache.ensure(hashes);
    const data = decode(job.data, "data", { blob: (h) => this.cache.peek(h)!, shared: true }, false, true) as ForestGrowData;
    const codesKey = [...hashes].sort().join(",");
    let codes = this.codesFor.get(codesKey);
    if (!codes) {
      codes = await featureMajorCodes(this.engine, data);
      // One fit's codes at a time: a host serves one fit after another.
      this.codesFor = new Map([[codesKey, codes]]);
    }
    const trees = await growTreeRange(this.engine, data, codes, job.first, job.count);
    // Trees go back as a blob, not as the job's return value: BullMQ would copy megabytes through a Lua script into
    // the job hash and the event stream. Binary (model-json.ts), not the saved-model JSON: a 25-tree Fashion-MNIST
    // job's trees are ~39 MB of JSON (base64 of dense class probabilities) that both sides spent seconds on.
    const bytes = treesToBinary(trees);
    const hash = hashBytes(bytes);
    await putBlobs(this.redis, keyPrefix(this.queue), [{ hash, bytes }]);
    return { host: this.name, treesBlob: hash, count: trees.length };
  }

  private async predict(job: PredictJob): Promise<unknown> {
    const hashes = blobHashes(job.X);
    hashes.add(job.trees);
    await this.cache.ensure(hashes);
    const X = decode(job.X, "X", { blob: (h) => this.cache.peek(h)!, shared: true }, false, true) as NdArray;
    if (!isNdArray(X) || X.shape.length !== 2) throw new SabreError("ERR_SABRE_CLUSTER_PROTOCOL", "X must be a 2-D ndarray");
    const [n, d] = X.shape as [number, number];
    if (!(Number.isInteger(job.start) && Number.isInteger(job.end) && 0 <= job.start && job.start < job.end && job.end <= n)) {
      throw new SabreError("ERR_SABRE_CLUSTER_PROTOCOL", `rows [${job.start}, ${job.end}) are not rows of X (${n})`);
    }
    let trees = this.treesFor.get(job.trees);
    if (!trees) {
      const expect = { nFeatures: d, nOutputs: job.nOutputs, classification: job.classification };
      trees = treesFromBinary(this.cache.peek(job.trees)!, expect, "the model's trees");
      if (trees.length === 0) throw new SabreError("ERR_SABRE_CLUSTER_PROTOCOL", "the model has no trees");
      this.treesFor = new Map([[job.trees, trees]]);
    }
    const rows = ndarray(X.data, [job.end - job.start, d], [d, 1], job.start * d);
    const out = await predictRows(this.engine, rows, trees);
    return this.result({ host: this.name, out: encode(out, "out") as Wire });
  }

  /**
   * Stops taking jobs, lets running ones finish (for at most a minute; after
   * that they are left to another host), removes the heartbeat and closes
   * the engine. Idempotent.
   */
  stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = (async () => {
        if (this.heartbeat) clearInterval(this.heartbeat);
        // Take no new jobs; let the running ones finish on the engine.
        const closing = this.workers.map((w) => w.close().catch(() => {}));
        const graceEnd = Date.now() + STOP_GRACE_MS;
        while (this.running > 0 && Date.now() < graceEnd) await new Promise((r) => setTimeout(r, 50));
        // Handing results back needs Redis: a few seconds, then whatever is left is left to stalled-job detection.
        try {
          await within(Promise.all(closing), CLOSE_MS, "closing the workers");
        } catch {
          await Promise.all(this.workers.map((w) => within(w.close(true), CLOSE_MS, "closing").catch(() => {})));
        }
        await within(this.redis.del(`${keyPrefix(this.queue)}:host:${this.name}`), 1_000, "heartbeat").catch(() => {});
        await this.engine.close();
        await Promise.all([this.redis, ...this.workerConnections].map((c) => closeConnection(c)));
      })();
    }
    return this.stopping;
  }
}
