// What the first record of a CSV decides, for the serial and the parallel
// reader alike: whether it is a header, the column names, the target column.
import { FormatError, SabreTypeError } from "../errors.js";
import type { ReadCsvOptions } from "./csv.js";

export interface TableLayout {
  hasHeader: boolean;
  names: string[];
  /** The target's column in the file, or undefined. */
  t: number | undefined;
  /** Columns of X. */
  d: number;
}

export function tableLayout(first: string[], options: ReadCsvOptions): TableLayout {
  const header = options.header ?? "auto";
  const hasHeader = header === "auto" ? first.some((c) => c !== "" && Number.isNaN(Number(c))) : header;
  const names = hasHeader ? first.slice() : first.map((_, i) => String(i));
  let t: number | undefined;
  if (options.target !== undefined) {
    if (typeof options.target === "number") {
      if (!Number.isInteger(options.target) || options.target >= names.length || options.target < -names.length) {
        throw new SabreTypeError(`target column ${options.target} is out of range: the file has ${names.length} columns`);
      }
      t = options.target < 0 ? names.length + options.target : options.target;
    } else {
      t = names.indexOf(options.target);
      if (t < 0) throw new SabreTypeError(`no column named ${JSON.stringify(options.target)} (columns: ${names.join(", ")})`);
    }
  }
  return { hasHeader, names, t, d: names.length - (t === undefined ? 0 : 1) };
}

/** A cell as a number of X: empty, "NaN", "nan" and "NA" are NaN. */
export function toNumber(cell: string): number {
  if (cell === "" || cell === "NaN" || cell === "nan" || cell === "NA") return Number.NaN;
  return Number(cell);
}

/** The error for a cell of X that is not a number (row: 0-based data row). */
export function notANumber(where: string, layout: TableLayout, row: number, col: number, cell: string): FormatError {
  const hint = layout.t === undefined ? " (if it is the label column, name it as the target)" : "";
  return new FormatError(`${where}: row ${row + (layout.hasHeader ? 2 : 1)}, column ${JSON.stringify(layout.names[col])}: ${JSON.stringify(cell)} is not a number${hint}`);
}

/** Fills row `r` of X from a record's cells (the target skipped), or throws notANumber. */
export function fillRow(where: string, layout: TableLayout, row: string[], r: number, x: Float64Array | Float32Array, targets: string[]): void {
  let k = r * layout.d;
  for (let c = 0; c < row.length; c++) {
    if (c === layout.t) {
      targets.push(row[c]!);
      continue;
    }
    const v = toNumber(row[c]!);
    if (Number.isNaN(v) && !/^(|NaN|nan|NA)$/.test(row[c]!)) throw notANumber(where, layout, r, c, row[c]!);
    x[k++] = v;
  }
}

/** y as the serial reader makes it: numbers if every target cell is one, else the strings. */
export function targetValues(targets: string[]): number[] | string[] {
  const nums = targets.map(Number);
  return targets.every((s, i) => s !== "" && !Number.isNaN(nums[i]!)) ? nums : targets;
}
