// Worker side of OneHotEncoder (src/ml/preprocess/onehot.ts): the distinct
// values of each column over a chunk of rows (fit), and the one-hot rows
// (transform) through a per-column lookup the caller builds once.
import { defineKernels } from "../../src/engine/define.js";
import type { KernelContext } from "../../src/engine/define.js";
import type { NdArray } from "../../src/memory/ndarray-type.js";

/** Codes in OneHotPlan.table / nanCode / pos: an output column, or one of these. */
export const DROPPED = -1;
export const UNKNOWN = -2;

/**
 * How each column's values map to output columns. A column whose categories
 * are integers over a small span looks values up in a dense table
 * (tableOff[j] >= 0); any other column binary-searches its sorted
 * categories. NaN, a category of its own, has its code in nanCode.
 */
export interface OneHotPlan {
  /** Output row width (all columns' one-hot blocks). */
  m: number;
  /** Per column: the smallest category (dense columns). */
  min: Float64Array;
  /** Per column: table length (dense columns). */
  span: Int32Array;
  /** Per column: offset of its dense table in `table`, or -1 to binary-search. */
  tableOff: Int32Array;
  /** Dense tables: code of value min + t at tableOff + t. */
  table: Int32Array;
  /** Non-NaN categories of column j, sorted, at cats[catOff[j], catOff[j + 1]). */
  catOff: Int32Array;
  cats: Float64Array;
  /** The code of cats[k]. */
  pos: Int32Array;
  /** Per column: the code of NaN. */
  nanCode: Int32Array;
}

export interface EncodeJob {
  X: NdArray;
  out: NdArray;
  plan: OneHotPlan;
  /** Unknown values leave their block zero (handleUnknown "ignore") instead of stopping the chunk. */
  ignoreUnknown: boolean;
  /** Zero each output row first (a caller's `out`; fresh shared memory is already zero). */
  zero: boolean;
}

/** The first unknown value a chunk met. */
export interface UnknownAt {
  row: number;
  col: number;
  value: number;
}

export interface UniqueJob {
  X: NdArray;
}

/** Small non-negative integers are marked in a table; every other value goes through a Set. */
const MARKS = 4096;

/** The distinct values of each column over rows [r0, r1), NaN included once. */
export function uniqueRows(X: NdArray, r0: number, r1: number): Float64Array[] {
  const data = X.data as unknown as ArrayLike<number>;
  const [s0, s1] = X.stride as [number, number];
  const d = X.shape[1]!;
  const marks = new Uint8Array(MARKS);
  const out: Float64Array[] = [];
  for (let j = 0; j < d; j++) {
    marks.fill(0);
    const set = new Set<number>();
    for (let i = r0, p = X.offset + r0 * s0 + j * s1; i < r1; i++, p += s0) {
      const v = data[p]!;
      if (v >= 0 && v < MARKS && (v | 0) === v) marks[v] = 1;
      else set.add(v);
    }
    for (let v = 0; v < MARKS; v++) if (marks[v] === 1) set.add(v);
    out.push(Float64Array.from(set));
  }
  return out;
}

function codeOf(plan: OneHotPlan, j: number, v: number): number {
  const tOff = plan.tableOff[j]!;
  if (tOff >= 0) {
    const t = v - plan.min[j]!;
    if (t >= 0 && t < plan.span[j]! && (t | 0) === t) return plan.table[tOff + t]!;
  }
  if (v !== v) return plan.nanCode[j]!;
  if (tOff >= 0) return UNKNOWN;
  const cats = plan.cats;
  let lo = plan.catOff[j]!;
  let hi = plan.catOff[j + 1]!;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cats[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo < plan.catOff[j + 1]! && cats[lo] === v ? plan.pos[lo]! : UNKNOWN;
}

/** One-hot rows [r0, r1); the first unknown value stops the chunk unless ignored. */
export function encodeRows(job: EncodeJob, r0: number, r1: number): UnknownAt | null {
  const { X, out, plan, ignoreUnknown, zero } = job;
  const data = X.data as unknown as ArrayLike<number>;
  const o = out.data as unknown as { [i: number]: number; fill(v: number, a: number, b: number): unknown };
  const [s0, s1] = X.stride as [number, number];
  const d = X.shape[1]!;
  const m = plan.m;
  for (let i = r0; i < r1; i++) {
    const base = out.offset + i * m;
    if (zero) o.fill(0, base, base + m);
    for (let j = 0, p = X.offset + i * s0; j < d; j++, p += s1) {
      const v = data[p]!;
      const c = codeOf(plan, j, v);
      if (c >= 0) o[base + c] = 1;
      else if (c === UNKNOWN && !ignoreUnknown) return { row: i, col: j, value: v };
    }
  }
  return null;
}

export default defineKernels({
  "sabre.preprocess.onehotUnique"({ start, end }: KernelContext, job: UniqueJob): Float64Array[] {
    return uniqueRows(job.X, start, end);
  },
  "sabre.preprocess.onehotEncode"({ start, end }: KernelContext, job: EncodeJob): UnknownAt | null {
    return encodeRows(job, start, end);
  },
});
