// What every op takes besides its data: the engine to run on, cancellation,
// and the axis conventions numpy users expect.
import { defaultEngineIfReady, getDefaultEngine } from "../engine/default-engine.js";
import type { Engine } from "../engine/engine.js";
import { AbortError, SabreTypeError } from "../errors.js";
import { checkKnownKeys, checkSignal, describe } from "../validate.js";

/** Options every op accepts. */
export interface OpOptions {
  /** The engine to run on; the default engine (one worker per core) when absent. */
  engine?: Engine;
  /** Cancels the call between chunks; the op rejects with AbortError. */
  signal?: AbortSignal;
}

/** The engine an op runs on. */
export function engineFor(options: OpOptions): Promise<Engine> {
  return options.engine ? Promise.resolve(options.engine) : getDefaultEngine();
}

/**
 * The most elements an op works through on the calling thread while the
 * default engine is still starting. Starting it (workers spawned, the worker
 * module loaded) takes 150-350 ms on 2 cores; one thread reduces 2^25
 * float64 (256 MB) in about 30-60 ms even with a cold JIT, so a script's
 * first op does not wait for the workers, and later ops use them.
 */
export const COLD_INLINE_MAX = 2 ** 25;

/**
 * Whether an op of `elements` elements should run on the calling thread
 * because no engine was given and the default engine is not ready yet (its
 * start is set off here, so the next op finds it). The calling-thread path
 * runs the same blocks in the same order as the workers do, so the result
 * has the same bits either way.
 */
export function runBeforeDefaultEngine(options: OpOptions, elements: number): boolean {
  if (options.engine !== undefined || elements > COLD_INLINE_MAX || defaultEngineIfReady() !== undefined) return false;
  getDefaultEngine().catch(() => undefined); // a start that fails is reported by the op that next awaits it
  return true;
}

/**
 * Checks an options object: it must be a plain object whose keys are all in
 * `allowed` (plus engine and signal), so a typo such as `{ axsi: 0 }` is an
 * error rather than a silently ignored option, as numpy does for keywords.
 */
export function checkOptions<T extends OpOptions>(op: string, options: unknown, allowed: readonly string[]): T {
  if (options === undefined) return {} as T;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new SabreTypeError(`ops.${op}: options must be an object, got ${describe(options)}`);
  }
  checkKnownKeys(`ops.${op}`, options, ["engine", "signal", ...allowed]);
  const o = options as OpOptions;
  if (o.engine !== undefined && (typeof o.engine !== "object" || o.engine === null || typeof (o.engine as { parallelFor?: unknown }).parallelFor !== "function")) {
    throw new SabreTypeError(`ops.${op}: engine must be an Engine, got ${describe(o.engine)}`);
  }
  checkSignal(o.signal);
  return options as T;
}

/**
 * Resolves an axis as numpy does: an integer in [-ndim, ndim), negative
 * counting from the end. Returns the non-negative axis.
 */
export function checkAxis(op: string, axis: unknown, ndim: number): number {
  if (typeof axis !== "number" || !Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    const range = ndim === 0 ? "none (the array is 0-d)" : `an integer in [${-ndim}, ${ndim - 1}]`;
    throw new SabreTypeError(`ops.${op}: axis must be ${range} for a ${ndim}-d array, got ${describe(axis)}`);
  }
  return axis < 0 ? axis + ndim : axis;
}

/** Rejects an op whose signal is already aborted: the small-input paths run no chunks, so they check once here. */
export function throwIfAborted(op: string, signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(`ops.${op}`, signal.reason);
}
