// Parallel CSV parsing kernels ("sabre.data.csv.*"): each chunk of a
// parallelFor is a list of byte ranges of the file's body; a range owns the
// lines that start in it. src/data/csv-parallel.ts drives the passes.
import { defineKernels } from "../../src/engine/define.js";
import type { KernelContext } from "../../src/engine/define.js";
import type { NdArray } from "../../src/memory/ndarray-type.js";
import { Counter, Parser, TargetText, walkLines, type LineVisitor, type RangeCount, type RangeParse } from "./csv-scan.js";
import { Window, type CsvSource } from "./csv-window.js";

/** What every pass knows about the file. */
export interface CsvLayout {
  source: CsvSource;
  /** The file's size in bytes. */
  size: number;
  /** The first byte after the first record (header or not). */
  body: number;
  /** Bytes per range; range r is [body + r * rangeBytes, body + (r + 1) * rangeBytes). */
  rangeBytes: number;
  /** The delimiter's byte. */
  delim: number;
  /** Fields per record. */
  nCols: number;
  /** The first record ended in "\r\n": csv-parse then splits records at "\r\n" only. */
  crlf: boolean;
}

export interface ParseArgs extends CsvLayout {
  target: number;
  x: NdArray<Float64Array | Float32Array>;
  y: NdArray<Float64Array> | null;
  /** X's row of each range's first record. */
  rowStart: number[];
}

function eachRange(ctx: KernelContext, at: CsvLayout, visit: (r: number, win: Window, s: number, e: number) => void): void {
  // Twice the range, so most ranges are one read; small ranges (tests) get small windows that refill and grow.
  const win = new Window(at.source, at.size, Math.max(64, Math.min(2 * at.rangeBytes, 16 << 20)));
  try {
    for (let r = ctx.start; r < ctx.end; r++) {
      const s = at.body + r * at.rangeBytes;
      visit(r, win, s, Math.min(s + at.rangeBytes, at.size));
    }
  } finally {
    win.close();
  }
}

function walk(win: Window, s: number, at: CsvLayout, e: number, v: LineVisitor): void {
  walkLines(win, s, e, at.body, v);
}

export default defineKernels({
  /** Pass 1: lines and records per range, and whether the fast path can read it. */
  "sabre.data.csv.count"(ctx: KernelContext, at: CsvLayout): RangeCount[] {
    const out: RangeCount[] = [];
    eachRange(ctx, at, (_r, win, s, e) => {
      const c = new Counter(win, at.crlf);
      walk(win, s, at, e, c);
      out.push(c.result());
    });
    return out;
  },

  /** Pass 2: the numbers, into each range's rows of X (and y); field counts checked here. */
  "sabre.data.csv.parse"(ctx: KernelContext, a: ParseArgs): RangeParse[] {
    const out: RangeParse[] = [];
    eachRange(ctx, a, (r, win, s, e) => {
      const p = new Parser(a.delim, a.nCols, a.target, a.x.data, a.y === null ? null : a.y.data, a.rowStart[r]!);
      walk(win, s, a, e, p);
      out.push(p.result());
    });
    return out;
  },

  /** Pass 3, only for a target column that is not all numbers: its text. */
  "sabre.data.csv.targetText"(ctx: KernelContext, a: CsvLayout & { target: number }): string[][] {
    const out: string[][] = [];
    eachRange(ctx, a, (_r, win, s, e) => {
      const t = new TargetText(a.delim, a.nCols, a.target);
      walk(win, s, a, e, t);
      out.push(t.texts);
    });
    return out;
  },
});
