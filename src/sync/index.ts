export * from "./mutex.js";
export * from "./condvar.js";
export * from "./rwlock.js";
export * from "./semaphore.js";
export * from "./barrier.js";
export * from "./latch.js";
export * from "./atomics-float.js";
