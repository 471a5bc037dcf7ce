import type { SerializedMessage } from "../memory/serialize.js";
import { ARGS_SLOTS, type ArgsMessage } from "./control.js";

/**
 * Which argument sets the workers hold revived. A call whose serialized args
 * equal a cached set (same shared buffers, same views, same plain values)
 * reuses its slot: nothing is posted and nothing is revived again, which is
 * what makes a repeated parallelFor over the same arrays cost microseconds.
 *
 * A slot may be given new contents only while no unsettled job refers to it:
 * a worker still to run such a job pulls args messages in order, and the one
 * it needs must not have been superseded (dispatch.md, "args slots").
 */
export class ArgsCache {
  private readonly entries: Array<
    { version: number; message: SerializedMessage; lastUsed: number; pins: number; keep: readonly unknown[] } | undefined
  > = new Array(ARGS_SLOTS);
  private clock = 0;

  /** The slot holding args equal to `message`, or undefined. */
  find(message: SerializedMessage): { slot: number; version: number } | undefined {
    for (let slot = 0; slot < ARGS_SLOTS; slot++) {
      const e = this.entries[slot];
      if (e && sameArgs(e.message.root, message.root)) {
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
   */
  assign(message: SerializedMessage, keep: readonly unknown[] = []): { slot: number; version: number } | undefined {
    let best = -1;
    for (let slot = 0; slot < ARGS_SLOTS; slot++) {
      const e = this.entries[slot];
      if (!e) {
        best = slot;
        break;
      }
      if (e.pins === 0 && (best < 0 || e.lastUsed < this.entries[best]!.lastUsed)) best = slot;
    }
    if (best < 0) return undefined;
    const version = (this.entries[best]?.version ?? 0) + 1;
    this.entries[best] = { version, message, lastUsed: ++this.clock, pins: 0, keep };
    return { slot: best, version };
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
      if (e) out.push({ kind: "args", slot, version: e.version, args: e.message });
    });
    return out;
  }
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
