import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { FormatError, SabreTypeError, isShared, parseCsv, readCsv } from "sabre";
import { rejectsTyped, throwsTyped } from "../helpers.js";

const dir = mkdtempSync(join(tmpdir(), "sabre-csv-"));

test("a header is detected; the target splits off; string labels stay strings", async () => {
  const text = 'a,b,"kind, quoted"\n1,2.5,cat\n3,-4e2,"dog"\r\n\n5,6,cat\n';
  writeFileSync(join(dir, "t.csv"), text);
  writeFileSync(join(dir, "t.csv.gz"), gzipSync(text));
  for (const name of ["t.csv", "t.csv.gz"]) {
    const t = await readCsv(join(dir, name), { target: "kind, quoted" });
    assert.equal(t.columns, ["a", "b"]);
    assert.equal(t.X.shape, [3, 2]);
    assert.ok(isShared(t.X));
    assert.equal(Array.from(t.X.data), [1, 2.5, 3, -400, 5, 6]);
    assert.equal(t.y, ["cat", "dog", "cat"]);
    assert.is(t.target, "kind, quoted");
  }
});

test("no header, numeric target by index, float32, empty cells as NaN", () => {
  const t = parseCsv("1,2,0\n3,,1\n", { target: -1, dtype: "float32" });
  assert.equal(t.columns, ["0", "1"]);
  assert.is(t.X.dtype, "float32");
  assert.ok(Number.isNaN(t.X.get(1, 1)));
  assert.equal(t.y, [0, 1]);
  const noTarget = parseCsv("1;2\n3;4\n", { delimiter: ";" });
  assert.equal(noTarget.X.shape, [2, 2]);
  assert.is(noTarget.y, undefined);
});

test("malformed files and bad options are typed errors naming the place", async () => {
  throwsTyped(() => parseCsv("a,b\n1,2\n3\n"), FormatError, /column|record/i);
  throwsTyped(() => parseCsv("a,b\n1,x\n"), FormatError, /row 2, column "b": "x" is not a number/);
  throwsTyped(() => parseCsv(""), FormatError, /no rows/);
  throwsTyped(() => parseCsv("a,b\n"), FormatError, /header but no data rows/);
  throwsTyped(() => parseCsv("a,b\n1,2\n", { target: "c" }), SabreTypeError, /no column named "c" \(columns: a, b\)/);
  throwsTyped(() => parseCsv("a,b\n1,2\n", { target: 5 }), SabreTypeError, /target column 5 is out of range/);
  throwsTyped(() => parseCsv("a,label\n1,x\n"), FormatError, /name it as the target/);
  await rejectsTyped(readCsv(join(dir, "missing.csv")), SabreTypeError, /cannot read/);
  writeFileSync(join(dir, "bad.csv.gz"), Buffer.from("not gzip at all"));
  await rejectsTyped(readCsv(join(dir, "bad.csv.gz")), FormatError, /not valid gzip/);
  await rejectsTyped(readCsv(42 as unknown as string), SabreTypeError, /path must be/);
});

test("a file that is not UTF-8 is a FormatError naming the byte, its offset and line (Latin-1 labels silently merged into one)", async () => {
  // "café" and "cafè" in Latin-1: both decoded to "caf\uFFFD", so 60,000 rows of two classes loaded as one class.
  const rows = ["x1,x2,label"];
  for (let i = 0; i < 60_000; i++) rows.push(`${i},${2 * i},caf${i % 2 ? "\u00e9" : "\u00e8"}`);
  const latin1 = join(dir, "latin1.csv");
  writeFileSync(latin1, Buffer.from(rows.join("\n"), "latin1"));
  for (const parallelMinBytes of [1, 2 ** 30]) {
    const err = await rejectsTyped(readCsv(latin1, { target: "label", parallelMinBytes }), FormatError, /latin1\.csv is not UTF-8 text: byte 0xe8 at offset 19 \(line 2\) .*Latin-1.*save the file as UTF-8/);
    assert.is(err.code, "ERR_SABRE_FORMAT");
  }
  // A bad byte in a numeric cell deep in the file, a UTF-16 file, garbage behind a quote (was csv-parse's "Invalid Opening Quote").
  const numeric = join(dir, "numeric.csv");
  writeFileSync(numeric, Buffer.concat([Buffer.from("a,b\n" + "1,2\n".repeat(60_000)), Buffer.from([0x33, 0x2c, 0x34, 0xff, 0x0a])]));
  await rejectsTyped(readCsv(numeric, { parallelMinBytes: 1 }), FormatError, /is not UTF-8 text: byte 0xff at offset 240007 \(line 60002\)/);
  const utf16 = join(dir, "utf16.csv");
  writeFileSync(utf16, Buffer.from("\ufeffa,b\n1,2\n", "utf16le"));
  await rejectsTyped(readCsv(utf16), FormatError, /byte 0xff at offset 0 \(line 1\) .*UTF-16 byte-order mark/);
  const quoted = join(dir, "quoted.csv");
  writeFileSync(quoted, Buffer.from([0x22, 0xa5, 0x01, 0x22, 0x80, 0x2c, 0x31, 0x0a, 0x31, 0x2c, 0x32, 0x0a]));
  await rejectsTyped(readCsv(quoted), FormatError, /is not UTF-8 text: byte 0xa5 at offset 1 \(line 1\)/);
  // UTF-8 text loads, a literal U+FFFD label included (the fast path hands it to the serial reader, which keeps it).
  const utf8 = join(dir, "utf8.csv");
  writeFileSync(utf8, rows.slice(0, 5).join("\n") + "\n9,9,\ufffd\n");
  const t = await readCsv(utf8, { target: "label", parallelMinBytes: 1 });
  assert.equal(t.y, ["caf\u00e8", "caf\u00e9", "caf\u00e8", "caf\u00e9", "\ufffd"]);
});

test("bad options are typed errors: unknown keys, header, delimiter, dtype, a null options or non-string text", async () => {
  // A misspelt option used to be ignored ({ delim: ";" } parsed with ","), header "yes" was taken as true,
  // dtype "int32" silently truncated 1.5 to 1, and parseCsv(text, null) threw a plain TypeError.
  throwsTyped(() => parseCsv("a;b\n1;2\n", { delim: ";" } as never), SabreTypeError, /unknown option "delim" \(known: header, delimiter/);
  throwsTyped(() => parseCsv("a,b\n1,2\n", { header: "yes" } as never), SabreTypeError, /header must be true, false or "auto", got "yes"/);
  throwsTyped(() => parseCsv("a,b\n1.5,2\n", { dtype: "int32" } as never), SabreTypeError, /dtype must be "float64" or "float32", got "int32"/);
  throwsTyped(() => parseCsv("a,b\n1,2\n", { delimiter: "\n" }), SabreTypeError, /delimiter must be a non-empty string/);
  throwsTyped(() => parseCsv("a\n1\n", null as never), SabreTypeError, /options must be an object, got null/);
  throwsTyped(() => parseCsv(5 as never), SabreTypeError, /parseCsv: text must be a string, got 5/);
  writeFileSync(join(dir, "opts.csv"), "a,b\n1,2\n");
  await rejectsTyped(readCsv(join(dir, "opts.csv"), { delim: ";" } as never), SabreTypeError, /unknown option "delim"/);
});

test.run();
