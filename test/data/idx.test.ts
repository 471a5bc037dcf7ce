import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { readIdx, readIdxSync, parseIdx, isShared, FormatError, SabreTypeError } from "sabre";
import { rejectsTyped, throwsTyped } from "../helpers.js";

const dir = mkdtempSync(join(tmpdir(), "sabre-idx-"));

function idx(type: number, shape: number[], body: Uint8Array): Uint8Array {
  const head = new Uint8Array(4 + 4 * shape.length);
  const view = new DataView(head.buffer);
  head[2] = type;
  head[3] = shape.length;
  shape.forEach((n, i) => view.setUint32(4 + 4 * i, n, false));
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

const images = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 37) % 256);
const imageFile = idx(0x08, [2, 3, 4], images);

test("reads uint8 images [n, rows, cols] and labels [n], plain and gzipped, into shared memory", async () => {
  writeFileSync(join(dir, "img.idx"), imageFile);
  writeFileSync(join(dir, "img.idx.gz"), gzipSync(imageFile));
  writeFileSync(join(dir, "gz-without-extension"), gzipSync(imageFile));
  for (const name of ["img.idx", "img.idx.gz", "gz-without-extension"]) {
    const a = await readIdx(join(dir, name));
    assert.equal(a.shape, [2, 3, 4]);
    assert.is(a.dtype, "uint8");
    assert.ok(isShared(a));
    assert.is(a.get(1, 2, 3), images[23]);
    assert.is(a.get(0, 1, 0), images[4]);
    assert.equal(Array.from(readIdxSync(join(dir, name)).data as Uint8Array), Array.from(images));
  }
  const labels = parseIdx(idx(0x08, [5], Uint8Array.of(9, 0, 3, 3, 1)));
  assert.equal(labels.shape, [5]);
  assert.equal(Array.from(labels.data as Uint8Array), [9, 0, 3, 3, 1]);
});

test("big-endian multi-byte types: int16, int32, float32, float64, int8", () => {
  const body = new Uint8Array(8);
  const v = new DataView(body.buffer);
  v.setInt16(0, -2, false);
  v.setInt16(2, 300, false);
  assert.equal(Array.from(parseIdx(idx(0x0b, [2], body.subarray(0, 4))).data as Int16Array), [-2, 300]);
  v.setInt32(0, -70000, false);
  v.setInt32(4, 123456789, false);
  assert.equal(Array.from(parseIdx(idx(0x0c, [2], body)).data as Int32Array), [-70000, 123456789]);
  v.setFloat32(0, 1.5, false);
  v.setFloat32(4, -0.25, false);
  const f = parseIdx(idx(0x0d, [1, 2], body));
  assert.is(f.dtype, "float32");
  assert.equal(Array.from(f.data as Float32Array), [1.5, -0.25]);
  v.setFloat64(0, Math.PI, false);
  assert.equal(Array.from(parseIdx(idx(0x0e, [1], body)).data as Float64Array), [Math.PI]);
  assert.equal(Array.from(parseIdx(idx(0x09, [2], Uint8Array.of(0xff, 5))).data as Int8Array), [-1, 5]);
});

test("bad magic, unknown type, truncated header or body, trailing bytes, corrupt gzip: FormatError", async () => {
  throwsTyped(() => parseIdx(Uint8Array.of(1, 0, 8, 1, 0, 0, 0, 0)), FormatError, /bad magic number/);
  throwsTyped(() => parseIdx(Uint8Array.of(0, 0, 0x07, 1, 0, 0, 0, 0)), FormatError, /unknown IDX type code 0x7/);
  throwsTyped(() => parseIdx(Uint8Array.of(0, 0)), FormatError, /too short/);
  throwsTyped(() => parseIdx(Uint8Array.of(0, 0, 8, 3, 0, 0, 0, 2)), FormatError, /truncated header: 3 dimensions need 16 bytes/);
  throwsTyped(() => parseIdx(imageFile.subarray(0, imageFile.length - 1)), FormatError, /truncated: shape \[2, 3, 4\] needs 24 bytes of data, the file has 23/);
  throwsTyped(() => parseIdx(idx(0x08, [2], Uint8Array.of(1, 2, 3))), FormatError, /1 unexpected trailing bytes/);
  throwsTyped(() => parseIdx(idx(0x08, [65536, 65536], new Uint8Array(0))), FormatError, /more than a shared array holds/);
  const gz = gzipSync(imageFile);
  writeFileSync(join(dir, "cut.gz"), gz.subarray(0, gz.length - 9));
  await rejectsTyped(readIdx(join(dir, "cut.gz")), FormatError, /gzip stream is corrupt or truncated/);
  throwsTyped(() => readIdxSync(join(dir, "cut.gz")), FormatError, /cut.gz: the gzip stream/);
  writeFileSync(join(dir, "text.idx"), "hello world");
  await rejectsTyped(readIdx(join(dir, "text.idx")), FormatError, /text.idx: bad magic number/);
  await rejectsTyped(readIdx(42 as never), SabreTypeError, /file path/);
  throwsTyped(() => parseIdx("abc" as never), SabreTypeError, /Uint8Array/);
  await rejectsTyped(readIdx(join(dir, "missing.idx")), Error, /ENOENT/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test("a file much larger than one stream chunk streams into shared memory intact (int32, big-endian, gzipped)", async () => {
  const n = 300_000; // 1.2 MB of body: many 64 KiB file chunks and 16 KiB gunzip chunks
  const body = new Uint8Array(n * 4);
  const view = new DataView(body.buffer);
  for (let i = 0; i < n; i++) view.setInt32(4 * i, (i * 2654435761) | 0, false);
  const file = idx(0x0c, [n], body);
  writeFileSync(join(dir, "big.idx"), file);
  writeFileSync(join(dir, "big.idx.gz"), gzipSync(file));
  for (const name of ["big.idx", "big.idx.gz"]) {
    const a = await readIdx(join(dir, name));
    assert.is(a.dtype, "int32");
    assert.ok(isShared(a));
    for (let i = 0; i < n; i += 997) assert.is(a.get(i), (i * 2654435761) | 0, `${name} element ${i}`);
    assert.is(a.get(n - 1), ((n - 1) * 2654435761) | 0);
  }
  const gz = gzipSync(file);
  writeFileSync(join(dir, "big-cut.idx.gz"), gz.subarray(0, gz.length - 5000));
  await rejectsTyped(readIdx(join(dir, "big-cut.idx.gz")), FormatError, /gzip|truncated/);
  writeFileSync(join(dir, "big-cut.idx"), file.subarray(0, file.length - 3));
  await rejectsTyped(readIdx(join(dir, "big-cut.idx")), FormatError, /truncated: shape \[300000\] needs 1200000 bytes of data, the file has 1199997/);
  await rejectsTyped(readIdx(join(dir, "no-such-file.idx")), SabreTypeError, /cannot read/);
});

test.run();
