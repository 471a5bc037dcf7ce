// OneHotEncoder's fitted state turned into the lookup its kernel reads
// (kernels/preprocess/encode.ts OneHotPlan): output column of every
// category, dense tables for small integer categories, NaN's own code.
import { sharedTypedArray } from "../../memory/shared.js";
import { DROPPED, UNKNOWN, type OneHotPlan } from "../../../kernels/preprocess/encode.js";

/** Integer categories spanning at most this many values get a dense table. */
const DENSE_SPAN = 1 << 16;

/** Sorts numbers ascending with NaN last and one NaN at most (scikit-learn's _unique). */
export function sortCategories(values: Iterable<number>): Float64Array {
  const set = new Set<number>(values);
  const hasNaN = set.delete(NaN);
  const out = Float64Array.from(set).sort();
  if (!hasNaN) return out;
  const withNaN = new Float64Array(out.length + 1);
  withNaN.set(out);
  withNaN[out.length] = NaN;
  return withNaN;
}

/** Output block width of each column: its categories less the dropped one. */
export function blockWidths(categories: readonly Float64Array[], dropIdx: ReadonlyArray<number | null> | null): number[] {
  return categories.map((c, j) => c.length - (dropIdx?.[j] != null ? 1 : 0));
}

export function buildPlan(categories: readonly Float64Array[], dropIdx: ReadonlyArray<number | null> | null): OneHotPlan {
  const d = categories.length;
  const widths = blockWidths(categories, dropIdx);
  const m = widths.reduce((a, b) => a + b, 0);
  const min = sharedTypedArray("float64", d);
  const span = sharedTypedArray("int32", d);
  const tableOff = sharedTypedArray("int32", d);
  const nanCode = sharedTypedArray("int32", d);
  const catOff = sharedTypedArray("int32", d + 1);
  const nonNaN = categories.map((c) => (c.length > 0 && c[c.length - 1] !== c[c.length - 1] ? c.subarray(0, c.length - 1) : c));
  for (let j = 0; j < d; j++) catOff[j + 1] = catOff[j]! + nonNaN[j]!.length;
  const cats = sharedTypedArray("float64", catOff[d]!);
  const pos = sharedTypedArray("int32", catOff[d]!);
  let tableLen = 0;
  let outCol = 0;
  for (let j = 0; j < d; j++) {
    const c = categories[j]!;
    const drop = dropIdx?.[j] ?? -1;
    const codeOf = (k: number): number => (k === drop ? DROPPED : outCol + (drop >= 0 && k > drop ? k - 1 : k));
    const real = nonNaN[j]!;
    cats.set(real, catOff[j]!);
    for (let k = 0; k < real.length; k++) pos[catOff[j]! + k] = codeOf(k);
    nanCode[j] = real.length < c.length ? codeOf(c.length - 1) : UNKNOWN;
    const integral = real.length > 0 && real.every((v) => Number.isInteger(v));
    const width = integral ? real[real.length - 1]! - real[0]! + 1 : Infinity;
    if (width <= DENSE_SPAN) {
      min[j] = real[0]!;
      span[j] = width;
      tableOff[j] = tableLen;
      tableLen += width;
    } else tableOff[j] = -1;
    outCol += widths[j]!;
  }
  const table = sharedTypedArray("int32", Math.max(1, tableLen)).fill(UNKNOWN);
  for (let j = 0; j < d; j++) {
    if (tableOff[j]! < 0) continue;
    for (let k = catOff[j]!; k < catOff[j + 1]!; k++) table[tableOff[j]! + cats[k]! - min[j]!] = pos[k]!;
  }
  return { m, min, span, tableOff, table, catOff, cats, pos, nanCode };
}
