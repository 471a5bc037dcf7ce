// Queue's public face: the constructor typed so that the item type follows
// from the options (a scalar queue pops numbers, a record queue typed
// arrays), and the wire form that lets a queue travel to other threads.
import { SabreTypeError } from "../errors.js";
import { describe } from "../validate.js";
import { DTYPES, checkDType, type DType } from "../memory/dtypes.js";
import { payloadInt, registerShareable } from "../memory/serialize.js";
import { ATTACH, Queue as QueueClass, layout, recordShape, type Attach, type QueueOptions, type QueueShape } from "./queue-class.js";
import { CAPACITY, DTYPE, HEADER_CELLS, MAGIC, MAGIC_VALUE, MAX_CAPACITY, RECORD } from "./ring.js";

export type {
  QueueItem,
  QueueOptions,
  QueueRecordIn,
  QueueRecordOut,
  QueueScalar,
  QueueShape,
  QueueValue,
  QueueWaitOptions,
} from "./queue-class.js";

/** The type of the {@link Queue} constructor: `new Queue(options)` infers the item type from the dtype and shape. */
export interface QueueConstructor {
  /**
   * A new queue in a new SharedArrayBuffer. Without `shape` (or with []) the
   * item type is a number (bigint for bigint64/biguint64); with a literal
   * shape it is a typed array of the dtype.
   */
  new <D extends DType, const S extends QueueShape | undefined = undefined>(options: QueueOptions<D, S>): QueueClass<D, S>;
  /** @internal */
  readonly prototype: QueueClass;
}

/**
 * A bounded multi-producer multi-consumer FIFO queue of fixed-size typed
 * records in one SharedArrayBuffer, usable from any thread after
 * `serialize`/`deserialize`. A scalar queue (no `shape`) carries numbers
 * (bigints for bigint64/biguint64); a record queue takes typed arrays,
 * arrays or ndarrays of exactly `shape`'s element count and pops typed
 * arrays (or fills `out`). `push`/`pop` block with an optional timeout,
 * `tryPush`/`tryPop` never wait, `pushAsync`/`popAsync` take
 * `{ timeout, signal }`; `close()` wakes everyone, then pops drain and end
 * with QueueClosedError. The instance type documents every member.
 *
 * ```ts
 * const q = new Queue({ capacity: 64, dtype: "float32", shape: [28, 28] });
 * worker.postMessage(serialize({ q }));          // the worker pushes images
 * for await (const image of q) train(image);     // until the worker calls q.close()
 * ```
 */
export const Queue: QueueConstructor = QueueClass;
/**
 * A queue of `D` elements; `S` is its record shape (undefined or [] for a
 * queue of numbers). Built by `new Queue(options)`: a bounded
 * multi-producer multi-consumer FIFO of fixed-size records in one
 * SharedArrayBuffer, usable from any thread after serialize/deserialize.
 * Blocking calls throw {@link TimeoutError} (`ERR_SABRE_TIMEOUT`) when their
 * timeout expires; after close(), pushes and pops of a drained queue throw
 * {@link QueueClosedError} (`ERR_SABRE_QUEUE_CLOSED`).
 *
 * @example
 * ```ts
 * const q = new Queue({ capacity: 64, dtype: "float32", shape: [28, 28] });
 * worker.postMessage(serialize({ q }));         // the worker pushes images, then calls q.close()
 * for await (const image of q) train(image);    // Float32Array(784) each
 * ```
 *
 * @interface
 */
export type Queue<D extends DType = DType, S extends QueueShape | undefined = QueueShape | undefined> = QueueClass<D, S>;

registerShareable<QueueClass>({
  kind: "Queue",
  test: (v): v is QueueClass => v instanceof QueueClass,
  encode: (q) => ({ buffer: q.buffer, capacity: q.capacity, dtype: q.dtype, shape: q.shape.slice() }),
  decode: (p) => {
    const buffer = p["buffer"];
    if (!(buffer instanceof SharedArrayBuffer)) {
      throw new SabreTypeError(`field "buffer" must be a SharedArrayBuffer, got ${describe(buffer)}`);
    }
    const capacity = payloadInt(p, "capacity", 1, MAX_CAPACITY);
    const dtype = checkDType(p["dtype"], 'field "dtype"');
    const { shape, size } = recordShape(p["shape"] ?? []);
    const { bytes } = layout(capacity, dtype, size);
    if (buffer.byteLength !== bytes) {
      throw new SabreTypeError(`field "buffer" has ${buffer.byteLength} bytes; a queue of this capacity, dtype and shape has ${bytes}`);
    }
    const ctl = new Int32Array(buffer, 0, HEADER_CELLS);
    if (
      Atomics.load(ctl, MAGIC) !== MAGIC_VALUE ||
      ctl[CAPACITY] !== capacity ||
      ctl[RECORD] !== size ||
      ctl[DTYPE] !== DTYPES.indexOf(dtype)
    ) {
      throw new SabreTypeError('field "buffer" is not the memory of a queue with this capacity, dtype and shape');
    }
    const attach: Attach = { buffer, capacity, dtype, shape, size };
    return new QueueClass({ [ATTACH]: attach } as unknown as QueueOptions<DType, QueueShape>);
  },
});
