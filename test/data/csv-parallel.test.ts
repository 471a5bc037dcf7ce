// readCsv's parallel path against the serial reader (csv-parse) on the same
// bytes: generated files with rows around range boundaries (ranges down to
// one byte, windows that must refill and grow), CRLF, blank lines, padding,
// missing cells, header or not, targets; the same error messages (line and
// row numbers) wherever the bad line falls; the fallbacks to the serial
// reader; 1, 2, 3 and 8 threads (more than cores).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { Engine } from "../../src/engine/engine.js";
import { AbortError, FormatError, SabreTypeError } from "../../src/errors.js";
import { parseCsv, readCsv, type CsvTable, type ReadCsvOptions } from "../../src/data/csv.js";
import { readCsvParallel } from "../../src/data/csv-parallel.js";
import { rejectsTyped } from "../helpers.js";

const dir = mkdtempSync(join(tmpdir(), "sabre-csvp-"));
let fileNo = 0;
const engines: Engine[] = [];

function write(text: string | Buffer, ext = ".csv"): string {
  const p = join(dir, `f${fileNo++}${ext}`);
  writeFileSync(p, text);
  return p;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sameTable(got: CsvTable, want: CsvTable, what: string): void {
  assert.equal(got.X.shape, want.X.shape, `${what}: shape`);
  assert.is(got.X.dtype, want.X.dtype, `${what}: dtype`);
  for (let i = 0; i < want.X.data.length; i++) {
    if (!Object.is(got.X.data[i], want.X.data[i])) assert.unreachable(`${what}: X.data[${i}] = ${got.X.data[i]}, serial ${want.X.data[i]}`);
  }
  assert.equal(got.y, want.y, `${what}: y`);
  assert.equal(got.columns, want.columns, `${what}: columns`);
  assert.is(got.target, want.target, `${what}: target`);
}

type Outcome = { table: CsvTable } | { error: Error };

async function outcome(p: () => Promise<CsvTable | null> | CsvTable): Promise<Outcome | null> {
  try {
    const table = await p();
    return table === null ? null : { table };
  } catch (error) {
    return { error: error as Error };
  }
}

function sameOutcome(got: Outcome, want: Outcome, what: string): void {
  if ("error" in want) {
    if (!("error" in got)) return assert.unreachable(`${what}: serial throws ${want.error.message}, parallel resolves`);
    assert.is(got.error.constructor, want.error.constructor, `${what}: error class (${got.error.message})`);
    assert.is(got.error.message, want.error.message, what);
  } else {
    if ("error" in got) return assert.unreachable(`${what}: parallel throws ${got.error.message}, serial resolves`);
    sameTable(got.table, want.table, what);
  }
}

/**
 * The parallel reader, forced onto the fast path, gives what the serial
 * reader gives for `text` (tables and errors alike); `fast` false: the
 * fast path must decline and readCsv must still match.
 */
async function check(text: string, options: ReadCsvOptions, engine: Engine, rangeBytes: number, what: string, fast = true): Promise<void> {
  const path = write(text);
  const want = (await outcome(() => parseCsv(text, options, path)))!;
  const size = Buffer.byteLength(text);
  const direct = await outcome(() => readCsvParallel({ path }, size, { ...options, engine, rangeBytes }, path));
  if (fast) {
    if (direct === null) return assert.unreachable(`${what}: the fast path declined ${JSON.stringify(text.slice(0, 80))}`);
    sameOutcome(direct, want, `${what} (fast path)`);
  } else assert.is(direct, null, `${what}: the fast path should decline`);
  const viaReadCsv = (await outcome(() => readCsv(path, { ...options, engine, rangeBytes, parallelMinBytes: 0 })))!;
  sameOutcome(viaReadCsv, want, `${what} (readCsv)`);
  // A small file: the same passes as one range on the calling thread.
  const local = (await outcome(() => readCsv(path, options)))!;
  sameOutcome(local, want, `${what} (calling thread)`);
}

interface Gen {
  text: string;
  options: ReadCsvOptions;
}

/** A random numeric table in one of many spellings. */
function generate(rand: () => number, rows: number): Gen {
  const cols = 1 + Math.floor(rand() * 5);
  const crlf = rand() < 0.3;
  const nl = crlf ? "\r\n" : "\n";
  const header = rand() < 0.6;
  const targetKind = rand();
  const target = cols > 1 && targetKind < 0.3 ? "num" : cols > 1 && targetKind < 0.5 ? "text" : null;
  const tcol = target === null ? -1 : Math.floor(rand() * cols);
  const delimiter = rand() < 0.8 ? "," : ";";
  const lines: string[] = [];
  if (header) lines.push(Array.from({ length: cols }, (_, c) => (rand() < 0.2 ? ` name ${c} ` : `c${c}`)).join(delimiter));
  for (let r = 0; r < rows; r++) {
    if (rand() < 0.05) lines.push(rand() < 0.5 ? "" : " \t ");
    const cells: string[] = [];
    for (let c = 0; c < cols; c++) {
      let cell: string;
      if (c === tcol && target === "text") cell = ["cat", "dog", "a b", "7", ""][Math.floor(rand() * 5)]!;
      else {
        const u = rand();
        const v = (rand() - 0.5) * 10 ** Math.floor(rand() * 8 - 3);
        cell = u < 0.04 ? "" : u < 0.06 ? "NaN" : u < 0.07 ? "NA" : u < 0.08 ? "nan" : u < 0.1 ? String(v) : u < 0.12 ? v.toExponential(3) : u < 0.13 ? "-0" : v.toFixed(Math.floor(rand() * 6));
        if (c === tcol && cell === "") cell = "1";
        if (c === tcol && rand() < 0.01) cell = "NaN";
      }
      if (rand() < 0.1) cell = ` ${cell}\t`;
      cells.push(cell);
    }
    lines.push(cells.join(delimiter));
  }
  let text = lines.join(nl);
  if (rand() < 0.7) text += nl;
  const options: ReadCsvOptions = { delimiter, header: rand() < 0.7 ? "auto" : header };
  if (target !== null) options.target = header && rand() < 0.5 ? (lines[0]!.split(delimiter)[tcol]!.trim()) : tcol;
  if (rand() < 0.3) options.dtype = "float32";
  return { text, options };
}

test.before(async () => {
  for (const threads of [1, 2, 3, 8]) engines.push(await Engine.start({ threads }));
});

test.after(async () => {
  for (const e of engines) await e.close();
});

test("generated tables: the fast path gives the serial reader's arrays, whatever the range size", async () => {
  const rand = mulberry32(7);
  let n = 0;
  for (let i = 0; i < 120; i++) {
    const rows = [0, 1, 2, 3, 5, 8, 13, 31, 64][i % 9]!;
    const g = generate(rand, rows);
    const rangeBytes = [1, 2, 3, 7, 16, 61, 300, 1 << 20][i % 8]!;
    const engine = engines[i % engines.length]!;
    // An empty-bodied file without a line end after its first record is left to the serial reader.
    const fast = !(g.text.indexOf("\n") < 0 || /^\s*(\r?\n)/.test(g.text));
    await check(g.text, g.options, engine, rangeBytes, `table ${i} (${rows} rows, ranges of ${rangeBytes} B, ${engine.threads} threads)`, fast);
    n++;
  }
  assert.is(n, 120);
});

test("1, 2, 3 and 8 threads give the same array as the serial reader, rows crossing every range boundary", async () => {
  const rand = mulberry32(99);
  const g = generate(rand, 3000);
  const want = parseCsv(g.text, g.options);
  const path = write(g.text);
  for (const engine of engines) {
    for (const rangeBytes of [29, 97, 4096]) {
      const t = await readCsvParallel({ path }, Buffer.byteLength(g.text), { ...g.options, engine, rangeBytes }, path);
      assert.ok(t !== null);
      sameTable(t, want, `${engine.threads} threads, ranges of ${rangeBytes} B`);
    }
  }
});

test("a long line crosses many ranges and outgrows the read window", async () => {
  const long = Array.from({ length: 400 }, (_, i) => (i * 1.25).toString()).join(",");
  const text = `${long}\n${long}\n\n${long}`;
  for (const rangeBytes of [1, 5, 50, 5000]) {
    await check(text, {}, engines[2]!, rangeBytes, `400 columns, ranges of ${rangeBytes}`);
    // A quote or a stray "\r" deep in a line that needed the window to refill is still seen.
    await check(`${text}\n${long.replace(/,498\.75$/, ',"498.75"')}\n`, {}, engines[2]!, rangeBytes, `a quote after many refills, ranges of ${rangeBytes}`, false);
    await check(`${text}\n${long.replace(/,498\.75$/, ",49\r8.75")}\n`, {}, engines[2]!, rangeBytes, `a CR after many refills, ranges of ${rangeBytes}`, false);
  }
});

test("a ragged row is the same FormatError, with its line number, whichever range holds it", async () => {
  const rand = mulberry32(3);
  for (let i = 0; i < 40; i++) {
    const rows = 20 + Math.floor(rand() * 30);
    const lines = ["a,b,c"];
    for (let r = 0; r < rows; r++) {
      if (rand() < 0.15) lines.push("");
      lines.push(`${r},${r * 2},${r / 4}`);
    }
    const bad = 1 + Math.floor(rand() * (lines.length - 1));
    lines[bad] = rand() < 0.5 ? "1,2" : "1,2,3,4";
    if (rand() < 0.5) lines[Math.min(lines.length - 1, bad + 3)] = "x,y";
    const crlf = i % 2 === 1;
    await check(lines.join(crlf ? "\r\n" : "\n"), {}, engines[i % 4]!, 1 + (i % 23), `ragged line ${bad + 1}`);
  }
});

test("a non-numeric cell is the same FormatError with its row number (after blank lines, with or without header)", async () => {
  const rand = mulberry32(4);
  for (let i = 0; i < 40; i++) {
    const header = i % 2 === 0;
    const lines = header ? ["a,b"] : [];
    for (let r = 0; r < 30; r++) {
      if (rand() < 0.2 && lines.length > 0) lines.push("  ");
      lines.push(`${r},${-r}`);
    }
    const bad = Math.floor(rand() * lines.length);
    if (lines[bad]!.trim() === "" || (header && bad === 0)) continue;
    lines[bad] = rand() < 0.5 ? "1,x2" : "abc,3";
    await check(lines.join("\n") + "\n", { header }, engines[i % 4]!, 1 + (i % 17), `non-numeric at line ${bad + 1}`);
  }
  await check("1,2\n3,4\n5,six\n", { header: false }, engines[1]!, 2, "the first record is data");
  await check("1,x\n3,4\n", { header: false }, engines[1]!, 2, "the bad cell in the first record");
  await check("a,label\n1,x\n", {}, engines[1]!, 2, "the label hint");
});

test("quotes: a quoted header is read and the body parsed in parallel; quotes in the body go to the serial reader", async () => {
  await check('"a","b, with comma","c"\n1,2,3\n4,5,6\n', { target: "b, with comma" }, engines[1]!, 3, "quoted header");
  await check('a,b\n1,"2"\n3,4\n', {}, engines[1]!, 3, "a quoted cell", false);
  await check('a,label\n1,"two\nlines"\n3,x\n', { target: "label" }, engines[1]!, 2, "a quoted newline in the body", false);
  await check('"a\nb",c\n1,2\n', {}, engines[1]!, 2, "a quoted newline in the header", false);
  await check('a,b\n1,"2\n', {}, engines[1]!, 2, "an unclosed quote (csv-parse's error)", false);
  await check("a,b\r\n1,2\n3,4\r\n", {}, engines[1]!, 2, "a bare LF after a CRLF header", false);
  await check("\n\na,b\n1,2\n", {}, engines[1]!, 2, "leading blank lines", false);
  await check("a,b\n1,\u00a02\n", {}, engines[1]!, 2, "a cell starting with a non-ASCII space", false);
  await check("a b\n1 2\n", { delimiter: " " }, engines[1]!, 2, "a space delimiter", false);
  await check("a::b\n1::2\n", { delimiter: "::" }, engines[1]!, 2, "a two-character delimiter", false);
});

test("line ends: CRLF, a lone CR inside a line, a trailing newline or none, whitespace-only lines", async () => {
  await check("a,b\r\n1,2\r\n\r\n3,4", {}, engines[0]!, 2, "CRLF, no trailing newline");
  await check("a,b\r\n1,2\r\n3,4\r\n", {}, engines[0]!, 5, "CRLF");
  // csv-parse counts such a "\r" as a line of its own: its line numbers are left to it.
  await check("a,b\n1,2\r\n3,4\n", {}, engines[0]!, 3, "LF then CRLF", false);
  await check("a,b\n1,2\r3,4\n", {}, engines[0]!, 3, "a lone CR", false);
  await check("a,b\r\n1,2\r\r\n3,4\r\n", {}, engines[0]!, 3, "CR CR LF", false);
  await check("a\n1\n \n\t\n2\n", {}, engines[0]!, 1, "one column with blank lines");
  await check("a\nr\u00e9d\n1\n", { target: "a" }, engines[0]!, 1, "a non-ASCII label inside a cell");
  await check("x,y\ncaf\u00e9 au lait,1\nb,2\n", { target: "x" }, engines[0]!, 4, "non-ASCII labels");
});

test("empty file, header only, header and blank lines: the serial reader's errors", async () => {
  for (const text of ["", "\n", "a,b\n", "a,b\n\n  \n", "a,b\r\n\r\n", "1,2\n"]) {
    const path = write(text);
    const want = (await outcome(() => parseCsv(text, {}, path)))!;
    const got = (await outcome(() => readCsv(path, { engine: engines[1]!, parallelMinBytes: 0, rangeBytes: 1 })))!;
    sameOutcome(got, want, JSON.stringify(text));
  }
});

test("gzip, URL paths and the automatic size threshold", async () => {
  const g = generate(mulberry32(8), 500);
  const want = parseCsv(g.text, g.options);
  const gz = write(gzipSync(g.text), ".csv.gz");
  sameTable(await readCsv(gz, { ...g.options, engine: engines[1]!, parallelMinBytes: 0, rangeBytes: 100 }), want, "gzip");
  const plain = write(g.text);
  sameTable(await readCsv(new URL(`file://${plain}`), { ...g.options, engine: engines[1]!, parallelMinBytes: 0, rangeBytes: 100 }), want, "URL");
  // Over 1 MiB: the default options take the parallel path on their own.
  const big = { text: "a,b,c,d,e\n" + Array.from({ length: 60000 }, (_, r) => `${r},${r / 7},${-r / 3},${r % 11},${(r * 1.5).toFixed(2)}`).join("\n"), options: {} };
  assert.ok(Buffer.byteLength(big.text) > 1 << 20);
  const bigPath = write(big.text);
  sameTable(await readCsv(bigPath, { ...big.options, engine: engines[1]! }), parseCsv(big.text, big.options), "big file");
});

test("an abort rejects with AbortError; bad options are SabreTypeErrors", async () => {
  const g = generate(mulberry32(10), 2000);
  const path = write(g.text);
  const ac = new AbortController();
  ac.abort();
  await rejectsTyped(readCsv(path, { ...g.options, engine: engines[1]!, parallelMinBytes: 0, rangeBytes: 64, signal: ac.signal }), AbortError);
  await rejectsTyped(readCsv(path, { rangeBytes: 0 }), SabreTypeError, /rangeBytes/);
  await rejectsTyped(readCsv(path, { parallelMinBytes: -1 }), SabreTypeError, /parallelMinBytes/);
  await rejectsTyped(readCsv(path, { engine: {} as Engine }), SabreTypeError, /engine/);
  await rejectsTyped(readCsv(path, { signal: "no" as unknown as AbortSignal }), SabreTypeError, /signal/);
  await rejectsTyped(readCsv(join(dir, "missing.csv"), { parallelMinBytes: 0 }), SabreTypeError, /cannot read/);
  await rejectsTyped(readCsv(dir, { parallelMinBytes: 0 }), SabreTypeError, /EISDIR/);
  // FormatError is what a malformed big file gives, as the small one.
  await rejectsTyped(readCsv(write("a,b\n1,2\n3\n"), { engine: engines[1]!, parallelMinBytes: 0 }), FormatError, /on line 3/);
});

test.run();
