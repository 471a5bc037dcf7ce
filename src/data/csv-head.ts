// The first record of a CSV, found on the calling thread before the
// parallel passes: it may be a header with quoted names, which the serial
// parser reads; the body after it must then be quote-free for the fast path.
import { isUtf8 } from "node:buffer";
import { Window, type CsvSource } from "../../kernels/data/csv-window.js";

export interface CsvHead {
  /** The record's text, its line terminator included. */
  text: string;
  /** The first byte after it. */
  end: number;
  /** It ends in "\r\n" (csv-parse then takes "\r\n" as the record delimiter). */
  crlf: boolean;
  /** "\n"s before `end`: the body's first line is line lines + 1. */
  lines: number;
}

/**
 * The first record, or null when the fast path should not try: leading
 * blank lines (csv-parse would discover the record delimiter from them), a
 * quoted "\n" or a lone "\r" in it, bytes that are not UTF-8, or no line end at all.
 */
export function findHead(source: CsvSource, size: number): CsvHead | null {
  const win = new Window(source, size, 1 << 16);
  try {
    win.seek(0);
    for (;;) {
      let inQuote = false;
      for (let i = 0; i < win.n; i++) {
        const c = win.buf[i]!;
        if (c === 34) inQuote = !inQuote;
        else if (c === 10) {
          if (inQuote) return null;
          const crlf = i > 0 && win.buf[i - 1] === 13;
          for (let k = 0; k < (crlf ? i - 1 : i); k++) if (win.buf[k] === 13) return null;
          let blank = true;
          for (let k = 0; k < i; k++) {
            const b = win.buf[k]!;
            if (!(b === 32 || (b >= 9 && b <= 13))) blank = false;
          }
          if (blank) return null;
          // A header that is not UTF-8 goes to the serial reader, which says so (utf8.ts).
          if (!isUtf8(win.buf.subarray(0, i + 1))) return null;
          return { text: Buffer.from(win.buf.subarray(0, i + 1)).toString("utf8"), end: i + 1, crlf, lines: 1 };
        }
      }
      if (win.eof) return null;
      win.advance(0);
    }
  } finally {
    win.close();
  }
}
