import { open, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { parseRecords } from "./csv-parse-lazy.js";
import type { Engine } from "../engine/engine.js";
import { FormatError, SabreTypeError } from "../errors.js";
import type { NdArray } from "../memory/ndarray-type.js";
import { shared } from "../memory/shared.js";
import { checkKnownKeys, checkSignal, describe } from "../validate.js";
import { fillRow, tableLayout, targetValues } from "./csv-layout.js";
import { readCsvParallel } from "./csv-parallel.js";
import { checkUtf8 } from "./utf8.js";

/** Options of {@link readCsv} and {@link parseCsv}. */
export interface ReadCsvOptions {
  /** true: the first row names the columns; false: it is data; "auto" (default): a header if any of its cells is not a number. */
  header?: boolean | "auto";
  /** Field separator (default ","). */
  delimiter?: string;
  /** A column to split off as labels/targets, by name (needs a header) or index (-1 = the last). */
  target?: string | number;
  /** Element type of X (default float64). */
  dtype?: "float64" | "float32";
  /** readCsv: the engine a big file is parsed on (default: the default engine). */
  engine?: Engine;
  /** readCsv: cancels a parallel read between byte ranges (AbortError). */
  signal?: AbortSignal;
  /** readCsv: files from this many bytes up are parsed in parallel (default 1 MiB; 0: always; Infinity: never). */
  parallelMinBytes?: number;
  /** readCsv: bytes per range of the parallel parse (default: about 8 ranges per thread, 256 KiB to 4 MiB). */
  rangeBytes?: number;
}

/** What {@link readCsv} and {@link parseCsv} return. */
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

/** Below this many bytes a file is parsed on the calling thread: see src/data/README.md (readCsv) for the measurement. */
export const CSV_PARALLEL_MIN_BYTES = 1 << 20;

/** The keys of ReadCsvOptions, for the unknown-option check. */
const CSV_OPTIONS = ["header", "delimiter", "target", "dtype", "engine", "signal", "parallelMinBytes", "rangeBytes"] as const;

function checkReadOptions(options: unknown): ReadCsvOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) throw new SabreTypeError(`readCsv options must be an object, got ${describe(options)}`);
  checkKnownKeys("readCsv options", options, CSV_OPTIONS);
  const o = options as ReadCsvOptions;
  checkSignal(o.signal);
  if (o.header !== undefined && typeof o.header !== "boolean" && o.header !== "auto") {
    throw new SabreTypeError(`readCsv: header must be true, false or "auto", got ${describe(o.header)}`);
  }
  if (o.delimiter !== undefined && (typeof o.delimiter !== "string" || o.delimiter.length === 0 || /[\r\n"]/.test(o.delimiter))) {
    throw new SabreTypeError(`readCsv: delimiter must be a non-empty string without quotes or line breaks, got ${describe(o.delimiter)}`);
  }
  // Only the float dtypes: an integer dtype would silently truncate 1.5 to 1 and turn empty cells (NaN) into 0.
  if (o.dtype !== undefined && o.dtype !== "float64" && o.dtype !== "float32") {
    throw new SabreTypeError(`readCsv: dtype must be "float64" or "float32", got ${describe(o.dtype)}`);
  }
  if (o.engine !== undefined && (typeof o.engine !== "object" || o.engine === null || typeof (o.engine as { parallelFor?: unknown }).parallelFor !== "function")) {
    throw new SabreTypeError(`readCsv: engine must be an Engine, got ${describe(o.engine)}`);
  }
  if (o.parallelMinBytes !== undefined && !(typeof o.parallelMinBytes === "number" && o.parallelMinBytes >= 0)) {
    throw new SabreTypeError(`readCsv: parallelMinBytes must be a number >= 0, got ${describe(o.parallelMinBytes)}`);
  }
  if (o.rangeBytes !== undefined && !(typeof o.rangeBytes === "number" && Number.isInteger(o.rangeBytes) && o.rangeBytes >= 1)) {
    throw new SabreTypeError(`readCsv: rangeBytes must be a positive integer, got ${describe(o.rangeBytes)}`);
  }
  return o;
}

/**
 * Reads a CSV file (gzip-compressed if it ends in .gz) of numeric columns
 * into a shared ndarray, optionally splitting off a target column that may
 * hold labels. Parsing is csv-parse's (quotes, CRLF, ...); a ragged row or a
 * non-numeric cell outside the target column is a FormatError naming it.
 * A file of 1 MiB or more is parsed in parallel on the engine, in byte
 * ranges, with the same results (see src/data/README.md).
 *
 * ```ts
 * const { X, y } = await readCsv("iris.csv", { target: "species" });
 * await new RandomForestClassifier().fit(X, y!);
 * ```
 *
 * @throws {@link FormatError} (`ERR_SABRE_FORMAT`) for a ragged row or a non-numeric cell
 * @throws {@link SabreTypeError} (`ERR_SABRE_TYPE`) for a file that cannot be read or bad options
 * @throws {@link AbortError} (`ERR_SABRE_ABORTED`) when `signal` aborts
 */
export async function readCsv(path: string | URL, options: ReadCsvOptions = {}): Promise<CsvTable> {
  if (typeof path !== "string" && !(path instanceof URL)) throw new SabreTypeError(`path must be a string or URL, got ${describe(path)}`);
  const o = checkReadOptions(options);
  const where = String(path);
  const minBytes = o.parallelMinBytes ?? CSV_PARALLEL_MIN_BYTES;
  let bytes: Buffer | undefined;
  if (where.endsWith(".gz")) {
    const packed = await readWhole(path);
    try {
      bytes = gunzipSync(packed);
    } catch (err) {
      throw new FormatError(`${where} is not valid gzip: ${(err as Error).message}`, { cause: err });
    }
    if (bytes.length > 0) {
      // The workers need the decompressed bytes in shared memory.
      const sharedBytes = shared.empty("uint8", [bytes.length]) as NdArray<Uint8Array>;
      sharedBytes.data.set(bytes);
      const t = await readCsvParallel({ bytes: sharedBytes }, bytes.length, o, where, bytes.length < minBytes);
      if (t !== null) return t;
    }
  } else {
    const size = await fileSize(path);
    if (size > 0) {
      const file = path instanceof URL ? fileURLToPath(path) : path;
      const t = await readCsvParallel({ path: file }, size, o, where, size < minBytes);
      if (t !== null) return t;
    }
  }
  bytes ??= await readWhole(path);
  // The fast path sends every file whose header, labels or bad cells decode to U+FFFD here, so this one check covers both.
  checkUtf8(bytes, where);
  return parseCsv(bytes.toString("utf8"), o, where);
}

async function readWhole(path: string | URL): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new SabreTypeError(`cannot read ${String(path)}: ${(err as Error).message}`, { cause: err });
  }
}

async function fileSize(path: string | URL): Promise<number> {
  try {
    const h = await open(path, "r");
    try {
      const st = await h.stat();
      // A pipe or other non-regular file has no size to split: the serial reader takes it.
      return st.isFile() ? st.size : 0;
    } finally {
      await h.close();
    }
  } catch (err) {
    throw new SabreTypeError(`cannot read ${String(path)}: ${(err as Error).message}`, { cause: err });
  }
}

/** readCsv on text already in memory (always on the calling thread). */
export function parseCsv(text: string, options: ReadCsvOptions = {}, where = "CSV text"): CsvTable {
  if (typeof text !== "string") throw new SabreTypeError(`parseCsv: text must be a string, got ${describe(text)}`);
  options = checkReadOptions(options);
  const delimiter = options.delimiter ?? ",";
  let records: string[][];
  try {
    records = parseRecords(text, { delimiter, skip_empty_lines: true, trim: true, relax_column_count: false });
  } catch (err) {
    throw new FormatError(`${where}: ${(err as Error).message}`, { cause: err });
  }
  if (records.length === 0) throw new FormatError(`${where} has no rows`);
  const first = records[0]!;
  const layout = tableLayout(first, options);
  const body = layout.hasHeader ? records.slice(1) : records;
  if (body.length === 0) throw new FormatError(`${where} has a header but no data rows`);
  const X = shared.zeros(options.dtype ?? "float64", [body.length, layout.d]);
  const targets: string[] = [];
  body.forEach((row, r) => fillRow(where, layout, row, r, X.data, targets));
  const y = layout.t !== undefined ? targetValues(targets) : undefined;
  return { X, y, columns: layout.names.filter((_, i) => i !== layout.t), target: layout.t === undefined ? undefined : layout.names[layout.t] };
}
