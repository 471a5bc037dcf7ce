// Sort keys: every number dtype mapped to unsigned integers (one or two
// 32-bit words) whose unsigned order is numpy's sort order, so that an LSD
// radix sort (stable by construction) can order them. NaN becomes one
// canonical NaN above +Infinity and -0 becomes +0, so that both compare as
// numpy compares them (NaN last, -0 == 0 with input order kept).
import type { NumberTypedArray } from "../../src/memory/dtypes.js";

/** How a dtype's elements become keys. */
export type KeyKind = "f64" | "f32" | "i32" | "u32" | "i16" | "u16" | "i8" | "u8";

export function keyKindOf(dtype: string): KeyKind {
  switch (dtype) {
    case "float64":
      return "f64";
    case "float32":
      return "f32";
    case "int32":
      return "i32";
    case "uint32":
      return "u32";
    case "int16":
      return "i16";
    case "uint16":
      return "u16";
    case "int8":
      return "i8";
    default:
      return "u8"; // uint8, uint8_clamped
  }
}

/** Key width in bits. */
export function keyBits(kind: KeyKind): number {
  return kind === "f64" ? 64 : kind === "f32" || kind === "i32" || kind === "u32" ? 32 : kind === "i16" || kind === "u16" ? 16 : 8;
}

/** What the key pass saw: needed to put -0 and NaN payloads back for sort. */
export interface KeyStats {
  /** Elements that are NaN (they sort last). */
  nan: number;
  /** Elements below zero (the zero block starts here in sorted order). */
  neg: number;
  /** Elements equal to zero, either sign. */
  zeros: number;
  /** Elements that are -0. */
  negZeros: number;
}

/** A view of a float typed array's words (little-endian, checked at load). */
export function wordsOf(data: NumberTypedArray): Uint32Array {
  return new Uint32Array(data.buffer, data.byteOffset, (data.byteLength / 4) | 0);
}

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
  // The float64 key split below reads the low word first.
  throw new Error("sabre sort kernels assume a little-endian machine");
}

/**
 * Writes the keys of `len` elements of `src` (starting at `off`, `stride`
 * apart) into `hi`/`lo` (hi only for f64) and `ix` (0..len-1 when given).
 */
export function writeKeys(
  kind: KeyKind,
  src: NumberTypedArray,
  off: number,
  stride: number,
  len: number,
  hi: Uint32Array,
  lo: Uint32Array,
  ix: Int32Array | null,
  stats: KeyStats,
): void {
  let nan = 0;
  let neg = 0;
  let zeros = 0;
  let negZeros = 0;
  if (kind === "f64") {
    const w = wordsOf(src);
    for (let i = 0, p = off; i < len; i++, p += stride) {
      let l = w[2 * p]!;
      let h = w[2 * p + 1]!;
      if ((h & 0x7ff00000) === 0x7ff00000 && ((h & 0xfffff) | l) !== 0) {
        h = 0x7ff80000;
        l = 0;
        nan++;
      } else if ((h & 0x7fffffff) === 0 && l === 0) {
        zeros++;
        if (h !== 0) negZeros++;
        h = 0;
      } else if (h & 0x80000000) neg++;
      if (h & 0x80000000) {
        hi[i] = ~h >>> 0;
        lo[i] = ~l >>> 0;
      } else {
        hi[i] = (h | 0x80000000) >>> 0;
        lo[i] = l;
      }
    }
  } else if (kind === "f32") {
    const w = wordsOf(src);
    for (let i = 0, p = off; i < len; i++, p += stride) {
      let v = w[p]!;
      if ((v & 0x7f800000) === 0x7f800000 && (v & 0x7fffff) !== 0) {
        v = 0x7fc00000;
        nan++;
      } else if ((v & 0x7fffffff) === 0) {
        zeros++;
        if (v !== 0) negZeros++;
        v = 0;
      } else if (v & 0x80000000) neg++;
      lo[i] = v & 0x80000000 ? ~v >>> 0 : (v | 0x80000000) >>> 0;
    }
  } else {
    const bias = kind === "i32" ? -2147483648 : kind === "i16" ? 32768 : kind === "i8" ? 128 : 0;
    if (kind === "i32") {
      for (let i = 0, p = off; i < len; i++, p += stride) lo[i] = (src[p]! ^ bias) >>> 0;
    } else {
      for (let i = 0, p = off; i < len; i++, p += stride) lo[i] = src[p]! + bias;
    }
  }
  if (ix) for (let i = 0; i < len; i++) ix[i] = i;
  stats.nan = nan;
  stats.neg = neg;
  stats.zeros = zeros;
  stats.negZeros = negZeros;
}

/** Writes the values of `len` keys to `dst` (at `off`, `stride` apart). */
export function readKeys(kind: KeyKind, hi: Uint32Array, lo: Uint32Array, len: number, dst: NumberTypedArray, off: number, stride: number): void {
  if (kind === "f64") {
    const w = wordsOf(dst);
    for (let i = 0, p = off; i < len; i++, p += stride) {
      const h = hi[i]!;
      if (h & 0x80000000) {
        w[2 * p] = lo[i]!;
        w[2 * p + 1] = h ^ 0x80000000;
      } else {
        w[2 * p] = ~lo[i]!;
        w[2 * p + 1] = ~h;
      }
    }
  } else if (kind === "f32") {
    const w = wordsOf(dst);
    for (let i = 0, p = off; i < len; i++, p += stride) {
      const v = lo[i]!;
      w[p] = v & 0x80000000 ? v ^ 0x80000000 : ~v;
    }
  } else if (kind === "i32") {
    for (let i = 0, p = off; i < len; i++, p += stride) dst[p] = lo[i]! ^ -2147483648;
  } else {
    const bias = kind === "i16" ? 32768 : kind === "i8" ? 128 : 0;
    for (let i = 0, p = off; i < len; i++, p += stride) dst[p] = lo[i]! - bias;
  }
}
