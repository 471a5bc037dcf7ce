import type { SerializedMessage } from "../memory/serialize.js";
import { Reduction } from "./clauses.js";

/**
 * The serialized form of the last args object a call passed, for a caller
 * that passes the same object again (a loop of calls on `{ total }` or
 * `{ a: 3 }`): serializing and comparing it again cost about 1 us of a
 * 4 us call. Only objects whose every top-level value is a primitive or a
 * Reduction are remembered: neither can change without the property itself
 * being reassigned, which the check below sees (a nested object, array or
 * ndarray could be changed in place, so those are always serialized afresh).
 */
export class ArgsMemo {
  private args: object | undefined;
  private keys: string[] = [];
  private values: unknown[] = [];
  private message: SerializedMessage | undefined;

  /** The message serialized for `args` when it last came, if none of its properties changed since. */
  get(args: Record<string, unknown>): SerializedMessage | undefined {
    if (args !== this.args) return undefined;
    const keys = Object.keys(args);
    if (keys.length !== this.keys.length) return undefined;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] !== this.keys[i] || !Object.is(args[keys[i]!], this.values[i])) return undefined;
    }
    return this.message;
  }

  /** Remembers `message` as the serialized form of `args`, if args qualifies. */
  remember(args: Record<string, unknown>, message: SerializedMessage): void {
    const keys = Object.keys(args);
    const values = keys.map((k) => args[k]);
    if (!values.every(stable)) {
      this.args = undefined;
      return;
    }
    this.args = args;
    this.keys = keys;
    this.values = values;
    this.message = message;
  }
}

function stable(v: unknown): boolean {
  return (typeof v !== "object" && typeof v !== "function") || v === null || v instanceof Reduction;
}
