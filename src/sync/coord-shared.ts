import { SabreTypeError } from "../errors.js";
import { checkInteger, checkSignal, checkTimeout, describe } from "../validate.js";

/**
 * Internal helpers shared by Semaphore, Barrier and Latch (not re-exported:
 * src/sync/index.ts does not list this file).
 */

/** The largest count a 32-bit cell holds: permits, latch counts, k arguments. */
export const MAX_COUNT = 2 ** 31 - 1;

/** What the `...Async` methods accept as their options bag. */
export interface WaitOptions {
  /** Milliseconds before the wait gives up with TimeoutError; undefined or Infinity for none. */
  timeout?: number;
  /** Cancels the wait with AbortError when aborted. */
  signal?: AbortSignal;
}

/** Validates an options bag: `{ timeout?, signal? }` or undefined. Returns the timeout (Infinity for none) and signal. */
export function checkWaitOptions(opts: unknown): { timeout: number; signal: AbortSignal | undefined } {
  if (opts === undefined) return { timeout: Infinity, signal: undefined };
  if (typeof opts !== "object" || opts === null || Array.isArray(opts)) {
    throw new SabreTypeError(`options must be an object { timeout?, signal? } or undefined, got ${describe(opts)}`);
  }
  const o = opts as Record<string, unknown>;
  return { timeout: checkTimeout(o["timeout"]), signal: checkSignal(o["signal"]) };
}

/** A positive count argument (permits, count-down steps): an integer in [1, 2^31 - 1]. */
export function checkPositiveCount(name: string, value: unknown): number {
  return checkInteger(name, value, 1, MAX_COUNT);
}

/**
 * Validates the SharedArrayBuffer of a revived primitive: exact size and the
 * magic word in its first Int32 cell, so a payload made for another kind (or
 * a forged one) is refused instead of being misread.
 */
export function checkPayloadBuffer(payload: Record<string, unknown>, bytes: number, magic: number, kind: string): SharedArrayBuffer {
  const buffer = payload["buffer"];
  if (!(buffer instanceof SharedArrayBuffer)) {
    throw new SabreTypeError(`field "buffer" must be a SharedArrayBuffer, got ${describe(buffer)}`);
  }
  if (buffer.byteLength !== bytes) {
    throw new SabreTypeError(`field "buffer" has ${buffer.byteLength} bytes, a ${kind} has ${bytes}`);
  }
  if (Atomics.load(new Int32Array(buffer, 0, 1), 0) !== magic) {
    throw new SabreTypeError(`field "buffer" does not hold a ${kind} (its header is wrong)`);
  }
  return buffer;
}

