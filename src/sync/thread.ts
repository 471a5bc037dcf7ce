import { threadId } from "node:worker_threads";

/**
 * This thread's tag as a lock owner: worker_threads' threadId + 1, so that 0
 * can mean "nobody". The main thread is 1. Thread ids are never reused within
 * a process, so a tag names one thread for the life of the process.
 */
export const SELF = threadId + 1;

/** The worker_threads threadId behind an owner tag. */
export function threadOfTag(tag: number): number {
  return tag - 1;
}
