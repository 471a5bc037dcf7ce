import { SabreTypeError } from "../errors.js";
import { eachIndex } from "../memory/strided.js";
import { describe } from "../validate.js";
import { CONSTRUCTORS, dtypeOf, isBigIntDType, type DType, type TypedArray } from "../memory/dtypes.js";
import { isNdArray, type NdArray } from "../memory/ndarray-type.js";
import { BIGINT_RANGES, INT_RANGES, alwaysFits, holdsExactly } from "../memory/ranges.js";

/**
 * How values get into and out of a queue's slots. Everything that can fail
 * (wrong type, wrong size, a NaN for an int32 queue) fails in `prepare` or
 * `checkOut`, BEFORE the queue claims a slot: once a slot is claimed the copy
 * must not throw, or the ticket would never be published and every consumer
 * behind it would wait forever.
 */

/** Copies a validated value into the slot at `offset` of the queue's data array. Never throws. */
export type Writer = (data: TypedArray, offset: number) => void;

type Cells = { [i: number]: number | bigint };

function isRowMajor(a: NdArray): boolean {
  let s = 1;
  for (let i = a.shape.length - 1; i >= 0; i--) {
    if (a.shape[i]! !== 1 && a.stride[i] !== s) return false;
    s *= a.shape[i]!;
  }
  return true;
}

export class RecordCodec {
  readonly dtype: DType;
  /** Elements per record (1 for a scalar queue). */
  readonly size: number;
  /** True when items are single numbers/bigints rather than records. */
  readonly scalar: boolean;
  readonly big: boolean;
  private readonly shape: readonly number[];

  constructor(dtype: DType, shape: readonly number[], size: number) {
    this.dtype = dtype;
    this.shape = shape;
    this.size = size;
    this.scalar = shape.length === 0;
    this.big = isBigIntDType(dtype);
  }

  private get what(): string {
    return this.scalar ? `a ${this.dtype} queue` : `a ${this.dtype} queue of records of shape [${this.shape.join(", ")}]`;
  }

  /** Validates one element and returns it converted for this dtype; throws a SabreTypeError naming `where`. */
  element(v: unknown, where: string): number | bigint {
    if (this.big) {
      let b: bigint;
      if (typeof v === "bigint") b = v;
      else if (typeof v === "number" && Number.isSafeInteger(v)) b = BigInt(v);
      else throw new SabreTypeError(`${where} must be a bigint (or a safe integer number) for ${this.what}, got ${describe(v)}`);
      const [lo, hi] = BIGINT_RANGES[this.dtype as "bigint64" | "biguint64"];
      if (b < lo || b > hi) throw new SabreTypeError(`${where} ${b} is outside the ${this.dtype} range [${lo}, ${hi}]`);
      return b;
    }
    if (typeof v !== "number") {
      throw new SabreTypeError(`${where} must be a number for ${this.what}, got ${describe(v)}`);
    }
    const range = INT_RANGES[this.dtype];
    if (range && (!Number.isInteger(v) || v < range[0] || v > range[1])) {
      throw new SabreTypeError(`${where} must be an integer in [${range[0]}, ${range[1]}] for ${this.what}, got ${describe(v)}`);
    }
    if (this.dtype === "uint8_clamped" && Number.isNaN(v)) {
      throw new SabreTypeError(`${where} must be a number (not NaN) for ${this.what}`);
    }
    return v;
  }

  /** True when a typed array's elements are of this queue's kind (bigint vs number). */
  private sameKind(t: TypedArray): boolean {
    return isBigIntDType(dtypeOf(t)!) === this.big;
  }

  /**
   * A record from a typed array or ndarray of another dtype is converted as
   * TypedArray.set converts, which wraps 3e9 into an int32 and truncates 1.5:
   * unless every value of its dtype fits this queue's, each element is
   * checked as a plain array's would be (records are small; this runs before
   * a slot is claimed).
   */
  private checkValues(src: TypedArray | NdArray, op: string): void {
    const from = dtypeOf(isNdArray(src) ? src.data : src)!;
    if (alwaysFits(from, this.dtype)) return;
    if (isNdArray(src)) {
      const data = src.data as Cells;
      eachIndex(src, (p, k) => void this.element(data[p], `${op}: value[${k}] (of the ${from} record)`));
      return;
    }
    const t = src as Cells;
    for (let k = 0; k < src.length; k++) this.element(t[k], `${op}: value[${k}] (of the ${from} record)`);
  }

  /**
   * A pop destination must hold every value of this queue's dtype exactly
   * (its dtype, or a lossless widening such as float32 into a Float64Array):
   * TypedArray.set would truncate float records into an Int32Array.
   */
  private checkOutDType(t: TypedArray, op: string): void {
    const to = dtypeOf(t)!;
    if (!holdsExactly(this.dtype, to)) {
      throw new SabreTypeError(
        `${op}: out is a ${t.constructor.name} (${to}), which cannot hold every value of ${this.what}; ` +
          `use a ${CONSTRUCTORS[this.dtype].name} (${this.dtype}) or a dtype that holds every ${this.dtype} value exactly`,
      );
    }
  }

  private kinds(): string {
    return this.big ? "a BigInt64Array or BigUint64Array" : "a number typed array";
  }

  /** Validates `value` for push and returns the copy to run once a slot is claimed. */
  prepare(value: unknown, op: string): Writer {
    if (this.scalar) {
      const v = this.element(value, `${op}: the value`);
      return (data, offset) => {
        (data as Cells)[offset] = v;
      };
    }
    const n = this.size;
    const expected = `${this.kinds()}, an array or an ndarray of ${n} elements`;
    if (isNdArray(value)) {
      const src = value;
      if (!isTypedArrayLike(src.data) || !this.sameKind(src.data)) {
        throw new SabreTypeError(`${op}: ${this.what} takes ${expected}; got an ndarray over ${describe(src.data)}`);
      }
      const size = src.shape.reduce((x, y) => x * y, 1);
      if (size !== n) {
        throw new SabreTypeError(`${op}: ${this.what} takes records of ${n} elements; got an ndarray of shape [${src.shape.join(", ")}] (${size} elements)`);
      }
      this.checkValues(src, op);
      if (isRowMajor(src)) {
        const flat = src.data.subarray(src.offset, src.offset + n) as TypedArray;
        return (data, offset) => (data as { set(a: ArrayLike<unknown>, o: number): void }).set(flat, offset);
      }
      return (data, offset) => {
        const from = src.data as Cells;
        const to = data as Cells;
        eachIndex(src, (p, k) => {
          to[offset + k] = from[p]!;
        });
      };
    }
    if (ArrayBuffer.isView(value)) {
      const t = value as TypedArray;
      if (!isTypedArrayLike(t) || !this.sameKind(t)) {
        throw new SabreTypeError(`${op}: ${this.what} takes ${expected}; got ${describe(value)}`);
      }
      if (t.length !== n) {
        throw new SabreTypeError(`${op}: ${this.what} takes records of ${n} elements; got a ${t.constructor.name} of length ${t.length}`);
      }
      this.checkValues(t, op);
      return (data, offset) => (data as { set(a: ArrayLike<unknown>, o: number): void }).set(t, offset);
    }
    if (Array.isArray(value)) {
      if (value.length !== n) {
        throw new SabreTypeError(`${op}: ${this.what} takes records of ${n} elements; got an array of length ${value.length}`);
      }
      // Converted into a private copy now, so the write cannot fail and a later change to the array cannot leak in.
      const copy = new CONSTRUCTORS[this.dtype](n) as TypedArray;
      const c = copy as Cells;
      for (let i = 0; i < n; i++) c[i] = this.element(value[i], `${op}: value[${i}]`);
      return (data, offset) => (data as { set(a: ArrayLike<unknown>, o: number): void }).set(copy, offset);
    }
    throw new SabreTypeError(`${op}: ${this.what} takes ${expected}; got ${describe(value)}`);
  }

  /** Validates a pop destination before a slot is claimed (so a bad `out` never loses an item). */
  checkOut(out: unknown, op: string): void {
    if (out === undefined) return;
    if (this.scalar) {
      throw new SabreTypeError(
        `${op}: out must be undefined for ${this.what} (items are returned as values); got ${describe(out)}. ` +
          `To pass only a timeout, call ${op}(undefined, timeout)`,
      );
    }
    const n = this.size;
    if (isNdArray(out)) {
      if (!isTypedArrayLike(out.data) || !this.sameKind(out.data)) {
        throw new SabreTypeError(`${op}: out must hold ${this.big ? "bigints" : "numbers"} for ${this.what}; got an ndarray over ${describe(out.data)}`);
      }
      const size = out.shape.reduce((x, y) => x * y, 1);
      if (size !== n) {
        throw new SabreTypeError(`${op}: out must have ${n} elements for ${this.what}; got an ndarray of shape [${out.shape.join(", ")}] (${size} elements)`);
      }
      this.checkOutDType(out.data, op);
      return;
    }
    if (ArrayBuffer.isView(out) && isTypedArrayLike(out)) {
      if (!this.sameKind(out)) {
        throw new SabreTypeError(`${op}: out must be ${this.kinds()} for ${this.what}; got ${describe(out)}`);
      }
      if (out.length !== n) {
        throw new SabreTypeError(`${op}: out must have ${n} elements for ${this.what}; got a ${out.constructor.name} of length ${out.length}`);
      }
      this.checkOutDType(out, op);
      return;
    }
    throw new SabreTypeError(`${op}: out must be a typed array or an ndarray of ${n} elements for ${this.what}; got ${describe(out)}`);
  }

  /** Copies the record at `offset` out (into `out`, already checked, or a new typed array). */
  read(data: TypedArray, offset: number, out: unknown): unknown {
    if (this.scalar) return (data as Cells)[offset];
    const n = this.size;
    const rec = data.subarray(offset, offset + n) as TypedArray;
    if (out === undefined) {
      const copy = new CONSTRUCTORS[this.dtype](n) as TypedArray;
      (copy as { set(a: ArrayLike<unknown>): void }).set(rec);
      return copy;
    }
    if (isNdArray(out)) {
      if (isRowMajor(out)) {
        (out.data as { set(a: ArrayLike<unknown>, o: number): void }).set(rec, out.offset);
      } else {
        const to = out.data as Cells;
        const from = rec as Cells;
        eachIndex(out, (p, k) => {
          to[p] = from[k]!;
        });
      }
      return out;
    }
    (out as { set(a: ArrayLike<unknown>): void }).set(rec);
    return out;
  }
}

function isTypedArrayLike(v: unknown): v is TypedArray {
  return dtypeOf(v) !== undefined;
}
