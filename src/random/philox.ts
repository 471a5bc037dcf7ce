/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
 * SC'11): a keyed bijection of a 128-bit counter. Output block i of a stream
 * is philox(counter = [i_lo, i_hi, stream_lo, stream_hi], key), so any block
 * can be computed without the ones before it; that is what makes streams
 * independent of which thread draws them.
 *
 * JavaScript has no 32x32->64 multiply: the low word comes from Math.imul and
 * the high word from 16-bit halves (also through Math.imul: plain `*` on
 * them leaves int32 range and made the rounds ~3x slower here).
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9 | 0;
const W1 = 0xbb67ae85 | 0;
const M0_LO = M0 & 0xffff;
const M0_HI = M0 >>> 16;
const M1_LO = M1 & 0xffff;
const M1_HI = M1 >>> 16;

/**
 * Writes philox4x32-10([c0, c1, c2, c3], [k0, k1]) into out[at .. at+3].
 * Words are 32-bit integers (any number is reduced mod 2^32). Internally
 * every word is kept as a signed int32 so V8 never boxes it as a double.
 */
export function philox4x32(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array,
  at = 0,
): void {
  c0 |= 0;
  c1 |= 0;
  c2 |= 0;
  c3 |= 0;
  k0 |= 0;
  k1 |= 0;
  for (let round = 0; round < 10; round++) {
    // hi0:lo0 = c0 * M0 and hi1:lo1 = c2 * M1; the high words from 16-bit
    // halves with Math.imul, so every intermediate stays a 32-bit integer.
    const a0l = c0 & 0xffff;
    const a0h = c0 >>> 16;
    const lh0 = Math.imul(a0l, M0_HI);
    const hl0 = Math.imul(a0h, M0_LO);
    const mid0 = (Math.imul(a0l, M0_LO) >>> 16) + (lh0 & 0xffff) + (hl0 & 0xffff);
    const hi0 = (Math.imul(a0h, M0_HI) + (lh0 >>> 16) + (hl0 >>> 16) + (mid0 >>> 16)) | 0;
    const a2l = c2 & 0xffff;
    const a2h = c2 >>> 16;
    const lh2 = Math.imul(a2l, M1_HI);
    const hl2 = Math.imul(a2h, M1_LO);
    const mid2 = (Math.imul(a2l, M1_LO) >>> 16) + (lh2 & 0xffff) + (hl2 & 0xffff);
    const hi1 = (Math.imul(a2h, M1_HI) + (lh2 >>> 16) + (hl2 >>> 16) + (mid2 >>> 16)) | 0;
    const lo0 = Math.imul(c0, M0);
    const lo1 = Math.imul(c2, M1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 = (k0 + W0) | 0;
    k1 = (k1 + W1) | 0;
  }
  out[at] = c0;
  out[at + 1] = c1;
  out[at + 2] = c2;
  out[at + 3] = c3;
}
