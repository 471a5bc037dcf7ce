// The Queue implementation. Its public face (the constructor's typing and the
// wire form) is queue.ts; the lock-free ring is ring.ts; record copying is records.ts.
import { AbortError, QueueClosedError, SabreTypeError, TimeoutError } from "../errors.js";
import { checkKnownKeys, checkSignal, checkTimeout, describe } from "../validate.js";
import { CONSTRUCTORS, DTYPES, MAX_ELEMENTS, bytesPerElement, checkDType, type DType, type DTypeMap, type TypedArray } from "../memory/dtypes.js";
import type { NdArray } from "../memory/ndarray-type.js";
import { allocShared, checkShape } from "../memory/shared.js";
import { DEFAULT_SPINS, deadlineAfter, holdEventLoop, park, parkAsync, remaining, spinWhileEqual } from "../sync/wait.js";
import { RecordCodec } from "./records.js";
import {
  CAPACITY,
  CLOSED,
  DTYPE,
  HEADER_CELLS,
  MAGIC,
  MAGIC_VALUE,
  MAX_CAPACITY,
  NOT_EMPTY,
  NOT_FULL,
  POP_WAITERS,
  PUSH_WAITERS,
  RECORD,
  Ring,
} from "./ring.js";

/** A record shape: omitted or [] for a scalar queue, e.g. [28, 28] for records of 784 elements. */
export type QueueShape = number | readonly number[];

type BigDType = "bigint64" | "biguint64";
type BigTypedArray = BigInt64Array | BigUint64Array;
type NumTypedArray = Exclude<TypedArray, BigTypedArray>;

/** One element of a `D` queue: bigint for the 64-bit integer dtypes, number otherwise. */
export type QueueScalar<D extends DType> = D extends BigDType ? bigint : number;
/** What a record queue's push takes: a typed array, an array or an ndarray with exactly the record's element count. */
export type QueueRecordIn<D extends DType> = D extends BigDType
  ? BigTypedArray | readonly (bigint | number)[] | NdArray<BigTypedArray>
  : NumTypedArray | readonly number[] | NdArray<NumTypedArray>;
/** Where a record queue's pop may copy a record: a typed array or an ndarray of the record's element count. */
export type QueueRecordOut<D extends DType> = D extends BigDType ? BigTypedArray | NdArray<BigTypedArray> : NumTypedArray | NdArray<NumTypedArray>;

type IsScalar<S> = S extends undefined | readonly [] ? true : S extends number | readonly [number, ...number[]] ? false : boolean;
/** What pop returns: a number (bigint) for a scalar queue, a new typed array for a record queue. */
export type QueueItem<D extends DType, S> = IsScalar<S> extends true ? QueueScalar<D> : IsScalar<S> extends false ? DTypeMap[D] : QueueScalar<D> | DTypeMap[D];
/** What push takes. A bigint queue also takes safe integer numbers. */
export type QueueValue<D extends DType, S> = IsScalar<S> extends true
  ? QueueScalar<D> | (D extends BigDType ? number : never)
  : IsScalar<S> extends false
    ? QueueRecordIn<D>
    : QueueScalar<D> | number | QueueRecordIn<D>;

/** Options of `new Queue(options)`. */
export interface QueueOptions<D extends DType, S extends QueueShape | undefined> {
  /** How many items the queue holds before push blocks: an integer in [1, 2^27]. */
  capacity: number;
  /** The element type of the items. */
  dtype: D;
  /** Omitted or [] for a queue of numbers; a shape for a queue of fixed-size records. */
  shape?: S;
}

/** Options of the async twins. */
export interface QueueWaitOptions {
  /** Milliseconds before the call rejects with TimeoutError; undefined or Infinity for none. */
  timeout?: number;
  /** Aborting rejects the call with AbortError; the queue is left as it was. */
  signal?: AbortSignal;
}

export interface Attach {
  buffer: SharedArrayBuffer;
  capacity: number;
  dtype: DType;
  shape: number[];
  size: number;
}
/** Constructor option key (module-private in practice) that revives a queue over existing memory instead of allocating one. */
export const ATTACH = Symbol("sabre.queue.attach");

/** The byte layout: header cells, one sequence cell per slot, then the records (8-byte aligned). */
export function layout(capacity: number, dtype: DType, recordSize: number): { seqOffset: number; dataOffset: number; bytes: number } {
  const seqOffset = HEADER_CELLS * 4;
  const dataOffset = Math.ceil((seqOffset + capacity * 4) / 8) * 8;
  return { seqOffset, dataOffset, bytes: dataOffset + capacity * recordSize * bytesPerElement(dtype) };
}

export function recordShape(shape: unknown): { shape: number[]; size: number } {
  if (shape === undefined) return { shape: [], size: 1 };
  const checked = checkShape(shape, "shape");
  if (checked.size === 0) {
    throw new SabreTypeError(`shape [${checked.shape.join(", ")}] has no elements; a record needs at least one (omit shape for a queue of numbers)`);
  }
  return checked;
}

function waitOptions(options: unknown, op: string): { timeout: number; signal: AbortSignal | undefined } {
  if (options === undefined) return { timeout: Infinity, signal: undefined };
  if (typeof options !== "object" || options === null) {
    throw new SabreTypeError(`${op}: options must be an object like { timeout, signal }, got ${describe(options)}`);
  }
  const o = options as QueueWaitOptions;
  return { timeout: checkTimeout(o.timeout), signal: checkSignal(o.signal) };
}

/**
 * A bounded multi-producer multi-consumer FIFO queue of fixed-size typed
 * records, living in one SharedArrayBuffer. Any number of threads (main
 * included) push and pop concurrently; the queue travels to workers through
 * `serialize`/`deserialize` (or postMessage of a serialized message) and the
 * revived queue works on the same memory. Records are copied in on push and
 * out on pop, so the caller's arrays are never shared with the queue.
 *
 * - A scalar queue (no `shape`) carries numbers, or bigints for the bigint64
 *   and biguint64 dtypes. Integer dtypes refuse non-integers and
 *   out-of-range values rather than wrapping them.
 * - A record queue (`shape: [28, 28]`) takes a typed array, an array or an
 *   ndarray of exactly that many elements (any shape, read row-major); pop
 *   copies into `out` (a typed array or ndarray of that many elements, then
 *   returned) or into a new typed array. `out` must hold every value of the
 *   queue's dtype exactly: that dtype or a lossless widening (float32 into a
 *   Float64Array), never an Int32Array for float records. Typed-array and
 *   ndarray inputs of another dtype are converted, and refused (as plain
 *   arrays are) when a value does not fit an integer dtype.
 *
 * `push`/`pop` block (Atomics.wait: on the main thread this blocks the event
 * loop; prefer the async twins there) and take a timeout in ms
 * (`TimeoutError`). `tryPush`/`tryPop` never wait. `pushAsync`/`popAsync`
 * wait on Atomics.waitAsync with `{ timeout, signal }` and keep the event
 * loop alive while they wait. `close()` wakes every waiter: pushes then
 * throw `QueueClosedError`, pops return the items still queued (including
 * those whose push was already under way) and then throw `QueueClosedError`.
 *
 * ```ts
 * const q = new Queue({ capacity: 64, dtype: "float32", shape: [28, 28] });
 * const worker = new Worker(url, { workerData: serialize({ q }) });
 * // in the worker: const { q } = deserialize(workerData); q.push(image); ... q.close();
 * const image = new Float32Array(28 * 28);
 * for (;;) {
 *   try { await q.popAsync(image); } catch (e) { if (e instanceof QueueClosedError) break; throw e; }
 *   train(image);
 * }
 * // or: for await (const image of q) train(image);
 * ```
 *
 * An item is "in" the queue from the moment its push copies it in until a
 * pop copies it out. A push that has taken a slot but not finished copying
 * (e.g. a descheduled thread) holds back the items behind it: FIFO order is
 * kept, so consumers wait for it (spinning briefly, then parking) rather than
 * skip it, and `tryPop` reports nothing available meanwhile.
 */
export class Queue<D extends DType = DType, S extends QueueShape | undefined = QueueShape | undefined> {
  /** The most items the queue holds. */
  readonly capacity: number;
  /** The element type of the items. */
  readonly dtype: D;
  /** The record shape; [] for a scalar queue. */
  readonly shape: readonly number[];
  /** Elements per record (1 for a scalar queue). */
  readonly recordSize: number;
  /** The one SharedArrayBuffer holding the queue's state and records. */
  readonly buffer: SharedArrayBuffer;
  private readonly ring: Ring;
  private readonly ctl: Int32Array;
  private readonly data: TypedArray;
  private readonly codec: RecordCodec;

  constructor(options: QueueOptions<D, S>) {
    let a = (options as { [ATTACH]?: Attach } | undefined)?.[ATTACH];
    const fresh = a === undefined;
    if (a === undefined) {
      if (typeof options !== "object" || options === null) {
        throw new SabreTypeError(`new Queue(options) needs an object like { capacity, dtype, shape? }, got ${describe(options)}`);
      }
      // A misspelt key ({ capcity }) would otherwise be ignored; the attach marker is a symbol, which Object.keys skips.
      checkKnownKeys("new Queue options", options, ["capacity", "dtype", "shape"]);
      const capacity = options.capacity;
      if (typeof capacity !== "number" || !Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
        throw new SabreTypeError(`capacity must be an integer in [1, ${MAX_CAPACITY}] (2^27), got ${describe(capacity)}`);
      }
      const dtype = checkDType(options.dtype);
      const { shape, size } = recordShape(options.shape);
      if (capacity * size > MAX_ELEMENTS) {
        throw new SabreTypeError(
          `capacity ${capacity} x ${size} elements per record = ${capacity * size} elements; a queue holds at most ${MAX_ELEMENTS} (2^31 - 1)`,
        );
      }
      const buffer = allocShared(layout(capacity, dtype, size).bytes);
      a = { buffer, capacity, dtype, shape, size };
    }
    const { seqOffset, dataOffset } = layout(a.capacity, a.dtype, a.size);
    this.buffer = a.buffer;
    this.capacity = a.capacity;
    this.dtype = a.dtype as D;
    this.shape = Object.freeze(a.shape.slice());
    this.recordSize = a.size;
    this.ctl = new Int32Array(a.buffer, 0, HEADER_CELLS);
    this.ring = new Ring(this.ctl, new Int32Array(a.buffer, seqOffset, a.capacity), a.capacity);
    this.data = new CONSTRUCTORS[a.dtype](a.buffer, dataOffset, a.capacity * a.size);
    this.codec = new RecordCodec(a.dtype, a.shape, a.size);
    if (fresh) {
      this.ring.init();
      this.ctl[CAPACITY] = a.capacity;
      this.ctl[RECORD] = a.size;
      this.ctl[DTYPE] = DTYPES.indexOf(a.dtype);
      // Written last: a buffer with the magic is a fully initialised queue (serialize happens-after this anyway).
      Atomics.store(this.ctl, MAGIC, MAGIC_VALUE);
    }
  }

  /** True once close() ran (in any thread). */
  get closed(): boolean {
    return this.ring.closed;
  }

  /**
   * Items pushed and not yet popped. Under concurrency it is a snapshot that
   * may be stale by the time you read it, and counts pushes and pops that are
   * under way; use it for monitoring, never for synchronisation.
   */
  get size(): number {
    return this.ring.size;
  }

  /** Threads (or async calls) parked in push and in pop right now; approximate, like size. */
  get waiting(): {
    /** Threads blocked in push. */
    producers: number;
    /** Threads blocked in pop. */
    consumers: number;
  } {
    return { producers: Atomics.load(this.ctl, PUSH_WAITERS), consumers: Atomics.load(this.ctl, POP_WAITERS) };
  }

  /**
   * Pushes one item, waiting while the queue is full. Throws TimeoutError
   * after `timeout` ms (undefined: wait forever; 0: try once), and
   * QueueClosedError if the queue is or gets closed before the item went in.
   */
  push(value: QueueValue<D, S>, timeout?: number): void {
    const ms = checkTimeout(timeout);
    const write = this.codec.prepare(value, "Queue.push");
    const { ctl, ring } = this;
    const deadline = deadlineAfter(ms);
    for (;;) {
      // Read the event BEFORE looking at the ring: a release after this read changes it, so park returns at once.
      const ev = Atomics.load(ctl, NOT_FULL);
      const t = ring.claimPush();
      if (t >= 0) return this.put(t, write);
      if (t === CLOSED) throw new QueueClosedError("Queue.push: the queue is closed");
      if (remaining(deadline) === 0) throw new TimeoutError("Queue.push", ms);
      if (spinWhileEqual(ctl, NOT_FULL, ev, DEFAULT_SPINS)) continue;
      Atomics.add(ctl, PUSH_WAITERS, 1);
      try {
        park(ctl, NOT_FULL, ev, deadline);
      } finally {
        Atomics.sub(ctl, PUSH_WAITERS, 1);
      }
    }
  }

  /** Pushes one item if there is room now: true if it went in, false if the queue is full. Throws QueueClosedError once closed. */
  tryPush(value: QueueValue<D, S>): boolean {
    const write = this.codec.prepare(value, "Queue.tryPush");
    const t = this.ring.claimPush();
    if (t >= 0) {
      this.put(t, write);
      return true;
    }
    if (t === CLOSED) throw new QueueClosedError("Queue.tryPush: the queue is closed");
    return false;
  }

  /**
   * Pops the oldest item, waiting while the queue is empty. A record is
   * copied into `out` (returned) or into a new typed array; a scalar queue
   * returns the number and takes no `out` (pass undefined to give a
   * timeout). Throws TimeoutError after `timeout` ms and QueueClosedError
   * once the queue is closed and drained.
   */
  pop<O extends QueueRecordOut<D>>(out: O, timeout?: number): O;
  pop(out?: undefined, timeout?: number): QueueItem<D, S>;
  pop(out?: unknown, timeout?: number): unknown {
    const ms = checkTimeout(timeout);
    this.codec.checkOut(out, "Queue.pop");
    const { ctl, ring } = this;
    const deadline = deadlineAfter(ms);
    for (;;) {
      const ev = Atomics.load(ctl, NOT_EMPTY);
      const h = ring.claimPop();
      if (h >= 0) return this.take(h, out);
      if (h === CLOSED) throw new QueueClosedError("Queue.pop: the queue is closed and drained");
      if (remaining(deadline) === 0) throw new TimeoutError("Queue.pop", ms);
      if (spinWhileEqual(ctl, NOT_EMPTY, ev, DEFAULT_SPINS)) continue;
      Atomics.add(ctl, POP_WAITERS, 1);
      try {
        park(ctl, NOT_EMPTY, ev, deadline);
      } finally {
        Atomics.sub(ctl, POP_WAITERS, 1);
      }
    }
  }

  /** Pops the oldest item if one is available now, else undefined. Throws QueueClosedError once closed and drained. */
  tryPop<O extends QueueRecordOut<D>>(out: O): O | undefined;
  tryPop(out?: undefined): QueueItem<D, S> | undefined;
  tryPop(out?: unknown): unknown {
    this.codec.checkOut(out, "Queue.tryPop");
    const h = this.ring.claimPop();
    if (h >= 0) return this.take(h, out);
    if (h === CLOSED) throw new QueueClosedError("Queue.tryPop: the queue is closed and drained");
    return undefined;
  }

  /**
   * push without blocking the event loop. The value is validated at the
   * call and copied when it enters the queue; rejects with TimeoutError,
   * AbortError (the item did not go in) or QueueClosedError.
   */
  async pushAsync(value: QueueValue<D, S>, options?: QueueWaitOptions): Promise<void> {
    const op = "Queue.pushAsync";
    const { timeout, signal } = waitOptions(options, op);
    let write = this.codec.prepare(value, op);
    if (signal?.aborted) throw new AbortError(op, signal.reason);
    const { ctl, ring } = this;
    const deadline = deadlineAfter(timeout);
    let letGo: (() => void) | undefined;
    try {
      for (;;) {
        const ev = Atomics.load(ctl, NOT_FULL);
        const t = ring.claimPush();
        if (t >= 0) return this.put(t, write);
        if (t === CLOSED) throw new QueueClosedError(`${op}: the queue is closed`);
        if (remaining(deadline) === 0) throw new TimeoutError(op, timeout);
        letGo ??= holdEventLoop();
        Atomics.add(ctl, PUSH_WAITERS, 1);
        try {
          await parkAsync(ctl, NOT_FULL, ev, deadline, signal, op);
        } finally {
          Atomics.sub(ctl, PUSH_WAITERS, 1);
        }
        // The caller's array may have changed while we waited: validate what will actually be copied.
        write = this.codec.prepare(value, op);
      }
    } finally {
      letGo?.();
    }
  }

  /** pop without blocking the event loop: resolves to the item (or `out`); rejects with TimeoutError, AbortError or QueueClosedError. */
  popAsync<O extends QueueRecordOut<D>>(out: O, options?: QueueWaitOptions): Promise<O>;
  popAsync(out?: undefined, options?: QueueWaitOptions): Promise<QueueItem<D, S>>;
  async popAsync(out?: unknown, options?: QueueWaitOptions): Promise<unknown> {
    const op = "Queue.popAsync";
    const { timeout, signal } = waitOptions(options, op);
    this.codec.checkOut(out, op);
    if (signal?.aborted) throw new AbortError(op, signal.reason);
    const { ctl, ring } = this;
    const deadline = deadlineAfter(timeout);
    let letGo: (() => void) | undefined;
    try {
      for (;;) {
        const ev = Atomics.load(ctl, NOT_EMPTY);
        const h = ring.claimPop();
        if (h >= 0) return this.take(h, out);
        if (h === CLOSED) throw new QueueClosedError(`${op}: the queue is closed and drained`);
        if (remaining(deadline) === 0) throw new TimeoutError(op, timeout);
        letGo ??= holdEventLoop();
        Atomics.add(ctl, POP_WAITERS, 1);
        try {
          await parkAsync(ctl, NOT_EMPTY, ev, deadline, signal, op);
        } finally {
          Atomics.sub(ctl, POP_WAITERS, 1);
        }
      }
    } finally {
      letGo?.();
    }
  }

  /**
   * Closes the queue for every thread: later pushes throw QueueClosedError,
   * every blocked push and pop wakes, and pops drain what is left (including
   * pushes already under way) before throwing QueueClosedError. Idempotent.
   */
  close(): void {
    this.ring.close();
  }

  /** Pops with popAsync until the queue is closed and drained. Each record item is a new typed array. */
  async *[Symbol.asyncIterator](): AsyncGenerator<QueueItem<D, S>, void, undefined> {
    for (;;) {
      let item: QueueItem<D, S>;
      try {
        item = await this.popAsync();
      } catch (err) {
        if (err instanceof QueueClosedError) return;
        throw err;
      }
      yield item;
    }
  }

  /** Copies a record into ticket t's slot and publishes it. Publishing even if the copy failed keeps the ring moving. */
  private put(t: number, write: (data: TypedArray, offset: number) => void): void {
    try {
      write(this.data, (t % this.capacity) * this.recordSize);
    } finally {
      this.ring.publish(t);
    }
  }

  /** Copies ticket h's record out and frees its slot (even if the copy failed, so the ring keeps moving). */
  private take(h: number, out: unknown): unknown {
    try {
      return this.codec.read(this.data, (h % this.capacity) * this.recordSize, out);
    } finally {
      this.ring.release(h);
    }
  }
}
