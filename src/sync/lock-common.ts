import { SabreTypeError } from "../errors.js";
import { checkSignal, checkTimeout, describe } from "../validate.js";

// Pieces shared by Mutex, CondVar and RwLock. Internal: src/sync/index.ts does not re-export this
// file; the two types are re-exported by mutex.ts.

/** Options of the asynchronous lock calls. */
export interface LockAsyncOptions {
  /** Milliseconds to wait before rejecting with TimeoutError; undefined or Infinity: no limit. */
  timeout?: number;
  /** Aborting it rejects the pending call with AbortError; the call then does not hold the lock. */
  signal?: AbortSignal;
}

/** Validates the `{ timeout, signal }` argument of an async lock call. */
export function checkLockAsyncOptions(opts: unknown): { timeout: number; signal: AbortSignal | undefined } {
  if (opts === undefined) return { timeout: Infinity, signal: undefined };
  if (typeof opts !== "object" || opts === null) {
    throw new SabreTypeError(`options must be an object { timeout?, signal? } or undefined, got ${describe(opts)}`);
  }
  const o = opts as { timeout?: unknown; signal?: unknown };
  return { timeout: checkTimeout(o.timeout), signal: checkSignal(o.signal) };
}

/** Throws unless fn is a function (for withLock and friends). */
export function checkCallback(name: string, fn: unknown): void {
  if (typeof fn !== "function") throw new SabreTypeError(`${name} expects a function, got ${describe(fn)}`);
}

/** A held lock that unlocks when disposed: `using guard = mutex.acquire();`. Disposing twice unlocks once. */
export interface LockGuard extends Disposable {
  /** Unlocks now (the same as disposing). Later calls do nothing. */
  release(): void;
}

/** Makes a guard whose first release runs `unlock`. */
export function makeGuard(unlock: () => void): LockGuard {
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    unlock();
  };
  return { release, [Symbol.dispose]: release };
}

/**
 * The cells of a lock being constructed: the revived ones when deserialize is
 * building it over existing memory, else `count` fresh cells in a new
 * SharedArrayBuffer with `magic` at `magicCell` (what deserialize checks).
 */
export function lockCells(revived: Int32Array | undefined, count: number, magicCell: number, magic: number): Int32Array {
  if (revived) return revived;
  const cells = new Int32Array(new SharedArrayBuffer(count * 4));
  cells[magicCell] = magic;
  return cells;
}
