import type { SerializedMessage } from "../memory/serialize.js";
import { ARGS_SLOTS, type ArgsMessage } from "./control.js";

/**
 * The most bytes of shared memory the cached argument sets may refer to (each
 * buffer counted once) before older unpinned sets are evicted. A set holds
 * its buffers alive on this thread and in every worker: without a bound,
 * calls that each write a fresh output (a transform without `out`) kept the
 * last 16 outputs alive, 2 GB for 256 MB outputs.
 */
export const ARGS_CACHE_BYTES = 512 * 2 ** 20;

interface Entry {
  version: number;
  /** undefined once evicted: the slot keeps counting versions but holds nothing. */
  message: SerializedMessage | undefined;
  lastUsed: number;
  pins: number;
  keep: readonly unknown[];
  buffers: ReadonlySet<SharedArrayBuffer>;
  bytes: number;
}

/**
 * Which argument sets the workers hold revived. A call whose serialized args
 * equal a cached set (same shared buffers, same views, same plain values)
 * reuses its slot: nothing is posted and nothing is revived again, which is
 * what makes a repeated parallelFor over the same arrays cost microseconds.
 *
 * A slot may be given new contents only while no unsettled job refers to it:
 * a worker still to run such a job pulls args messages in order, and the one
 * it needs must not have been superseded (dispatch.md, "args slots"). The
 * same holds for evicting a set (dispatch.md, "evicting large sets").
 */
export class ArgsCache {
  private readonly entries: Array<Entry | undefined> = new Array(ARGS_SLOTS);
  private clock = 0;

  constructor(private readonly budget = ARGS_CACHE_BYTES) {}

  /** The slot holding args equal to `message`, or undefined. */
  find(message: SerializedMessage): { slot: number; version: number } | undefined {
    for (let slot = 0; slot < ARGS_SLOTS; slot++) {
      const e = this.entries[slot];
      if (e?.message && sameArgs(e.message.root, message.root)) {
        e.lastUsed = ++this.clock;
        return { slot, version: e.version };
      }
    }
    return undefined;
  }

  /**
   * Claims the least recently used unpinned slot for `message`; undefined
   * when every slot is pinned. `keep` is held as long as the slot holds the
   * message (objects that must stay reachable while workers may use them).
   * `evicted` lists the older sets dropped to keep the cache within its
   * byte budget: the workers must be told before they get the new set.
   */
  assign(
    message: SerializedMessage,
    keep: readonly unknown[] = [],
  ): { slot: number; version: number; bytes: number; evicted: Array<{ slot: number; version: number }> } | undefined {
    let best = -1;
    for (let slot = 0; slot < ARGS_SLOTS; slot++) {
      const e = this.entries[slot];
      if (!e?.message) {
        if (e === undefined || e.pins === 0) {
          best = slot;
          break;
        }
        continue;
      }
      if (e.pins === 0 && (best < 0 || e.lastUsed < this.entries[best]!.lastUsed)) best = slot;
    }
    if (best < 0) return undefined;
    const version = (this.entries[best]?.version ?? 0) + 1;
    const buffers = sharedBuffersOf(message.root);
    let bytes = 0;
    for (const b of buffers) bytes += b.byteLength;
    this.entries[best] = { version, message, lastUsed: ++this.clock, pins: 0, keep, buffers, bytes };
    return { slot: best, version, bytes, evicted: this.evictOver(best) };
  }

  pin(slot: number): void {
    this.entries[slot]!.pins++;
  }

  unpin(slot: number): void {
    this.entries[slot]!.pins--;
  }

  /** Every cached set, as the args messages a freshly started worker must receive first. */
  replay(): ArgsMessage[] {
    const out: ArgsMessage[] = [];
    this.entries.forEach((e, slot) => {
      if (e?.message) out.push({ kind: "args", slot, version: e.version, args: e.message, bytes: e.bytes });
    });
    return out;
  }

  /**
   * Evicts the least recently used unpinned sets other than `newest` while
   * the buffers all cached sets refer to pass the budget. A set that refers
   * to no buffer the others lack costs nothing and stays.
   */
  private evictOver(newest: number): Array<{ slot: number; version: number }> {
    const evicted: Array<{ slot: number; version: number }> = [];
    for (;;) {
      const held = new Set<SharedArrayBuffer>();
      for (const e of this.entries) if (e?.message) for (const b of e.buffers) held.add(b);
      let total = 0;
      for (const b of held) total += b.byteLength;
      if (total <= this.budget) return evicted;
      let victim = -1;
      for (let slot = 0; slot < ARGS_SLOTS; slot++) {
        const e = this.entries[slot];
        if (slot === newest || !e?.message || e.pins > 0 || e.bytes === 0) continue;
        if (victim < 0 || e.lastUsed < this.entries[victim]!.lastUsed) victim = slot;
      }
      if (victim < 0) return evicted;
      const e = this.entries[victim]!;
      this.entries[victim] = { ...e, message: undefined, keep: [], buffers: new Set(), bytes: 0 };
      evicted.push({ slot: victim, version: e.version });
    }
  }
}

/** The SharedArrayBuffers a serialized argument tree refers to, each once. */
export function sharedBuffersOf(root: unknown, out = new Set<SharedArrayBuffer>()): Set<SharedArrayBuffer> {
  if (typeof root !== "object" || root === null) return out;
  if (ArrayBuffer.isView(root)) {
    if (root.buffer instanceof SharedArrayBuffer) out.add(root.buffer);
    return out;
  }
  if (root instanceof SharedArrayBuffer) {
    out.add(root);
    return out;
  }
  if (Array.isArray(root)) {
    for (const v of root) sharedBuffersOf(v, out);
    return out;
  }
  const proto = Object.getPrototypeOf(root);
  if (proto !== Object.prototype && proto !== null) return out;
  for (const v of Object.values(root as Record<string, unknown>)) sharedBuffersOf(v, out);
  return out;
}

/**
 * Deep equality of two serialized argument trees: shared memory compares by
 * identity (same buffer, offset and length), plain data by value.
 */
export function sameArgs(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b)) return false;
    return a.constructor === b.constructor && a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.byteLength === b.byteLength;
  }
  if (a instanceof SharedArrayBuffer || b instanceof SharedArrayBuffer) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameArgs(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const pa = Object.getPrototypeOf(a);
  if (pa !== Object.prototype && pa !== null) return false; // Dates, Maps, ...: never assumed equal
  if (Object.getPrototypeOf(b) !== pa) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    if (!sameArgs((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}
