import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { gunzipSync, gunzip } from "node:zlib";
import { promisify } from "node:util";
import { FormatError, SabreTypeError } from "../errors.js";
import { CONSTRUCTORS, MAX_ELEMENTS, type DType } from "../memory/dtypes.js";
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

const gunzipAsync = promisify(gunzip);

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
 * Parses IDX bytes (already inflated, or gzipped) into a new shared ndarray.
 * Throws FormatError for a bad magic number, an unknown type code, a
 * truncated body or trailing bytes.
 */
export function parseIdx(bytes: Uint8Array, what = "IDX data"): NdArray {
  if (!(bytes instanceof Uint8Array)) throw new SabreTypeError(`parseIdx needs a Uint8Array, got ${describe(bytes)}`);
  if (isGzip(bytes)) bytes = inflate(bytes, what);
  if (bytes.length < 4) throw new FormatError(`${what}: ${bytes.length} bytes is too short for an IDX header (4 bytes at least)`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new FormatError(`${what}: bad magic number: an IDX file starts with two zero bytes, got ${bytes[0]} ${bytes[1]}`);
  }
  const type = TYPES[bytes[2]!];
  if (!type) {
    throw new FormatError(`${what}: unknown IDX type code 0x${bytes[2]!.toString(16)} (expected 0x08, 0x09, 0x0b, 0x0c, 0x0d or 0x0e)`);
  }
  const ndims = bytes[3]!;
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new FormatError(`${what}: truncated header: ${ndims} dimensions need ${headerBytes} bytes, the data has ${bytes.length}`);
  }
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
  const bodyBytes = count * type.size;
  const have = bytes.length - headerBytes;
  if (have < bodyBytes) {
    throw new FormatError(`${what}: truncated: shape [${shape.join(", ")}] needs ${bodyBytes} bytes of data, the file has ${have}`);
  }
  if (have > bodyBytes) {
    throw new FormatError(`${what}: ${have - bodyBytes} unexpected trailing bytes after the [${shape.join(", ")}] data`);
  }
  const data = sharedTypedArray(type.dtype, count);
  if (type.size === 1) {
    new Uint8Array(data.buffer, data.byteOffset, count).set(bytes.subarray(headerBytes, headerBytes + count));
  } else {
    const out = data as InstanceType<(typeof CONSTRUCTORS)["float64"]> | Int16Array | Int32Array | Float32Array;
    for (let i = 0, p = headerBytes; i < count; i++, p += type.size) {
      switch (type.dtype) {
        case "int16":
          out[i] = view.getInt16(p, false);
          break;
        case "int32":
          out[i] = view.getInt32(p, false);
          break;
        case "float32":
          out[i] = view.getFloat32(p, false);
          break;
        default:
          out[i] = view.getFloat64(p, false);
      }
    }
  }
  return ndarray(data, shape, rowMajorStrides(shape), 0);
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
  let bytes: Uint8Array = await readFile(path);
  if (isGzip(bytes)) {
    try {
      bytes = await gunzipAsync(bytes);
    } catch (err) {
      throw new FormatError(`${name}: the gzip stream is corrupt or truncated (${(err as Error).message})`, { cause: err });
    }
  }
  return parseIdx(bytes, name);
}

/** readIdx, synchronously (for scripts and worker-side dataset modules). */
export function readIdxSync(path: string | URL): NdArray {
  const name = checkPath(path);
  return parseIdx(readFileSync(path), name);
}
