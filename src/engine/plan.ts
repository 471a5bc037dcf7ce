import { existsSync } from "node:fs";
import { isAbsolute, resolve as resolvePath } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { SabreTypeError } from "../errors.js";
import { MAX_RANGES } from "../memory/partition.js";
import { checkInteger, checkKnownKeys, checkSignal, describe } from "../validate.js";
import { Reduction } from "./clauses.js";
import { SCHEDULE_DYNAMIC, SCHEDULE_STATIC } from "./control.js";
import type { KernelArgs, ParallelForOptions } from "./engine.js";

/** One call as parallelFor, run and broadcast describe it to the engine. */
export interface Call {
  kernel: string;
  args: KernelArgs;
  n: number;
  nChunks: number;
  /** Fixed chunk size, or 0 for nChunks balanced ranges. */
  chunkSize: number;
  schedule: number;
  signal?: AbortSignal | undefined;
  onProgress?: ((done: number, total: number) => void) | undefined;
  /** The calling thread's copy of the kernel, for chunks it takes itself (engine.ts, LocalChunk). */
  local?: LocalChunk | undefined;
}

/**
 * A built-in kernel as the calling thread runs it: chunk `chunk`, items
 * [start, end), returning what the worker's kernel returns (a number or
 * nothing). It must compute exactly what the worker computes for that chunk,
 * so that who ran a chunk never shows in the result.
 */
export type LocalChunk = (start: number, end: number, chunk: number) => number | undefined;

/** Chunks a reduction is split into, independent of the thread count so that results are too. */
export const REDUCTION_CHUNKS = 64;

/**
 * The most chunks one call may have. Every chunk gets a result slot in the
 * results arena and a claim, so 10^9 chunks of one item (chunk: 1 over a
 * large n) would allocate gigabytes and run for minutes before failing; 2^24
 * is far past any useful split: the cap chunks() and partition() have.
 */
const MAX_CHUNKS = MAX_RANGES;

/**
 * Validates parallelFor's arguments and decides its chunking: a given chunk
 * size wins; a call with a reduction gets 64 chunks whatever the thread
 * count (so its result is the same for any); static gets one balanced range
 * per thread; dynamic about four chunks per thread.
 */
export function planParallelFor(n: number, kernel: string, args: KernelArgs, options: ParallelForOptions, threads: number): Call {
  checkInteger("n", n, 0, Number.MAX_SAFE_INTEGER);
  if (typeof options !== "object" || options === null) {
    throw new SabreTypeError(`parallelFor options must be an object, got ${describe(options)}`);
  }
  checkKnownKeys("parallelFor options", options, ["chunk", "schedule", "signal", "onProgress"]);
  const schedule = options.schedule ?? "dynamic";
  if (schedule !== "static" && schedule !== "dynamic") {
    throw new SabreTypeError(`schedule must be "static" or "dynamic", got ${describe(schedule)}`);
  }
  const chunk = options.chunk === undefined ? undefined : checkInteger("chunk", options.chunk, 1, Number.MAX_SAFE_INTEGER);
  if (options.onProgress !== undefined && typeof options.onProgress !== "function") {
    throw new SabreTypeError(`onProgress must be a function, got ${describe(options.onProgress)}`);
  }
  const signal = checkSignal(options.signal);
  const hasReduction = typeof args === "object" && args !== null && Object.values(args).some((v) => v instanceof Reduction);
  let chunkSize: number;
  if (chunk !== undefined) chunkSize = chunk;
  else if (hasReduction) chunkSize = Math.max(1, Math.ceil(n / REDUCTION_CHUNKS));
  else if (schedule === "static") chunkSize = 0;
  else chunkSize = Math.max(1, Math.ceil(n / (threads * 4)));
  const nChunks = chunkSize === 0 ? Math.min(n, threads) : Math.ceil(n / chunkSize);
  if (nChunks > MAX_CHUNKS) {
    throw new SabreTypeError(`n / chunk gives ${nChunks} chunks; at most ${MAX_CHUNKS} (2^24) are allowed: use a larger chunk`);
  }
  return {
    kernel,
    args,
    n,
    nChunks,
    chunkSize,
    schedule: schedule === "static" ? SCHEDULE_STATIC : SCHEDULE_DYNAMIC,
    signal,
    onProgress: options.onProgress,
  };
}

/** The options of run and broadcast: an object with at most a signal. Returns the signal. */
export function callSignal(what: string, options: unknown): AbortSignal | undefined {
  if (typeof options !== "object" || options === null) {
    throw new SabreTypeError(`${what} options must be an object, got ${describe(options)}`);
  }
  checkKnownKeys(`${what} options`, options, ["signal"]);
  return checkSignal((options as { signal?: unknown }).signal);
}

/** A kernel module given to Engine.start as a file: URL string, refusing what no worker could import. */
export function moduleUrl(spec: string | URL, i: number): string {
  let url: URL;
  if (spec instanceof URL) url = spec;
  else if (typeof spec === "string" && spec.startsWith("file:")) url = new URL(spec);
  else if (typeof spec === "string" && spec.length > 0) {
    url = pathToFileURL(isAbsolute(spec) ? spec : resolvePath(process.cwd(), spec));
  } else {
    throw new SabreTypeError(`kernels[${i}] must be a file path or a file: URL, got ${describe(spec)}`);
  }
  if (url.protocol !== "file:") throw new SabreTypeError(`kernels[${i}] must be a file: URL, got ${url.href}`);
  if (!existsSync(fileURLToPath(url))) throw new SabreTypeError(`kernel module not found: ${fileURLToPath(url)}`);
  return url.href;
}
