// Shared float64 buffers that an op hands to the workers call after call
// (partials of axis-0 row tiles, the finished values of an axis-1 lanes call),
// instead of a fresh SharedArrayBuffer per call.
//
// Why: the engine sends a kernel's argument set to the workers once and
// reuses it while the next call's set is equal (same buffers, same views,
// same values: src/engine/args-cache.ts). A fresh buffer per call made every
// call a new set, so each call (1) revived the table again in every worker
// (a new wrapper of its WebAssembly.Memory, a new WebAssembly instance over
// it, a ghost: src/memory/wasm-memory.ts), (2) made each worker run a major
// collection (a dropped set counts the table's bytes: kernels/runner.ts), and
// (3) had the workers write into pages never touched before. On this VM a
// first touch costs 10-50 us per 4 KiB page: 20-30 ms of CPU for the 8 MB
// output of a mean along axis 1 of 1M x 24, four times the arithmetic. A
// buffer leased from here is the same buffer next call, its pages already
// mapped, and the set is the same set: nothing is posted or revived.
//
// A lease is the caller's alone until it gives it back, so concurrent calls
// never share one; a call that fails or is aborted drops its buffer rather
// than return it (a chunk already running may still write into it).

import type { Engine } from "../engine/engine.js";
import { allocShared } from "../memory/shared.js";

/** Largest buffer kept for reuse (larger needs get a fresh buffer per call, as before). */
export const STAGE_MAX_BYTES = 32 * 2 ** 20;
/** Free buffers kept per engine, at most KEEP of them and KEEP_BYTES in all; past either the least recently returned go. */
const KEEP = 4;
const KEEP_BYTES = 64 * 2 ** 20;

/** A leased view of `length` float64 over a buffer kept for reuse. */
export interface Stage {
  readonly view: Float64Array;
  /** The whole buffer (its capacity), returned to the pool by `releaseStage`. */
  readonly whole: Float64Array;
}

const pools = new WeakMap<Engine, Float64Array[]>();

/**
 * A view of `length` float64 over a shared buffer kept for `engine`: the
 * smallest free one that is large enough, else a new one. The view starts at
 * the buffer's first element, so a call of the same size gets an equal view
 * of the same buffer (the engine's cached argument set matches). undefined
 * when `length` is over STAGE_MAX_BYTES (the caller allocates per call).
 */
export function leaseStage(engine: Engine, length: number): Stage | undefined {
  if (length * 8 > STAGE_MAX_BYTES) return undefined;
  const free = pools.get(engine) ?? [];
  let best = -1;
  for (let i = 0; i < free.length; i++) {
    const cap = free[i]!.length;
    if (cap >= length && (best < 0 || cap < free[best]!.length)) best = i;
  }
  const whole = best >= 0 ? free.splice(best, 1)[0]! : new Float64Array(allocShared(Math.max(length, 1) * 8));
  return { whole, view: whole.length === length ? whole : whole.subarray(0, length) };
}

/** Returns a lease after its call settled successfully; the buffer serves the next call. */
export function releaseStage(engine: Engine, stage: Stage): void {
  let free = pools.get(engine);
  if (free === undefined) pools.set(engine, (free = []));
  free.push(stage.whole);
  let bytes = 0;
  for (const b of free) bytes += b.byteLength;
  while (free.length > KEEP || bytes > KEEP_BYTES) bytes -= free.shift()!.byteLength;
}

/**
 * Runs `use` with a leased view of `length` float64 (or a fresh buffer when
 * the size is not kept) and returns the lease once `use` has settled
 * successfully; a failed or aborted call drops it.
 */
export async function withStage<T>(engine: Engine, length: number, use: (view: Float64Array) => Promise<T>): Promise<T> {
  const stage = leaseStage(engine, length);
  if (stage === undefined) return use(new Float64Array(allocShared(length * 8)));
  const result = await use(stage.view);
  releaseStage(engine, stage);
  return result;
}
