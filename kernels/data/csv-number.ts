// Numbers from CSV bytes without making a string per cell, giving exactly
// what Number(cell) gives. The common cell ([+-]digits[.digits][e[+-]digits])
// takes Clinger's fast path: a mantissa below 2^53 is exact, and so is
// 10^k for k <= 22, so one IEEE multiply or divide rounds the decimal value
// once, correctly. Anything else (17 significant digits, hex, "Infinity",
// exponents past 22, garbage) is decoded and handed to Number itself, so the
// rare cell costs a string and the result never differs.

export const POW10 = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
export const TWO53 = 2 ** 53;
const decoder = new TextDecoder();

/** The text of bytes [s, e) (UTF-8, as the whole-file decode of the serial reader gives it). */
export function cellText(b: Uint8Array, s: number, e: number): string {
  let ascii = true;
  for (let i = s; i < e; i++) if (b[i]! >= 0x80) ascii = false;
  if (ascii) return e - s <= 64 ? String.fromCharCode.apply(null, b.subarray(s, e) as unknown as number[]) : decoder.decode(b.slice(s, e));
  // A view over shared memory cannot be decoded directly: copy first.
  return decoder.decode(b.slice(s, e));
}

function slow(b: Uint8Array, s: number, e: number): number {
  return Number(cellText(b, s, e));
}

/**
 * Number(text of bytes [s, e)), the cell already trimmed; an empty cell is
 * NaN (Number("") is 0, but the reader treats empty as missing).
 */
export function parseCell(b: Uint8Array, s: number, e: number): number {
  if (s >= e) return Number.NaN;
  let i = s;
  let neg = false;
  let c = b[i]!;
  if (c === 45) {
    neg = true;
    i++;
  } else if (c === 43) i++;
  let m = 0;
  let digits = 0;
  while (i < e) {
    c = b[i]! - 48;
    if (c < 0 || c > 9) break;
    m = m * 10 + c;
    i++;
    digits++;
  }
  let frac = 0;
  if (i < e && b[i] === 46) {
    i++;
    const f0 = i;
    while (i < e) {
      c = b[i]! - 48;
      if (c < 0 || c > 9) break;
      m = m * 10 + c;
      i++;
    }
    frac = i - f0;
    digits += frac;
  }
  if (digits === 0) return slow(b, s, e);
  let exp = 0;
  if (i < e && (b[i]! | 0x20) === 101) {
    i++;
    let eneg = false;
    if (i < e && (b[i] === 45 || b[i] === 43)) {
      eneg = b[i] === 45;
      i++;
    }
    const e0 = i;
    while (i < e) {
      c = b[i]! - 48;
      if (c < 0 || c > 9) break;
      if (exp < 100000) exp = exp * 10 + c;
      i++;
    }
    if (i === e0) return slow(b, s, e);
    if (eneg) exp = -exp;
  }
  if (i !== e) return slow(b, s, e);
  // A computed m below 2^53 means every step was exact; at or above, it may have rounded.
  if (m >= TWO53) return slow(b, s, e);
  if (m === 0) return neg ? -0 : 0;
  const e10 = exp - frac;
  let v: number;
  if (e10 >= 0) {
    if (e10 > 22) return slow(b, s, e);
    v = m * POW10[e10]!;
  } else {
    if (e10 < -22) return slow(b, s, e);
    v = m / POW10[-e10]!;
  }
  return neg ? -v : v;
}

/** The cells the reader takes as missing: "", "NaN", "nan", "NA" (trimmed bytes [s, e)). */
export function isMissingCell(b: Uint8Array, s: number, e: number): boolean {
  const n = e - s;
  if (n === 0) return true;
  if (n === 2) return b[s] === 78 && b[s + 1] === 65;
  if (n !== 3) return false;
  const a = b[s]!;
  const m = b[s + 1]!;
  const z = b[s + 2]!;
  return m === 97 && ((a === 78 && z === 78) || (a === 110 && z === 110));
}

/** Trimmable by csv-parse's trim among ASCII bytes: space, \t, \n, \v, \f, \r. */
export function isBlankByte(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}
