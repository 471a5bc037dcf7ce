import { readFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { createGunzip, gunzipSync, type Gunzip } from "node:zlib";
import { FormatError, SabreTypeError } from "../errors.js";
import { MAX_ELEMENTS, type DType } from "../memory/dtypes.js";
import { ndarray, type NdArray } from "../memory/ndarray-type.js";
import { rowMajorStrides, sharedTypedArray } from "../memory/shared.js";
import { describe } from "../validate.js";

/**
 * IDX files (the MNIST / Fashion-MNIST format): two zero bytes, a type code,
 * the number of dimensions, each dimension as a big-endian uint32, then the
 * elements big-endian in row-major order. A gzip stream (magic 1f 8b) is
 * inflated first, whatever the file is called.
 */
const TYPES: Record<number, { dtype: DType; size: number }> = {
  0x08: { dtype: "uint8", size: 1 },
  0x09: { dtype: "int8", size: 1 },
  0x0b: { dtype: "int16", size: 2 },
  0x0c: { dtype: "int32", size: 4 },
  0x0d: { dtype: "float32", size: 4 },
  0x0e: { dtype: "float64", size: 8 },
};

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function inflate(bytes: Uint8Array, what: string): Uint8Array {
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new FormatError(`${what}: the gzip stream is corrupt or truncated (${(err as Error).message})`, { cause: err });
  }
}

/**
 * An IDX parser fed with chunks: it reads the header, then copies the body
 * straight into the shared array, so a large file is never held twice in
 * memory (Fashion-MNIST's 47 MB of images once took 160 MB on the way in).
 */
class IdxReader {
  private header = new Uint8Array(0);
  private type: { dtype: DType; size: number } | undefined;
  private shape: number[] | undefined;
  private body: Uint8Array | undefined;
  private data: ReturnType<typeof sharedTypedArray> | undefined;
  private filled = 0;

  constructor(private readonly what: string) {}

  push(chunk: Uint8Array): void {
    if (this.body === undefined) {
      const joined = new Uint8Array(this.header.length + chunk.length);
      joined.set(this.header);
      joined.set(chunk, this.header.length);
      this.header = joined;
      const used = this.parseHeader();
      if (used === 0) return;
      chunk = this.header.subarray(used);
      this.header = new Uint8Array(0);
    }
    const body = this.body!;
    if (this.filled + chunk.length > body.length) {
      const extra = this.filled + chunk.length - body.length;
      throw new FormatError(`${this.what}: ${extra} unexpected trailing bytes after the [${this.shape!.join(", ")}] data`);
    }
    body.set(chunk, this.filled);
    this.filled += chunk.length;
  }

  /** Parses the header once it is complete; returns the bytes it used (0 while incomplete). */
  private parseHeader(): number {
    const bytes = this.header;
    const what = this.what;
    if (bytes.length < 4) return 0;
    if (bytes[0] !== 0 || bytes[1] !== 0) {
      throw new FormatError(`${what}: bad magic number: an IDX file starts with two zero bytes, got ${bytes[0]} ${bytes[1]}`);
    }
    const type = TYPES[bytes[2]!];
    if (!type) {
      throw new FormatError(`${what}: unknown IDX type code 0x${bytes[2]!.toString(16)} (expected 0x08, 0x09, 0x0b, 0x0c, 0x0d or 0x0e)`);
    }
    const ndims = bytes[3]!;
    const headerBytes = 4 + 4 * ndims;
    if (bytes.length < headerBytes) return 0;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const shape: number[] = [];
    let count = 1;
    for (let d = 0; d < ndims; d++) {
      const n = view.getUint32(4 + 4 * d, false);
      shape.push(n);
      count *= n;
    }
    if (count > MAX_ELEMENTS) {
      throw new FormatError(`${what}: shape [${shape.join(", ")}] has ${count} elements, more than a shared array holds (2^31 - 1)`);
    }
    this.type = type;
    this.shape = shape;
    this.data = sharedTypedArray(type.dtype, count);
    this.body = new Uint8Array(this.data.buffer, this.data.byteOffset, count * type.size);
    return headerBytes;
  }

  /** The parsed array; FormatError if the header or the body is incomplete. */
  finish(): NdArray {
    const { what } = this;
    if (this.body === undefined) {
      const n = this.header.length;
      if (n >= 4 && this.header[0] === 0 && this.header[1] === 0) {
        throw new FormatError(`${what}: truncated header: ${this.header[3]} dimensions need ${4 + 4 * this.header[3]!} bytes, the data has ${n}`);
      }
      throw new FormatError(`${what}: ${n} bytes is too short for an IDX header (4 bytes at least)`);
    }
    const type = this.type!;
    const shape = this.shape!;
    if (this.filled < this.body.length) {
      throw new FormatError(`${what}: truncated: shape [${shape.join(", ")}] needs ${this.body.length} bytes of data, the file has ${this.filled}`);
    }
    // IDX is big-endian: convert multi-byte elements in place.
    if (type.size > 1) {
      const view = new DataView(this.body.buffer, this.body.byteOffset, this.body.byteLength);
      const out = this.data as Int16Array | Int32Array | Float32Array | Float64Array;
      for (let i = 0, p = 0; i < out.length; i++, p += type.size) {
        if (type.dtype === "int16") out[i] = view.getInt16(p, false);
        else if (type.dtype === "int32") out[i] = view.getInt32(p, false);
        else if (type.dtype === "float32") out[i] = view.getFloat32(p, false);
        else out[i] = view.getFloat64(p, false);
      }
    }
    return ndarray(this.data!, shape, rowMajorStrides(shape), 0);
  }
}

/**
 * Parses IDX bytes (already inflated, or gzipped) into a new shared ndarray.
 * Throws FormatError for a bad magic number, an unknown type code, a
 * truncated body or trailing bytes.
 */
export function parseIdx(bytes: Uint8Array, what = "IDX data"): NdArray {
  if (!(bytes instanceof Uint8Array)) throw new SabreTypeError(`parseIdx needs a Uint8Array, got ${describe(bytes)}`);
  if (isGzip(bytes)) bytes = inflate(bytes, what);
  const reader = new IdxReader(what);
  reader.push(bytes);
  return reader.finish();
}

function checkPath(path: unknown): string {
  if (typeof path !== "string" && !(path instanceof URL)) {
    throw new SabreTypeError(`readIdx needs a file path (string or URL), got ${describe(path)}`);
  }
  return String(path);
}

/**
 * Reads an IDX file (gzipped or not) into a shared ndarray: images as uint8
 * [n, rows, cols], labels as uint8 [n].
 *
 * ```ts
 * const X = await readIdx("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
 * X.shape; // [60000, 28, 28]
 * ```
 * A malformed, truncated or non-IDX file is a FormatError.
 */
export async function readIdx(path: string | URL): Promise<NdArray> {
  const name = checkPath(path);
  let file;
  try {
    file = await open(path, "r");
  } catch (err) {
    throw new SabreTypeError(`cannot read ${name}: ${(err as Error).message}`, { cause: err });
  }
  const magic = new Uint8Array(2);
  await file.read(magic, 0, 2, 0);
  const raw = file.createReadStream({ start: 0 });
  let source: AsyncIterable<Uint8Array> = raw;
  let gz: Gunzip | undefined;
  if (isGzip(magic)) {
    gz = createGunzip();
    raw.on("error", (err) => gz!.destroy(err));
    source = raw.pipe(gz);
  }
  const reader = new IdxReader(name);
  try {
    for await (const chunk of source) reader.push(chunk);
  } catch (err) {
    if (err instanceof FormatError) throw err;
    if (gz) throw new FormatError(`${name}: the gzip stream is corrupt or truncated (${(err as Error).message})`, { cause: err });
    throw new SabreTypeError(`cannot read ${name}: ${(err as Error).message}`, { cause: err });
  } finally {
    raw.destroy();
    gz?.destroy();
    await file.close().catch(() => {});
  }
  return reader.finish();
}

/** readIdx, synchronously (for scripts and worker-side dataset modules). */
export function readIdxSync(path: string | URL): NdArray {
  const name = checkPath(path);
  return parseIdx(readFileSync(path), name);
}
