/**
 * Reverses the bytes of every `size`-byte element of `bytes` in place: how a
 * big-endian file's data becomes native once it is in memory. `bytes` must
 * start on a multiple of `size` in its buffer and hold whole elements, so
 * the work runs on 16- and 32-bit lanes rather than byte by byte.
 */
export function swapBytes(bytes: Uint8Array, size: 1 | 2 | 4 | 8 | number): void {
  const n = bytes.byteLength / size;
  if (size === 2) {
    const a = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
    for (let i = 0; i < n; i++) {
      const v = a[i]!;
      a[i] = (v >>> 8) | (v << 8);
    }
  } else if (size === 4 || size === 8) {
    const a = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    for (let i = 0; i < a.length; i++) {
      const v = a[i]!;
      a[i] = (v >>> 24) | ((v >>> 8) & 0xff00) | ((v & 0xff00) << 8) | (v << 24);
    }
    // An 8-byte element is two swapped 4-byte halves that also trade places.
    if (size === 8) {
      for (let i = 0; i < a.length; i += 2) {
        const lo = a[i]!;
        a[i] = a[i + 1]!;
        a[i + 1] = lo;
      }
    }
  }
}
