import { SabreTypeError } from "../../errors.js";
import { dtypeOf, type DType } from "../../memory/dtypes.js";
import { isNdArray, type NdArray } from "../../memory/ndarray-type.js";
import { from, isShared, rowMajorStrides } from "../../memory/shared.js";
import { describe } from "../../validate.js";
import type { FieldSpec } from "./define.js";
import { checkFieldName } from "./fields.js";

function cContiguous(x: NdArray): boolean {
  const want = rowMajorStrides(x.shape);
  return x.shape.every((d, i) => d === 1 || x.stride[i] === want[i]);
}

/**
 * Arrays already in memory, indexed along their first axis: sample i is
 * row i of every array. The workers gather rows straight from these into the
 * batch slot. Shared C-contiguous ndarrays are used as they are; anything
 * else (a typed array, a non-shared or strided ndarray, nested number
 * arrays) is copied into shared memory once, here.
 *
 * @example
 * ```ts
 * const ds = new TensorDataset({ image: X, label: y });   // X [n, 28, 28], y [n]
 * for await (const batch of new DataLoader(ds, { batchSize: 64, shuffle: true, seed: 1 })) {
 *   batch.fields.image;   // [64, 28, 28]
 *   batch.fields.label;   // [64]
 * }
 * ```
 */
export class TensorDataset {
  /** The shared arrays, by field name (axis 0 is the sample). */
  readonly arrays: Readonly<Record<string, NdArray>>;
  /** The number of samples (axis 0 of every array). */
  readonly length: number;
  /** Whether any input had to be copied into shared memory. */
  readonly copied: boolean;
  constructor(arrays: Record<string, unknown>) {
    if (typeof arrays !== "object" || arrays === null || Array.isArray(arrays) || isNdArray(arrays) || ArrayBuffer.isView(arrays)) {
      throw new SabreTypeError(`TensorDataset takes an object of named arrays ({ image: X, label: y }), got ${describe(arrays)}`);
    }
    const out: Record<string, NdArray> = {};
    let length: number | undefined;
    let copied = false;
    for (const [name, value] of Object.entries(arrays)) {
      checkFieldName("TensorDataset", name);
      let x: NdArray;
      if (isNdArray(value) && isShared(value) && cContiguous(value)) x = value;
      else if (isNdArray(value) || ArrayBuffer.isView(value) || Array.isArray(value)) {
        try {
          x = from(value as Parameters<typeof from>[0]);
        } catch (err) {
          throw new SabreTypeError(`TensorDataset field "${name}": ${(err as Error).message}`, { cause: err });
        }
        copied = true;
      } else throw new SabreTypeError(`TensorDataset field "${name}" must be an ndarray, a typed array or a nested number array, got ${describe(value)}`);
      if (x.shape.length === 0) throw new SabreTypeError(`TensorDataset field "${name}" is 0-dimensional; it needs a first (sample) axis`);
      if (length !== undefined && x.shape[0] !== length) {
        throw new SabreTypeError(`TensorDataset fields disagree on the number of samples: "${name}" has ${x.shape[0]}, an earlier field ${length}`);
      }
      length = x.shape[0]!;
      out[name] = x;
    }
    if (length === undefined) throw new SabreTypeError("TensorDataset needs at least one array");
    this.arrays = Object.freeze(out);
    this.length = length;
    this.copied = copied;
  }

  /** Each field's dtype and per-sample shape (a 1-D array gives shape []). */
  get fields(): Record<string, FieldSpec> {
    const f: Record<string, FieldSpec> = {};
    for (const [name, x] of Object.entries(this.arrays)) f[name] = { dtype: dtypeOf(x.data) as DType, shape: x.shape.slice(1) };
    return f;
  }
}
