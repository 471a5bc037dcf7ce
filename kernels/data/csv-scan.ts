// The three walks a parallel readCsv makes over the lines that start in one
// byte range: count (records, lines, column counts, anything the fast path
// does not handle), parse (numbers into the rows' place in X) and, only when
// the target column turns out not to be numeric, its text. The rules are the
// serial reader's (csv-parse with trim and skip_empty_lines) restricted to
// files without quotes in the body; src/data/csv-parallel.md says why each
// rule matches.
import { cellText, isBlankByte, isMissingCell, parseCell, POW10, TWO53 } from "./csv-number.js";
import type { Window } from "./csv-window.js";

export interface LineVisitor {
  /** Line bytes [ls, le) without its "\n" (hadNl: it had one). Returns false to stop the walk. */
  line(buf: Uint8Array, ls: number, le: number, hadNl: boolean): boolean;
}

/**
 * Calls `v.line` for every line that starts in file bytes [s, e). A line
 * starts at `first` (the body's first byte) or just after a "\n"; a line
 * that starts in the range is walked to its end even past `e`, and a range
 * inside one long line walks nothing.
 */
export function walkLines(win: Window, s: number, e: number, first: number, v: LineVisitor): void {
  let i: number;
  if (s <= first) {
    win.seek(first);
    i = 0;
  } else {
    win.seek(s - 1);
    for (;;) {
      const k = win.view.indexOf(10);
      if (k >= 0) {
        i = k + 1;
        break;
      }
      if (win.eof) return;
      win.advance(win.n);
    }
  }
  for (;;) {
    if (i >= win.n) {
      if (win.eof) return;
      win.advance(i);
      i = 0;
    }
    if (win.base + i >= e) return;
    const nl = win.view.indexOf(10, i);
    if (nl < 0) {
      if (!win.eof) {
        win.advance(i);
        i = 0;
        continue;
      }
      v.line(win.buf, i, win.n, false);
      return;
    }
    if (!v.line(win.buf, i, nl, true)) return;
    i = nl + 1;
  }
}

/** What the counting walk found in one range. */
export interface RangeCount {
  /** Records: lines that are not blank (csv-parse's skip_empty_lines with trim skips a line of blank bytes). */
  records: number;
  /** Lines that start in the range (blank ones included): the line numbers of later ranges. */
  lines: number;
  /** Why the fast path cannot read this file ("" when it can). */
  odd: string;
}

/**
 * Pass 1 touches each byte only in native searches (indexOf: the line ends
 * in walkLines, the next quote and the next "\r" here), so it costs a
 * fraction of the parse; field counts are checked by the parse.
 */
export class Counter implements LineVisitor {
  records = 0;
  lines = 0;
  odd = "";
  /**
   * The file offset of the next quote and "\r" at or after the lines seen;
   * when not real, the end of the window that was searched (Infinity: none
   * to the end of the file).
   */
  private readonly at = [-1, -1];
  private readonly real = [false, false];

  constructor(
    private readonly win: Window,
    private readonly crlf: boolean,
  ) {}

  /** Whether `byte` (slot 0: quote, 1: "\r") occurs in buffer [ls, le); then at[slot] is where. */
  private hit(slot: number, byte: number, ls: number, le: number): boolean {
    const base = this.win.base;
    if (this.at[slot]! < base + ls) this.search(slot, byte, ls);
    while (!this.real[slot] && this.at[slot]! < base + le) this.search(slot, byte, this.at[slot]! - base);
    return this.real[slot]! && this.at[slot]! < base + le;
  }

  private search(slot: number, byte: number, from: number): void {
    const win = this.win;
    const k = win.view.indexOf(byte, from);
    this.real[slot] = k >= 0;
    this.at[slot] = k >= 0 ? win.base + k : win.eof ? Infinity : win.base + win.n;
  }

  line(buf: Uint8Array, ls: number, le: number, hadNl: boolean): boolean {
    this.lines++;
    // Each search reaches ahead to the next hit; it is redone only once a line passes it.
    if (this.hit(0, 34, ls, le)) {
      this.odd = "a quote in the body";
      return false;
    }
    if (this.hit(1, 13, ls, le)) {
      // csv-parse counts a "\r" as a line of its own except in the "\r\n" it splits records at.
      if (!this.crlf || this.at[1] !== this.win.base + le - 1) {
        this.odd = 'a "\\r" that is not part of a "\\r\\n" record delimiter';
        return false;
      }
      this.at[1] = -1;
    }
    if (this.crlf && hadNl && (le === ls || buf[le - 1] !== 13)) {
      this.odd = 'a bare "\\n" in a file whose first line ends in "\\r\\n"';
      return false;
    }
    if ((le === ls || isBlankByte(buf[ls]!)) && isBlankLine(buf, ls, le)) return true;
    this.records++;
    return true;
  }

  result(): RangeCount {
    return { records: this.records, lines: this.lines, odd: this.odd };
  }
}

function isBlankLine(buf: Uint8Array, ls: number, le: number): boolean {
  for (let k = ls; k < le; k++) if (!isBlankByte(buf[k]!)) return false;
  return true;
}

/** What the parsing walk found in one range. */
export interface RangeParse {
  /** The first line (1-based within the range) whose field count is not the first record's, and that count. */
  ragged: { line: number; got: number } | null;
  /** The first cell that is not a number: its record within the range (0-based), file column and text. */
  bad: { record: number; col: number; text: string } | null;
  /** Some target cell is not a number (the target column will be read as text). */
  textTarget: boolean;
  odd: string;
}

export class Parser implements LineVisitor {
  record = 0;
  lines = 0;
  ragged: RangeParse["ragged"] = null;
  bad: RangeParse["bad"] = null;
  textTarget = false;
  odd = "";
  private readonly d: number;

  constructor(
    private readonly delim: number,
    private readonly nCols: number,
    /** The target's file column, -1 when none. */
    private readonly target: number,
    private readonly x: Float64Array | Float32Array,
    private readonly y: Float64Array | null,
    /** The range's first record's row in X. */
    private readonly row0: number,
  ) {
    this.d = nCols - (target >= 0 ? 1 : 0);
  }

  line(buf: Uint8Array, ls: number, le: number): boolean {
    this.lines++;
    const delim = this.delim;
    const nCols = this.nCols;
    const target = this.target;
    const x = this.x;
    const row = this.row0 + this.record;
    // After a bad cell the range still looks for a ragged line (the serial reader reports that first), parsing nothing.
    const parse = this.bad === null;
    let out = row * this.d;
    let k = ls;
    let col = 0;
    for (;;) {
      if (parse && col < nCols) {
        // The common cell, [-+]digits[.digits] with no blanks, parsed in the scan that finds its end:
        // a mantissa below 2^53 over 10^(<= 22) is one correctly rounded division (csv-number.ts).
        let i = k;
        let c = i < le ? buf[i]! : 0;
        const neg = c === 45;
        if (neg || c === 43) i++;
        let m = 0;
        const d0 = i;
        while (i < le && (c = buf[i]! - 48) >= 0 && c <= 9) {
          m = m * 10 + c;
          i++;
        }
        let digits = i - d0;
        let frac = 0;
        if (i < le && buf[i] === 46) {
          const f0 = ++i;
          while (i < le && (c = buf[i]! - 48) >= 0 && c <= 9) {
            m = m * 10 + c;
            i++;
          }
          frac = i - f0;
          digits += frac;
        }
        if (digits > 0 && (i === le || buf[i] === delim) && m < TWO53 && frac <= 22) {
          let v = frac === 0 ? m : m / POW10[frac]!;
          if (neg) v = -v;
          if (col === target) this.y![row] = v;
          else x[out++] = v;
          k = i;
          col++;
          if (k >= le) break;
          k++;
          continue;
        }
      }
      let fs = k;
      while (k < le && buf[k] !== delim) k++;
      let fe = k;
      if (col === 0 && k === le && isBlankLine(buf, ls, le)) return true;
      if (parse && col < nCols) {
        while (fs < fe && isBlankByte(buf[fs]!)) fs++;
        while (fe > fs && isBlankByte(buf[fe - 1]!)) fe--;
        if (fe > fs && (buf[fs]! >= 0x80 || buf[fe - 1]! >= 0x80)) {
          // csv-parse trims some non-ASCII spaces too: leave such files to it.
          this.odd = "a cell that starts or ends with a non-ASCII character";
          return false;
        }
        const v = parseCell(buf, fs, fe);
        if (col === target) {
          this.y![row] = v;
          if (v !== v) this.textTarget = true;
        } else if (v !== v && !isMissingCell(buf, fs, fe)) {
          if (this.bad === null) this.bad = { record: this.record, col, text: cellText(buf, fs, fe) };
        } else x[out++] = v;
      }
      col++;
      if (k >= le) break;
      k++;
    }
    if (col !== nCols) {
      this.ragged = { line: this.lines, got: col };
      return false;
    }
    this.record++;
    return true;
  }

  result(): RangeParse {
    return { ragged: this.ragged, bad: this.bad, textTarget: this.textTarget, odd: this.odd };
  }
}

/** The target column's trimmed text, one string per record. */
export class TargetText implements LineVisitor {
  readonly texts: string[] = [];

  constructor(
    private readonly delim: number,
    private readonly nCols: number,
    private readonly target: number,
  ) {}

  line(buf: Uint8Array, ls: number, le: number): boolean {
    let k = ls;
    let fs = ls;
    let fe = le;
    for (let col = 0; ; col++) {
      fs = k;
      while (k < le && buf[k] !== this.delim) k++;
      if (col === 0 && k === le && this.nCols > 1) return true;
      fe = k;
      if (col === this.target) break;
      k++;
    }
    while (fs < fe && isBlankByte(buf[fs]!)) fs++;
    while (fe > fs && isBlankByte(buf[fe - 1]!)) fe--;
    if (this.nCols === 1 && fe === fs) return true;
    this.texts.push(cellText(buf, fs, fe));
    return true;
  }
}
