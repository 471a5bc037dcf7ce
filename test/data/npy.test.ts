// Reading .npy files: numpy-written fixtures of every dtype, byte order,
// memory order and format version; malformed files; bad arguments.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { AbortError, FormatError, SabreTypeError, isShared, parseNpy, readNpy, readNpySync, type NdArray } from "sabre";
import { rejectsTyped, throwsTyped } from "../helpers.js";
import { FIXTURES, cOrderHex, npyBytes } from "./npy-helpers.js";

interface Expected {
  dtype: string;
  shape: number[];
  fortran: boolean;
  hex: string;
}
const manifest = JSON.parse(readFileSync(join(FIXTURES, "manifest.json"), "utf8")) as Record<string, Expected>;
const dir = mkdtempSync(join(tmpdir(), "sabre-npy-"));

function checkAgainst(name: string, a: NdArray, e: Expected): void {
  assert.is(a.dtype, e.dtype, `${name} dtype`);
  assert.equal(a.shape, e.shape, `${name} shape`);
  assert.ok(isShared(a), `${name} is shared`);
  assert.is(cOrderHex(a), e.hex, `${name} elements, bit for bit`);
  if (e.fortran) {
    // A view with Fortran strides over the file's own order: no copy.
    let s = 1;
    e.shape.forEach((n, ax) => {
      assert.is(a.stride[ax], s, `${name} Fortran stride ${ax}`);
      s *= n;
    });
  }
}

test("every numpy fixture reads bit for bit with readNpy, readNpySync and parseNpy", async () => {
  const names = Object.keys(manifest);
  assert.ok(names.length >= 27, `the manifest lists ${names.length} fixtures`);
  for (const name of names) {
    const path = join(FIXTURES, name);
    checkAgainst(name, await readNpy(path), manifest[name]!);
    checkAgainst(`${name} (sync)`, readNpySync(path), manifest[name]!);
    checkAgainst(`${name} (parseNpy)`, parseNpy(readFileSync(path)), manifest[name]!);
  }
  checkAgainst("f8.npy as a file: URL", await readNpy(pathToFileURL(join(FIXTURES, "f8.npy"))), manifest["f8.npy"]!);
});

test("values come out as numpy wrote them: extremes, NaN, -0, subnormals, int64 as bigint, bool as uint8", async () => {
  const f8 = await readNpy(join(FIXTURES, "be-f8.npy"));
  assert.is(f8.dtype, "float64");
  assert.is(f8.get(0, 0), Math.PI);
  assert.ok(Object.is(f8.get(0, 1), -0));
  assert.ok(Number.isNaN(f8.get(0, 2) as number));
  assert.is(f8.get(1, 0), -Infinity);
  assert.is(f8.get(1, 1), 5e-324);
  assert.is(f8.get(1, 2), Number.MAX_VALUE);
  const i8 = await readNpy(join(FIXTURES, "be-i8.npy"));
  assert.is(i8.dtype, "bigint64");
  assert.equal([i8.get(0, 0), i8.get(0, 1), i8.get(1, 0), i8.get(1, 1)], [-(2n ** 63n), 2n ** 63n - 1n, -1n, 2n ** 53n + 1n]);
  const u8 = await readNpy(join(FIXTURES, "u8.npy"));
  assert.is(u8.dtype, "biguint64");
  assert.is(u8.get(0, 1), 2n ** 64n - 1n);
  const b1 = await readNpy(join(FIXTURES, "b1.npy"));
  assert.is(b1.dtype, "uint8");
  assert.equal(Array.from(b1.data as Uint8Array), [1, 0, 0, 1, 1, 0]);
  const u4 = await readNpy(join(FIXTURES, "be-u4.npy"));
  assert.is(u4.get(0, 1), 2 ** 32 - 1);
  const i2 = await readNpy(join(FIXTURES, "be-i2.npy"));
  assert.equal([i2.get(0, 0), i2.get(1, 1), i2.get(1, 2)], [-32768, 300, -300]);
  const f4 = await readNpy(join(FIXTURES, "be-f4.npy"));
  assert.is(f4.get(0, 2), Math.fround(1 / 3));
  assert.is(f4.get(1, 1), Infinity);
});

test("Fortran order is a strided view of the file's bytes; 0-d, empty and 1-d shapes; versions 2.0 and 3.0", async () => {
  const f = await readNpy(join(FIXTURES, "fortran-f8.npy"));
  assert.equal(f.shape, [2, 3, 4]);
  assert.equal(f.stride, [1, 2, 6]);
  assert.is(f.data.length, 24);
  for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) assert.is(f.get(i, j, k), (i * 12 + j * 4 + k) * 1.25 - 3);
  const g = await readNpy(join(FIXTURES, "fortran-be-i4.npy"));
  assert.equal(g.stride, [1, 3]);
  assert.is(g.get(2, 3), (11 - 6) * 1000003);
  const z = await readNpy(join(FIXTURES, "zero-d.npy"));
  assert.equal(z.shape, []);
  assert.is(z.get(), 3.5);
  const e = await readNpy(join(FIXTURES, "empty-u2.npy"));
  assert.equal(e.shape, [2, 0, 4]);
  assert.is(e.dtype, "uint16");
  assert.is(e.data.length, 0);
  assert.equal((await readNpy(join(FIXTURES, "empty-f8.npy"))).shape, [0, 3]);
  assert.equal(Array.from((await readNpy(join(FIXTURES, "one-d-i4.npy"))).data as Int32Array), [5, -4, 3, -2, 1]);
  assert.is(readFileSync(join(FIXTURES, "v2-f4.npy"))[6], 2);
  assert.is(readFileSync(join(FIXTURES, "v3-i2.npy"))[6], 3);
  // A UTF-8 header (3.0) may hold text latin-1 cannot; byte positions in errors count UTF-8 bytes.
  const utf8 = npyBytes("{'descr': '<i2', 'fortran_order': False, 'shape': (2,), } # ü", Uint8Array.of(1, 0, 2, 0), 3);
  throwsTyped(() => parseNpy(utf8), FormatError, /expected the end of the header, found "# ü" at byte 70 \(header byte 58\)/);
  const ok3 = parseNpy(npyBytes("{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }", Uint8Array.of(1, 0, 2, 0), 3));
  assert.equal(Array.from(ok3.data as Int16Array), [1, 2]);
});

test("headers as other writers spell them: double quotes, no trailing comma, Python 2 longs, any key order, '=' and no byte order", () => {
  const body = new Uint8Array(new Float64Array([1.5, -2]).buffer);
  for (const header of [
    '{"descr": "<f8", "fortran_order": False, "shape": (2,)}',
    "{'shape': (2L,), 'fortran_order': False, 'descr': '<f8'}",
    "{'descr':'=f8','fortran_order':False,'shape':(1, 2)}",
    "{'descr': u'f8', 'fortran_order': False, 'shape': (2,) }",
  ]) {
    const a = parseNpy(npyBytes(header, body));
    assert.equal(Array.from(a.data as Float64Array), [1.5, -2], header);
  }
  const be = parseNpy(npyBytes("{'descr': '>u2', 'fortran_order': True, 'shape': (2, 2), }", Uint8Array.of(0, 1, 0, 2, 1, 0, 2, 0)));
  assert.equal([be.get(0, 0), be.get(1, 0), be.get(0, 1), be.get(1, 1)], [1, 2, 256, 512]);
});

const good = npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", new Uint8Array(48));

function patched(bytes: Uint8Array, at: number, text: string): Uint8Array {
  const out = bytes.slice();
  out.set(Buffer.from(text, "latin1"), at);
  return out;
}

function withHeader(header: string, body = new Uint8Array(48)): Uint8Array {
  return npyBytes(header, body);
}

test("malformed files are FormatErrors naming what is wrong and where", () => {
  const f = (bytes: Uint8Array, pattern: RegExp) => throwsTyped(() => parseNpy(bytes, "x.npy"), FormatError, pattern);
  f(patched(good, 1, "M"), /x\.npy: bad magic at byte 1: a \.npy file starts with \\x93NUMPY, this one with "\\x93MUMPY"/);
  f(Buffer.from("PK\x03\x04 an npz"), /bad magic at byte 0.*zip archive.*npz/);
  f(Buffer.from("hello, world"), /bad magic at byte 0/);
  f(new Uint8Array(0), /truncated: 0 bytes is too short for a \.npy preamble/);
  f(good.subarray(0, 5), /truncated: 5 bytes is too short/);
  f(good.subarray(0, 9), /truncated: the file ends inside the version 1.0 preamble \(9 of 10 bytes\)/);
  f(patched(good, 6, "\x04"), /unknown \.npy format version 4\.0 at byte 6 \(sabre reads 1\.0, 2\.0 and 3\.0\)/);
  f(patched(good, 7, "\x01"), /unknown \.npy format version 1\.1/);
  f(patched(good, 8, "\x88\x13"), /header length at byte 8 says 5000 bytes, beyond the end of the file \(176 bytes, which leaves 166 for the header\)/);
  f(good.subarray(0, 100), /header length at byte 8 says 118 bytes, beyond the end of the file \(100 bytes/);
  f(good.subarray(0, good.length - 3), /x\.npy: truncated: shape \[2, 3\] of '<f8' needs 48 bytes of data after the 128-byte header, the file has 45/);
  f(Uint8Array.from([...good, 0, 0]), /2 unexpected bytes after the data: shape \[2, 3\].*the file has 50 \(a shape that does not match the file size\)/);
  // The header text: where the syntax stops, and what the dict lacks.
  f(patched(good, 18, ";"), /x\.npy: the header is not a Python dict literal: expected ':', found "; '<f8', 'fo" at byte 18 \(header byte 8\)/);
  f(patched(good, 10, "["), /not a Python dict literal: expected ',' or '\]'/);
  f(withHeader("{'descr': '<f8', 'fortran_order': Fals, 'shape': (2, 3), }"), /expected a Python literal .* found "Fals, 'shape" at byte 44 \(header byte 34\)/);
  f(withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), "), /expected a key or '}', found the end of the header at byte 128/);
  f(withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), 'descr': '<f4'}"), /the key 'descr' appears twice at byte/);
  f(withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), } 7"), /expected the end of the header, found "7"/);
  f(withHeader("{'descr': '<f8, 'fortran_order': False, 'shape': (2, 3), }"), /expected ',' or '}', found "fortran_orde" at byte 27/);
  f(withHeader("(1, 2)"), /header \(bytes 10-63\): the header is not a Python dict literal but \(1, 2\)/);
  f(withHeader("{'descr': '<f8', 'fortran_order': False, 'shapes': (2, 3), }"), /the header dict has no 'shape' key/);
  f(withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}"), /unexpected key 'extra'/);
  f(withHeader("{'descr': '<f8', 'fortran_order': 'no', 'shape': (2, 3), }"), /'fortran_order' must be True or False, got 'no'/);
  f(withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': [2, 3], }"), /'shape' must be a tuple of integers, got \[2, 3\]/);
  f(withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (6), }"), /'shape' must be a tuple of integers, got 6/);
  f(withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (2, -3), }"), /'shape' \(2, -3\) must hold non-negative integers/);
  f(withHeader("{'descr': '<q9', 'fortran_order': False, 'shape': (2, 3), }"), /unknown dtype descr '<q9'/);
  f(withHeader("{'descr': 8, 'fortran_order': False, 'shape': (2, 3), }"), /'descr' must be a dtype string such as '<f8', got 8/);
  f(withHeader("{'descr': '<i16', 'fortran_order': False, 'shape': (2, 3), }"), /dtype '<i16' \(int128\) is not one sabre has/);
});

test("huge shapes are refused before anything is allocated", () => {
  const f = (header: string, pattern: RegExp) => throwsTyped(() => parseNpy(withHeader(header, new Uint8Array(8))), FormatError, pattern);
  f("{'descr': '<f8', 'fortran_order': False, 'shape': (65536, 65536), }", /'shape' \(65536, 65536\) has 4294967296 elements, more than a shared array holds/);
  f("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 99999999999999999999999), }", /dimension 99999999999999999999999 is more than a shared array holds/);
  // Within the element limit but 12.8 GB: the file's size gives it away before the allocation would.
  f("{'descr': '<f8', 'fortran_order': False, 'shape': (40000, 40000), }", /truncated: shape \[40000, 40000\] of '<f8' needs 12800000000 bytes of data after the 128-byte header, the file has 8/);
});

test("dtypes sabre lacks are FormatErrors saying which", async () => {
  const cases: Array<[string, RegExp]> = [
    ["complex128", /dtype '<c16' \(complex128\) is not one sabre has \(it reads float32, float64, int8/],
    ["float16", /dtype '<f2' \(float16\) is not one sabre has/],
    ["unicode", /dtype '<U3' \(a unicode string\) is not one sabre has/],
    ["structured", /a structured dtype \(record fields\), which sabre has no array for/],
    ["object", /dtype '\|O' \(Python objects \(pickled\)\) is not one sabre has/],
    ["datetime", /dtype '<M8\[D\]' \(datetime64\) is not one sabre has/],
  ];
  for (const [name, pattern] of cases) {
    const path = join(FIXTURES, `unsupported-${name}.npy`);
    await rejectsTyped(readNpy(path), FormatError, pattern);
    throwsTyped(() => readNpySync(path), FormatError, pattern);
  }
});

test("file errors and bad arguments: SabreTypeError with the system error; the path in every message", async () => {
  const missing = join(dir, "missing.npy");
  await rejectsTyped(readNpy(missing), SabreTypeError, /cannot read .*missing\.npy: ENOENT/);
  throwsTyped(() => readNpySync(missing), SabreTypeError, /cannot read .*missing\.npy: ENOENT/);
  await rejectsTyped(readNpy(dir), SabreTypeError, /EISDIR/);
  throwsTyped(() => readNpySync(dir), SabreTypeError, /EISDIR/);
  await rejectsTyped(readNpy(42 as never), SabreTypeError, /readNpy needs a file path/);
  await rejectsTyped(readNpy(""), SabreTypeError, /readNpy needs a file path/);
  await rejectsTyped(readNpy(new URL("https://example.com/a.npy")), SabreTypeError, /file: URL/);
  await rejectsTyped(readNpy(missing, { sginal: 1 } as never), SabreTypeError, /unknown option "sginal"/);
  await rejectsTyped(readNpy(missing, { signal: 1 } as never), SabreTypeError, /signal must be an AbortSignal/);
  throwsTyped(() => parseNpy("abc" as never), SabreTypeError, /parseNpy needs a Uint8Array/);
  const cut = join(dir, "cut.npy");
  writeFileSync(cut, good.subarray(0, 150));
  await rejectsTyped(readNpy(cut), FormatError, new RegExp(`${cut.replace(/[.]/g, "\\.")}: truncated: shape \\[2, 3\\]`));
});

test("an aborted signal stops the read with AbortError", async () => {
  const path = join(FIXTURES, "f8.npy");
  await rejectsTyped(readNpy(path, { signal: AbortSignal.abort("stop") }), AbortError, /readNpy\(.*f8\.npy\) was aborted/);
  const ac = new AbortController();
  const p = readNpy(path, { signal: ac.signal });
  ac.abort();
  const err = await rejectsTyped(p, AbortError);
  assert.ok((err.cause as Error).name === "AbortError");
});

test("a pipe (no file size known up front) reads the same, and its truncation or trailing bytes are still caught", async () => {
  if (spawnSync("mkfifo", ["--help"], { stdio: "ignore" }).status !== 0) {
    console.log("  (skipped: no mkfifo on this machine)");
    return;
  }
  const fifo = join(dir, "pipe.npy");
  // A writer process feeds the pipe; it is killed if the read gives up before opening it.
  const throughPipe = async (bytes: Uint8Array, read: () => Promise<unknown>) => {
    const src = join(dir, "pipe-src.npy");
    writeFileSync(src, bytes);
    rmSync(fifo, { force: true });
    spawnSync("mkfifo", [fifo]);
    const child = spawn("sh", ["-c", `exec cat '${src}' > '${fifo}'`], { stdio: "ignore" });
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    try {
      await read();
    } finally {
      if (child.exitCode === null) child.kill();
      await exited;
    }
  };
  const bytes = readFileSync(join(FIXTURES, "be-f8.npy"));
  await throughPipe(bytes, async () => checkAgainst("be-f8.npy through a pipe", await readNpy(fifo), manifest["be-f8.npy"]!));
  await throughPipe(bytes, async () => checkAgainst("be-f8.npy through a pipe (sync)", readNpySync(fifo), manifest["be-f8.npy"]!));
  const truncated = /truncated: shape \[2, 3\] of '>f8' needs 48 bytes of data after the 128-byte header, the file has 40/;
  await throughPipe(bytes.subarray(0, bytes.length - 8), () => rejectsTyped(readNpy(fifo), FormatError, truncated));
  await throughPipe(Uint8Array.from([...bytes, 7]), () => rejectsTyped(readNpy(fifo), FormatError, /unexpected bytes after the data/));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
