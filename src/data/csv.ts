import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { parse } from "csv-parse/sync";
import { FormatError, SabreTypeError } from "../errors.js";
import type { NdArray } from "../memory/ndarray-type.js";
import { shared } from "../memory/shared.js";
import { describe } from "../validate.js";

export interface ReadCsvOptions {
  /** true: the first row names the columns; false: it is data; "auto" (default): a header if any of its cells is not a number. */
  header?: boolean | "auto";
  /** Field separator (default ","). */
  delimiter?: string;
  /** A column to split off as labels/targets, by name (needs a header) or index (-1 = the last). */
  target?: string | number;
  /** Element type of X (default float64). */
  dtype?: "float64" | "float32";
}

export interface CsvTable {
  /** The numeric columns (all but the target) as a shared [rows, columns] ndarray. Empty cells and "NaN" are NaN. */
  X: NdArray<Float64Array | Float32Array>;
  /** The target column: numbers if every value is numeric, else strings. */
  y: number[] | string[] | undefined;
  /** Names of X's columns (from the header, or "0", "1", ...). */
  columns: string[];
  /** The target column's name. */
  target: string | undefined;
}

function toNumber(cell: string): number {
  if (cell === "" || cell === "NaN" || cell === "nan" || cell === "NA") return Number.NaN;
  return Number(cell);
}

/**
 * Reads a CSV file (gzip-compressed if it ends in .gz) of numeric columns
 * into a shared ndarray, optionally splitting off a target column that may
 * hold labels. Parsing is csv-parse's (quotes, CRLF, ...); a ragged row or a
 * non-numeric cell outside the target column is a FormatError naming it.
 *
 * ```ts
 * const { X, y } = await readCsv("iris.csv", { target: "species" });
 * await new RandomForestClassifier().fit(X, y!);
 * ```
 */
export async function readCsv(path: string | URL, options: ReadCsvOptions = {}): Promise<CsvTable> {
  if (typeof path !== "string" && !(path instanceof URL)) throw new SabreTypeError(`path must be a string or URL, got ${describe(path)}`);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new SabreTypeError(`cannot read ${String(path)}: ${(err as Error).message}`, { cause: err });
  }
  if (String(path).endsWith(".gz")) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      throw new FormatError(`${String(path)} is not valid gzip: ${(err as Error).message}`, { cause: err });
    }
  }
  return parseCsv(bytes.toString("utf8"), options, String(path));
}

/** readCsv on text already in memory. */
export function parseCsv(text: string, options: ReadCsvOptions = {}, where = "CSV text"): CsvTable {
  const delimiter = options.delimiter ?? ",";
  let records: string[][];
  try {
    records = parse(text, { delimiter, skip_empty_lines: true, trim: true, relax_column_count: false }) as string[][];
  } catch (err) {
    throw new FormatError(`${where}: ${(err as Error).message}`, { cause: err });
  }
  if (records.length === 0) throw new FormatError(`${where} has no rows`);
  const first = records[0]!;
  const header = options.header ?? "auto";
  const hasHeader = header === "auto" ? first.some((c) => c !== "" && Number.isNaN(Number(c))) : header;
  const names = hasHeader ? first.slice() : first.map((_, i) => String(i));
  const body = hasHeader ? records.slice(1) : records;
  if (body.length === 0) throw new FormatError(`${where} has a header but no data rows`);
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
  const d = names.length - (t === undefined ? 0 : 1);
  const X = shared.zeros(options.dtype ?? "float64", [body.length, d]);
  const targets: string[] = [];
  body.forEach((row, r) => {
    let k = 0;
    for (let c = 0; c < row.length; c++) {
      if (c === t) {
        targets.push(row[c]!);
        continue;
      }
      const v = toNumber(row[c]!);
      if (Number.isNaN(v) && !/^(|NaN|nan|NA)$/.test(row[c]!)) {
        const hint = t === undefined ? " (if it is the label column, name it as the target)" : "";
        throw new FormatError(`${where}: row ${r + (hasHeader ? 2 : 1)}, column ${JSON.stringify(names[c])}: ${JSON.stringify(row[c])} is not a number${hint}`);
      }
      X.data[r * d + k++] = v;
    }
  });
  let y: number[] | string[] | undefined;
  if (t !== undefined) {
    const nums = targets.map(Number);
    y = targets.every((s, i) => s !== "" && !Number.isNaN(nums[i]!)) ? nums : targets;
  }
  return { X, y, columns: names.filter((_, i) => i !== t), target: t === undefined ? undefined : names[t] };
}
