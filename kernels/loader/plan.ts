// What every thread that fills batches needs to know: sent once to each
// worker as the loop kernel's args (identical every epoch, so the engine's
// args cache sends nothing after the first).
import type { TypedArray } from "../../src/memory/dtypes.js";
import type { FieldSpec, FieldSpecs } from "../../src/data/loader/define.js";
import type { TransformSpec } from "../../src/data/loader/transforms.js";

export type DatasetSource =
  /** Rows of C-contiguous shared arrays: row i of field f is data[offset + i * rowSize, ... + rowSize). */
  | { kind: "tensor"; length: number; arrays: Record<string, { data: TypedArray; offset: number }> }
  | { kind: "module"; url: string; params: unknown };

export interface LoaderPlan {
  readonly id: string;
  readonly mode: "map" | "iterable";
  readonly source: DatasetSource;
  /** What the dataset writes per sample. */
  readonly inFields: FieldSpecs;
  /** What lands in the slot (after the transforms). */
  readonly outFields: FieldSpecs;
  readonly transforms: readonly TransformSpec[];
  /** The field spec after each transform (same positions as transforms). */
  readonly stepOutputs: readonly FieldSpec[];
  readonly batchSize: number;
  readonly slots: number;
  /** Threads filling the ring (1 for numWorkers 0). */
  readonly numWorkers: number;
  readonly seed: number;
  readonly dropLast: boolean;
}

/** The shared memory of a ring, in the loop kernel's args. */
export interface RingMemory {
  readonly ctl: Int32Array;
  /** This epoch's sample order (map-style): batch b is order[starts[b] .. starts[b + 1]). */
  readonly order: Int32Array;
  readonly starts: Int32Array;
  /** Per slot, the dataset indices of its rows (batch.indices). */
  readonly indices: Int32Array;
  /** Per output field: slots x batchSize rows. */
  readonly fields: Record<string, TypedArray>;
}

export function rowSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
