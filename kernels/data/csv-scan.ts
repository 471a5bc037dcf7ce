// The three walks a parallel readCsv makes over the lines that start in one
// byte range: count (records, lines, column counts, anything the fast path
// does not handle), parse (numbers into the rows' place in X) and, only when
// the target column turns out not to be numeric, its text. The rules are the
// serial reader's (csv-parse with trim and skip_empty_lines) restricted to
// files without quotes in the body; src/data/csv-parallel.md says why each
// rule matches.
import { cellText, isBlankByte, isMissingCell, parseCell } from "./csv-number.js";
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
  /** Data records (blank lines are skipped, as csv-parse's skip_empty_lines with trim does). */
  records: number;
  /** Lines that start in the range (blank ones included): the line numbers of later ranges. */
  lines: number;
  /** The first line (1-based within the range) whose field count is not the header's, and that count. */
  ragged: { line: number; got: number } | null;
  /** Why the fast path cannot read this file ("" when it can). */
  odd: string;
}

export class Counter implements LineVisitor {
  records = 0;
  lines = 0;
  ragged: { line: number; got: number } | null = null;
  odd = "";

  constructor(
    private readonly delim: number,
    private readonly nCols: number,
    private readonly crlf: boolean,
  ) {}

  line(buf: Uint8Array, ls: number, le: number, hadNl: boolean): boolean {
    this.lines++;
    const delim = this.delim;
    let f = 1;
    let special = -1;
    for (let k = ls; k < le; k++) {
      const c = buf[k]!;
      if (c === delim) f++;
      else if ((c === 34 || c === 13) && special < 0) special = k;
    }
    if (special >= 0) {
      if (buf[special] === 34) {
        this.odd = "a quote in the body";
        return false;
      }
      // csv-parse counts a "\r" as a line of its own except in the "\r\n" it splits records at.
      if (!this.crlf || special !== le - 1) {
        this.odd = 'a "\\r" that is not part of a "\\r\\n" record delimiter';
        return false;
      }
    }
    if (this.crlf && hadNl && (le === ls || buf[le - 1] !== 13)) {
      this.odd = 'a bare "\\n" in a file whose first line ends in "\\r\\n"';
      return false;
    }
    if (f === 1 && isBlankLine(buf, ls, le)) return true;
    if (f !== this.nCols) {
      this.ragged = { line: this.lines, got: f };
      return false;
    }
    this.records++;
    return true;
  }

  result(): RangeCount {
    return { records: this.records, lines: this.lines, ragged: this.ragged, odd: this.odd };
  }
}

function isBlankLine(buf: Uint8Array, ls: number, le: number): boolean {
  for (let k = ls; k < le; k++) if (!isBlankByte(buf[k]!)) return false;
  return true;
}

/** What the parsing walk found in one range. */
export interface RangeParse {
  /** The first cell that is not a number: its record within the range (0-based), file column and text. */
  bad: { record: number; col: number; text: string } | null;
  /** Some target cell is not a number (the target column will be read as text). */
  textTarget: boolean;
  odd: string;
}

export class Parser implements LineVisitor {
  record = 0;
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
    const delim = this.delim;
    const target = this.target;
    const x = this.x;
    const row = this.row0 + this.record;
    let out = row * this.d;
    let k = ls;
    for (let col = 0; ; col++) {
      let fs = k;
      while (k < le && buf[k] !== delim) k++;
      let fe = k;
      // No delimiter on the line: the counting walk let it through, so it is blank (or a 1-column file's).
      if (col === 0 && k === le && this.nCols > 1) return true;
      while (fs < fe && isBlankByte(buf[fs]!)) fs++;
      while (fe > fs && isBlankByte(buf[fe - 1]!)) fe--;
      if (fe > fs && (buf[fs]! >= 0x80 || buf[fe - 1]! >= 0x80)) {
        // csv-parse trims some non-ASCII spaces too: leave such files to it.
        this.odd = "a cell that starts or ends with a non-ASCII character";
        return false;
      }
      if (this.nCols === 1 && fe === fs) return true;
      const v = parseCell(buf, fs, fe);
      if (col === target) this.y![row] = v;
      else {
        if (v !== v && !isMissingCell(buf, fs, fe)) {
          this.bad = { record: this.record, col, text: cellText(buf, fs, fe) };
          return false;
        }
        x[out++] = v;
      }
      if (col === target && v !== v) this.textTarget = true;
      if (k >= le) break;
      k++;
    }
    this.record++;
    return true;
  }

  result(): RangeParse {
    return { bad: this.bad, textTarget: this.textTarget, odd: this.odd };
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
