// Value ranges of the integer dtypes, for code that writes user numbers into
// them (shared.from/full, Queue). Internal: kept out of dtypes.ts, whose
// exports are public through sabre/worker.
import { isBigIntDType, type DType } from "./dtypes.js";

/**
 * The value range of each wrapping integer dtype: a typed array stores a
 * number outside it (or NaN) as some other number (300 in a uint8 is 44,
 * NaN is 0), so code that writes user numbers into these dtypes checks
 * against this one table. uint8_clamped is absent: it clamps, so only NaN
 * has no value there.
 */
export const INT_RANGES: Partial<Record<DType, readonly [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
};

/** The value range of the bigint dtypes (a BigInt64Array wraps 2n ** 63n to -(2n ** 63n)). */
export const BIGINT_RANGES: { readonly [D in "bigint64" | "biguint64"]: readonly [bigint, bigint] } = {
  bigint64: [-(2n ** 63n), 2n ** 63n - 1n],
  biguint64: [0n, 2n ** 64n - 1n],
};

/**
 * Whether every value of a `from` array fits a `to` array unchanged, so the
 * copy needs no check: a float target holds any number, an integer target
 * every value of a narrower integer source (int16 into int32, uint8 into
 * int16). Float sources into integer targets, wider or other-signed integer
 * sources, and bigints into numbers (or back) need a check.
 */
export function alwaysFits(from: DType, to: DType): boolean {
  if (from === to) return true;
  if (isBigIntDType(to)) return false;
  if (isBigIntDType(from)) return to === "float32" || to === "float64";
  if (to === "float32" || to === "float64") return true;
  if (from === "float32" || from === "float64") return false;
  if (to === "uint8_clamped") return true; // integers clamp; only NaN, which no integer source has, is refused
  const src = from === "uint8_clamped" ? ([0, 255] as const) : INT_RANGES[from]!;
  const dst = INT_RANGES[to]!;
  return src[0] >= dst[0] && src[1] <= dst[1];
}

/**
 * Whether a `to` array holds every value of a `from` array exactly (same
 * dtype, or a lossless widening: int16 into int32, uint8 into float32,
 * float32 or int32 into float64). Where a copy must not change a value
 * (Queue.pop into a caller's array) this is the rule; bigints and numbers
 * never mix.
 */
export function holdsExactly(from: DType, to: DType): boolean {
  if (from === to) return true;
  if (isBigIntDType(from) || isBigIntDType(to) || from === "float64") return false;
  if (from === "float32") return to === "float64";
  const src = from === "uint8_clamped" ? ([0, 255] as const) : INT_RANGES[from]!;
  if (to === "float64") return true; // every 32-bit integer is a double
  if (to === "float32") return src[0] >= -(2 ** 24) && src[1] <= 2 ** 24; // float32's 24-bit significand
  if (to === "uint8_clamped") return src[0] >= 0 && src[1] <= 255;
  const dst = INT_RANGES[to]!;
  return src[0] >= dst[0] && src[1] <= dst[1];
}
