import { checkInteger, describe } from "../validate.js";
import { isNdArray, type NdArray } from "./ndarray-type.js";
import { SabreTypeError } from "../errors.js";

/** A half-open index range [start, end). */
export interface Range {
  /** The first index. */
  start: number;
  /** One past the last index. */
  end: number;
}

/**
 * The most ranges partition/chunks return. Each range is a heap object of
 * about 40 bytes: 2^24 of them are ~700 MB, and a request for ~10^9 (e.g.
 * chunks(1e12, 1000)) used to run the heap out and kill the process instead
 * of answering with an error.
 */
export const MAX_RANGES = 2 ** 24;

/**
 * Splits [0, n) into `parts` contiguous ranges whose sizes differ by at most
 * one (the first `n % parts` ranges get the extra element). Empty ranges are
 * kept so that range i always belongs to part i.
 */
export function partition(n: number, parts: number): Range[] {
  checkInteger("n", n);
  checkInteger("parts", parts, 1, MAX_RANGES);
  const base = Math.floor(n / parts);
  const extra = n % parts;
  const out: Range[] = [];
  let start = 0;
  for (let i = 0; i < parts; i++) {
    const end = start + base + (i < extra ? 1 : 0);
    out.push({ start, end });
    start = end;
  }
  return out;
}

/** Splits [0, n) into consecutive ranges of `chunk` elements (the last may be shorter). */
export function chunks(n: number, chunk: number): Range[] {
  checkInteger("n", n);
  checkInteger("chunk", chunk, 1);
  const count = Math.ceil(n / chunk);
  if (count > MAX_RANGES) {
    throw new SabreTypeError(`chunks(n, chunk): n / chunk gives ${count} ranges; at most ${MAX_RANGES} (2^24) are allowed: use a larger chunk`);
  }
  const out: Range[] = [];
  for (let start = 0; start < n; start += chunk) out.push({ start, end: Math.min(n, start + chunk) });
  return out;
}

/** A view of rows [start, end) of an ndarray (axis 0), sharing its memory. */
export function rowSlice<T extends NdArray>(array: T, start: number, end: number): T {
  // A plain object posing as an ndarray has no hi/lo to make the view with.
  if (!isNdArray(array) || typeof (array as Partial<NdArray>).hi !== "function") {
    throw new SabreTypeError(`rowSlice: array must be an ndarray, got ${describe(array)}`);
  }
  if (array.shape.length === 0) throw new SabreTypeError("rowSlice needs an array with at least one axis");
  const rows = array.shape[0]!;
  checkInteger("start", start, 0, rows);
  checkInteger("end", end, start, rows);
  return array.hi(end).lo(start) as T;
}
