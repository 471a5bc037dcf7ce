// Sorts one run (a contiguous or strided stretch of an array) on one thread:
// keys (sort-keys.ts), then an LSD radix sort, which is stable, so equal keys
// keep their input order and the result is numpy's kind="stable" order.
import type { NumberTypedArray } from "../../src/memory/dtypes.js";
import { keyBits, readKeys, writeKeys, type KeyKind, type KeyStats } from "./sort-keys.js";

/** Below this many elements a run is insertion-sorted: a radix pass's histograms cost more. */
const INSERTION_MAX = 32;
/** From this many elements on, 11-bit digits (fewer passes); below, 8-bit ones (smaller histograms). */
const WIDE_DIGITS_MIN = 4096;

/**
 * Scratch for the radix passes, kept per thread (a worker runs one kernel at
 * a time, so one set serves every call) up to SCRATCH_KEEP_BYTES. Fresh
 * memory costs a page fault per 4 kB on first touch: sorting 10M float64 on
 * 2 workers took 2.06 s with the scratch kept against 3.06 s allocating it
 * per call (same run, medians of 5, load 8-12 on 2 cores; 2.74 vs 3.73 s on
 * a rerun). Bigger runs allocate their own, so an idle worker holds at most
 * about this much (1.5x if 32-bit argsorts and 64-bit sorts both grew it). Arrays are made only for what a run needs: the high words for
 * 64-bit keys, the indices for argsort.
 */
interface Scratch {
  h0: Uint32Array;
  l0: Uint32Array;
  i0: Int32Array;
  h1: Uint32Array;
  l1: Uint32Array;
  i1: Int32Array;
}
const SCRATCH_KEEP_BYTES = 128 * 2 ** 20;
const NONE_U32 = new Uint32Array(0);
const NONE_I32 = new Int32Array(0);
let kept: Scratch = { h0: NONE_U32, l0: NONE_U32, i0: NONE_I32, h1: NONE_U32, l1: NONE_U32, i1: NONE_I32 };

function scratchFor(len: number, wide: boolean, withIdx: boolean): Scratch {
  const words = 2 * (1 + (wide ? 1 : 0) + (withIdx ? 1 : 0));
  const fresh = len * 4 * words > SCRATCH_KEEP_BYTES;
  const s = fresh ? { h0: NONE_U32, l0: NONE_U32, i0: NONE_I32, h1: NONE_U32, l1: NONE_U32, i1: NONE_I32 } : kept;
  const cap = fresh ? len : Math.max(len, 1024);
  if (s.l0.length < len) {
    s.l0 = new Uint32Array(cap);
    s.l1 = new Uint32Array(cap);
  }
  if (wide && s.h0.length < len) {
    s.h0 = new Uint32Array(cap);
    s.h1 = new Uint32Array(cap);
  }
  if (withIdx && s.i0.length < len) {
    s.i0 = new Int32Array(cap);
    s.i1 = new Int32Array(cap);
  }
  return s;
}

/** A strided destination: element k goes to data[off + k * stride]. */
export interface Dest<T extends NumberTypedArray = NumberTypedArray> {
  data: T;
  off: number;
  stride: number;
}

export interface RunResult {
  /** NaNs in the run: they are its last elements once sorted. */
  nan: number;
}

/**
 * Sorts `len` elements of `src` (from `off`, `stride` apart). Writes the
 * sorted values to `vals` and/or the sorting indices (plus `idxBase`) to
 * `idx`. Values keep the sign of each zero (zeros are equal, so in input
 * order); a NaN comes out as the canonical NaN.
 */
export function sortRun(
  kind: KeyKind,
  src: NumberTypedArray,
  off: number,
  stride: number,
  len: number,
  vals: Dest | null,
  idx: Dest<Int32Array> | null,
  idxBase: number,
): RunResult {
  const wide = kind === "f64";
  const s = scratchFor(len, wide, idx !== null);
  const stats: KeyStats = { nan: 0, neg: 0, zeros: 0, negZeros: 0 };
  writeKeys(kind, src, off, stride, len, s.h0, s.l0, idx ? s.i0 : null, stats);
  let inFirst = true;
  if (len <= INSERTION_MAX) insertion(wide, s.h0, s.l0, idx ? s.i0 : null, len);
  else inFirst = radix(kind, len, s, idx !== null);
  const h = inFirst ? s.h0 : s.h1;
  const l = inFirst ? s.l0 : s.l1;
  const ix = inFirst ? s.i0 : s.i1;
  if (vals) {
    readKeys(kind, h, l, len, vals.data, vals.off, vals.stride);
    if (stats.negZeros > 0) restoreZeros(src, off, stride, len, vals, stats);
  }
  if (idx) {
    const d = idx.data;
    for (let i = 0, p = idx.off; i < len; i++, p += idx.stride) d[p] = ix[i]! + idxBase;
  }
  return { nan: stats.nan };
}

/**
 * The zero block of a sorted run holds the run's zeros in input order
 * (they are equal keys); write each one's sign back, as numpy moves values.
 */
function restoreZeros(src: NumberTypedArray, off: number, stride: number, len: number, vals: Dest, stats: KeyStats): void {
  const { data, stride: vs } = vals;
  let q = vals.off + stats.neg * vs;
  let left = stats.zeros;
  for (let i = 0, p = off; i < len && left > 0; i++, p += stride) {
    const v = src[p]!;
    if (v === 0) {
      data[q] = v;
      q += vs;
      left--;
    }
  }
}

function insertion(wide: boolean, h: Uint32Array, l: Uint32Array, ix: Int32Array | null, len: number): void {
  for (let i = 1; i < len; i++) {
    const kh = h[i]!;
    const kl = l[i]!;
    const ki = ix ? ix[i]! : 0;
    let j = i - 1;
    // Strictly greater moves: equal keys stay in input order.
    while (j >= 0 && (wide ? h[j]! > kh || (h[j] === kh && l[j]! > kl) : l[j]! > kl)) {
      if (wide) h[j + 1] = h[j]!;
      l[j + 1] = l[j]!;
      if (ix) ix[j + 1] = ix[j]!;
      j--;
    }
    if (wide) h[j + 1] = kh;
    l[j + 1] = kl;
    if (ix) ix[j + 1] = ki;
  }
}

/** One digit: which word (1 = hi), its shift and its width. */
interface Digit {
  hiWord: boolean;
  shift: number;
  bits: number;
}

function digitsFor(kind: KeyKind, len: number): Digit[] {
  const width = len >= WIDE_DIGITS_MIN ? 11 : 8;
  const word = (hiWord: boolean, bits: number): Digit[] => {
    const out: Digit[] = [];
    for (let shift = 0; shift < bits; shift += width) out.push({ hiWord, shift, bits: Math.min(width, bits - shift) });
    return out;
  };
  const b = keyBits(kind);
  return b === 64 ? [...word(false, 32), ...word(true, 32)] : word(false, b);
}

/**
 * LSD radix sort of the keys in s.h0/l0/i0. Histograms of every digit are
 * counted in one read; a digit whose keys all fall in one bucket (the high
 * bits of small integers, the low mantissa of rounded data) is skipped.
 * Returns true when the sorted keys ended in the first buffer set.
 */
function radix(kind: KeyKind, len: number, s: Scratch, withIdx: boolean): boolean {
  const digits = digitsFor(kind, len);
  const nd = digits.length;
  const radixSize = 1 << Math.max(...digits.map((d) => d.bits));
  const counts = new Int32Array(nd * radixSize);
  // One read of each key word counts all of its digits.
  for (const hiWord of [false, true]) {
    const ds: number[] = [];
    for (let d = 0; d < nd; d++) if (digits[d]!.hiWord === hiWord) ds.push(d);
    if (ds.length === 0) continue;
    const w = hiWord ? s.h0 : s.l0;
    const sh = ds.map((d) => digits[d]!.shift);
    const mk = ds.map((d) => (1 << digits[d]!.bits) - 1);
    const bs = ds.map((d) => d * radixSize);
    if (ds.length === 3) {
      const [s0, s1, s2] = sh as [number, number, number];
      const [m0, m1, m2] = mk as [number, number, number];
      const [b0, b1, b2] = bs as [number, number, number];
      for (let i = 0; i < len; i++) {
        const k = w[i]!;
        counts[b0 + ((k >>> s0) & m0)]!++;
        counts[b1 + ((k >>> s1) & m1)]!++;
        counts[b2 + ((k >>> s2) & m2)]!++;
      }
    } else {
      for (let j = 0; j < ds.length; j++) {
        const shift = sh[j]!;
        const mask = mk[j]!;
        const base = bs[j]!;
        for (let i = 0; i < len; i++) counts[base + ((w[i]! >>> shift) & mask)]!++;
      }
    }
  }
  const wide = kind === "f64";
  let inFirst = true;
  for (let d = 0; d < nd; d++) {
    const { hiWord, shift, bits } = digits[d]!;
    const base = d * radixSize;
    const mask = (1 << bits) - 1;
    const first = ((hiWord ? (inFirst ? s.h0 : s.h1) : inFirst ? s.l0 : s.l1)[0]! >>> shift) & mask;
    if (counts[base + first] === len) continue;
    // Exclusive prefix sums turn counts into each bucket's first slot.
    let sum = 0;
    for (let b = 0; b <= mask; b++) {
      const c = counts[base + b]!;
      counts[base + b] = sum;
      sum += c;
    }
    const sh = inFirst ? s.h0 : s.h1;
    const sl = inFirst ? s.l0 : s.l1;
    const si = inFirst ? s.i0 : s.i1;
    const dh = inFirst ? s.h1 : s.h0;
    const dl = inFirst ? s.l1 : s.l0;
    const di = inFirst ? s.i1 : s.i0;
    const pos = counts.subarray(base, base + mask + 1);
    if (wide) {
      const key = hiWord ? sh : sl;
      if (withIdx) scatter2i(key, sh, sl, si, dh, dl, di, pos, shift, mask, len);
      else scatter2(key, sh, sl, dh, dl, pos, shift, mask, len);
    } else if (withIdx) scatter1i(sl, si, dl, di, pos, shift, mask, len);
    else scatter1(sl, dl, pos, shift, mask, len);
    inFirst = !inFirst;
  }
  return inFirst;
}

// The scatter loops are written out per shape of data so that each stays
// monomorphic and branch-free in its inner loop.

function scatter1(sl: Uint32Array, dl: Uint32Array, pos: Int32Array, shift: number, mask: number, len: number): void {
  for (let i = 0; i < len; i++) {
    const k = sl[i]!;
    dl[pos[(k >>> shift) & mask]!++] = k;
  }
}

function scatter1i(sl: Uint32Array, si: Int32Array, dl: Uint32Array, di: Int32Array, pos: Int32Array, shift: number, mask: number, len: number): void {
  for (let i = 0; i < len; i++) {
    const k = sl[i]!;
    const p = pos[(k >>> shift) & mask]!++;
    dl[p] = k;
    di[p] = si[i]!;
  }
}

function scatter2(key: Uint32Array, sh: Uint32Array, sl: Uint32Array, dh: Uint32Array, dl: Uint32Array, pos: Int32Array, shift: number, mask: number, len: number): void {
  for (let i = 0; i < len; i++) {
    const p = pos[(key[i]! >>> shift) & mask]!++;
    dh[p] = sh[i]!;
    dl[p] = sl[i]!;
  }
}

function scatter2i(
  key: Uint32Array,
  sh: Uint32Array,
  sl: Uint32Array,
  si: Int32Array,
  dh: Uint32Array,
  dl: Uint32Array,
  di: Int32Array,
  pos: Int32Array,
  shift: number,
  mask: number,
  len: number,
): void {
  for (let i = 0; i < len; i++) {
    const p = pos[(key[i]! >>> shift) & mask]!++;
    dh[p] = sh[i]!;
    dl[p] = sl[i]!;
    di[p] = si[i]!;
  }
}
