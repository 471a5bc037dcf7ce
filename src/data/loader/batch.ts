import ndarray from "ndarray";
import { ClosedError } from "../../errors.js";
import { dtypeOf, type DType, type TypedArray } from "../../memory/dtypes.js";
import type { NdArray } from "../../memory/ndarray-type.js";
import { sharedTypedArray } from "../../memory/shared.js";
import type { FieldSpecs } from "./define.js";

/**
 * One batch. Its field views live in a slot of the loader's ring: valid
 * until the loop's next step or release(), after which the slot is refilled.
 * clone() keeps a copy (fresh shared arrays).
 */
export class Batch<F extends string = string> {
  /** Per field, an ndarray [size, ...shape] over the slot (a scalar field gives [size]). */
  readonly fields: Readonly<Record<F, NdArray>>;
  /** The dataset indices of the rows (for an iterable dataset: each sample's ordinal in its worker's shard). */
  readonly indices: Int32Array;
  private released = false;

  /** @internal */
  constructor(
    /** The batch's number in this epoch (for an iterable dataset: the order it was yielded in). */
    readonly index: number,
    /** The epoch it belongs to. */
    readonly epoch: number,
    /** Its number of samples (batchSize, or fewer for the last batch). */
    readonly size: number,
    fields: Record<F, NdArray>,
    indices: Int32Array,
    private readonly onRelease: (() => void) | undefined,
  ) {
    this.fields = Object.freeze(fields);
    this.indices = indices;
  }

  /** Hands the slot back to the workers now (the views must not be used after). Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.onRelease?.();
  }

  /** True once release() ran (or the loop moved on): the views must not be used. */
  get isReleased(): boolean {
    return this.released;
  }

  /** A copy that outlives the slot: every field in a fresh shared array, indices in a fresh Int32Array. */
  clone(): Batch<F> {
    if (this.released) throw new ClosedError("this batch (released: its slot may hold another batch now)");
    const fields = {} as Record<F, NdArray>;
    for (const [name, view] of Object.entries(this.fields) as Array<[F, NdArray]>) {
      const dtype = dtypeOf(view.data) as DType;
      const copy = sharedTypedArray(dtype, view.size);
      (copy as Float64Array).set(view.data.subarray(view.offset, view.offset + view.size) as Float64Array);
      fields[name] = ndarray(copy as never, view.shape.slice()) as unknown as NdArray;
    }
    const c = new Batch<F>(this.index, this.epoch, this.size, fields, this.indices.slice(), undefined);
    return c;
  }
}

/** Views of rows [0, size) of slot `s` of every field (slots of `batchSize` rows). */
export function slotViews(fields: FieldSpecs, storage: Record<string, TypedArray>, batchSize: number, s: number, size: number): Record<string, NdArray> {
  const out: Record<string, NdArray> = {};
  for (const [name, spec] of Object.entries(fields)) {
    let row = 1;
    for (const d of spec.shape) row *= d;
    const base = s * batchSize * row;
    const data = storage[name]!.subarray(base, base + size * row);
    out[name] = ndarray(data as never, [size, ...spec.shape]) as unknown as NdArray;
  }
  return out;
}

/**
 * The views of every slot, made once per epoch and handed to each full
 * batch of that slot (a partial batch, the last one, gets its own): a batch
 * costs the main thread one small object instead of an ndarray, a shape
 * array and a typed-array view per field, which kept V8's young generation
 * growing during an epoch (src/data/loader/README.md, "Memory"). Two
 * batches of one slot are never valid together, so sharing the views
 * exposes nothing a batch did not already: its slot's memory.
 */
export class SlotViews {
  private readonly full: Array<{ fields: Record<string, NdArray>; indices: Int32Array } | undefined>;
  constructor(
    private readonly fields: FieldSpecs,
    private readonly storage: Record<string, TypedArray>,
    private readonly indices: Int32Array,
    private readonly batchSize: number,
    slots: number,
  ) {
    this.full = new Array(slots).fill(undefined);
  }

  /** Rows [0, size) of slot `s`: its field views (frozen) and its indices. */
  get(s: number, size: number): { fields: Record<string, NdArray>; indices: Int32Array } {
    const B = this.batchSize;
    if (size === B) {
      const cached = this.full[s];
      if (cached) return cached;
    }
    const views = { fields: Object.freeze(slotViews(this.fields, this.storage, B, s, size)), indices: this.indices.subarray(s * B, s * B + size) };
    if (size === B) this.full[s] = views;
    return views;
  }
}

export function allocSlots(fields: FieldSpecs, slots: number, batchSize: number): Record<string, TypedArray> {
  const out: Record<string, TypedArray> = {};
  for (const [name, spec] of Object.entries(fields)) {
    let row = 1;
    for (const d of spec.shape) row *= d;
    out[name] = sharedTypedArray(spec.dtype, slots * batchSize * row);
  }
  return out;
}
