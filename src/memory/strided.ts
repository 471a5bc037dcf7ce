import type { NdArray } from "./ndarray-type.js";

/**
 * Visits an ndarray's elements in row-major order, whatever its strides,
 * giving each one's index into `data` and its position k in that order.
 * A 0-d array has one element.
 */
export function eachIndex(a: Pick<NdArray, "shape" | "stride" | "offset">, visit: (dataIndex: number, k: number) => void): void {
  const { shape, stride } = a;
  const d = shape.length;
  const total = shape.reduce((x, y) => x * y, 1);
  if (total === 0) return;
  const idx = new Array<number>(d).fill(0);
  let p = a.offset;
  for (let k = 0; k < total; k++) {
    visit(p, k);
    // Odometer: bump the last axis, carry into earlier ones.
    for (let ax = d - 1; ax >= 0; ax--) {
      idx[ax]!++;
      p += stride[ax]!;
      if (idx[ax]! < shape[ax]!) break;
      p -= stride[ax]! * shape[ax]!;
      idx[ax] = 0;
    }
  }
}
