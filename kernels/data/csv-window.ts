// A moving window over the CSV's bytes, for a kernel walking the lines that
// start in its byte range. The bytes come from the file itself (each worker
// reads its own range with pread, so a big file is never held in memory
// whole) or from a shared byte array (a decompressed .gz).
import { closeSync, openSync, readSync } from "node:fs";
import type { NdArray } from "../../src/memory/ndarray-type.js";

/** Where the CSV's bytes are: a file path, or a shared uint8 array. */
export type CsvSource = { path: string } | { bytes: NdArray<Uint8Array> };

/** A kernel's reusable read buffer (one per worker, grown as needed). */
let scratch = new Uint8Array(0);

export class Window {
  /** The bytes; buf[0] is the file's byte `base`, and buf[0..n) are valid. */
  buf: Uint8Array;
  /** buf[0..n), so that indexOf never finds a stale byte past n. */
  view: Uint8Array = new Uint8Array(0);
  base = 0;
  n = 0;
  private readonly fd: number;
  private readonly bytes: Uint8Array | null;

  constructor(
    source: CsvSource,
    /** The CSV's total size in bytes (lowered if the file shrinks under us). */
    public size: number,
    capacity: number,
  ) {
    if (scratch.length < capacity) scratch = new Uint8Array(capacity);
    this.buf = scratch.subarray(0, capacity);
    if ("path" in source) {
      this.fd = openSync(source.path, "r");
      this.bytes = null;
    } else {
      this.fd = -1;
      this.bytes = source.bytes.data;
    }
  }

  /** True when the window reaches the end of the file. */
  get eof(): boolean {
    return this.base + this.n >= this.size;
  }

  /** Moves the window to start at file offset `pos` and fills it. */
  seek(pos: number): void {
    this.base = pos;
    this.n = 0;
    this.fill();
  }

  /**
   * Drops the bytes before buffer index `keep`, moving the rest to the
   * front, and reads more after them (growing the buffer when `keep` is 0
   * and it is full: a line longer than the buffer).
   */
  advance(keep: number): void {
    if (keep > 0) {
      this.buf.copyWithin(0, keep, this.n);
      this.base += keep;
      this.n -= keep;
    } else if (this.n === this.buf.length) {
      const grown = new Uint8Array(this.buf.length * 2);
      grown.set(this.buf);
      this.buf = grown;
      if (grown.length > scratch.length) scratch = grown;
    }
    this.fill();
  }

  private fill(): void {
    const want = Math.min(this.buf.length - this.n, this.size - (this.base + this.n));
    if (want <= 0) return;
    const at = this.base + this.n;
    if (this.bytes !== null) {
      this.buf.set(this.bytes.subarray(at, at + want), this.n);
      this.n += want;
      this.view = this.buf.subarray(0, this.n);
      return;
    }
    let got = 0;
    while (got < want) {
      const r = readSync(this.fd, this.buf, this.n + got, want - got, at + got);
      if (r === 0) break;
      got += r;
    }
    this.n += got;
    this.view = this.buf.subarray(0, this.n);
    // A file that shrank since it was measured: treat the missing tail as absent.
    if (got < want) this.size = this.base + this.n;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
  }
}
