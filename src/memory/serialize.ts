import { SabreTypeError } from "../errors.js";
import { describe } from "../validate.js";
import { CONSTRUCTORS, bytesPerElement, checkDType, dtypeOf, type DType, type TypedArray } from "./dtypes.js";
import { isNdArray, ndarray, type NdArray } from "./ndarray-type.js";
import { adoptMemory, isWasmMemory, memoryIdOf, memoryOf } from "./wasm-memory.js";

/**
 * serialize/deserialize carry live shared objects (ndarrays over
 * SharedArrayBuffers, sync primitives, queues) through postMessage or
 * workerData. On the wire each one is a plain tagged object holding its
 * SharedArrayBuffer(s); structured clone shares those buffers rather than
 * copying them, so the revived object on the other side works on the SAME
 * memory.
 *
 * A class takes part by registering a `Shareable` under a unique kind.
 */

/** The key that marks an encoded shareable. A user object that has it is escaped. */
export const TAG = "__sabre__";
/** Bumped when the wire format changes; a message from another version is refused. */
export const WIRE_VERSION = 1;

/**
 * How a class travels through {@link serialize}/{@link deserialize}: register
 * one with {@link registerShareable} so instances revive as live objects on
 * the other side.
 */
export interface Shareable<T> {
  /** A unique name on the wire, e.g. "Mutex". */
  readonly kind: string;
  /** True for values this shareable encodes. Checked before anything else in serialize. */
  test(value: unknown): value is T;
  /**
   * A structured-cloneable payload; SharedArrayBuffers in it are shared, not
   * copied. A wrapper (e.g. an engine clause) encodes what it wraps with `child`.
   */
  encode(value: T, child: (inner: unknown, name: string) => unknown): Record<string, unknown>;
  /**
   * Revives the value over the same memory; must validate the payload and
   * throw SabreTypeError if it is foreign. `child` revives what `encode` wrapped.
   */
  decode(payload: Record<string, unknown>, child: (inner: unknown, name: string) => unknown): T;
}

const registry = new Map<string, Shareable<unknown>>();

/** Registers a class's wire form. Each kind is registered once per thread. */
export function registerShareable<T>(shareable: Shareable<T>): void {
  // Checked here, once: serialize calls every registered test() on every
  // value, so one malformed registration would break every later serialize.
  if (typeof shareable !== "object" || shareable === null) {
    throw new SabreTypeError(`registerShareable: shareable must be an object with kind, test, encode and decode, got ${describe(shareable)}`);
  }
  if (typeof shareable.kind !== "string" || shareable.kind.length === 0) {
    throw new SabreTypeError(`registerShareable: kind must be a non-empty string, got ${describe(shareable.kind)}`);
  }
  for (const fn of ["test", "encode", "decode"] as const) {
    if (typeof shareable[fn] !== "function") {
      throw new SabreTypeError(`registerShareable: ${fn} of kind "${shareable.kind}" must be a function, got ${describe(shareable[fn])}`);
    }
  }
  const existing = registry.get(shareable.kind);
  if (existing && existing !== (shareable as Shareable<unknown>)) {
    throw new SabreTypeError(`a shareable kind named "${shareable.kind}" is already registered`);
  }
  registry.set(shareable.kind, shareable as Shareable<unknown>);
}

/** Options of {@link serialize}. */
export interface SerializeOptions {
  /**
   * Refuse typed arrays and ndarrays over non-shared memory instead of letting
   * structured clone copy them (the engine sets this: a kernel writing to a
   * copy would lose its writes).
   */
  requireShared?: boolean;
  /** How error messages name the value (default "value"), e.g. "args" gives "args.x is a function". */
  name?: string;
  /** Called with every shareable encoded, e.g. so the engine can track mutexes handed to workers. */
  onShareable?: (value: unknown, kind: string, path: string) => void;
}

/** What serialize returns: structured-cloneable, to be given to deserialize in any thread. Treat it as opaque. */
export interface SerializedMessage {
  /** Marks the object as a sabre message. */
  readonly [TAG]: "message";
  /** The wire format version; another version is refused by deserialize. */
  readonly v: number;
  /** The encoded value. */
  readonly root: unknown;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Built-ins that structured clone reproduces faithfully, so they pass through as they are. */
function isCloneableBuiltin(value: object): boolean {
  return (
    value instanceof Date ||
    value instanceof RegExp ||
    value instanceof ArrayBuffer ||
    value instanceof SharedArrayBuffer ||
    value instanceof DataView ||
    value instanceof Map ||
    value instanceof Set ||
    value instanceof Error
  );
}

/**
 * Turns a value holding shared ndarrays and sync primitives (nested in plain
 * objects and arrays) into a message for postMessage/workerData. Functions,
 * symbols, cycles and class instances that cannot be revived are refused with
 * a SabreTypeError naming where they were found.
 *
 * @throws {@link SabreTypeError} (`ERR_SABRE_TYPE`) for a value that cannot
 * cross threads, or (with `requireShared`) an array over non-shared memory
 *
 * @example
 * ```ts
 * import { Worker } from "node:worker_threads";
 * import { Mutex, serialize, shared } from "sabre";
 * const data = { x: shared.zeros("float64", [1024]), lock: new Mutex() };
 * new Worker(url, { workerData: serialize(data) });
 * // in the worker: const { x, lock } = deserialize(workerData); the same memory, the same lock
 * ```
 */
export function serialize(value: unknown, options: SerializeOptions = {}): SerializedMessage {
  const seen = new Set<object>();
  const encode = (v: unknown, path: string): unknown => {
    switch (typeof v) {
      case "function":
        throw new SabreTypeError(`${path} is a function; functions cannot cross threads (put it in a kernel module)`);
      case "symbol":
        throw new SabreTypeError(`${path} is a symbol; symbols cannot cross threads`);
      case "object":
        break;
      default:
        return v;
    }
    if (v === null) return v;
    for (const s of registry.values()) {
      if (s.test(v)) {
        options.onShareable?.(v, s.kind, path);
        return { [TAG]: s.kind, ...s.encode(v, (inner, name) => encode(inner, `${path}.${name}`)) };
      }
    }
    if (isNdArray(v)) {
      throw new SabreTypeError(
        `${path} is an ndarray over non-shared memory; another thread would get a copy. Use shared.from(...) to put it in shared memory`,
      );
    }
    if (ArrayBuffer.isView(v)) {
      if (options.requireShared && !(v.buffer instanceof SharedArrayBuffer)) {
        throw new SabreTypeError(
          `${path} is a ${v.constructor.name} over non-shared memory; a worker would get a copy and its writes would be lost. ` +
            "Use shared.from(...) to put it in shared memory",
        );
      }
      return v;
    }
    if (isCloneableBuiltin(v)) return v;
    if (seen.has(v)) throw new SabreTypeError(`${path} refers back to itself; cyclic values cannot be serialized`);
    seen.add(v);
    try {
      if (Array.isArray(v)) return v.map((item, i) => encode(item, `${path}[${i}]`));
      if (!isPlainObject(v)) {
        throw new SabreTypeError(
          `${path} is ${describe(v)}, which another thread could not revive; pass plain objects, arrays, numbers, strings, shared ndarrays or sabre primitives`,
        );
      }
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(v)) out[key] = encode((v as Record<string, unknown>)[key], `${path}.${key}`);
      // A user object that happens to carry our tag is wrapped so deserialize does not mistake it.
      return Object.hasOwn(out, TAG) ? { [TAG]: "object", value: out } : out;
    } finally {
      seen.delete(v);
    }
  };
  const name = options.name ?? "value";
  return { [TAG]: "message", v: WIRE_VERSION, root: guardDepth("serialize", name, () => encode(value, name)) };
}

/**
 * Runs a recursive walk, turning the engine's stack overflow on a value
 * nested thousands of levels deep (a plain RangeError) into a SabreTypeError
 * that says so; structured clone itself would refuse such a value too.
 */
function guardDepth<T>(what: "serialize" | "deserialize", name: string, walk: () => T): T {
  try {
    return walk();
  } catch (err) {
    if (err instanceof RangeError && /call stack/i.test(err.message)) {
      throw new SabreTypeError(`${what}: ${name} is nested too deeply (the walk ran out of stack); flatten it or pass its arrays as shared ndarrays`, { cause: err });
    }
    throw err;
  }
}

/**
 * Revives a message made by serialize, in any thread, over the same shared memory.
 *
 * @throws {@link SabreTypeError} (`ERR_SABRE_TYPE`) for a message that is
 * not one, comes from another wire version, or holds a foreign payload
 */
export function deserialize<T = unknown>(message: unknown): T {
  if (
    typeof message !== "object" ||
    message === null ||
    (message as Record<string, unknown>)[TAG] !== "message"
  ) {
    throw new SabreTypeError(`deserialize expects a message made by serialize(), got ${describe(message)}`);
  }
  const m = message as SerializedMessage;
  if (m.v !== WIRE_VERSION) {
    throw new SabreTypeError(`message wire version ${describe(m.v)} is not ${WIRE_VERSION}: it comes from another sabre version`);
  }
  const decode = (v: unknown, path: string): unknown => {
    if (typeof v !== "object" || v === null || ArrayBuffer.isView(v) || isCloneableBuiltin(v)) return v;
    if (Array.isArray(v)) return v.map((item, i) => decode(item, `${path}[${i}]`));
    const obj = v as Record<string, unknown>;
    if (Object.hasOwn(obj, TAG)) {
      const kind = obj[TAG];
      if (kind === "object") return decodeFields(obj["value"] as Record<string, unknown>, path);
      const s = typeof kind === "string" ? registry.get(kind) : undefined;
      if (!s) {
        throw new SabreTypeError(`${path} is tagged as ${describe(kind)}, which is no sabre kind this thread knows`);
      }
      try {
        return s.decode(obj, (inner, name) => decode(inner, `${path}.${name}`));
      } catch (err) {
        if (err instanceof SabreTypeError) {
          throw new SabreTypeError(`${path} (a ${kind}) cannot be revived: ${err.message}`, { cause: err });
        }
        throw err;
      }
    }
    return decodeFields(obj, path);
  };
  const decodeFields = (obj: Record<string, unknown>, path: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(obj)) out[key] = decode(obj[key], `${path}.${key}`);
    return out;
  };
  return guardDepth("deserialize", "value", () => decode(m.root, "value")) as T;
}

// ---- helpers for Shareable implementations -------------------------------------------------

/** Reads an Int32Array field from a payload, checking it is over shared memory and at least `minLength` long. */
export function payloadInt32(payload: Record<string, unknown>, field: string, minLength: number): Int32Array {
  const v = payload[field];
  if (!(v instanceof Int32Array) || !(v.buffer instanceof SharedArrayBuffer)) {
    throw new SabreTypeError(`field "${field}" must be an Int32Array over a SharedArrayBuffer, got ${describe(v)}`);
  }
  if (v.length < minLength) {
    throw new SabreTypeError(`field "${field}" has ${v.length} cells, expected at least ${minLength}`);
  }
  return v;
}

/** Reads an integer field from a payload. */
export function payloadInt(payload: Record<string, unknown>, field: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = payload[field];
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new SabreTypeError(`field "${field}" must be an integer in [${min}, ${max}], got ${describe(v)}`);
  }
  return v;
}

// ---- ndarrays ------------------------------------------------------------------------------

/** The smallest and largest data index an ndarray view can reach (for bounds validation). */
export function reachableRange(shape: readonly number[], stride: readonly number[], offset: number): [number, number] {
  let lo = offset;
  let hi = offset;
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 0) return [offset, offset - 1];
    const span = stride[i]! * (shape[i]! - 1);
    if (span < 0) lo += span;
    else hi += span;
  }
  return [lo, hi];
}

// ---- memory of WebAssembly.Memory-backed arrays (wasm-memory.ts) ----------------------------
// An array over a Memory's buffer travels with the Memory itself (beside the
// buffer, which the engine's args cache counts), so that the receiving thread
// makes its views over the revived Memory's buffer and registers it: a worker
// can then instantiate a WebAssembly kernel over the array's own memory. The
// Memory's id tells the thread whether it already holds a live wrapper of it
// (wasm-memory.ts: only the first gets a ghost).

/** The `memory` field of an array's payload: the Memory its buffer belongs to, if any. */
function memoryField(buffer: ArrayBufferLike): { memory?: unknown; memoryId?: number } {
  const memory = memoryOf(buffer);
  return memory === undefined ? {} : { memory, memoryId: memoryIdOf(memory) };
}

/** The buffer a payload's views must be made over: the revived Memory's (registered here), else its `buffer` field. */
function payloadBuffer(p: Record<string, unknown>): SharedArrayBuffer {
  const memory = p["memory"];
  if (memory !== undefined) {
    if (!isWasmMemory(memory)) throw new SabreTypeError(`field "memory" must be a shared WebAssembly.Memory, got ${describe(memory)}`);
    const id = p["memoryId"];
    if (typeof id !== "number" || !Number.isSafeInteger(id) || id <= 0) throw new SabreTypeError(`field "memoryId" must be a positive safe integer, got ${describe(id)}`);
    return adoptMemory(memory, id);
  }
  const buffer = p["buffer"];
  if (!(buffer instanceof SharedArrayBuffer)) {
    throw new SabreTypeError(`field "buffer" must be a SharedArrayBuffer, got ${describe(buffer)}`);
  }
  return buffer;
}

/** The typed array a "wasmview" or "ndarray" payload names (dtype, buffer, byteOffset, length), checked. */
function payloadView(p: Record<string, unknown>): TypedArray {
    const dtype: DType = checkDType(p["dtype"], "field \"dtype\"");
    const buffer = payloadBuffer(p);
    const byteOffset = payloadInt(p, "byteOffset", 0, buffer.byteLength);
    const length = payloadInt(p, "length", 0, Math.floor((buffer.byteLength - byteOffset) / bytesPerElement(dtype)));
    if (byteOffset % bytesPerElement(dtype) !== 0) {
      throw new SabreTypeError(`field "byteOffset" ${byteOffset} is not aligned to ${dtype}`);
    }
    return new CONSTRUCTORS[dtype](buffer, byteOffset, length);
}

// A bare typed array over a Memory's buffer (kernel args such as a reduction's
// `data`); other typed arrays pass through structured clone as they are.
registerShareable<TypedArray>({
  kind: "wasmview",
  test: (v): v is TypedArray => ArrayBuffer.isView(v) && memoryOf(v.buffer) !== undefined && dtypeOf(v) !== undefined,
  encode: (a) => ({ dtype: dtypeOf(a), buffer: a.buffer, ...memoryField(a.buffer), byteOffset: a.byteOffset, length: a.length }),
  decode: (p) => {
    return payloadView(p);
  },
});

registerShareable<NdArray>({
  kind: "ndarray",
  test: (v): v is NdArray => isNdArray(v) && v.data.buffer instanceof SharedArrayBuffer,
  encode: (a) => ({
    dtype: dtypeOf(a.data),
    buffer: a.data.buffer,
    ...memoryField(a.data.buffer),
    byteOffset: a.data.byteOffset,
    length: a.data.length,
    shape: a.shape.slice(),
    stride: a.stride.slice(),
    offset: a.offset,
  }),
  decode: (p) => {
    const data = payloadView(p);
    const length = data.length;
    const shape = p["shape"];
    const stride = p["stride"];
    const ints = (x: unknown): x is number[] => Array.isArray(x) && x.every((n) => Number.isInteger(n));
    if (!ints(shape) || !ints(stride) || shape.length !== stride.length || shape.some((n) => n < 0)) {
      throw new SabreTypeError("fields \"shape\" and \"stride\" must be integer arrays of one length");
    }
    const offset = payloadInt(p, "offset", 0, Math.max(length - 1, 0));
    const [lo, hi] = reachableRange(shape, stride, offset);
    if (hi >= lo && (lo < 0 || hi >= length)) {
      throw new SabreTypeError(`the view reaches indices [${lo}, ${hi}] outside its ${length} elements`);
    }
    return ndarray(data, shape, stride, offset);
  },
});
