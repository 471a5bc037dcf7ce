// How ops.map walks its operands: numpy broadcasting (align trailing axes,
// a size-1 axis stretches) expressed as strides, then axes merged wherever
// every operand allows, so that contiguous arrays become one flat loop.
import { SabreTypeError } from "../errors.js";
import type { NdArray } from "../memory/ndarray-type.js";

const fmt = (shape: readonly number[]): string => `[${shape.join(", ")}]`;

/** numpy's broadcast of two shapes; a mismatch names both. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[], names: [string, string]): number[] {
  const d = Math.max(a.length, b.length);
  const out = new Array<number>(d);
  for (let i = 0; i < d; i++) {
    const x = a[a.length - d + i] ?? 1;
    const y = b[b.length - d + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) {
      throw new SabreTypeError(
        `ops.${op}: ${names[0]} of shape ${fmt(a)} and ${names[1]} of shape ${fmt(b)} do not broadcast (axis ${i} of the result: ${x} vs ${y})`,
      );
    }
    out[i] = x === 1 ? y : x;
  }
  return out;
}

/** The strides that read `a` as an array of `shape` (a stretched or missing axis has stride 0). */
export function stridesFor(a: Pick<NdArray, "shape" | "stride">, shape: readonly number[]): number[] {
  const d = shape.length;
  const lead = d - a.shape.length;
  const out = new Array<number>(d).fill(0);
  for (let i = lead; i < d; i++) out[i] = a.shape[i - lead] === 1 ? 0 : a.stride[i - lead]!;
  return out;
}

export interface Walk {
  /** The loop's shape after merging: at least one axis. */
  shape: number[];
  /** One strides array per operand, each as long as shape. */
  strides: number[][];
}

/**
 * Drops size-1 axes and merges axis i into i+1 wherever, for every operand,
 * stride[i] === stride[i+1] * shape[i+1]: a C-contiguous array (or a
 * contiguous run of rows) becomes a single axis.
 */
export function mergeAxes(shape: readonly number[], strides: readonly (readonly number[])[]): Walk {
  const keep = shape.map((_, i) => i).filter((i) => shape[i] !== 1);
  let outShape = keep.map((i) => shape[i]!);
  let outStrides = strides.map((s) => keep.map((i) => s[i]!));
  if (outShape.length === 0) return { shape: [1], strides: strides.map(() => [0]) };
  for (let i = outShape.length - 2; i >= 0; i--) {
    const n = outShape[i + 1]!;
    if (outStrides.every((s) => s[i] === s[i + 1]! * n)) {
      outShape = [...outShape.slice(0, i), outShape[i]! * n, ...outShape.slice(i + 2)];
      outStrides = outStrides.map((s) => [...s.slice(0, i), s[i + 1]!, ...s.slice(i + 2)]);
    }
  }
  return { shape: outShape, strides: outStrides };
}

/** True when out and a (read through `aStrides`) visit exactly the same elements in the same order. */
export function sameElements(out: NdArray, outStrides: readonly number[], a: NdArray, aStrides: readonly number[]): boolean {
  return (
    out.data.buffer === a.data.buffer &&
    out.data.byteOffset === a.data.byteOffset &&
    out.data.BYTES_PER_ELEMENT === a.data.BYTES_PER_ELEMENT &&
    out.offset === a.offset &&
    outStrides.every((s, i) => s === aStrides[i])
  );
}
