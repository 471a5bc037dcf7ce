/**
 * Where a job's results live: a block of shared memory that workers write
 * and the main thread reads once the job's DONE reaches its chunk count, so
 * that a kernel returning a number, and every reduction partial, comes back
 * without a message (dispatch.md, "results"). Both sides compute the layout
 * from the chunk count and the reductions' widths with these functions.
 *
 * A block is measured in units of 8 bytes and starts at unit `offset` of its
 * arena (a SharedArrayBuffer every worker holds):
 *
 *   tags      Int32 x nChunks, from Int32 index 2 * offset (tagUnits units)
 *   values    Float64 x nChunks: a chunk's return value when its tag is NUMBER
 *   partials  per reduction, in name order: Float64 x (nChunks * width), chunk i at i * width
 */

/**
 * What chunk i returned, as its tag says. The main thread zeroes the tags
 * when it publishes the job, so a chunk that returns undefined (most
 * kernels) writes nothing at all; any other value's tag is written by the
 * worker before the chunk's DONE increment.
 */
export const TAG_UNDEFINED = 0;
export const TAG_NUMBER = 1;
export const TAG_TRUE = 2;
export const TAG_FALSE = 3;
export const TAG_NULL = 4;
/** Anything else (objects, strings, bigints...): the value travels in the worker's job report. */
export const TAG_REPORT = 5;

/** Zeroes the tags of a block (TAG_UNDEFINED for every chunk). */
export function clearTags(i32: Int32Array, offset: number, nChunks: number): void {
  const t = 2 * offset;
  if (nChunks <= 16) for (let i = 0; i < nChunks; i++) i32[t + i] = 0;
  else i32.fill(0, t, t + nChunks);
}

/** Units (8 bytes) the tags of nChunks chunks take. */
export function tagUnits(nChunks: number): number {
  return Math.ceil(nChunks / 2);
}

/** Units a block for nChunks chunks and reductions of these total width needs. */
export function blockUnits(nChunks: number, totalWidth: number): number {
  return tagUnits(nChunks) + nChunks * (1 + totalWidth);
}

/** The Float64 index of chunk 0's value in a block at `offset`. */
export function valuesAt(offset: number, nChunks: number): number {
  return offset + tagUnits(nChunks);
}

/** The Float64 index of chunk 0's partial of the reduction whose predecessors (in name order) have `widthBefore` elements in all. */
export function partialsAt(offset: number, nChunks: number, widthBefore: number): number {
  return offset + tagUnits(nChunks) + nChunks * (1 + widthBefore);
}

/** Orders reductions the way both sides lay out their partials: by argument name. */
export function byName<T>(a: [string, T], b: [string, T]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

/** An arena as it travels to workers on the args port (dispatch.md, "results"). */
export interface ArenaMessage {
  kind: "arena";
  id: number;
  buffer: SharedArrayBuffer;
  /** For an arena made for one large job: that job's seq (workers drop the arena once past it); null for a pooled arena. */
  forSeq: number | null;
}

/** An arena's two views. */
export interface ArenaViews {
  f64: Float64Array;
  i32: Int32Array;
}

export function arenaViews(buffer: SharedArrayBuffer): ArenaViews {
  return { f64: new Float64Array(buffer), i32: new Int32Array(buffer) };
}
