// Writing .npy files: round trips of every dtype and of strided views, atomic
// replacement, numpy reading what sabre writes and sabre reading what numpy
// writes (live, when /usr/bin/python3 has numpy), and a 50 MB file streaming.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { join } from "node:path";
import ndarrayLib from "ndarray";
import {
  AbortError,
  DTYPES,
  FormatError,
  SabreTypeError,
  isShared,
  readNpy,
  readNpySync,
  shared,
  writeNpy,
  writeNpySync,
  type DType,
  type NdArray,
} from "sabre";
import { rejectsTyped, throwsTyped } from "../helpers.js";
import { FIXTURES, cOrderHex, hasNumpy, npyBytes, python } from "./npy-helpers.js";

const dir = mkdtempSync(join(tmpdir(), "sabre-npy-write-"));

/** A [3, 4, 5] array of `dtype` whose values exercise signs, extremes and fractions where the dtype has them. */
function sample(dtype: DType): NdArray {
  const x = shared.zeros(dtype, [3, 4, 5]);
  const d = x.data as unknown as { [i: number]: number | bigint; length: number };
  for (let i = 0; i < d.length; i++) {
    if (dtype === "bigint64") d[i] = (BigInt(i) - 30n) * 314159265358979n;
    else if (dtype === "biguint64") d[i] = 2n ** 64n - 1n - BigInt(i) * 2n ** 57n;
    else if (dtype.startsWith("float")) d[i] = i === 7 ? NaN : i === 8 ? -Infinity : (i - 30) / 7;
    else d[i] = (i * 2654435761) % 65536 - (dtype.startsWith("int") ? 32768 : 0);
  }
  return x;
}

/** An [n0, n1] C-ordered array of `dtype` holding distinct values (mod the dtype's range). */
function sample2d(dtype: DType, n0: number, n1: number): NdArray {
  const x = shared.zeros(dtype, [n0, n1]);
  const d = x.data as unknown as { [i: number]: number | bigint; length: number };
  for (let i = 0; i < d.length; i++) d[i] = dtype === "bigint64" ? BigInt(i) * 3n - 7n : (i * 37) % 251;
  return x;
}

/** Names in a folder that look like a temporary file sabre left behind. */
function leftovers(folder: string): string[] {
  return readdirSync(folder).filter((n) => n.endsWith(".tmp"));
}

test("every dtype round trips through writeNpy/readNpy and writeNpySync/readNpySync; uint8_clamped comes back as uint8", async () => {
  for (const dtype of DTYPES) {
    const x = sample(dtype);
    const path = join(dir, `rt-${dtype}.npy`);
    await writeNpy(path, x);
    const y = await readNpy(path);
    assert.is(y.dtype, dtype === "uint8_clamped" ? "uint8" : dtype);
    assert.equal(y.shape, [3, 4, 5]);
    assert.ok(isShared(y));
    assert.is(cOrderHex(y), cOrderHex(x), dtype);
    writeNpySync(path, x);
    assert.is(cOrderHex(readNpySync(path)), cOrderHex(x), `${dtype} (sync)`);
  }
  assert.equal(leftovers(dir), []);
});

test("the header is numpy's: C order, this machine's byte order, data aligned to 64 bytes", () => {
  const path = join(dir, "header.npy");
  writeNpySync(path, shared.zeros("float32", [2, 3]));
  const bytes = readFileSync(path);
  assert.equal(Array.from(bytes.subarray(0, 8)), [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const hlen = bytes.readUInt16LE(8);
  assert.is((10 + hlen) % 64, 0);
  assert.is(bytes.length, 10 + hlen + 24);
  assert.is(bytes.subarray(10, 10 + hlen).toString("latin1").trimEnd(), "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
  assert.is(bytes[10 + hlen - 1], 0x0a);
  writeNpySync(path, shared.zeros("uint8_clamped", [5]));
  assert.match(readFileSync(path).toString("latin1"), /^\x93NUMPY\x01\x00.\x00\{'descr': '\|u1', 'fortran_order': False, 'shape': \(5,\), \}/s);
});

test("strided views are written in their logical C order: transposed, stepped, sliced, picked, Fortran-ordered, 0-d, empty", async () => {
  const x = sample("int32");
  const big = shared.zeros("float64", [400, 500]);
  for (let i = 0; i < big.data.length; i++) big.data[i] = Math.sin(i);
  const views: Array<[string, NdArray]> = [
    ["transposed", x.transpose(2, 0, 1)],
    ["stepped backwards", x.step(-1, 2, -3)],
    ["sliced with an offset", x.lo(1, 1, 2).hi(2, 3, 2)],
    ["picked", x.pick(null, 2, null)],
    ["a 0-d pick", x.pick(2, 3, 4)],
    ["empty", x.hi(3, 0, 5)],
    ["a Fortran file", await readNpy(join(FIXTURES, "fortran-f8.npy"))],
    ["transposed over several 1 MiB gather buffers", big.transpose(1, 0)],
    ["a column of a big array", big.pick(null, 17)],
    ["transposed int16, ragged 16-row tiles", sample2d("int16", 1234, 567).transpose(1, 0)],
    ["transposed, stepped backwards", sample2d("float32", 301, 77).transpose(1, 0).step(-2, 3)],
    ["tall and thin, Fortran strides", sample2d("float64", 3, 100_001).transpose(1, 0)],
    ["transposed bigint64 rows longer than the buffer", sample2d("bigint64", 140_000, 3).transpose(1, 0)],
    ["transposed, one row", sample2d("uint8", 9, 1).transpose(1, 0)],
  ];
  for (const [what, v] of views) {
    const path = join(dir, "view.npy");
    await writeNpy(path, v);
    const y = await readNpy(path);
    assert.equal(y.shape, v.shape, what);
    assert.equal(y.stride, shared.from(v).stride, `${what}: read back in C order`);
    assert.is(cOrderHex(y), cOrderHex(v), what);
    writeNpySync(path, v);
    assert.is(cOrderHex(readNpySync(path)), cOrderHex(v), `${what} (sync)`);
  }
});

test("plain (non-shared) ndarrays and typed arrays are written too", async () => {
  const path = join(dir, "plain.npy");
  const plain = ndarrayLib(new Float64Array([1, 2, 3, 4, 5, 6]), [3, 2]).transpose(1, 0) as unknown as NdArray;
  await writeNpy(path, plain);
  assert.equal(Array.from((await readNpy(path)).data as Float64Array), [1, 3, 5, 2, 4, 6]);
  await writeNpy(path, Int16Array.of(-1, 2, -3));
  const y = await readNpy(path);
  assert.is(y.dtype, "int16");
  assert.equal(Array.from(y.data as Int16Array), [-1, 2, -3]);
  writeNpySync(path, new BigUint64Array([5n]));
  assert.is(readNpySync(path).get(0), 5n);
});

test("writes are atomic: an existing file is replaced whole, a failed or aborted write leaves it and no temporary file", async () => {
  const path = join(dir, "atomic.npy");
  await writeNpy(path, Float64Array.of(1, 2));
  await writeNpy(path, Float64Array.of(3, 4, 5));
  assert.equal(Array.from((await readNpy(path)).data as Float64Array), [3, 4, 5]);
  const ac = new AbortController();
  const p = writeNpy(path, shared.zeros("float64", [1000]), { signal: ac.signal });
  ac.abort();
  await rejectsTyped(p, AbortError, /writeNpy\(.*atomic\.npy\) was aborted/);
  await rejectsTyped(writeNpy(path, Float64Array.of(0), { signal: AbortSignal.abort() }), AbortError);
  assert.equal(Array.from((await readNpy(path)).data as Float64Array), [3, 4, 5]);
  // Renaming onto a non-empty directory fails after the data is written: the temporary file must go.
  const occupied = join(dir, "occupied.npy");
  mkdirSync(join(occupied, "inside"), { recursive: true });
  await rejectsTyped(writeNpy(occupied, Float64Array.of(1)), SabreTypeError, /cannot write .*occupied\.npy: E(ISDIR|NOTEMPTY|EXIST)/);
  throwsTyped(() => writeNpySync(occupied, Float64Array.of(1)), SabreTypeError, /cannot write .*occupied\.npy/);
  await rejectsTyped(writeNpy(join(dir, "no-such-dir", "a.npy"), Float64Array.of(1)), SabreTypeError, /cannot write .*a\.npy: ENOENT/);
  throwsTyped(() => writeNpySync(join(dir, "no-such-dir", "a.npy"), Float64Array.of(1)), SabreTypeError, /ENOENT/);
  assert.equal(leftovers(dir), []);
});

test("a write keeps the old file's permissions, writes through a symlink, and copes with a long name", async () => {
  const path = join(dir, "kept.npy");
  await writeNpy(path, Float64Array.of(1));
  chmodSync(path, 0o640);
  await writeNpy(path, Float64Array.of(2));
  assert.is(statSync(path).mode & 0o777, 0o640);
  chmodSync(path, 0o600);
  writeNpySync(path, Float64Array.of(3));
  assert.is(statSync(path).mode & 0o777, 0o600);
  const link = join(dir, "link.npy");
  symlinkSync(path, link);
  await writeNpy(link, Float64Array.of(4));
  assert.ok(lstatSync(link).isSymbolicLink(), "the link is still a link");
  assert.equal(Array.from(readNpySync(path).data as Float64Array), [4]);
  writeNpySync(link, Float64Array.of(5));
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.equal(Array.from(readNpySync(path).data as Float64Array), [5]);
  const long = join(dir, `${"n".repeat(240)}.npy`);
  await writeNpy(long, Float64Array.of(6));
  writeNpySync(long, Float64Array.of(7));
  assert.equal(Array.from((await readNpy(long)).data as Float64Array), [7]);
  assert.equal(leftovers(dir), []);
});

test("bad arguments are SabreTypeErrors", async () => {
  const path = join(dir, "bad.npy");
  await rejectsTyped(writeNpy(path, [1, 2, 3] as never), SabreTypeError, /writeNpy needs an ndarray \(or a typed array\)/);
  await rejectsTyped(writeNpy(path, new DataView(new ArrayBuffer(8)) as never), SabreTypeError, /needs an ndarray/);
  await rejectsTyped(writeNpy(path, ndarrayLib([1, 2]) as never), SabreTypeError, /needs an ndarray/);
  await rejectsTyped(writeNpy(7 as never, Float64Array.of(1)), SabreTypeError, /writeNpy needs a file path/);
  await rejectsTyped(writeNpy(path, Float64Array.of(1), { singal: 1 } as never), SabreTypeError, /unknown option "singal"/);
  throwsTyped(() => writeNpySync(path, {} as never), SabreTypeError, /writeNpySync needs an ndarray/);
  assert.not.ok(existsSync(path));
});

const CODES = ["f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"];

test("numpy reads what sabre writes (live)", async () => {
  if (!hasNumpy) {
    console.log("  (skipped: /usr/bin/python3 has no numpy; the checked-in fixtures still ran)");
    return;
  }
  const out = join(dir, "to-numpy");
  mkdirSync(out);
  const arrays: Record<string, NdArray> = {};
  for (const dtype of DTYPES) arrays[`${dtype}.npy`] = sample(dtype);
  arrays["transposed.npy"] = sample("float32").transpose(1, 2, 0);
  arrays["stepped.npy"] = sample("bigint64").step(-1, 1, 2);
  arrays["zero-d.npy"] = sample("uint16").pick(1, 2, 3);
  arrays["empty.npy"] = shared.zeros("int8", [4, 0]);
  for (const [name, x] of Object.entries(arrays)) await writeNpy(join(out, name), x);
  const seen = JSON.parse(
    python(
      `import json, os, sys, numpy as np
d = sys.argv[1]
out = {}
for name in sorted(os.listdir(d)):
    a = np.load(os.path.join(d, name))
    out[name] = [a.dtype.str, list(a.shape), a.flags.c_contiguous, np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes().hex()]
print(json.dumps(out))`,
      [out],
    ),
  ) as Record<string, [string, number[], boolean, string]>;
  const descr: Record<DType, string> = {
    float32: "<f4", float64: "<f8", int8: "|i1", int16: "<i2", int32: "<i4", bigint64: "<i8",
    uint8: "|u1", uint8_clamped: "|u1", uint16: "<u2", uint32: "<u4", biguint64: "<u8",
  };
  assert.equal(Object.keys(seen).sort(), Object.keys(arrays).sort());
  for (const [name, x] of Object.entries(arrays)) {
    const [str, shape, cContiguous, hex] = seen[name]!;
    assert.is(str, descr[x.dtype], `${name} dtype as numpy sees it`);
    assert.equal(shape, x.shape, `${name} shape`);
    assert.ok(cContiguous, name);
    assert.is(hex, cOrderHex(x), `${name} elements as numpy sees them`);
  }
});

test("sabre reads what numpy writes (live): random arrays of every dtype, both byte orders, both memory orders, versions 1-3", async () => {
  if (!hasNumpy) {
    console.log("  (skipped: /usr/bin/python3 has no numpy; the checked-in fixtures still ran)");
    return;
  }
  const out = join(dir, "from-numpy");
  mkdirSync(out);
  const manifest = JSON.parse(
    python(
      `import json, os, sys, numpy as np
from numpy.lib import format as npformat
d, codes = sys.argv[1], sys.argv[2].split(",")
rng = np.random.default_rng(20261201)
m = {}
for code in codes:
    for order in "<>":
        for fortran in (False, True):
            dt = np.dtype(("|" if code.endswith("1") else order) + code)
            shape = (37, 29)
            if code[0] == "f":
                a = rng.standard_normal(shape) * 10.0 ** rng.integers(-30, 30, shape)
                a[0, :3] = [np.nan, np.inf, -0.0]
            elif code == "b1":
                a = rng.integers(0, 2, shape)
            else:
                info = np.iinfo(np.dtype(code))
                a = rng.integers(info.min, info.max, shape, dtype=np.dtype(code), endpoint=True)
            a = a.astype(dt)
            if fortran:
                a = np.asfortranarray(a)
            version = [(1, 0), (2, 0), (3, 0)][len(m) % 3]
            name = "%s%s-%s-v%d.npy" % ("be-" if order == ">" else "", code, "F" if fortran else "C", version[0])
            with open(os.path.join(d, name), "wb") as f:
                npformat.write_array(f, a, version=version)
            m[name] = {"shape": list(a.shape), "fortran": fortran, "hex": np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes().hex()}
print(json.dumps(m))`,
      [out, CODES.join(",")],
    ),
  ) as Record<string, { shape: number[]; fortran: boolean; hex: string }>;
  assert.is(Object.keys(manifest).length, CODES.length * 4);
  for (const [name, e] of Object.entries(manifest)) {
    const a = await readNpy(join(out, name));
    assert.equal(a.shape, e.shape, name);
    assert.is(a.stride[0], e.fortran ? 1 : e.shape[1], `${name} strides`);
    assert.is(cOrderHex(a), e.hex, name);
  }
  // The fixture script, run live into a fresh folder, gives what the checked-in fixtures give.
  const fresh = join(dir, "fixtures-live");
  mkdirSync(fresh);
  python("import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')", [join(FIXTURES, "make_fixtures.py"), fresh]);
  const live = JSON.parse(readFileSync(join(fresh, "manifest.json"), "utf8")) as Record<string, { hex: string; shape: number[] }>;
  for (const [name, e] of Object.entries(live)) {
    const a = await readNpy(join(fresh, name));
    assert.equal(a.shape, e.shape, name);
    assert.is(cOrderHex(a), e.hex, `${name} (live)`);
  }
  await rejectsTyped(readNpy(join(fresh, "unsupported-complex128.npy")), FormatError, /complex128/);
});

test("big-endian data spanning several read chunks is swapped whole (float64, int16, uint32, int64)", async () => {
  const n = 1_500_003; // 12 MB of float64: three 4 MiB chunks and a ragged end
  for (const [descr, size, set] of [
    [">f8", 8, (v: DataView, i: number) => v.setFloat64(8 * i, i / 3 - 1e5, false)],
    [">i2", 2, (v: DataView, i: number) => v.setInt16(2 * i, (i * 7919) % 65536, false)],
    [">u4", 4, (v: DataView, i: number) => v.setUint32(4 * i, (i * 2654435761) >>> 0, false)],
    [">i8", 8, (v: DataView, i: number) => v.setBigInt64(8 * i, BigInt(i) * -(2n ** 40n) + 12345n, false)],
  ] as const) {
    const body = new Uint8Array(n * size);
    const view = new DataView(body.buffer);
    for (let i = 0; i < n; i++) set(view, i);
    const path = join(dir, "be-big.npy");
    writeFileSync(path, npyBytes(`{'descr': '${descr}', 'fortran_order': False, 'shape': (${n},), }`, body));
    const a = await readNpy(path);
    const le = new DataView(a.data.buffer, a.data.byteOffset, a.data.byteLength);
    for (let i = 0; i < n; i++) {
      for (let b = 0; b < size; b++) {
        if (le.getUint8(i * size + b) !== body[i * size + size - 1 - b]) assert.unreachable(`${descr}: element ${i} byte ${b} was not swapped`);
      }
    }
  }
});

const gc = (() => {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
})();

/**
 * Runs `fn` while sampling ArrayBuffer memory between its chunks (every
 * event-loop turn) and hands `check` the peak growth over a collected heap:
 * holding the file and the array at once (a whole-file read, then a copy)
 * would show as 2x the data.
 */
async function peakAdded<T>(fn: () => Promise<T>, check: (added: number) => void): Promise<T> {
  // V8 frees ArrayBuffer backing stores after a collection, not during it:
  // collect, let that finish, collect again.
  gc();
  await new Promise((resolve) => setTimeout(resolve, 20));
  gc();
  const base = process.memoryUsage().arrayBuffers;
  let peak = base;
  let on = true;
  const tick = () => {
    peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    if (on) setImmediate(tick);
  };
  tick();
  let result: T;
  try {
    result = await fn();
  } finally {
    on = false;
  }
  tick();
  check(peak - base);
  return result;
}

test("a 50 MB array round trips by streaming: reading adds one copy of the data, a strided write at most its 1 MiB buffer", async () => {
  const rows = 102_400;
  const cols = 64; // 6,553,600 float64: 52.4 MB
  const bytes = rows * cols * 8;
  const x = shared.zeros("float64", [rows, cols]);
  for (let i = 0; i < x.data.length; i++) x.data[i] = i * 0.5 - 1e6;
  const path = join(dir, "big.npy");
  await writeNpy(path, x);
  assert.is(statSync(path).size, 128 + bytes);

  let added = 0;
  const y = await peakAdded(() => readNpy(path), (a) => void (added = a));
  // An array this large may live in a shared WebAssembly.Memory (src/memory/wasm-memory.ts), which
  // memoryUsage() counts through the untouched ArrayBuffer of its size kept beside it (its ghost).
  assert.ok(added < 1.25 * bytes, `reading ${bytes} bytes added ${added} bytes of ArrayBuffers at the peak`);
  assert.ok(added > 0.9 * bytes, `the shared array itself (${bytes} bytes) is counted: ${added}`);
  assert.equal(y.shape, [rows, cols]);
  assert.ok(Buffer.from(y.data.buffer, y.data.byteOffset, bytes).equals(Buffer.from(x.data.buffer, x.data.byteOffset, bytes)), "the data read back is the data written");

  const tpath = join(dir, "big-t.npy");
  await peakAdded(() => writeNpy(tpath, x.transpose(1, 0)), (added) => {
    assert.ok(added < 4 << 20, `writing a 52 MB transposed view added ${added} bytes of ArrayBuffers at the peak`);
  });
  const t = readNpySync(tpath);
  assert.equal(t.shape, [cols, rows]);
  const td = t.data as Float64Array;
  for (let j = 0; j < cols; j++) {
    for (let i = 0; i < rows; i++) {
      if (td[j * rows + i] !== x.data[i * cols + j]) assert.unreachable(`transposed element [${j}, ${i}] differs`);
    }
  }
  rmSync(path);
  rmSync(tpath);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
