// readCsv's parallel path: the body's byte ranges are counted, then parsed
// straight into their rows of one shared X, on the engine's workers. Files
// the fast path does not handle (quotes in the body, a multi-byte
// delimiter...) return null and go to the serial reader. The protocol and
// why each rule matches the serial reader: csv-parallel.md.
import { parseRecords } from "./csv-parse-lazy.js";
import csvKernels, { type CsvLayout, type ParseArgs } from "../../kernels/data/csv.js";
import type { KernelArgs } from "../engine/engine.js";
import type { RangeCount, RangeParse } from "../../kernels/data/csv-scan.js";
import type { CsvSource } from "../../kernels/data/csv-window.js";
import { getDefaultEngine } from "../engine/default-engine.js";
import { AbortError, FormatError } from "../errors.js";
import { shared } from "../memory/shared.js";
import type { NdArray } from "../memory/ndarray-type.js";
import type { CsvTable, ReadCsvOptions } from "./csv.js";
import { findHead } from "./csv-head.js";
import { fillRow, notANumber, tableLayout } from "./csv-layout.js";

/** Range size when not given: about 8 ranges per thread (dynamic balance), 256 KiB to 4 MiB. */
function autoRangeBytes(bodyBytes: number, threads: number): number {
  return Math.max(256 << 10, Math.min(4 << 20, Math.ceil(bodyBytes / (threads * 8))));
}

/** The delimiter's byte when the fast path can split on it, else -1. */
function delimiterByte(delimiter: string): number {
  if (delimiter.length !== 1) return -1;
  const c = delimiter.charCodeAt(0);
  // Quotes and the bytes csv-parse trims or ends records at are left to it.
  if (c >= 0x80 || c === 34 || c === 32 || (c >= 9 && c <= 13)) return -1;
  return c;
}

/** Runs the passes: on the engine, or (small files) as one range on the calling thread, which saves the dispatch and an engine start. */
type Runner = (nRanges: number, kernel: "sabre.data.csv.count" | "sabre.data.csv.parse" | "sabre.data.csv.targetText", args: KernelArgs) => Promise<unknown[]>;

function localRunner(): Runner {
  return (nRanges, kernel, args) => {
    const ctx = { start: 0, end: nRanges, chunk: 0, nChunks: 1, threadId: 0, threads: 1, kernel };
    const k = csvKernels.kernels[kernel] as unknown as (c: typeof ctx, a: KernelArgs) => unknown[];
    return Promise.resolve([k(ctx, args)]);
  };
}

/**
 * readCsv's fast path (parallel unless `local`), or null when the file
 * needs the serial reader (csv-parallel.md says when).
 */
export async function readCsvParallel(source: CsvSource, size: number, options: ReadCsvOptions, where: string, local = false): Promise<CsvTable | null> {
  const delim = delimiterByte(options.delimiter ?? ",");
  if (delim < 0) return null;
  const head = findHead(source, size);
  if (head === null) return null;
  let first: string[];
  try {
    const recs = parseRecords(head.text, { delimiter: options.delimiter ?? ",", skip_empty_lines: true, trim: true, relax_column_count: false });
    if (recs.length !== 1) return null;
    first = recs[0]!;
  } catch {
    return null;
  }
  const layout = tableLayout(first, options);
  const signal = options.signal;
  let run: Runner;
  let rangeBytes: number;
  if (local) {
    if (signal?.aborted) throw new AbortError("readCsv", signal.reason);
    run = localRunner();
    rangeBytes = options.rangeBytes ?? Math.max(1, size - head.end);
  } else {
    const engine = options.engine ?? (await getDefaultEngine());
    run = (n, kernel, args) => engine.parallelFor(n, kernel, args, { chunk: 1, signal });
    rangeBytes = options.rangeBytes ?? autoRangeBytes(size - head.end, engine.threads);
  }
  const at: CsvLayout = { source, size, body: head.end, rangeBytes, delim, nCols: first.length, crlf: head.crlf };
  const nRanges = Math.ceil((size - head.end) / rangeBytes);

  const counts = nRanges === 0 ? [] : ((await run(nRanges, "sabre.data.csv.count", { ...at })) as RangeCount[][]).flat();
  if (counts.some((c) => c.odd !== "")) return null;
  let records = layout.hasHeader ? 0 : 1;
  const rowStart: number[] = [];
  const lineStart: number[] = [];
  let line = head.lines + 1;
  for (const c of counts) {
    rowStart.push(records);
    lineStart.push(line);
    records += c.records;
    line += c.lines;
  }
  const X = shared.zeros(options.dtype ?? "float64", [records, layout.d]) as NdArray<Float64Array | Float32Array>;
  const y = layout.t === undefined ? null : (shared.empty("float64", [records]) as NdArray<Float64Array>);
  const firstTargets: string[] = [];
  let firstError: FormatError | null = null;
  if (!layout.hasHeader) {
    try {
      fillRow(where, layout, first, 0, X.data, firstTargets);
    } catch (err) {
      firstError = err as FormatError;
    }
    if (y !== null) y.data[0] = Number(firstTargets[0]);
  }

  let parsed: RangeParse[] = [];
  if (nRanges > 0) {
    const args: ParseArgs = { ...at, target: layout.t ?? -1, x: X, y, rowStart };
    parsed = ((await run(nRanges, "sabre.data.csv.parse", { ...args })) as RangeParse[][]).flat();
  }
  if (parsed.some((p) => p.odd !== "")) return null;
  // The serial reader parses the whole file before it converts a cell: a ragged line anywhere comes first.
  for (let r = 0; r < parsed.length; r++) {
    const ragged = parsed[r]!.ragged;
    if (ragged !== null) throw new FormatError(`${where}: Invalid Record Length: expect ${first.length}, got ${ragged.got} on line ${lineStart[r]! + ragged.line - 1}`);
  }
  if (firstError !== null) throw firstError;
  for (let r = 0; r < parsed.length; r++) {
    const bad = parsed[r]!.bad;
    // A cell with bytes that are not UTF-8 (decoded as U+FFFD): the serial reader names the file's encoding instead.
    if (bad !== null && bad.text.includes("\uFFFD")) return null;
    if (bad !== null) throw notANumber(where, layout, rowStart[r]! + bad.record, bad.col, bad.text);
  }
  if (records === 0) throw new FormatError(`${where} has a header but no data rows`);

  let yOut: number[] | string[] | undefined;
  if (y !== null) {
    const textual = parsed.some((p) => p.textTarget) || firstTargets.some((s) => s === "" || Number.isNaN(Number(s)));
    if (!textual) yOut = Array.from(y.data);
    else {
      const parts = nRanges === 0 ? [] : ((await run(nRanges, "sabre.data.csv.targetText", { ...at, target: layout.t! })) as string[][][]).flat();
      yOut = firstTargets.concat(...parts);
      // Labels with bytes that are not UTF-8 would merge ("caf\xe9" and "caf\xe8" both decode to "caf\uFFFD"): the serial reader refuses the file.
      if (yOut.some((s) => s.includes("\uFFFD"))) return null;
    }
  }
  return { X, y: yOut, columns: layout.names.filter((_, i) => i !== layout.t), target: layout.t === undefined ? undefined : layout.names[layout.t] };
}
