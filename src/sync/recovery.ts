import { threadId } from "node:worker_threads";
import { SabreTypeError } from "../errors.js";
import { checkInteger } from "../validate.js";

/*
 * The per-thread registry behind recoverAbandonedLocks: every lock object
 * created or deserialized in this thread (Mutex, RwLock) is remembered by a
 * WeakRef with the function that releases what a dead thread held in it.
 * Entries go when their lock is garbage-collected (FinalizationRegistry) or,
 * lazily, when a walk finds the WeakRef empty.
 */

/** The largest thread tag a lock word can name (28 bits); thread ids stay below it. */
export const MAX_TAG = 2 ** 28 - 1;

interface Entry {
  readonly ref: WeakRef<object>;
  /** Releases what `deadThread` held in the lock; true if it held anything. */
  readonly release: (lock: object, deadThread: number) => boolean;
}

const known = new Set<Entry>();
const forget = new FinalizationRegistry<Entry>((entry) => known.delete(entry));

/** Remembers `lock` for recoverAbandonedLocks, with the function that frees a dead thread's hold on it. */
export function rememberLock<T extends object>(lock: T, release: (lock: T, deadThread: number) => boolean): void {
  const entry: Entry = { ref: new WeakRef(lock), release: release as (lock: object, deadThread: number) => boolean };
  known.add(entry);
  forget.register(lock, entry);
}

/**
 * For a worker that is gone (`deadThreadId` is its worker_threads `threadId`), releases every
 * lock this thread knows (Mutex and RwLock objects created or deserialized here) that the dead
 * thread still held. A write lock or mutex is marked so its next lockers get OwnerDiedError until
 * someone calls markConsistent(); read locks are just released (see rwlock.md). Returns how many
 * locks it released. Call it only for a thread that has exited: a live owner would lose its lock.
 *
 * ```ts
 * worker.on("exit", () => recoverAbandonedLocks(worker.threadId));
 * ```
 */
export function recoverAbandonedLocks(deadThreadId: number): number {
  checkInteger("deadThreadId", deadThreadId, 0, MAX_TAG - 1);
  if (deadThreadId === threadId) {
    throw new SabreTypeError(`deadThreadId ${deadThreadId} is the calling thread, which is alive; pass the threadId of an exited worker`);
  }
  let released = 0;
  for (const entry of known) {
    const lock = entry.ref.deref();
    if (lock === undefined) {
      known.delete(entry);
      continue;
    }
    if (entry.release(lock, deadThreadId)) released++;
  }
  return released;
}
